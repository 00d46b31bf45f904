#pragma once
// Print layouts: which optional columns (続柄, 本籍・筆頭者, 個人番号) a certificate prints.
// Correct: each request lays out its own copy, initialised from its own options.
//
// DEFECT init-omission (初期化漏れ): one layout template per certificate type is reused by every
// request. A request only switches on the columns it asked for and relies on the previous user to
// have switched its columns off again at the end — so while another request is in flight, a
// request inherits that request's columns (e.g. prints 個人番号 nobody asked for), and a request
// that finishes first switches off columns another one still needs.
//
// Thread-safe: every member may be called from any thread.

#include <array>
#include <cstddef>
#include <mutex>

namespace kofu::mock {

struct print_columns {
  bool zokugara = false;  // 続柄
  bool honseki = false;   // 本籍・筆頭者
  bool mynumber = false;  // 個人番号
};

class layout_templates {
 public:
  static constexpr std::size_t kTypes = 7;

  explicit layout_templates(bool shared_template_defect) : shared_(shared_template_defect) {}

  // Starts a layout for certificate type index `type` with the requested columns.
  void begin(std::size_t type, const print_columns& requested);
  // The columns to print, read when the page is laid out.
  print_columns columns(std::size_t type, const print_columns& requested) const;
  // Ends the layout (the defect's template is "cleaned up" here by its user).
  void end(std::size_t type, const print_columns& requested);

 private:
  const bool shared_;
  mutable std::mutex mutex_;
  std::array<print_columns, kTypes> templates_{};  // protected by mutex_ (defect only)
};

}  // namespace kofu::mock
