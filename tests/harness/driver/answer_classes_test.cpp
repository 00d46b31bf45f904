#include "kofu/driver/answer_classes.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace {

using kofu::driver::answer_classes;
using kofu::scenario::answer_class;

struct answer_case {
  const char* what;
  unsigned status;
  std::string body;
  std::optional<std::string> expected;
};

// The schema's default rules (scenarios/schema.json `target.answer_classes`).
const std::vector<answer_class> defaults = {{409, std::nullopt, "/error", "retry"},
                                            {503, "print_timeout", "/error", "retry"},
                                            {503, "busy", "/error", "retry"}};

TEST(AnswerClassesTest, SafeRefusalsAreRetriesOtherAnswersAreLeftToTheProtocol) {
  const answer_classes classes(defaults);
  const std::vector<answer_case> cases = {
      {"409", 409, R"({"error":"data_changed_retry"})", "retry"},
      {"409 whatever its body", 409, "not json", "retry"},
      {"503 print_timeout", 503, R"({"error":"print_timeout","detail":"x"})", "retry"},
      {"503 busy", 503, R"({"error":"busy"})", "retry"},
      {"503 another code", 503, R"({"error":"maintenance"})", std::nullopt},
      {"503 without a body", 503, "", std::nullopt},
      {"503 code not a string", 503, R"({"error":503})", std::nullopt},
      {"503 body an array", 503, R"(["busy"])", std::nullopt},
      {"200", 200, R"({"certificate":{}})", std::nullopt},
      {"500 busy", 500, R"({"error":"busy"})", std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(classes.classify(c.status, c.body), c.expected) << c.what;
  }
}

TEST(AnswerClassesTest, FirstMatchingRuleDecidesAndCodesMayStandAnywhere) {
  const answer_classes classes(std::vector<answer_class>{
      {200, "E-BUSY", "/result/code", "retry"},
      {503, "busy", "/error", "error"},
      {503, std::nullopt, "/error", "retry"},
  });
  EXPECT_EQ(classes.classify(200, R"({"result":{"code":"E-BUSY"}})"), "retry");
  EXPECT_EQ(classes.classify(200, R"({"result":{"code":"OK"}})"), std::nullopt);
  EXPECT_EQ(classes.classify(503, R"({"error":"busy"})"), "error");
  EXPECT_EQ(classes.classify(503, R"({"error":"print_timeout"})"), "retry");
  EXPECT_EQ(answer_classes().classify(409, "{}"), std::nullopt);  // no rules: the protocol's
}

}  // namespace
