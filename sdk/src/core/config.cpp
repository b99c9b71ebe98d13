// Config::from_env: every variable is optional; a bad value is reported in
// Config::errors with the variable's name, and the default is kept.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/env_lists.hpp"
#include "http/admin_auth.hpp"
#include "obs/config.hpp"
#include "text/ascii.hpp"

namespace obs {
namespace {

using std::chrono::milliseconds;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Quotes a user-supplied value for an error message, cut short and with
// control characters made visible, so a hostile value cannot forge output.
std::string quoted(std::string_view v) {
  std::string out = "'";
  for (std::size_t i = 0; i < v.size() && i < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (v.size() > 64) out += "...";
  return out + "'";
}

}  // namespace

// ---- key=value lists (env_lists.hpp) ----
namespace internal {
namespace {

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void parse_entry(std::string_view item, std::size_t position, KeyValueList& out) {
  auto problem = [&](std::string key, KeyValueIssue issue) {
    out.problems.push_back({position, std::move(key), issue});
  };
  const auto eq = item.find('=');
  if (eq == std::string_view::npos) return problem({}, KeyValueIssue::NoEquals);
  const std::string_view key = trim(item.substr(0, eq));
  if (key.empty()) return problem({}, KeyValueIssue::EmptyKey);
  if (!is_http_token(key)) return problem({}, KeyValueIssue::KeyNotToken);
  auto value = percent_decode(trim(item.substr(eq + 1)));
  if (!value) return problem(std::string(key), KeyValueIssue::BadPercentEscape);
  if (std::any_of(value->begin(), value->end(), [](char c) { return is_control(static_cast<unsigned char>(c)); }))
    return problem(std::string(key), KeyValueIssue::ControlCharacter);
  out.entries.emplace_back(std::string(key), std::move(*value));
}

}  // namespace

std::string_view describe(KeyValueIssue issue) {
  switch (issue) {
    case KeyValueIssue::NoEquals: return "has no '='";
    case KeyValueIssue::EmptyKey: return "has an empty key";
    case KeyValueIssue::KeyNotToken: return "has a key that is not an HTTP token";
    case KeyValueIssue::BadPercentEscape: return "has a malformed %-escape in its value";
    case KeyValueIssue::ControlCharacter: return "has a control character (CR, LF, NUL...) in its decoded value";
  }
  return "is malformed";
}

bool is_http_token(std::string_view s) {
  static constexpr std::string_view punctuation = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           punctuation.find(c) != std::string_view::npos;
  });
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

KeyValueList parse_key_value_list(std::string_view text) {
  KeyValueList out;
  for (std::size_t position = 1;; ++position) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) parse_entry(item, position, out);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace internal

namespace {

class EnvReader {
 public:
  EnvReader(const Config::EnvLookup& getenv, std::vector<std::string>& errors) : getenv_(getenv), errors_(errors) {}

  // Set and non-blank values only, trimmed. A copy: the lookup may reuse
  // its buffer on the next call.
  std::optional<std::string> get(const std::string& name) const {
    const char* v = getenv_(name.c_str());
    if (!v) return std::nullopt;
    std::string_view t = trim(v);
    if (t.empty()) return std::nullopt;
    return std::string(t);
  }

