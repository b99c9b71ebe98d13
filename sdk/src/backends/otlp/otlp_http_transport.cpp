#include "backends/otlp/otlp_http_transport.hpp"

#include <zlib.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "obs/version.hpp"

namespace obs::otlp {
namespace {

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && out.size() < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// For messages: "https://user:secret@host/..." loses "user:secret@".
std::string without_credentials(const std::string& url) {
  const auto start = url.find("://");
  const auto at = url.find('@');
  if (start == std::string::npos || at == std::string::npos || at < start) return url;
  const auto slash = url.find('/', start + 3);
  if (slash != std::string::npos && slash < at) return url;
  return url.substr(0, start + 3) + url.substr(at + 1);
}

bool is_token_char(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// Names must be HTTP tokens and values free of CR, LF and NUL, or a header
// could smuggle another one in. The message names the header, never its value.
void check_header(const std::string& name, const std::string& value) {
  if (name.empty()) throw std::invalid_argument("OTLP header with an empty name");
  for (unsigned char c : name)
    if (!is_token_char(c))
      throw std::invalid_argument("OTLP header name '" + printable(name, 64) + "' is not a valid HTTP header name");
  for (unsigned char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      throw std::invalid_argument("OTLP header '" + printable(name, 64) + "' has a value with CR, LF or NUL in it");
}

struct Url {
  std::string scheme_host_port;
  std::string path;
  std::string display;
};

// scheme://host[:port][/path]; credentials in the URL are refused (they
// would end up in messages; headers are the place for them).
Url parse_url(const std::string& url) {
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument("OTLP endpoint '" + printable(without_credentials(url), 120) + "' " + why);
  };
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw fail("is not a URL (expected http://host:port/path)");
  std::string scheme = url.substr(0, scheme_end);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") throw fail("must start with http:// or https://");
  const auto authority_start = scheme_end + 3;
  auto path_start = url.find('/', authority_start);
  if (path_start == std::string::npos) path_start = url.size();
  const std::string authority = url.substr(authority_start, path_start - authority_start);
  if (authority.find('@') != std::string::npos)
    throw std::invalid_argument("OTLP endpoint has credentials in it (user:password@); send them as a header instead");
  if (authority.empty() || authority.front() == ':') throw fail("has no host");
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f) throw fail("contains spaces or control characters");
  Url u;
  u.scheme_host_port = scheme + "://" + authority;
  u.path = path_start < url.size() ? url.substr(path_start) : "/";
  // Query strings can carry API keys: messages show the path only.
  u.display = u.scheme_host_port + u.path.substr(0, u.path.find_first_of("?#"));
  return u;
}

void require_readable(const std::string& path, const char* what) {
  if (path.empty()) return;
  std::ifstream f(path);
  if (!f) throw std::invalid_argument(std::string("OTLP ") + what + " file '" + printable(path, 200) + "' cannot be read");
}

// ExportXServiceResponse { partial_success = 1 { rejected_x = 1 (int64); error_message = 2 } }
// and google.rpc.Status { message = 2 }: only what we report, read leniently.
struct ProtoReader {
  std::string_view in;
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
      const auto b = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // Visits each field; returns false on malformed input.
  template <class F>
  bool fields(F&& visit) {
    while (!in.empty()) {
      std::uint64_t key = 0;
      if (!varint(key)) return false;
      const auto field = key >> 3;
      switch (key & 7) {
        case 0: {
          std::uint64_t v = 0;
          if (!varint(v)) return false;
          visit(field, v, std::string_view());
          break;
        }
        case 1:
          if (in.size() < 8) return false;
          in.remove_prefix(8);
          break;
        case 5:
          if (in.size() < 4) return false;
          in.remove_prefix(4);
          break;
        case 2: {
          std::uint64_t len = 0;
          if (!varint(len) || len > in.size()) return false;
          visit(field, 0, in.substr(0, len));
          in.remove_prefix(len);
          break;
        }
        default: return false;
      }
    }
    return true;
  }
};

void partial_success_protobuf(std::string_view body, std::uint64_t& rejected, std::string& message) {
  ProtoReader response{body};
  response.fields([&](std::uint64_t field, std::uint64_t, std::string_view bytes) {
    if (field != 1) return;
    ProtoReader partial{bytes};
    partial.fields([&](std::uint64_t f, std::uint64_t v, std::string_view s) {
      if (f == 1) rejected = v;
      if (f == 2) message.assign(s);
    });
  });
}

std::string status_message_protobuf(std::string_view body) {
  std::string message;
  ProtoReader status{body};
  status.fields([&](std::uint64_t f, std::uint64_t, std::string_view s) {
    if (f == 2) message.assign(s);
  });
  return message;
}

std::string_view rejected_json_key(std::string_view signal) {
  if (signal == "traces") return "rejectedSpans";
  if (signal == "logs") return "rejectedLogRecords";
  return "rejectedDataPoints";
}

}  // namespace

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  // 15 window bits + 16: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("gzip: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const auto written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate failed");
  out.resize(written);
  return out;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::uint64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && ptr == value.data() + value.size())
    return std::chrono::milliseconds(std::min<std::uint64_t>(seconds, 24 * 3600) * 1000);
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (when <= now) return std::chrono::milliseconds(0);
  return std::min(std::chrono::duration_cast<std::chrono::milliseconds>(when - now),
                  std::chrono::milliseconds(24 * 3600 * 1000));
}

