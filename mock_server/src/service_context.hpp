#pragma once
// Everything the endpoints share, built once by the server before it serves. Each component
// documents its own thread-safety; the plain fields here are set before serving and then only read.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "channel_gateway.hpp"
#include "kofu/mock/defects.hpp"
#include "kofu/mock/registry.hpp"
#include "kofu/mock/server.hpp"
#include "koseki_linkage.hpp"
#include "layout_templates.hpp"
#include "maintenance_window.hpp"
#include "metrics.hpp"
#include "pdf_print_stage.hpp"
#include "print_spool.hpp"
#include "seal_register.hpp"

namespace kofu::mock {

struct service_context {
  service_context(const server_options& o, std::vector<resident_record> records);

  const server_options options;
  const defect_set defects;
  const std::chrono::milliseconds race_window;

  registry residents;
  seal_register seals;
  maintenance_window maintenance;
  channel_gateway gateway;
  layout_templates layouts;
  koseki_linkage linkage;
  print_spool spool;
  pdf_print_stage pdf_print;
  metrics stats;

  std::atomic<std::uint64_t> certificate_sequence{0};  // serial numbers
};

}  // namespace kofu::mock
