#include "kofu/driver/worker_stats.hpp"

#include <algorithm>

namespace kofu::driver {

void worker_stats::merge(const worker_stats& o) {
  scheduled += o.scheduled;
  sent += o.sent;
  ok += o.ok;
  retry += o.retry;
  refused += o.refused;
  server_error += o.server_error;
  errors += o.errors;
  timeouts += o.timeouts;
  late += o.late;
  very_late += o.very_late;
  dropped += o.dropped;
  connects += o.connects;
  max_backlog = std::max(max_backlog, o.max_backlog);  // max is associative too
  updates_sent += o.updates_sent;
  updates_ok += o.updates_ok;
  updates_failed += o.updates_failed;
  updates_unknown += o.updates_unknown;
  latency.merge(o.latency);
  service_time.merge(o.service_time);
}

}  // namespace kofu::driver
