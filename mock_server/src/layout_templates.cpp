#include "layout_templates.hpp"

namespace kofu::mock {

// ---- DEFECT init-omission lives in this file: the shared template is switched on per request
// ---- and never initialised when a request starts.

void layout_templates::begin(std::size_t type, const print_columns& requested) {
  if (!shared_) return;
  std::lock_guard lock(mutex_);
  auto& t = templates_.at(type);
  t.zokugara = t.zokugara || requested.zokugara;
  t.honseki = t.honseki || requested.honseki;
  t.mynumber = t.mynumber || requested.mynumber;
}

print_columns layout_templates::columns(std::size_t type, const print_columns& requested) const {
  if (!shared_) return requested;
  std::lock_guard lock(mutex_);
  return templates_.at(type);
}

void layout_templates::end(std::size_t type, const print_columns& requested) {
  if (!shared_) return;
  std::lock_guard lock(mutex_);
  auto& t = templates_.at(type);
  if (requested.zokugara) t.zokugara = false;
  if (requested.honseki) t.honseki = false;
  if (requested.mynumber) t.mynumber = false;
}

}  // namespace kofu::mock
