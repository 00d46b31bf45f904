// The online verifier of `kofu run` (issue 5 "online", issue 4 item 8): the history writer hands
// it every block of lines it has written; a thread of its own parses them and feeds the same
// checker `kofu verify` uses, so findings appear on the progress line while the load goes on.
// The final report still comes from re-reading the file (verify_command.cpp), and the two counts
// are compared there: a disagreement is a bug of kofu's and is reported as such.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "kofu/driver/vendor_profile.hpp"
#include "kofu/history/chain.hpp"
#include "kofu/verify/checker.hpp"
#include "kofu/verify/resident_model.hpp"
#include "run_command.hpp"

namespace {

namespace verify = kofu::verify;

// The lines it prints; the arguments are the same in both languages.
constexpr kofu::message finding_line{"finding {} · request {} ({} for {} via {}): {}",
                                     "不備 {} · 要求 {}（{}、対象者 {}、{}）: {}"};
constexpr kofu::message further_findings{
    "further findings are counted on the status line and listed in report.json",
    "以降の不備は状況表示行で件数を数え、report.json に記録します"};
constexpr kofu::message fell_behind{
    "the online verifier fell behind the load and stopped; the final report checks the whole "
    "history",
    "実行中の検証が負荷に追いつかず停止しました。最終レポートでは履歴全体を検証します"};

// A certificate type or channel (scenario.hpp's names) as the finding line shows it.
std::string_view certificate_name(std::string_view type, kofu::language lang) {
  if (lang == kofu::language::en) return type;
  if (type == "juminhyo") return "住民票の写し";
  if (type == "juminhyo_kisai") return "住民票記載事項証明書";
  if (type == "inkan") return "印鑑登録証明書";
  if (type == "koseki_zenbu") return "戸籍全部事項証明書";
  if (type == "koseki_kojin") return "戸籍個人事項証明書";
  if (type == "koseki_fuhyo") return "戸籍の附票の写し";
  if (type == "kazei") return "課税証明書";
  return type;
}

std::string_view channel_name(std::string_view channel, kofu::language lang) {
  if (lang == kofu::language::en) return channel;
  if (channel == "konbini") return "コンビニ交付";
  if (channel == "window") return "窓口";
  if (channel == "kiosk") return "自動交付機";
  return channel;
}

// Findings printed one by one; the rest are counted on the status line and listed in the report.
constexpr std::size_t max_messages = 20;
// History waiting for the online checker beyond which it gives up (the final report still checks
// everything).
constexpr std::size_t max_queued_bytes = std::size_t{256} << 20;

class checker_live final : public kofu::app::live_verification {
 public:
  checker_live(std::vector<kofu::population::resident> residents, const nlohmann::json& header,
               kofu::language lang)
      : checker_(make_checker(std::move(residents), header)),
        lang_(lang),
        thread_([this] { loop(); }) {}

  ~checker_live() override { finish(); }

  // The checker `kofu verify` would build for this header (vendor profiles included); the header
  // was written by this run from a profile that loaded, so its protocol loads too.
  static verify::checker make_checker(std::vector<kofu::population::resident> residents,
                                      const nlohmann::json& header) {
    auto options = verify::options_from_header(header);
    auto protocol = kofu::driver::answer_protocol_from_header(header);
    std::shared_ptr<const verify::record_rendering> rendering;
    if (protocol) {
      rendering = protocol->rendering;
      if (protocol->decoder) {
        options.answers = protocol->decoder->capabilities();
        options.decoder = protocol->decoder;
      }
    }
    return verify::checker(verify::resident_model(std::move(residents), std::move(rendering)),
                           std::move(options));
  }
  checker_live(const checker_live&) = delete;
  checker_live& operator=(const checker_live&) = delete;

  void submit(std::string&& lines) override {
    {
      std::lock_guard lock(mutex_);
      if (fell_behind_) return;
      queued_bytes_ += lines.size();
      if (queued_bytes_ > max_queued_bytes) {
        // The load outruns the checker: stop here rather than hold the history in memory.
        fell_behind_ = true;
        queue_.clear();
        queued_bytes_ = 0;
        messages_.emplace_back(fell_behind.in(lang_));
        return;
      }
      queue_.push_back(std::move(lines));
    }
    wake_.notify_one();
  }

  bool kept_up() const override {
    std::lock_guard lock(mutex_);
    return !fell_behind_;
  }

  std::uint64_t findings() const override { return findings_.load(std::memory_order_relaxed); }

  std::vector<std::string> take_messages() override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    out.swap(messages_);
    return out;
  }

  void finish() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Checker thread.
  void loop() {
    std::vector<std::string> taken;
    for (;;) {
      bool stop = false;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        taken.swap(queue_);
        queued_bytes_ = 0;
        stop = stopping_;
      }
      for (const auto& block : taken) feed(block);
      taken.clear();
      if (stop) break;
      publish();
    }
    checker_.finish();
    publish();
  }

  void feed(std::string_view block) {
    while (!block.empty()) {
      const auto end = block.find('\n');
      const std::string_view line = block.substr(0, end);
      block = end == std::string_view::npos ? std::string_view() : block.substr(end + 1);
      ++line_number_;
      // The writer's own chain lines seal what it just wrote: nothing to check here (the final
      // re-verification of the file checks the seal).
      if (line.empty() || kofu::history::is_chain_line(line)) continue;
      // A line that does not parse is skipped here; the re-verification from the file reports it
      // with its line number (and the counts are compared).
      where_.assign("history.jsonl:");
      where_ += std::to_string(line_number_);
      (void)verify::feed_history_line(checker_, line, where_);
    }
  }

  void publish() {
    const auto all = checker_.findings();
    std::vector<std::string> fresh;
    for (std::size_t i = published_; i < all.size() && printed_ < max_messages; ++i, ++printed_) {
      const auto& f = all[i];
      fresh.push_back(kofu::say(lang_, finding_line, verify::to_string(f.kind), f.request_id,
                                certificate_name(f.certificate_type, lang_), f.requested_resident,
                                channel_name(f.channel, lang_),
                                lang_ == kofu::language::ja ? f.explanation_ja : f.explanation_en));
      if (printed_ + 1 == max_messages) fresh.emplace_back(further_findings.in(lang_));
    }
    published_ = all.size();
    findings_.store(all.size(), std::memory_order_relaxed);
    if (fresh.empty()) return;
    std::lock_guard lock(mutex_);
    for (auto& m : fresh) messages_.push_back(std::move(m));
  }

  verify::checker checker_;  // checker thread only
  const kofu::language lang_;
  std::uint64_t line_number_ = 0;
  std::string where_;
  std::size_t published_ = 0;
  std::size_t printed_ = 0;
  std::atomic<std::uint64_t> findings_{0};

  mutable std::mutex mutex_;  // guards the five below
  std::condition_variable wake_;
  std::vector<std::string> queue_;
  std::vector<std::string> messages_;
  bool stopping_ = false;
  std::size_t queued_bytes_ = 0;
  bool fell_behind_ = false;

  std::thread thread_;  // last: starts once everything above is built
};

}  // namespace

std::unique_ptr<kofu::app::live_verification> kofu::app::make_live_verification(
    std::vector<kofu::population::resident> residents, const nlohmann::json& history_header,
    kofu::language lang) {
  return std::make_unique<checker_live>(std::move(residents), history_header, lang);
}
