#include "mock_fixture.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace kofu::mock::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;
using tcp = asio::ip::tcp;

namespace {

std::string hex_sha256(const std::string& bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md.data(), &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

// A small synthetic population following docs/population.md, used until (or when) the real
// generator is not built. Households of 1–4; one 戸籍 per household; some cancelled seals,
// one removed resident; a few confusable characters.
void write_builtin_population(const std::filesystem::path& file, std::size_t residents) {
  static const std::array<const char*, 6> kFamily = {"髙橋", "佐藤", "山﨑",
                                                     "渡邊", "𠮷田", "鈴木"};
  static const std::array<const char*, 6> kFamilyKana = {"タカハシ", "サトウ", "ヤマザキ",
                                                         "ワタナベ", "ヨシダ", "スズキ"};
  static const std::array<const char*, 4> kGiven = {"健一", "美咲", "翔太", "花子"};
  static const std::array<const char*, 4> kGivenKana = {"ケンイチ", "ミサキ", "ショウタ", "ハナコ"};
  static const char* kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  std::size_t index = 0;
  for (std::size_t h = 0; index < residents; ++h) {
    const std::size_t size = 1 + h % 4;
    std::string token = "A";
    for (std::size_t k = 0, v = h * 2654435761u + 12345; k < 9; ++k, v /= 32) {
      token.push_back(kCrockford[v % 32]);
    }
    const auto family = kFamily[h % kFamily.size()];
    const auto family_kana = kFamilyKana[h % kFamilyKana.size()];
    const std::string head_name = fmt::format("{} {}", family, kGiven[0]);
    for (std::size_t m = 0; m < size && index < residents; ++m, ++index) {
      const bool adult = m < 2;
      const char* relationship = m == 0 ? "世帯主" : (m == 1 ? "妻" : "子");
      const char* koseki_rel = m == 0 ? "夫" : (m == 1 ? "妻" : (m == 2 ? "長男" : "長女"));
      json seal = nullptr;
      if (adult) {
        const std::string png = fmt::format("PNG-{}", index);
        seal = {{"registration_number", fmt::format("IN{:08}", 1000 + index * 7)},
                {"status", (h % 5 == 3 && m == 0) ? "cancelled" : "registered"},
                {"image_png_base64", fmt::format("iVBORw0KGgo{:06}", index)},
                {"image_sha256", hex_sha256(png)}};
      }
      json r = {
          {"resident_id", fmt::format("{:011}", 48213906575ull + index * 7919ull)},
          {"card_serial", fmt::format("{:016X}", 0x9F3A61C0D2E4B785ull + index * 0x10001ull)},
          {"mynumber", fmt::format("{:012}", 123456789018ull + index * 104729ull)},
          {"household_id", fmt::format("H{:09}", h)},
          {"relationship", relationship},
          {"name",
           {{"family_kanji", family},
            {"given_kanji", kGiven[m % kGiven.size()]},
            {"family_kana", family_kana},
            {"given_kana", kGivenKana[m % kGivenKana.size()]}}},
          {"birth_date", fmt::format("{}-0{}-1{}", adult ? 1960 + h % 30 : 2010 + m, 1 + m, m)},
          {"sex", m % 2 == 0 ? "male" : "female"},
          {"address",
           {{"postal_code", "123-4567"},
            {"prefecture", "東京都"},
            {"city", "架空市"},
            {"town", "桜町三丁目"},
            {"banchi", fmt::format("{}番地{}", h % 30 + 1, h % 7 + 1)},
            {"building", "コーポ桜 " + token},
            {"token", token}}},
          {"moved_in_date", "2011-06-15"},
          {"honseki", "神奈川県仮名市緑町一丁目7番地"},
          {"hittousha", head_name},
          {"koseki_id", fmt::format("K{:09}", h)},
          {"koseki_relationship", koseki_rel},
          {"seal", seal},
          {"tax",
           {{"fiscal_year", 2025},
            {"income", 4521000 + index},
            {"taxable_income", 3101000 + index},
            {"municipal_tax", 186000 + index},
            {"prefectural_tax", 124000 + index}}},
          {"status", (h % 7 == 6 && m == size - 1 && m > 0) ? "removed" : "active"},
          {"version", 1}};
      out << r.dump() << '\n';
    }
  }
}

}  // namespace

std::vector<json> read_population(const std::filesystem::path& file) {
  std::vector<json> out;
  for (const auto& line : kofu::test::split_lines(kofu::test::read_file(file))) {
    out.push_back(json::parse(line));
  }
  return out;
}

std::vector<json> make_population(const std::filesystem::path& file, std::size_t residents,
                                  std::uint64_t seed) {
  const auto kofu = kofu::test::kofu_binary();
  bool generated = false;
  if (std::filesystem::exists(kofu)) {
    auto r = kofu::test::run_command(
        {kofu, "population", "generate", "--residents", std::to_string(residents), "--seed",
         std::to_string(seed), "--out", file.string()},
        std::chrono::seconds(60));
    generated = r.exit_code == 0 && std::filesystem::exists(file);
  }
  if (!generated) write_builtin_population(file, residents);
  auto records = read_population(file);
  // The tests need a removed resident (not a household head) and a cancelled seal; a small
  // generated population may have neither, so make them (still synthetic test data).
  const auto has = [&](const std::function<bool(const json&)>& pred) {
    return std::any_of(records.begin(), records.end(), pred);
  };
  bool changed = false;
  if (!has([](const json& r) { return r["status"] == "removed"; })) {
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if ((*it)["relationship"] != "世帯主") {
        (*it)["status"] = "removed";
        changed = true;
        break;
      }
    }
  }
  if (!has([](const json& r) {
        return r["seal"].is_object() && r["seal"]["status"] == "cancelled";
      })) {
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if ((*it)["status"] == "active" && (*it)["seal"].is_object()) {
        (*it)["seal"]["status"] = "cancelled";
        changed = true;
        break;
      }
    }
  }
  if (changed) {
    std::string text;
    for (const auto& r : records) text += r.dump() + "\n";
    kofu::test::write_file(file, text);
  }
  return records;
}

