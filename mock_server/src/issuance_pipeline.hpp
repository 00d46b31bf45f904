#pragma once
// POST /v1/issue as a pipeline of stages (DESIGN §4, docs/protocol.md):
//   1. authentication   card serial → resident (card index), handed to the registry stage through
//                       the channel gateway's work slot
//   2. registry read    one immutable snapshot per printed record; 戸籍 types go through the
//                       koseki_linkage component (its own queue and threads)
//   3. rendering        print details (address, seal, tax) read again and their versions compared
//                       with the snapshot's; the layout decides the optional columns
//   4. sealing          serial, issued_at, canonical JSON and the digest bound to the application
//                       number
//   5. printing         print_spool slot → printer thread → the answer body; with
//                       --print-format pdf, the PDF drawn from it (pdf_print_stage.hpp)
// and, before answering, every printed record's version is compared with the registry's current
// one: any change in flight answers 409 data_changed_retry. Every intermediate item carries the
// application number of its request.
//
// Thread-safe: issue() may run concurrently on any number of coroutines.

#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "http_reply.hpp"
#include "issue_request.hpp"
#include "service_context.hpp"

namespace kofu::mock {

class issuance_pipeline {
 public:
  explicit issuance_pipeline(service_context& context) : ctx_(context) {}
  // A POST /v1/issue body: parsed (400 on bad input), then issued.
  boost::asio::awaitable<http_reply> issue(std::string_view body);
  // A request already parsed, e.g. by a dialect's translation layer (vendor_ja_dialect.hpp): the
  // same stages, defects and answer (the reference answer body, or a reference error).
  boost::asio::awaitable<http_reply> issue(issue_request req);

 private:
  service_context& ctx_;
};

}  // namespace kofu::mock
