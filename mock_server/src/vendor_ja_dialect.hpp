#pragma once
// kofu-mock's vendor-ja dialect (`--dialect vendor-ja`, docs/vendor-ja.md): an invented vendor API
// ("にじいろ証明書交付API v2") as a translation layer at the HTTP edge. Each vendor request is
// parsed into the server's own request types (issue_request, resident_change) and run through the
// same issuance pipeline and reflection service as the reference protocol, so every --defect
// strikes the same way; the reference answer is then written in the vendor's form.
//
//   POST /api/koufu/v2/shinsei        → issuance_pipeline::issue      (result codes under HTTP 200)
//   POST /api/jukiren/v1/ido          → reflection_service::change    (Idempotency-Key)
//   POST /api/jukiren/v1/ido/ikkatsu  → reflection_service::batch
//   POST /api/kanri/v1/hoshu          → reflection_service::maintenance (X-Kanri-Token)
//
// The vendor certificate is written from the answer the pipeline printed (the print data, which
// is another request's whole answer when a defect strikes there), never from the request: what a
// reference client would have received is what the vendor client receives, translated. For the
// same reason spool files keep the reference answer, and a file written by one instance reaches
// the other instance's client translated by the instance that answers.
//
// Thread-safe: handle() may run concurrently on any number of coroutines.

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http_reply.hpp"
#include "idempotency_keys.hpp"
#include "issuance_pipeline.hpp"
#include "reflection_service.hpp"
#include "service_context.hpp"

namespace kofu::mock {

class vendor_ja_dialect {
 public:
  using request_type = boost::beast::http::request<boost::beast::http::string_body>;

  vendor_ja_dialect(service_context& context, issuance_pipeline& pipeline,
                    reflection_service& reflection)
      : ctx_(context), pipeline_(pipeline), reflection_(reflection) {}

  // Answers a request for one of the vendor endpoints (`target` without its query) and sets
  // `endpoint` to the metrics label the reference endpoint has ("issue", "changes",
  // "reflection_batch", "maintenance"); nullopt for any other target.
  boost::asio::awaitable<std::optional<http_reply>> handle(const request_type& request,
                                                           std::string_view target,
                                                           std::string& endpoint);

  // A reference HTTP-level error ({"error", "detail"}: malformed HTTP, no such endpoint, wrong
  // method, read timeout, too large, media type, oversized head) in the vendor's form: the same
  // status, body {"処理結果": {"コード": "E<status>", "メッセージ": …}}.
  static http_reply http_fault(const http_reply& reference_error);

 private:
  boost::asio::awaitable<http_reply> issue(std::string_view body);
  boost::asio::awaitable<http_reply> ido(const request_type& request);
  boost::asio::awaitable<http_reply> ido_once(std::string_view body);
  boost::asio::awaitable<http_reply> ikkatsu(std::string_view body);
  boost::asio::awaitable<http_reply> hoshu(const request_type& request);

  service_context& ctx_;
  issuance_pipeline& pipeline_;
  reflection_service& reflection_;
  idempotency_keys keys_;
};

}  // namespace kofu::mock
