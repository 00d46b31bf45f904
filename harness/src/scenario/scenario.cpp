#include "kofu/scenario/scenario.hpp"

namespace kofu::scenario {

std::string_view to_string(certificate_type value) {
  switch (value) {
    case certificate_type::juminhyo:
      return "juminhyo";
    case certificate_type::juminhyo_kisai:
      return "juminhyo_kisai";
    case certificate_type::inkan:
      return "inkan";
    case certificate_type::koseki_zenbu:
      return "koseki_zenbu";
    case certificate_type::koseki_kojin:
      return "koseki_kojin";
    case certificate_type::koseki_fuhyo:
      return "koseki_fuhyo";
    case certificate_type::kazei:
      return "kazei";
  }
  return "?";
}

std::string_view to_string(channel value) {
  switch (value) {
    case channel::konbini:
      return "konbini";
    case channel::window:
      return "window";
    case channel::kiosk:
      return "kiosk";
  }
  return "?";
}

std::string_view to_string(update_kind value) {
  switch (value) {
    case update_kind::move:
      return "move";
    case update_kind::name:
      return "name";
    case update_kind::seal:
      return "seal";
    case update_kind::household:
      return "household";
    case update_kind::tax:
      return "tax";
  }
  return "?";
}

std::string_view to_string(load_model value) {
  return value == load_model::open ? "open" : "closed";
}

std::string_view to_string(event_kind value) {
  switch (value) {
    case event_kind::maintenance:
      return "maintenance";
    case event_kind::reflection_batch:
      return "reflection_batch";
    case event_kind::exec:
      return "exec";
  }
  return "?";
}

double scenario::total_duration_s() const {
  double total = 0;
  for (const auto& p : phases) total += p.duration_s;
  return total;
}

std::filesystem::path scenario::resolve(const std::string& path) const {
  const std::filesystem::path p(path);
  if (p.is_absolute() || source_path.empty()) return p;
  return source_path.parent_path() / p;
}

}  // namespace kofu::scenario