mock_process::mock_process(const std::filesystem::path& population,
                           const std::vector<std::string>& args,
                           const std::filesystem::path& stderr_file) {
  std::vector<std::string> argv = {kofu::test::mock_binary(), "--population", population.string(),
                                   "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<kofu::test::child_process>(argv, stderr_file);
  auto line = process_->read_line(std::chrono::seconds(30));
  const std::string prefix = "listening on ";
  if (!line || line->rfind(prefix, 0) != 0) {
    std::string err;
    try {
      err = kofu::test::read_file(stderr_file);
    } catch (...) {
    }
    throw std::runtime_error("kofu-mock did not start: " + line.value_or("(no output)") + " " +
                             err);
  }
  url_ = line->substr(prefix.size());
  port_ = static_cast<std::uint16_t>(std::stoul(url_.substr(url_.rfind(':') + 1)));
}

nlohmann::json http_result::json() const { return nlohmann::json::parse(body, nullptr, false); }

class http_client::impl {
 public:
  impl(std::uint16_t port, std::optional<tls_client_config> tls, std::chrono::milliseconds timeout)
      : port_(port), tls_(std::move(tls)), timeout_(timeout) {
    if (tls_) {
      ssl_.emplace(asio::ssl::context::tls_client);
      ssl_->load_verify_file(tls_->ca_file.string());
      ssl_->set_verify_mode(asio::ssl::verify_peer);
      if (!tls_->cert_file.empty()) {
        ssl_->use_certificate_chain_file(tls_->cert_file.string());
        ssl_->use_private_key_file(tls_->key_file.string(), asio::ssl::context::pem);
      }
    }
  }

  http_result request(const std::string& method, const std::string& target, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      const std::string& content_type) {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty() || method == "POST") req.set(http::field::content_type, content_type);
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    req.keep_alive(true);
    // One retry on a fresh connection: the server may have closed an idle keep-alive connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      http_result result;
      const bool reused = connected_;
      if (!connected_) {
        if (auto err = connect(); !err.empty()) {
          result.error = err;
          return result;
        }
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto ec = exchange(req, parser);
      if (ec) {
        disconnect();
        result.error = ec.message();
        if (attempt == 0 && reused &&
            (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
             ec == asio::error::broken_pipe || ec == asio::error::eof)) {
          continue;
        }
        return result;
      }
      auto res = parser.release();
      result.status = res.result_int();
      result.body = std::move(res.body());
      result.content_type = std::string(res[http::field::content_type]);
      if (!res.keep_alive()) disconnect();
      return result;
    }
    return {};
  }

 private:
  // Runs the I/O queued on io_ to completion; every operation has the stream's deadline.
  void run() {
    io_.restart();
    io_.run();
  }

  boost::system::error_code exchange(http::request<http::string_body>& req,
                                     http::response_parser<http::string_body>& parser) {
    boost::system::error_code result;
    beast::flat_buffer buffer;
    auto& lowest = tls_ ? beast::get_lowest_layer(*tls_stream_) : *tcp_stream_;
    lowest.expires_after(timeout_);
    const auto on_read = [&](boost::system::error_code ec, std::size_t) { result = ec; };
    const auto on_write = [&](boost::system::error_code ec, std::size_t) {
      if (ec) {
        result = ec;
        return;
      }
      lowest.expires_after(timeout_);
      if (tls_) {
        http::async_read(*tls_stream_, buffer, parser, on_read);
      } else {
        http::async_read(*tcp_stream_, buffer, parser, on_read);
      }
    };
    if (tls_) {
      http::async_write(*tls_stream_, req, on_write);
    } else {
      http::async_write(*tcp_stream_, req, on_write);
    }
    run();
    return result;
  }

  std::string connect() {
    boost::system::error_code result;
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
    if (tls_) {
      tls_stream_.emplace(io_, *ssl_);
      auto& lowest = beast::get_lowest_layer(*tls_stream_);
      lowest.expires_after(timeout_);
      lowest.async_connect(endpoint, [&](boost::system::error_code ec) {
        if (ec) {
          result = ec;
          return;
        }
        tls_stream_->async_handshake(asio::ssl::stream_base::client,
                                     [&](boost::system::error_code hec) { result = hec; });
      });
      run();
      if (result) {
        disconnect();
        return "handshake: " + result.message();
      }
    } else {
      tcp_stream_.emplace(io_);
      tcp_stream_->expires_after(timeout_);
      tcp_stream_->async_connect(endpoint, [&](boost::system::error_code ec) { result = ec; });
      run();
      if (result) {
        disconnect();
        return "connect: " + result.message();
      }
    }
    connected_ = true;
    return {};
  }

  void disconnect() {
    boost::system::error_code ignored;
    if (tls_stream_) beast::get_lowest_layer(*tls_stream_).socket().close(ignored);
    if (tcp_stream_) tcp_stream_->socket().close(ignored);
    tls_stream_.reset();
    tcp_stream_.reset();
    connected_ = false;
  }

  std::uint16_t port_;
  std::optional<tls_client_config> tls_;
  std::chrono::milliseconds timeout_;
  asio::io_context io_;
  std::optional<asio::ssl::context> ssl_;
  std::optional<beast::tcp_stream> tcp_stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  bool connected_ = false;
};