  // Set, even if empty: for secrets, where an empty value is a mistake
  // to report rather than "unset".
  std::optional<std::string> raw(const std::string& name) const {
    const char* v = getenv_(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  }

  bool string(const std::string& name, std::string& out) const {
    auto v = get(name);
    if (v) out = std::move(*v);
    return v.has_value();
  }

  void boolean(const std::string& name, bool& out) const {
    auto v = get(name);
    if (!v) return;
    const std::string s = lower(*v);
    if (s == "true" || s == "1" || s == "yes" || s == "on") {
      out = true;
    } else if (s == "false" || s == "0" || s == "no" || s == "off") {
      out = false;
    } else {
      error(name, *v, "is not a boolean (true or false)", out ? "true" : "false");
    }
  }

  // True when the variable is set and valid (and `out` was changed).
  template <class T>
  bool integer(const std::string& name, T& out, T min, T max, std::string_view what = "an integer") const {
    auto v = get(name);
    if (!v) return false;
    T parsed{};
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
    if (ec != std::errc() || ptr != v->data() + v->size() || parsed < min || parsed > max) {
      error(name, *v,
            "is not " + std::string(what) + " from " + std::to_string(min) + " to " + std::to_string(max),
            std::to_string(out));
      return false;
    }
    out = parsed;
    return true;
  }

  bool millis(const std::string& name, milliseconds& out, std::int64_t min, std::int64_t max) const {
    std::int64_t ms = out.count();
    if (!integer<std::int64_t>(name, ms, min, max, "a number of milliseconds")) return false;
    out = milliseconds(ms);
    return true;
  }

  void error(const std::string& name, std::string_view value, const std::string& problem, const std::string& kept) const {
    errors_.push_back(name + "=" + quoted(value) + " " + problem + "; using " + kept);
  }

  // A message that must not quote the value (it may be a secret).
  void problem(std::string message) const { errors_.push_back(std::move(message)); }

 private:
  const Config::EnvLookup& getenv_;
  std::vector<std::string>& errors_;
};

// ---- OTEL_*_EXPORTER ----

// The exporters an OTEL_*_EXPORTER list names that this build provides
// ("none" adds nothing), or nullopt when the variable is unset or lists
// nothing. Unknown names are reported and left out; the list still counts
// as given, so what it does not name is off.
std::optional<std::vector<std::string>> exporter_list(const EnvReader& env, const std::string& name,
                                                      std::initializer_list<std::string_view> provided) {
  auto v = env.get(name);
  if (!v) return std::nullopt;
  std::string known;
  for (auto p : provided) known += std::string(p) + ", ";
  known += "none";
  std::vector<std::string> listed;
  bool any = false;
  std::string_view rest = *v;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string item = lower(trim(rest.substr(0, comma)));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    any = true;
    if (std::find(provided.begin(), provided.end(), item) != provided.end()) {
      listed.push_back(std::move(item));
    } else if (item != "none") {
      env.error(name, item, "is not an exporter this build provides (" + known + ")", "the others listed");
    }
  }
  if (!any) return std::nullopt;
  return listed;
}

bool lists(const std::optional<std::vector<std::string>>& exporters, std::string_view name) {
  return exporters && std::find(exporters->begin(), exporters->end(), name) != exporters->end();
}

// ---- OTLP endpoints ----

// The URL for messages: without "user:password@" and without the query and
// fragment, which may carry credentials.
std::string url_for_message(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const auto scheme_end = url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t end = std::min(url.find('/', start), url.size());
  const auto at = url.substr(0, end).rfind('@');
  std::string out(url);
  if (at != std::string_view::npos && at >= start) out.erase(start, at + 1 - start);
  return out;
}

bool is_port(std::string_view s) {
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  return ec == std::errc() && ptr == s.data() + s.size() && s.size() <= 5 && port >= 1 && port <= 65535;
}

// http:// or https://, a host, and a port from 1 to 65535 if one is given.
bool is_http_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return false;
  if (std::any_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return false;
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority, port;
  bool has_port = false;
  if (!host.empty() && host.front() == '[') {  // IPv6 literal
    const auto close = host.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return false;
      has_port = true;
      port = host.substr(close + 2);
    }
    host = host.substr(0, close + 1);
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    has_port = true;
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  return !host.empty() && (!has_port || is_port(port));
}

// ---- admin credentials ----

constexpr const char* kAdminNotStarted =
    "; the admin server is not started, so that /metrics and /health/ready are not served without a credential";
constexpr std::size_t kMaxSecretBytes = 4096;

// The token file's content without surrounding whitespace (a trailing
// newline is usual), or nullopt after reporting why it cannot be used.
std::optional<std::string> read_token_file(const EnvReader& env, const std::string& name, const std::string& path) {
  if (path.empty()) {
    env.problem(name + " is empty" + std::string(kAdminNotStarted));
    return std::nullopt;
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    env.problem(name + "=" + quoted(path) + " cannot be read" +
                (err ? " (" + std::string(std::strerror(err)) + ")" : std::string()) + kAdminNotStarted);
    return std::nullopt;
  }
  std::string content(kMaxSecretBytes + 1, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(in.gcount()));
  if (content.size() > kMaxSecretBytes) {
    env.problem(name + "=" + quoted(path) + " holds more than " + std::to_string(kMaxSecretBytes) +
                " bytes, too many for a token" + kAdminNotStarted);
    return std::nullopt;
  }
  return std::string(trim(content));
}

// OBS_ADMIN_BEARER_TOKEN (or _FILE) and OBS_ADMIN_BASIC_AUTH. Unlike other
// variables, set-but-empty counts: a missing secret must not open the
// endpoints. Any problem turns the admin server off (fail closed) and is
// reported without the value.
void read_admin_credentials(const EnvReader& env, Config& c) {
  bool usable = true;
  const auto token = env.raw("OBS_ADMIN_BEARER_TOKEN");
  auto token_file = env.raw("OBS_ADMIN_BEARER_TOKEN_FILE");
  if (token_file) token_file = std::string(trim(*token_file));
  if (token && token_file) {
    env.problem("OBS_ADMIN_BEARER_TOKEN and OBS_ADMIN_BEARER_TOKEN_FILE are both set; set one" +
                std::string(kAdminNotStarted));
    usable = false;
  } else if (token || token_file) {
    const std::string name = token ? "OBS_ADMIN_BEARER_TOKEN" : "OBS_ADMIN_BEARER_TOKEN_FILE";
    std::optional<std::string> value =
        token ? std::optional<std::string>(std::string(trim(*token))) : read_token_file(env, name, *token_file);
    if (!value) {
      usable = false;
    } else if (const std::string why = internal::bearer_token_problem(*value); !why.empty()) {
      env.problem(name + (token ? " " : "'s token ") + why + kAdminNotStarted);
      usable = false;
    }
    c.admin_bearer_token = value.value_or(std::string());
  }
  if (const auto basic = env.raw("OBS_ADMIN_BASIC_AUTH")) {
    if (const std::string why = internal::basic_auth_problem(*basic); !why.empty()) {
      env.problem("OBS_ADMIN_BASIC_AUTH " + why + kAdminNotStarted);
      usable = false;
    }
    c.admin_basic_auth = *basic;
  }
  if (!usable) c.admin_server = false;
}

constexpr std::string_view kDefaultOtlpBase = "http://localhost:4318";

struct Signal {
  std::string_view name;   // "traces": the URL path and the messages
  std::string_view upper;  // "TRACES": the variables
};
constexpr Signal kTraces{"traces", "TRACES"}, kMetrics{"metrics", "METRICS"}, kLogs{"logs", "LOGS"};

// OTEL_EXPORTER_OTLP_<SIGNAL>_<setting>, or OTEL_EXPORTER_OTLP_<setting>
// for the general one (empty signal).
std::string otlp_variable(std::string_view signal_upper, std::string_view setting) {
  std::string name = "OTEL_EXPORTER_OTLP_";
  if (!signal_upper.empty()) (name += signal_upper) += '_';
  return name += setting;
}

struct Endpoint {
  std::optional<std::string> url;  // unset: the variable giving it is malformed
  bool configured = false;         // an endpoint variable applies to this signal
};

// The per-signal variable as is, else the general one + "/v1/<signal>",
// else the default. `base` is the general variable's value, `base_ok`
// whether it passed validation (already reported otherwise).
Endpoint otlp_endpoint(const EnvReader& env, Signal signal, const std::optional<std::string>& base, bool base_ok) {
  const std::string name = otlp_variable(signal.upper, "ENDPOINT");
  if (auto own = env.get(name)) {
    if (is_http_url(*own)) return {*own, true};
    env.error(name, url_for_message(*own), "is not an http:// or https:// URL with a host",
              "no OTLP export of " + std::string(signal.name));
    return {std::nullopt, true};
  }
  if (base) return {base_ok ? std::optional<std::string>(otlp_signal_url(*base, signal.name)) : std::nullopt, true};
  return {otlp_signal_url(kDefaultOtlpBase, signal.name), false};
}

// ---- OTLP delivery settings ----

const char* protocol_name(OtlpProtocol p) { return p == OtlpProtocol::HttpJson ? "http/json" : "http/protobuf"; }

void otlp_protocol(const EnvReader& env, const std::string& name, OtlpProtocol& out) {
  auto v = env.get(name);
  if (!v) return;
  const std::string s = lower(*v);
  if (s == "http/protobuf") out = OtlpProtocol::HttpProtobuf;
  else if (s == "http/json") out = OtlpProtocol::HttpJson;
  else if (s == "grpc") env.error(name, *v, "asks for OTLP/gRPC; this build speaks OTLP/HTTP only", protocol_name(out));
  else env.error(name, *v, "is not a protocol (http/protobuf, http/json)", protocol_name(out));
}

void otlp_compression(const EnvReader& env, const std::string& name, bool& gzip) {
  auto v = env.get(name);
  if (!v) return;
  const std::string s = lower(*v);
  if (s == "gzip") gzip = true;
  else if (s == "none") gzip = false;
  else env.error(name, *v, "is not a compression (gzip, none)", gzip ? "gzip" : "none");
}

void report_list_problems(const EnvReader& env, const std::string& name,
                          const std::vector<internal::KeyValueProblem>& problems) {
  for (const auto& p : problems) {
    std::string message = name + ": entry " + std::to_string(p.entry);
    if (!p.key.empty()) message += " (" + quoted(p.key) + ")";
    message += " ";
    message += internal::describe(p.issue);
    env.problem(message + "; entry ignored");
  }
}

// Header names are case-insensitive: a later entry replaces an earlier one
// of the same name, in its place.
void set_header(std::vector<std::pair<std::string, std::string>>& headers, std::string name, std::string value) {
  auto it = std::find_if(headers.begin(), headers.end(),
                         [&](const auto& h) { return text::equals_ignoring_case(h.first, name); });
  if (it != headers.end()) *it = {std::move(name), std::move(value)};
  else headers.emplace_back(std::move(name), std::move(value));
}

// Header values are secrets: messages name the entry, never its value.
void otlp_headers(const EnvReader& env, const std::string& name, std::vector<std::pair<std::string, std::string>>& headers) {
  auto v = env.get(name);
  if (!v) return;
  auto list = internal::parse_key_value_list(*v);
  report_list_problems(env, name, list.problems);
  for (auto& [key, value] : list.entries) set_header(headers, std::move(key), std::move(value));
}

constexpr std::int64_t kTenMinutes = 600000;

// The settings one OTEL_EXPORTER_OTLP_[<SIGNAL>_]X family gives, on top of
// `options` (the general ones, for a signal).
void otlp_settings(const EnvReader& env, std::string_view signal_upper, OtlpOptions& options) {
  otlp_headers(env, otlp_variable(signal_upper, "HEADERS"), options.headers);
  otlp_protocol(env, otlp_variable(signal_upper, "PROTOCOL"), options.protocol);
  otlp_compression(env, otlp_variable(signal_upper, "COMPRESSION"), options.gzip);
  env.millis(otlp_variable(signal_upper, "TIMEOUT"), options.timeout, 1, kTenMinutes);
  env.string(otlp_variable(signal_upper, "CERTIFICATE"), options.certificate);
  env.string(otlp_variable(signal_upper, "CLIENT_CERTIFICATE"), options.client_certificate);
  env.string(otlp_variable(signal_upper, "CLIENT_KEY"), options.client_key);
}

void metrics_temporality(const EnvReader& env, OtlpTemporality& out) {
  const std::string name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
  auto v = env.get(name);
  if (!v) return;
  const std::string s = lower(*v);
  // lowmemory: delta for counters and histograms, which is all obs has.
  if (s == "cumulative") out = OtlpTemporality::Cumulative;
  else if (s == "delta" || s == "lowmemory") out = OtlpTemporality::Delta;
  else env.error(name, *v, "is not a temporality preference (cumulative, delta, lowmemory)", "cumulative");
}

// ---- batching (OTEL_BSP_*, OTEL_BLRP_*) ----

struct Batching {
  std::size_t max_queue_size = 2048;
  std::size_t max_batch_size = 512;
  milliseconds schedule_delay{5000};
  milliseconds export_timeout{30000};
  bool queue_given = false, batch_given = false, delay_given = false;
};

// A batch larger than the queue is cut to the queue size; reported when the
// batch size was given (a default batch size just follows a small queue).
void clamp_batch(const EnvReader& env, const std::string& batch_name, std::size_t& batch, bool batch_given,
                 std::size_t queue) {
  if (batch <= queue) return;
  if (batch_given)
    env.error(batch_name, std::to_string(batch), "is larger than the queue size " + std::to_string(queue),
              std::to_string(queue));
  batch = queue;
}

// OTEL_BLRP_* (logs); OTEL_BSP_MAX_QUEUE_SIZE and _BATCH_SIZE are read
// into Config's span fields by from_env itself.
Batching read_batching(const EnvReader& env, const std::string& prefix, milliseconds default_delay) {
  Batching b;
  b.schedule_delay = default_delay;
  b.queue_given = env.integer<std::size_t>(prefix + "MAX_QUEUE_SIZE", b.max_queue_size, 2, std::size_t{1} << 24);
  b.batch_given = env.integer<std::size_t>(prefix + "MAX_EXPORT_BATCH_SIZE", b.max_batch_size, 1, std::size_t{1} << 16);
  clamp_batch(env, prefix + "MAX_EXPORT_BATCH_SIZE", b.max_batch_size, b.batch_given, b.max_queue_size);
  b.delay_given = env.millis(prefix + "SCHEDULE_DELAY", b.schedule_delay, 1, kTenMinutes);
  env.millis(prefix + "EXPORT_TIMEOUT", b.export_timeout, 1, kTenMinutes);
  return b;
}

void apply(const Batching& b, OtlpOptions& o) {
  o.max_queue_size = b.max_queue_size;
  o.max_batch_size = b.max_batch_size;
  o.schedule_delay = b.schedule_delay;
  o.max_export_time = b.export_timeout;
}

// Files keep their own default delay (1 s) unless the variable is given.
void apply(const Batching& b, OtlpFileOptions& o) {
  o.max_queue_size = b.max_queue_size;
  o.max_batch_size = b.max_batch_size;
  if (b.delay_given) o.schedule_delay = b.schedule_delay;
}

// ---- OTEL_RESOURCE_ATTRIBUTES ----

// service.name, service.version and deployment.environment[.name] fill the
// Config fields (each variable reading them later wins); the rest go to
// resource_attributes in order, a repeated key keeping its first place and
// its last value. Empty values of the three are ignored.
void read_resource_attributes(const EnvReader& env, Config& c) {
  const std::string name = "OTEL_RESOURCE_ATTRIBUTES";
  auto v = env.get(name);
  if (!v) return;
  auto list = internal::parse_key_value_list(*v);
  report_list_problems(env, name, list.problems);
  std::optional<std::string> environment, environment_name;
  for (auto& [key, value] : list.entries) {
    if (key == "service.name") {
      if (!value.empty()) c.service_name = std::move(value);
    } else if (key == "service.version") {
      if (!value.empty()) c.version = std::move(value);
    } else if (key == "deployment.environment") {
      if (!value.empty()) environment = std::move(value);
    } else if (key == "deployment.environment.name") {
      if (!value.empty()) environment_name = std::move(value);
    } else {
      auto& attrs = c.resource_attributes;
      auto it = std::find_if(attrs.begin(), attrs.end(), [&k = key](const auto& a) { return a.first == k; });
      if (it != attrs.end()) it->second = std::move(value);
      else attrs.emplace_back(std::move(key), std::move(value));
    }
  }
  // The current semantic convention's name wins over the older one.
  if (environment_name) c.environment = std::move(*environment_name);
  else if (environment) c.environment = std::move(*environment);
}

// ---- OTLP, per signal ----

// Sets `otlp` and `file` as OTEL_<SIGNAL>_EXPORTER (`exporters`) and the
// endpoint variables say: a list names exactly what is on; without one,
// OTLP is on only when an endpoint variable applies to the signal (obs's
// deviation from the spec, whose default is otlp), files are off.
void choose_otlp(const std::optional<std::vector<std::string>>& exporters, const Endpoint& endpoint,
                 OtlpOptions options, const OtlpFileOptions& file_options, std::optional<OtlpOptions>& otlp,
                 std::optional<OtlpFileOptions>& file) {
  const bool otlp_on = exporters ? lists(exporters, "otlp") : endpoint.configured;
  if (otlp_on && endpoint.url) {
    options.endpoint = *endpoint.url;
    otlp = std::move(options);
  }
  if (lists(exporters, "otlp_file")) file = file_options;
}

// ---- Datadog ----

// DD_TAGS and the histogram lists: separated by commas or spaces.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto end = text.find_first_of(" ,\t", i);
    const auto item = text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    if (!item.empty()) out.emplace_back(item);
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return out;
}

// ENABLE_DATADOG turns it on; the rest are Datadog's own variables where
// it has one. The API key is read, never quoted in a message.
void read_datadog(const EnvReader& env, Config& c) {
  bool enabled = false;
  env.boolean("ENABLE_DATADOG", enabled);
  if (!enabled) return;
  DatadogOptions d;
  env.string("DATADOG_API_KEY", d.api_key);  // the seed's name
  env.string("DD_API_KEY", d.api_key);
  env.string("DD_SITE", d.site);
  if (auto v = env.get("DD_TAGS")) d.tags = split_list(*v);
  env.string("DD_HOSTNAME", d.hostname);
  env.string("DD_AGENT_HOST", d.dogstatsd.host);
  env.integer<std::uint16_t>("DD_DOGSTATSD_PORT", d.dogstatsd.port, 1, 65535);
  env.integer<std::size_t>("OBS_DOGSTATSD_MAX_PACKET_SIZE", d.dogstatsd.max_packet_size, 64, 65507);
  env.boolean("OBS_DATADOG_LOGS", d.logs);
  if (auto v = env.get("OBS_DATADOG_METRICS")) {
    const std::string m = lower(*v);
    if (m == "api") d.metrics = DatadogMetrics::Api;
    else if (m == "dogstatsd") d.metrics = DatadogMetrics::DogStatsd;
    else if (m == "off" || m == "none") d.metrics = DatadogMetrics::Off;
    else env.error("OBS_DATADOG_METRICS", *v, "is not api, dogstatsd or off", "api");
  }
  if (auto v = env.get("OBS_DATADOG_LOGS_URL")) {
    if (is_http_url(*v)) d.logs_url = *v;
    else env.error("OBS_DATADOG_LOGS_URL", url_for_message(*v), "is not an http:// or https:// URL with a host",
                   "the site's intake");
  }
  if (auto v = env.get("OBS_DATADOG_METRICS_URL")) {
    if (is_http_url(*v)) d.metrics_url = *v;
    else env.error("OBS_DATADOG_METRICS_URL", url_for_message(*v), "is not an http:// or https:// URL with a host",
                   "the site's intake");
  }
  if (auto v = env.get("DD_HISTOGRAM_AGGREGATES")) {
    std::vector<std::string> aggregates;
    bool ok = true;
    for (auto& a : split_list(*v)) {
      a = lower(a);
      ok = ok && (a == "max" || a == "min" || a == "median" || a == "avg" || a == "count" || a == "sum");
      aggregates.push_back(std::move(a));
    }
    if (ok) d.histogram_aggregates = std::move(aggregates);
    else env.error("DD_HISTOGRAM_AGGREGATES", *v, "lists something other than max, min, median, avg, count, sum",
                   "max,median,avg,count");
  }
  if (auto v = env.get("DD_HISTOGRAM_PERCENTILES")) {
    std::vector<double> percentiles;
    bool ok = true;
    for (const auto& p : split_list(*v)) {
      double x = 0;
      auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), x);
      ok = ok && ec == std::errc() && ptr == p.data() + p.size() && x > 0 && x < 1;
      percentiles.push_back(x);
    }
    if (ok) d.histogram_percentiles = std::move(percentiles);
    else env.error("DD_HISTOGRAM_PERCENTILES", *v, "is not a list of numbers between 0 and 1", "0.95");
  }
  c.datadog = std::move(d);
}

}  // namespace

