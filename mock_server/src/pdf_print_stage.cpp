#include "pdf_print_stage.hpp"

#include <nlohmann/json.hpp>

#include "pdf_writer.hpp"
#include "race_window.hpp"

namespace kofu::mock {

namespace asio = boost::asio;

void pdf_print_stage::acquire_font() {
  std::lock_guard lock(mutex_);
  mj_font_loaded_ = true;
  ++font_users_;
}

bool pdf_print_stage::font_loaded() const {
  std::lock_guard lock(mutex_);
  return mj_font_loaded_;
}

void pdf_print_stage::release_font(bool store_channel) {
  std::lock_guard lock(mutex_);
  --font_users_;
  if (font_fallback_ && !store_channel) {
    // ---- DEFECT font-fallback: the office path unloads the cached MJ font at its job's end,
    // ---- although a store job may still be laying out its text with it.
    mj_font_loaded_ = false;
    return;
  }
  if (font_users_ == 0) mj_font_loaded_ = false;
}

asio::awaitable<void> pdf_print_stage::spool_continuation_pages(print_document& document) {
  // ---- DEFECT page-interleave: page files named by page number only, shared by every job.
  {
    std::lock_guard lock(mutex_);
    for (std::size_t n = 1; n < document.pages.size(); ++n) page_files_[n] = document.pages[n];
  }
  // hand-off of the spooled pages to the copier
  co_await race_window_pause(race_window_);
  std::lock_guard lock(mutex_);
  for (std::size_t n = 1; n < document.pages.size(); ++n) document.pages[n] = page_files_.at(n);
}

asio::awaitable<http_reply> pdf_print_stage::print(std::string_view print_data,
                                                   std::string_view channel) {
  const auto answer = nlohmann::json::parse(print_data, nullptr, /*allow_exceptions=*/false);
  auto laid_out = lay_out_certificate(answer);
  if (auto* error = std::get_if<std::string>(&laid_out)) {
    co_return json_error(500, "print_failed", *error);
  }
  auto& document = std::get<print_document>(laid_out);

  const bool store_channel = channel == "konbini";
  acquire_font();
  // layout step: the job's text goes to the renderer
  co_await race_window_pause(race_window_);
  if (store_channel && !font_loaded()) {
    // The copier's resident fonts: JIS X 0208 only.
    for (auto& page : document.pages) {
      for (auto& text : page.texts) text.text = fold_to_jis_x0208(text.text);
    }
  }
  release_font(store_channel);

  if (page_interleave_ && document.pages.size() > 1) {
    co_await spool_continuation_pages(document);
  }
  auto pdf = write_pdf(document);
  if (!pdf.error.empty()) co_return json_error(500, "print_failed", pdf.error);
  co_return http_reply{200, std::move(pdf.bytes), "application/pdf"};
}

}  // namespace kofu::mock
