#pragma once
// The PDF print path (--print-format pdf, docs/print-data.md): the print data the printer gave
// back (a reference answer) laid out as pages, the pages handed to the copier, drawn as a PDF.
//
// Correct: a job keeps its own pages from layout to PDF, and the renderer's font cache keeps
// IPAmj明朝 loaded while any job uses it, so every channel prints every name as registered.
//
// DEFECT page-interleave (the Tokushima case): page 1 goes to the copier at once; the
// continuation pages of a multi-page job go through a page spool whose files are named by page
// number only ("page-2", "page-3"), shared by every job — the application number is not part of
// the name. Two multi-page jobs spooling at the same time overwrite each other's page files, and
// each collects what is there: page 2 of A's certificate is page 2 of B's.
//
// DEFECT font-fallback: the store channel's copier (konbini) holds only JIS X 0208 fonts, so the
// store print path embeds IPAmj明朝 from the renderer's shared font cache; the office path
// (window, kiosk: their printers hold IPAmj明朝 in ROM) unloads the cached font when its job ends,
// whoever else still uses it. A store job that lays out its text after that prints with the
// copier's resident fonts: 髙→高, 﨑→崎, 𠮷→吉, variation selectors dropped. Store-only or
// office-only load stays correct; it needs an office job ending inside a store job.
//
// Thread-safe: print() may run concurrently on any number of coroutines.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "certificate_pages.hpp"
#include "http_reply.hpp"

namespace kofu::mock {

class pdf_print_stage {
 public:
  pdf_print_stage(bool page_interleave_defect, bool font_fallback_defect,
                  std::chrono::milliseconds race_window)
      : page_interleave_(page_interleave_defect),
        font_fallback_(font_fallback_defect),
        race_window_(race_window) {}

  // The 200 answer for `print_data` printed on `channel`'s copier: the PDF, or 500 print_failed
  // when the print data cannot be laid out or drawn.
  boost::asio::awaitable<http_reply> print(std::string_view print_data, std::string_view channel);

 private:
  // The font cache: whether IPAmj明朝 is loaded for the store path, and by how many jobs.
  void acquire_font();
  bool font_loaded() const;
  void release_font(bool store_channel);

  // Continuation pages through the page spool (defect only).
  boost::asio::awaitable<void> spool_continuation_pages(print_document& document);

  const bool page_interleave_;
  const bool font_fallback_;
  const std::chrono::milliseconds race_window_;

  mutable std::mutex mutex_;
  // State below is protected by mutex_.
  bool mj_font_loaded_ = false;
  std::size_t font_users_ = 0;
  std::map<std::size_t, printed_page> page_files_;  // page-interleave: "page-<n>" by index
};

}  // namespace kofu::mock
