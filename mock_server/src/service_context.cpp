#include "service_context.hpp"

namespace kofu::mock {

std::chrono::milliseconds server_options::effective_race_window() const {
  if (race_window) return *race_window;
  return defects.any() ? std::chrono::milliseconds(2) : std::chrono::milliseconds(0);
}

std::chrono::milliseconds server_options::effective_print_time() const {
  if (print_time) return *print_time;
  return defects.has(defect::timeout_partial_release) ? std::chrono::milliseconds(10)
                                                      : std::chrono::milliseconds(0);
}

namespace {

std::string seal_status_of(const resident_record& r) {
  if (r.seal.is_null()) return "none";
  return r.seal.at("status").get<std::string>();
}

}  // namespace

service_context::service_context(const server_options& o, std::vector<resident_record> records)
    : options(o),
      defects(o.defects),
      race_window(o.effective_race_window()),
      residents(std::move(records)),
      gateway(o.defects.has(defect::channel_slot)),
      layouts(o.defects.has(defect::init_omission)),
      linkage(residents, o.defects.has(defect::linkage_overwrite), race_window, o.linkage_threads),
      spool(o.effective_print_time(), o.spool_dir, o.defects.has(defect::spool_collision)),
      pdf_print(o.defects.has(defect::page_interleave), o.defects.has(defect::font_fallback),
                race_window) {
  // The seal register starts from the records as loaded.
  for (const auto& r : residents.all()) seals.set(r->resident_id, seal_status_of(*r));
}

}  // namespace kofu::mock
