// report.html in a real browser: Debian's chromium, headless, on the page made from a real run
// (`kofu run scenarios/demo.json --duration 2 --defect channel-slot` against the embedded
// kofu-mock). Skipped, with the reason, when chromium is not installed (scripts/setup.sh installs
// it). Every chromium is bounded by a timeout and gets a fresh profile in a temporary folder; the
// host resolver maps every name to nothing, so that not even chromium's own background requests
// leave the machine.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "kofu/reports/html.hpp"
#include "test_support.hpp"

namespace kofu::reports {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr auto browser_timeout = std::chrono::seconds(90);

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(p)) return p;
  }
  return {};
}

class HtmlBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = chromium_path();
    if (chromium_.empty())
      GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
    if (!fs::exists(test::kofu_binary())) GTEST_SKIP() << "kofu not built: " << test::kofu_binary();
  }

  // chromium headless with `extra` arguments, then `url`; a fresh profile each time.
  test::command_result browse(const std::vector<std::string>& extra, const std::string& url) {
    const fs::path profile = dir_.path() / ("profile-" + std::to_string(++profiles_));
    fs::create_directories(profile);
    std::vector<std::string> argv = {chromium_,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--no-first-run",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--host-resolver-rules=MAP * ~NOTFOUND",
                                     "--user-data-dir=" + profile.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    return test::run_command(argv, browser_timeout);
  }

  std::string chromium_;
  test::temp_dir dir_;
  int profiles_ = 0;
};

TEST_F(HtmlBrowserTest, ARealRunsReportRendersPrintsOnA4AndSwitchesLanguage) {
  // 1. A real run with findings, and its page.
  const fs::path run = dir_.path() / "run";
  const auto ran = test::run_command(
      {test::kofu_binary(), "run", (test::source_dir() / "scenarios/demo.json").string(),
       "--duration", "2", "--defect", "channel-slot", "--out", run.string()},
      std::chrono::seconds(180));
  ASSERT_EQ(ran.exit_code, 1) << ran.out << ran.err;  // channel-slot finds WRONG_PERSON
  const json report = json::parse(test::read_file(run / "report.json"));
  ASSERT_GT(report["findings_by_kind"]["WRONG_PERSON"].get<std::uint64_t>(), 0u);
  const std::string html = render_html(report);
  const fs::path page = run / "report.html";
  test::write_file(page, html);
  // The only http(s) URLs in the file are the loopback target's, as text.
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(https?://(?!127\.0\.0\.1[:/]))")));
  const std::string url = "file://" + page.string();

  // 2. Rendered, scripted, no console message, no request made by the page.
  const fs::path net_log = dir_.path() / "net-log.json";
  const auto dom = browse(
      {"--enable-logging=stderr", "--v=0", "--log-net-log=" + net_log.string(), "--dump-dom"}, url);
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  EXPECT_NE(dom.out.find("data-kofu-ready=\"1\""), std::string::npos);  // the inline script ran
  const std::string html_tag = dom.out.substr(dom.out.find("<html"), 80);
  EXPECT_EQ(html_tag.rfind("<html lang=\"ja\" data-kofu-ready=\"1\">", 0), 0u) << html_tag;
  EXPECT_NE(dom.out.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_EQ(dom.err.find(":CONSOLE"), std::string::npos) << dom.err;
  const json log = json::parse(test::read_file(net_log), nullptr, false);
  ASSERT_TRUE(log.is_object()) << "chromium's net log did not parse";
  int start_job = -1;
  for (const auto& [name, value] : log["constants"]["logEventTypes"].items()) {
    if (name == "URL_REQUEST_START_JOB") start_job = value.get<int>();
  }
  ASSERT_GE(start_job, 0);
  for (const auto& e : log["events"]) {
    if (e.value("type", -1) != start_job) continue;
    const json params = e.value("params", json::object());
    const std::string initiator = params.value("initiator", "");
    const std::string request = params.value("url", "");
    if (request.empty()) continue;  // the end of a job: its start named the URL
    // "not an origin": chromium's own background requests (resolved to nothing, see above).
    EXPECT_TRUE(initiator == "not an origin" || request.rfind("file:", 0) == 0)
        << "the page requested " << request << " (initiator " << initiator << ")";
  }

  // 3. The language switch: #en and ?lang=en select English.
  for (const std::string& english : {url + "#en", url + "?lang=en"}) {
    const auto en = browse({"--dump-dom"}, english);
    ASSERT_EQ(en.exit_code, 0) << en.err;
    EXPECT_NE(en.out.find("<html lang=\"en\" class=\"en\""), std::string::npos) << english;
  }

  // 4. Printed: A4 pages (595 × 842 pt), more than one; the scenario on every page's head.
  const fs::path pdf = dir_.path() / "report.pdf";
  const auto printed = browse({"--no-pdf-header-footer", "--print-to-pdf=" + pdf.string()}, url);
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  const std::string pdf_bytes = test::read_file(pdf);
  const std::regex media_box(R"(/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\])");
  std::size_t pages = 0;
  for (auto it = std::sregex_iterator(pdf_bytes.begin(), pdf_bytes.end(), media_box);
       it != std::sregex_iterator(); ++it) {
    EXPECT_NEAR(std::stod((*it)[1]), 595.0, 1.0);
    EXPECT_NEAR(std::stod((*it)[2]), 842.0, 1.0);
    ++pages;
  }
  EXPECT_GT(pages, 1u);
  if (fs::exists("/usr/bin/pdfinfo")) {
    const auto info = test::run_command({"/usr/bin/pdfinfo", pdf.string()});
    EXPECT_NE(info.out.find("(A4)"), std::string::npos) << info.out;
  }

  // 5. A screenshot of the first page, left in the build folder to be looked at.
  const fs::path shot = fs::current_path() / "report_html_first_page.png";
  fs::remove(shot);
  const auto screenshot = browse(
      {"--window-size=1000,1414", "--hide-scrollbars", "--screenshot=" + shot.string()}, url);
  ASSERT_EQ(screenshot.exit_code, 0) << screenshot.err;
  EXPECT_GT(fs::file_size(shot), 10'000u);
  fs::copy_file(page, fs::current_path() / "report_html_example.html",
                fs::copy_options::overwrite_existing);
}

}  // namespace
}  // namespace kofu::reports