OtlpHttpTransport::OtlpHttpTransport(const OtlpOptions& options, std::string_view signal)
    : signal_(signal),
      json_(options.protocol == OtlpProtocol::HttpJson),
      gzip_(options.gzip),
      headers_(options.headers) {
  const Url url = parse_url(options.endpoint);
  for (const auto& [name, value] : headers_) check_header(name, value);
  path_ = url.path;
  display_url_ = url.display;
  content_type_ = json_ ? "application/json" : "application/x-protobuf";
  require_readable(options.certificate, "certificate (CA)");
  require_readable(options.client_certificate, "client certificate");
  require_readable(options.client_key, "client key");
  if (options.client_certificate.empty() != options.client_key.empty())
    throw std::invalid_argument("OTLP client certificate and client key must be given together");
  client_ = std::make_unique<httplib::Client>(url.scheme_host_port, options.client_certificate, options.client_key);
  if (!client_->is_valid())
    throw std::invalid_argument("OTLP endpoint " + display_url_ +
                                ": the TLS client could not be set up (check the client certificate and key)");
  if (!options.certificate.empty()) client_->set_ca_cert_path(options.certificate);
  const auto timeout = std::max(options.timeout, std::chrono::milliseconds(1));
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);
  client_->set_keep_alive(true);
}

OtlpHttpTransport::~OtlpHttpTransport() = default;

void OtlpHttpTransport::abort() { client_->stop(); }

std::string OtlpHttpTransport::scrub(std::string text) const {
  const auto hide = [&](std::string_view secret) {
    if (secret.size() < 8) return;  // too short to be a credential, and hiding it would mangle text
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3))
      text.replace(pos, secret.size(), "***");
  };
  for (const auto& h : headers_) {
    hide(h.second);
    // "Bearer <token>": a receiver may echo the token alone.
    std::string_view rest = h.second;
    while (!rest.empty()) {
      const auto space = rest.find_first_of(" \t");
      hide(rest.substr(0, space));
      if (space == std::string_view::npos) break;
      rest.remove_prefix(space + 1);
    }
  }
  return text;
}

SendResult OtlpHttpTransport::send(const std::string& body) {
  httplib::Headers headers;
  for (const auto& [name, value] : headers_) headers.emplace(name, value);
  headers.emplace("User-Agent", "obs-cpp/" OBS_VERSION);
  const std::string* payload = &body;
  std::string compressed;
  if (gzip_) {
    compressed = gzip_compress(body);
    payload = &compressed;
    headers.emplace("Content-Encoding", "gzip");
  }
  auto res = client_->Post(path_, headers, payload->data(), payload->size(), content_type_);
  if (!res) {
    SendResult r;
    r.outcome = SendResult::Outcome::Retry;
    r.kind = "connection-" + std::to_string(static_cast<int>(res.error()));
    r.problem = "no answer from " + display_url_ + ": " + httplib::to_string(res.error());
    // A certificate that does not verify now will not verify on a retry.
    if (res.error() == httplib::Error::SSLServerVerification) r.outcome = SendResult::Outcome::Reject;
    return r;
  }
  return classify_response(res->status, res->body, res->get_header_value("Content-Type"),
                           res->get_header_value("Retry-After"));
}

SendResult OtlpHttpTransport::classify_response(int status, const std::string& body, const std::string& content_type,
                                                const std::string& retry_after) const {
  SendResult r;
  r.kind = "http-" + std::to_string(status);
  const bool json_body = content_type.find("json") != std::string::npos;
  if (status >= 200 && status < 300) {
    r.outcome = SendResult::Outcome::Delivered;
    std::string message;
    if (json_body) {
      const auto j = nlohmann::json::parse(body, nullptr, false);
      if (j.is_object() && j.contains("partialSuccess") && j["partialSuccess"].is_object()) {
        const auto& p = j["partialSuccess"];
        const auto key = std::string(rejected_json_key(signal_));
        if (p.contains(key)) {
          const auto& v = p[key];
          if (v.is_number_unsigned()) {
            r.rejected = v.get<std::uint64_t>();
          } else if (v.is_string()) {  // int64 fields are strings in OTLP JSON
            const auto& text = v.get_ref<const std::string&>();
            std::from_chars(text.data(), text.data() + text.size(), r.rejected);
          }
        }
        if (p.contains("errorMessage") && p["errorMessage"].is_string()) message = p["errorMessage"].get<std::string>();
      }
    } else {
      partial_success_protobuf(body, r.rejected, message);
    }
    if (r.rejected > 0 || !message.empty())
      r.problem = display_url_ + " accepted the request but rejected " + std::to_string(r.rejected) + " items" +
                  (message.empty() ? std::string() : ": " + printable(scrub(message), 200));
    return r;
  }
  std::string detail;
  if (json_body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) detail = j["message"].get<std::string>();
    else detail = body;
  } else if (content_type.find("protobuf") != std::string::npos) {
    detail = status_message_protobuf(body);
  } else {
    detail = body;
  }
  r.problem = "HTTP " + std::to_string(status) + " from " + display_url_;
  // Scrubbed before cutting and escaping, which could split or disguise a secret.
  if (!detail.empty()) r.problem += ": " + printable(scrub(detail), 200);
  if (status == 429 || status == 502 || status == 503 || status == 504) {
    r.outcome = SendResult::Outcome::Retry;
    r.retry_after = parse_retry_after(retry_after, std::chrono::system_clock::now());
  } else {
    r.outcome = SendResult::Outcome::Reject;
  }
  return r;
}

}  // namespace obs::otlp
