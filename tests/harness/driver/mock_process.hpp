#pragma once
// A real kofu-mock for the driver's tests: a population generated into the test's folder, the
// server started on 127.0.0.1:0 with an admin token, its port read from its first line. Ended by
// its PID (child_process) when the object goes away.

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kofu/population/generator.hpp"
#include "test_support.hpp"

namespace kofu::test {

struct mock_process {
  // `extra` goes to kofu-mock's command line after the standard options.
  mock_process(const temp_dir& dir, std::uint64_t residents, std::uint64_t seed,
               const std::vector<std::string>& extra = {})
      : population(dir / "population.jsonl") {
    EXPECT_TRUE(kofu::population::generate_file({residents, seed, 0.05}, population));
    std::vector<std::string> args{mock_binary(), "--population",  population.string(), "--listen",
                                  "127.0.0.1:0", "--admin-token", admin_token};
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<child_process>(args, dir / "kofu-mock.log");
    const auto line = process->read_line(std::chrono::seconds(30));
    std::smatch m;
    if (line &&
        std::regex_search(*line, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))"))) {
      port = static_cast<unsigned short>(std::stoi(m[1]));
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  static constexpr const char* admin_token = "s3cret";
  std::filesystem::path population;
  std::unique_ptr<child_process> process;
  unsigned short port = 0;  // 0: it did not start
};

}  // namespace kofu::test