Config Config::from_env() {
  return from_env([](const char* name) { return static_cast<const char*>(std::getenv(name)); });
}

Config Config::from_env(const EnvLookup& getenv) {
  Config c;
  EnvReader env(getenv, c.errors);

  env.boolean("OTEL_SDK_DISABLED", c.disabled);

  // Lowest precedence first: DD_*, then OTEL_RESOURCE_ATTRIBUTES, then
  // OTEL_SERVICE_NAME / OBS_*.
  env.string("DD_SERVICE", c.service_name);
  env.string("DD_ENV", c.environment);
  env.string("DD_VERSION", c.version);
  read_resource_attributes(env, c);
  env.string("OTEL_SERVICE_NAME", c.service_name);
  env.string("OBS_ENVIRONMENT", c.environment);
  env.string("OBS_SERVICE_VERSION", c.version);

  if (auto v = env.get("LOG_LEVEL")) {
    if (auto level = log::parse_level(*v)) {
      c.log_level = *level;
    } else {
      env.error("LOG_LEVEL", *v, "is not a level (trace, debug, info, warning, error, critical, off)", "info");
    }
  }
  if (auto v = env.get("OBS_LOG_FORMAT")) {
    const std::string s = lower(*v);
    if (s == "text") {
      c.log_format = LogFormat::Text;
    } else if (s == "json") {
      c.log_format = LogFormat::Json;
    } else {
      env.error("OBS_LOG_FORMAT", *v, "is not a log format (text, json)", "text");
    }
  }
  const auto log_exporters = exporter_list(env, "OTEL_LOGS_EXPORTER", {"console", "otlp", "otlp_file"});
  if (log_exporters) c.console_logs = lists(log_exporters, "console");
  const auto span_exporters = exporter_list(env, "OTEL_TRACES_EXPORTER", {"console", "otlp", "otlp_file"});
  if (span_exporters) c.console_spans = lists(span_exporters, "console");
  if (auto v = env.get("OTEL_TRACES_SAMPLER")) {
    using S = Config::Sampler;
    const std::string s = lower(*v);
    if (s == "always_on") c.traces_sampler = S::AlwaysOn;
    else if (s == "always_off") c.traces_sampler = S::AlwaysOff;
    else if (s == "traceidratio") c.traces_sampler = S::TraceIdRatio;
    else if (s == "parentbased_always_on") c.traces_sampler = S::ParentBasedAlwaysOn;
    else if (s == "parentbased_always_off") c.traces_sampler = S::ParentBasedAlwaysOff;
    else if (s == "parentbased_traceidratio") c.traces_sampler = S::ParentBasedTraceIdRatio;
    else
      env.error("OTEL_TRACES_SAMPLER", *v,
                "is not a sampler (always_on, always_off, traceidratio, parentbased_always_on, "
                "parentbased_always_off, parentbased_traceidratio)",
                "parentbased_always_on");
  }
  if (auto v = env.get("OTEL_TRACES_SAMPLER_ARG")) {
    char* end = nullptr;
    const std::string text(*v);
    const double ratio = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size() || !(ratio >= 0 && ratio <= 1)) {
      env.error("OTEL_TRACES_SAMPLER_ARG", *v, "is not a ratio from 0 to 1", "1.0");
    } else {
      c.traces_sampler_ratio = ratio;
    }
  }
  Batching spans;
  spans.queue_given = env.integer<std::size_t>("OTEL_BSP_MAX_QUEUE_SIZE", c.span_queue_capacity, 2, std::size_t{1} << 24);
  spans.batch_given = env.integer<std::size_t>("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", c.span_batch_size, 1, std::size_t{1} << 16);
  clamp_batch(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", c.span_batch_size, spans.batch_given, c.span_queue_capacity);
  spans.max_queue_size = c.span_queue_capacity;
  spans.max_batch_size = c.span_batch_size;
  spans.delay_given = env.millis("OTEL_BSP_SCHEDULE_DELAY", spans.schedule_delay, 1, kTenMinutes);
  env.millis("OTEL_BSP_EXPORT_TIMEOUT", spans.export_timeout, 1, kTenMinutes);

  const auto metric_exporters = exporter_list(env, "OTEL_METRICS_EXPORTER", {"prometheus", "otlp", "otlp_file"});
  if (metric_exporters) c.prometheus = lists(metric_exporters, "prometheus");

  const Batching logs = read_batching(env, "OTEL_BLRP_", milliseconds(1000));
  if (logs.queue_given) c.log_queue_capacity = logs.max_queue_size;
  if (logs.batch_given) c.log_batch_size = logs.max_batch_size;
  env.integer<std::size_t>("OBS_LOG_QUEUE_SIZE", c.log_queue_capacity, 2, std::size_t{1} << 24);

  env.boolean("OBS_PROCESS_METRICS", c.process_metrics);
  env.boolean("OBS_PROMETHEUS_SCOPE_LABELS", c.prometheus_scope_labels);
  env.integer<std::size_t>("OBS_METRIC_SERIES_LIMIT", c.metric_series_limit, 1, std::size_t{1} << 24);
  env.millis("OTEL_METRIC_EXPORT_INTERVAL", c.metric_export_interval, 1, std::int64_t{24} * 3600 * 1000);
  milliseconds metric_export_timeout{30000};
  env.millis("OTEL_METRIC_EXPORT_TIMEOUT", metric_export_timeout, 1, kTenMinutes);

  // OTLP/HTTP: the general settings, then each signal's own on top.
  OtlpOptions general;
  otlp_settings(env, "", general);
  const auto base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
  const bool base_ok = !base || is_http_url(*base);
  if (!base_ok)
    env.error("OTEL_EXPORTER_OTLP_ENDPOINT", url_for_message(*base), "is not an http:// or https:// URL with a host",
              "no OTLP export for the signals without their own endpoint");

  OtlpFileOptions files;
  env.string("OBS_OTLP_FILE_DIR", files.directory);
  env.integer<std::size_t>("OBS_OTLP_FILE_MAX_BYTES", files.max_file_bytes, 1024, std::size_t{1} << 40);
  env.integer<std::size_t>("OBS_OTLP_FILE_MAX_BACKUPS", files.max_backups, 0, 1000);

  {
    OtlpOptions o = general;
    otlp_settings(env, kTraces.upper, o);
    apply(spans, o);
    OtlpFileOptions f = files;
    apply(spans, f);
    choose_otlp(span_exporters, otlp_endpoint(env, kTraces, base, base_ok), std::move(o), f, c.otlp_traces,
                c.otlp_file_traces);
  }
  {
    OtlpOptions o = general;
    otlp_settings(env, kMetrics.upper, o);
    metrics_temporality(env, o.temporality);
    o.max_export_time = metric_export_timeout;
    choose_otlp(metric_exporters, otlp_endpoint(env, kMetrics, base, base_ok), std::move(o), files, c.otlp_metrics,
                c.otlp_file_metrics);
  }
  {
    OtlpOptions o = general;
    otlp_settings(env, kLogs.upper, o);
    apply(logs, o);
    OtlpFileOptions f = files;
    apply(logs, f);
    choose_otlp(log_exporters, otlp_endpoint(env, kLogs, base, base_ok), std::move(o), f, c.otlp_logs,
                c.otlp_file_logs);
  }

  read_datadog(env, c);

  env.boolean("OBS_ADMIN_SERVER", c.admin_server);
  env.integer<std::uint16_t>("PROMETHEUS_PORT", c.admin_port, 0, 65535);
  env.integer<std::uint16_t>("OTEL_EXPORTER_PROMETHEUS_PORT", c.admin_port, 0, 65535);
  env.string("OTEL_EXPORTER_PROMETHEUS_HOST", c.admin_bind_address);
  env.string("OBS_ADMIN_ADDRESS", c.admin_bind_address);
  read_admin_credentials(env, c);
  return c;
}

}  // namespace obs
