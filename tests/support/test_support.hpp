#pragma once
// Test support shared by every kofu test executable: temporary folders, running the real
// `kofu` / `kofu-mock` executables as child processes, and reading their output.
// Not thread-safe; each test owns the objects it makes.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kofu::test {

// Paths of the built executables (compile definitions set by kofu_add_test).
std::string kofu_binary();
std::string mock_binary();
std::filesystem::path source_dir();

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct command_result {
  int exit_code = -1;  // the exit status, or 128 + signal number if killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with the given arguments to completion (bounded by `timeout`; on expiry the child
// is killed by its PID and exit_code is -1). Optional standard input.
command_result run_command(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(120),
                           const std::string& stdin_text = {});

// A child process whose standard output is read line by line (standard error is inherited or sent
// to a file). Killed (SIGTERM, then SIGKILL after a grace period) and reaped on destruction: a test
// ends only the processes it started, by their PID.
class child_process {
 public:
  explicit child_process(const std::vector<std::string>& argv,
                         const std::optional<std::filesystem::path>& stderr_file = std::nullopt);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The next line of standard output without its newline, or nullopt on EOF or timeout.
  std::optional<std::string> read_line(
      std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends a signal to the child.
  void signal(int signo);
  // Waits for exit; returns the exit code (128 + signal if killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  std::optional<int> exit_code_;
};

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

// Splits text into lines (without the newlines; a trailing newline makes no empty last line).
std::vector<std::string> split_lines(const std::string& text);

}  // namespace kofu::test
