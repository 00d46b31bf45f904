#include "print/poppler_errors.hpp"

#include <poppler-global.h>

#include <mutex>

namespace kofu::print {

namespace {

thread_local poppler_error_capture* current = nullptr;

void on_poppler_message(const std::string& message, void*) {
  if (current != nullptr) current->record(message);
}

}  // namespace

poppler_error_capture::poppler_error_capture() {
  static std::once_flag installed;
  std::call_once(installed, [] { poppler::set_debug_error_function(on_poppler_message, nullptr); });
  previous_ = current;
  current = this;
}

poppler_error_capture::~poppler_error_capture() { current = previous_; }

void poppler_error_capture::record(const std::string& message) {
  if (first_.empty()) first_ = message;
}

}  // namespace kofu::print
