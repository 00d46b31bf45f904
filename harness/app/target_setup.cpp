#include "target_setup.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>

#include <fmt/format.h>

#include "kofu/common/sha256.hpp"
#include "kofu/driver/pdf_answer.hpp"
#include "kofu/driver/profile_wire.hpp"
#include "kofu/driver/reference_wire.hpp"
#include "kofu/population/generator.hpp"

namespace kofu::app {

namespace fs = std::filesystem;

void override_targets(scenario::scenario& sc, const std::vector<std::string>& urls) {
  if (urls.empty()) return;
  sc.target.embedded = false;
  sc.target.urls = urls;
  sc.document["target"]["kind"] = "urls";
  sc.document["target"]["urls"] = urls;
}

result<std::vector<driver::endpoint>> parse_endpoints(const scenario::scenario& sc) {
  std::vector<driver::endpoint> endpoints;
  for (const auto& url : sc.target.urls) {
    auto ep = driver::parse_endpoint(url);
    if (!ep) return make_error(errc::usage, "--target: " + ep.error().message);
    endpoints.push_back(*ep);
  }
  return endpoints;
}

result<std::shared_ptr<boost::asio::ssl::context>> tls_context_for(
    const scenario::scenario& sc, const std::vector<driver::endpoint>& endpoints) {
  const bool any_tls = sc.target.embedded || std::any_of(endpoints.begin(), endpoints.end(),
                                                         [](const auto& e) { return e.tls; });
  if (!any_tls) return std::shared_ptr<boost::asio::ssl::context>();
  auto ctx = driver::make_tls_context(sc.target.tls);
  if (!ctx) return ctx.error();
  return *ctx;
}

result<void> probe_endpoints(const scenario::scenario& sc,
                             const std::vector<driver::endpoint>& endpoints,
                             boost::asio::ssl::context* tls) {
  for (const auto& ep : endpoints) {
    auto probe = driver::http_get(ep.base, "/healthz", std::chrono::seconds(5), tls,
                                  sc.target.tls.server_name);
    if (!probe) {
      return make_error(errc::io, fmt::format("target {} cannot be used, nothing was run: {}",
                                              ep.base, probe.error().message));
    }
  }
  return {};
}

result<fs::path> prepare_population(const scenario::scenario& sc, const fs::path& dir,
                                    std::string* sha256) {
  if (sc.population.file.empty()) {
    const fs::path path = dir / "population.jsonl";
    population::generator_options g;
    g.residents = sc.population.residents;
    g.seed = sc.population.seed;
    g.confusable_share = sc.population.confusable_share;
    auto summary = population::generate_file(g, path);
    if (!summary) return summary.error();
    if (sha256 != nullptr) *sha256 = summary->sha256;
    return path;
  }
  const fs::path path = sc.resolve(sc.population.file);
  if (sha256 != nullptr) {
    std::ifstream in(path, std::ios::binary);
    sha256_hasher hasher;
    std::string chunk(1 << 16, '\0');
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
      hasher.update(std::string_view(chunk.data(), static_cast<std::size_t>(in.gcount())));
    }
    *sha256 = to_hex(hasher.finish());
  }
  return path;
}

result<std::unique_ptr<driver::embedded_server>> start_embedded(const scenario::scenario& sc,
                                                                const fs::path& population,
                                                                const fs::path& log_file,
                                                                boost::asio::ssl::context* tls) {
  auto binary = driver::find_mock_binary();
  if (!binary) {
    return make_error(errc::io,
                      "kofu-mock not found (set KOFU_MOCK, or put it beside kofu or on the PATH)");
  }
  driver::embedded_options o;
  o.binary = *binary;
  o.population = population;
  o.defects = sc.target.defects;
  o.extra_args = sc.target.mock_args;
  if (sc.target.print_format == "pdf") {
    o.extra_args.push_back("--print-format");
    o.extra_args.push_back("pdf");
  }
  o.admin_token = sc.target.admin_token;
  o.log_file = log_file;
  o.tls = tls;
  o.server_name = sc.target.tls.server_name;
  return driver::embedded_server::start(o);
}

result<std::shared_ptr<const driver::wire_protocol>> load_wire(const scenario::scenario& sc) {
  using wire = std::shared_ptr<const driver::wire_protocol>;
  if (sc.target.profile == "reference") return wire(std::make_shared<driver::reference_wire>());
  auto loaded = driver::vendor_profile::load(sc.resolve(sc.target.profile));
  if (!loaded) return loaded.error();
  return wire(std::make_shared<driver::profile_wire>(
      std::make_shared<const driver::vendor_profile>(std::move(*loaded))));
}

result<std::shared_ptr<const driver::wire_protocol>> with_print_data(
    std::shared_ptr<const driver::wire_protocol> wire, const scenario::scenario& sc,
    const std::filesystem::path& keep_dir) {
  if (sc.target.print_format != "pdf") return wire;
  driver::print_settings settings;
  const auto profile = wire->header_document();
  if (profile.is_object() && profile.contains("print")) {
    auto layout = driver::print_layout::parse(profile["print"], sc.target.profile + ": /print");
    if (!layout) return layout.error();
    settings.layout = std::move(*layout);
  }
  if (!keep_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(keep_dir, ec);
    if (ec) return make_error(errc::io, keep_dir.string() + ": " + ec.message());
    settings.keep_dir = keep_dir;
  }
  settings.keep_bytes = sc.target.keep_pdf_bytes;
  return std::shared_ptr<const driver::wire_protocol>(
      std::make_shared<driver::print_wire>(std::move(wire), std::move(settings)));
}

}  // namespace kofu::app