http_client::http_client(std::uint16_t port, std::optional<tls_client_config> tls,
                         std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(port, std::move(tls), timeout)) {}
http_client::~http_client() = default;

http_result http_client::request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& content_type) {
  return impl_->request(method, target, body, headers, content_type);
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  std::string out;
  std::array<char, 4096> buf{};
  stream.expires_after(timeout);  // one deadline for the whole exchange
  std::function<void(boost::system::error_code, std::size_t)> on_read =
      [&](boost::system::error_code ec, std::size_t n) {
        out.append(buf.data(), n);
        if (!ec) stream.async_read_some(asio::buffer(buf), on_read);
      };
  stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                       [&](boost::system::error_code ec) {
                         if (ec) return;
                         // Read while writing: the server may answer (and close) before the
                         // whole request is written.
                         stream.async_read_some(asio::buffer(buf), on_read);
                         asio::async_write(stream, asio::buffer(bytes),
                                           [](boost::system::error_code, std::size_t) {});
                       });
  io.run();
  return out;
}

tls_material make_tls_material(const std::filesystem::path& dir) {
  tls_material m;
  const auto p = [&](const char* name) { return (dir / name).string(); };
  m.ca_cert = p("ca.pem");
  m.server_cert = p("server.pem");
  m.server_key = p("server.key");
  m.client_cert = p("client.pem");
  m.client_key = p("client.key");
  m.other_ca_cert = p("other-ca.pem");
  m.other_client_cert = p("other-client.pem");
  m.other_client_key = p("other-client.key");
  kofu::test::write_file(dir / "server.ext",
                         "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                         "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                         "extendedKeyUsage=serverAuth\n");
  kofu::test::write_file(dir / "client.ext",
                         "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                         "extendedKeyUsage=clientAuth\n");
  const auto run = [](const std::vector<std::string>& argv) {
    auto r = kofu::test::run_command(argv, std::chrono::seconds(60));
    if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
  };
  const std::string ossl = "/usr/bin/openssl";
  for (const auto& [ca, key, cn] : {std::tuple{p("ca.pem"), p("ca.key"), "kofu test CA"},
                                    std::tuple{p("other-ca.pem"), p("other-ca.key"), "other CA"}}) {
    run({ossl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", ca, "-days", "2", "-subj", std::string("/CN=") + cn});
  }
  const auto leaf = [&](const std::string& name, const std::string& ca, const std::string& ca_key,
                        const std::string& ext, const std::string& cn) {
    run({ossl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         p((name + ".key").c_str()), "-out", p((name + ".csr").c_str()), "-subj", "/CN=" + cn});
    run({ossl, "x509", "-req", "-in", p((name + ".csr").c_str()), "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", p((name + ".pem").c_str()), "-days", "2", "-extfile", ext});
  };
  leaf("server", p("ca.pem"), p("ca.key"), p("server.ext"), "127.0.0.1");
  leaf("client", p("ca.pem"), p("ca.key"), p("client.ext"), "kofu test client");
  leaf("other-client", p("other-ca.pem"), p("other-ca.key"), p("client.ext"), "stranger");
  return m;
}

json issue_body(const std::string& application_number, const std::string& card_serial,
                const std::string& type, const std::string& channel, const json& options) {
  json j = {{"application_number", application_number},
            {"channel", channel},
            {"certificate_type", type},
            {"subject", {{"card_serial", card_serial}}}};
  if (!options.is_null()) j["options"] = options;
  return j;
}

bool digest_matches(const json& answer) {
  if (!answer.contains("certificate") || !answer.contains("application_number") ||
      !answer.contains("digest")) {
    return false;
  }
  const auto canonical = answer["certificate"].dump();
  return hex_sha256(answer["application_number"].get<std::string>() + "\n" + canonical) ==
         answer["digest"].get<std::string>();
}

void run_load(std::uint16_t port, unsigned workers, std::size_t max_requests,
              std::chrono::milliseconds duration,
              const std::function<void(unsigned, std::size_t, http_client&)>& step,
              std::optional<tls_client_config> tls, const std::atomic<bool>* stop) {
  std::atomic<std::size_t> issued{0};
  const auto deadline = std::chrono::steady_clock::now() + duration;
  std::vector<std::thread> threads;
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      http_client client(port, tls);
      for (;;) {
        const auto i = issued.fetch_add(1);
        if (i >= max_requests || std::chrono::steady_clock::now() >= deadline) return;
        if (stop != nullptr && stop->load()) return;
        step(w, i, client);
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace kofu::mock::test
