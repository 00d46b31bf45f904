#pragma once
// poppler reports what it finds wrong in a PDF through one process-wide callback (and to standard
// error by default). kofu silences that and keeps, per thread, the first message of the read in
// progress, so that a MALFORMED answer can name the damage ("corrupt: … (Invalid XRef entry 3)").

#include <string>

namespace kofu::print {

// While an instance lives, poppler's messages on this thread go to it. Not copyable; nests (the
// inner capture sees the messages until it ends).
class poppler_error_capture {
 public:
  poppler_error_capture();
  ~poppler_error_capture();
  poppler_error_capture(const poppler_error_capture&) = delete;
  poppler_error_capture& operator=(const poppler_error_capture&) = delete;

  // The first message poppler gave since the capture began ("" when none).
  const std::string& first() const { return first_; }
  void record(const std::string& message);

 private:
  std::string first_;
  poppler_error_capture* previous_ = nullptr;
};

}  // namespace kofu::print
