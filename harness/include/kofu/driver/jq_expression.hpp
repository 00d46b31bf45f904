#pragma once
// A jq program (Debian's libjq) that a vendor profile uses where a JSON pointer does not reach:
// to classify an answer from several of its fields, to extract a value that must be computed, or
// to choose a vendor's update kind from the change. Compiled once at load, so that a program that
// does not compile fails there with the profile's JSON path; evaluated on the first output.
// Thread-safe: each thread compiles its own jq state on first use (libjq's state is not shared).
// jq has no time limit, so compile() refuses programs that could run without end: loops,
// recursion, definitions, jq 1.6's sub/gsub (endless on an empty match), input, environment and
// modules; and programs above max_program_bytes (docs/decisions.md, "jq programs are loop-free").
// docs/decisions.md says why jq and what it costs per answer.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace kofu::driver {

class jq_expression {
 public:
  static constexpr std::size_t max_program_bytes = 512;

  // nullopt and `error` set when the program does not compile.
  static std::optional<jq_expression> compile(const std::string& program, std::string& error);

  // The program's first output on `input`; nullopt when it gives none or fails.
  std::optional<nlohmann::json> first(const nlohmann::json& input) const;
  const std::string& program() const { return program_; }

 private:
  explicit jq_expression(std::string program) : program_(std::move(program)) {}
  std::string program_;
};

}  // namespace kofu::driver
