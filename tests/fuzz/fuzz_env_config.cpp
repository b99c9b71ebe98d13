// Config::from_env over a synthetic environment built from the input:
// records "NAME=value", separated by NUL when the input has one (so values
// can hold newlines, as real environment values can), else by newlines.
// A later record for the same name replaces an earlier one. The lookup
// frees the string it returned last on every call, so a pointer kept past
// the next lookup is a use-after-free that ASan reports.
//
// Checks: same environment, same Config; every error message is one
// printable line of bounded length; no header value, API key, admin
// credential, URL user information or URL query changes any message (so
// none is quoted, even in part); resource attributes and OTLP headers are
// well formed (no CR/LF to inject a header); every number is within the
// range documented for it; every endpoint is an http(s) URL.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/env_lists.hpp"
#include "fuzz_check.hpp"
#include "obs/config.hpp"

namespace {

using Env = std::map<std::string, std::string, std::less<>>;

Env parse_env(std::string_view input) {
  const char separator = input.find('\0') != std::string_view::npos ? '\0' : '\n';
  Env env;
  while (!input.empty()) {
    const auto end = input.find(separator);
    const auto record = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
    const auto eq = record.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    // Files named by *_FILE variables are read: a fuzzed path could be a
    // FIFO or /dev/stdin and block. They are left to unit tests.
    if (record.substr(0, eq).ends_with("_FILE")) continue;
    env[std::string(record.substr(0, eq))] = std::string(record.substr(eq + 1));
  }
  return env;
}

obs::Config read(const Env& env) {
  std::unique_ptr<char[]> last;  // what the lookup returned last; freed on the next call
  return obs::Config::from_env([&env, &last](const char* name) -> const char* {
    last.reset();
    const auto it = env.find(std::string_view(name));
    if (it == env.end()) return nullptr;
    last = std::make_unique<char[]>(it->second.size() + 1);
    std::copy(it->second.begin(), it->second.end(), last.get());
    last[it->second.size()] = '\0';
    return last.get();
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool has_control(std::string_view s, bool allow_tab) {
  return std::any_of(s.begin(), s.end(), [allow_tab](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f;
  });
}

// Everything from_env decided, as text, to compare two runs.
std::string summary(const obs::Config& c) {
  std::ostringstream s;
  s << c.service_name << '\0' << c.environment << '\0' << c.version << '\0';
  for (const auto& [k, v] : c.resource_attributes) s << k << '=' << v << '\0';
  s << static_cast<int>(c.log_level) << ' ' << static_cast<int>(c.log_format) << ' ' << c.console_logs << ' '
    << c.log_queue_capacity << ' ' << c.log_batch_size << ' ' << c.prometheus << ' ' << c.process_metrics << ' '
    << c.metric_series_limit << ' ' << static_cast<int>(c.traces_sampler) << ' ' << c.traces_sampler_ratio << ' '
    << c.console_spans << ' ' << c.span_queue_capacity << ' ' << c.span_batch_size << ' '
    << c.metric_export_interval.count() << ' ' << c.admin_server << ' ' << c.admin_bind_address << ' '
    << c.admin_port << ' ' << c.disabled << '\0';
  for (const auto* o : {&c.otlp_traces, &c.otlp_metrics, &c.otlp_logs}) {
    s << o->has_value();
    if (!*o) continue;
    const auto& v = **o;
    s << v.endpoint << ' ' << static_cast<int>(v.protocol) << v.gzip << ' ' << v.timeout.count() << ' '
      << v.max_export_time.count() << ' ' << v.certificate << ' ' << v.client_certificate << ' ' << v.client_key
      << ' ' << v.max_queue_size << ' ' << v.max_batch_size << ' ' << v.schedule_delay.count() << ' '
      << static_cast<int>(v.temporality) << '\0';
    for (const auto& [k, h] : v.headers) s << k << ':' << h << '\0';
  }
  for (const auto* f : {&c.otlp_file_traces, &c.otlp_file_metrics, &c.otlp_file_logs}) s << f->has_value();
  s << c.datadog.has_value();
  if (c.datadog) {
    const auto& d = *c.datadog;
    s << d.api_key << ' ' << d.site << ' ' << d.logs_url << ' ' << d.metrics_url << ' ' << d.hostname << ' '
      << d.logs << static_cast<int>(d.metrics) << ' ' << d.dogstatsd.host << ' ' << d.dogstatsd.port << ' '
      << d.dogstatsd.max_packet_size << '\0';
    for (const auto& t : d.tags) s << t << '\0';
    for (const auto& a : d.histogram_aggregates) s << a << '\0';
    for (double p : d.histogram_percentiles) s << p << '\0';
  }
  for (const auto& e : c.errors) s << e << '\n';
  return s.str();
}

bool is_http_url_prefix(std::string_view url) {
  const std::string l = lower(url.substr(0, 8));
  return l.rfind("http://", 0) == 0 || l.rfind("https://", 0) == 0;
}

// Another letter or digit of the same kind (hex digits stay hex digits).
char rotate(char c) {
  auto cycle = [c](char first, char last) { return c == last ? first : static_cast<char>(c + 1); };
  if (c >= '0' && c <= '9') return cycle('0', '9');
  if (c >= 'a' && c <= 'f') return cycle('a', 'f');
  if (c >= 'g' && c <= 'z') return cycle('g', 'z');
  if (c >= 'A' && c <= 'F') return cycle('A', 'F');
  if (c >= 'G' && c <= 'Z') return cycle('G', 'Z');
  return c;
}

// Rotates the letters and digits of s[from, to), leaving %XX escapes as
// they are: what makes the text valid or not (separators, whitespace,
// escapes and what they decode to) does not change, only its content.
void rotate_range(std::string& s, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (s[i] == '%') i += 2;
    else s[i] = rotate(s[i]);
  }
}

// The value with its secret parts changed, or nullopt if it has none:
// header values (each entry's, after its first '='), API keys and admin
// credentials (whole), and a URL's user information and query.
std::optional<std::string> with_secrets_changed(std::string_view name, std::string value) {
  if (ends_with(name, "HEADERS")) {
    for (std::size_t start = 0; start <= value.size();) {
      const auto comma = std::min(value.find(',', start), value.size());
      const auto eq = value.find('=', start);
      if (eq < comma) rotate_range(value, eq + 1, comma);
      start = comma + 1;
    }
    return value;
  }
  if (name == "DD_API_KEY" || name == "DATADOG_API_KEY" || name == "OBS_ADMIN_BEARER_TOKEN" ||
      name == "OBS_ADMIN_BASIC_AUTH") {
    rotate_range(value, 0, value.size());
    return value;
  }
  if (ends_with(name, "ENDPOINT") || ends_with(name, "_URL")) {
    const auto query = std::min(value.find_first_of("?#"), value.size());
    rotate_range(value, query, value.size());
    const std::string_view url = std::string_view(value).substr(0, query);
    const auto scheme_end = url.find("://");
    const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const auto authority_end = std::min(url.find('/', start), url.size());
    const auto at = url.substr(0, authority_end).rfind('@');
    if (at != std::string_view::npos && at >= start) rotate_range(value, start, at);
    return value;
  }
  return std::nullopt;
}

void check_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  for (std::size_t i = 0; i < headers.size(); ++i) {
    FUZZ_CHECK(obs::internal::is_http_token(headers[i].first));
    FUZZ_CHECK(!has_control(headers[i].second, true));
    for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK(lower(headers[i].first) != lower(headers[j].first));
  }
}

void check_batching(std::size_t queue, std::size_t batch) {
  FUZZ_CHECK(queue >= 2 && queue <= (std::size_t{1} << 24));
  FUZZ_CHECK(batch >= 1 && batch <= queue);
}

void check_otlp(const std::optional<obs::OtlpOptions>& o) {
  if (!o) return;
  FUZZ_CHECK(is_http_url_prefix(o->endpoint));
  FUZZ_CHECK(!has_control(o->endpoint, false));
  FUZZ_CHECK(o->endpoint.find(' ') == std::string::npos);
  FUZZ_CHECK(o->timeout.count() >= 1 && o->timeout.count() <= 600000);
  FUZZ_CHECK(o->max_export_time.count() >= 1 && o->max_export_time.count() <= 600000);
  FUZZ_CHECK(o->schedule_delay.count() >= 1 && o->schedule_delay.count() <= 600000);
  check_batching(o->max_queue_size, o->max_batch_size);
  check_headers(o->headers);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Env env = parse_env(std::string_view(reinterpret_cast<const char*>(data), size));
  const obs::Config c = read(env);

  // Deterministic: nothing but the environment decides.
  FUZZ_CHECK(summary(read(env)) == summary(c));

  // Messages: one printable line each, short, never more than the input can explain.
  FUZZ_CHECK(c.errors.size() <= size + 1);
  for (const auto& e : c.errors) {
    FUZZ_CHECK(!e.empty());
    FUZZ_CHECK(e.size() <= 1024);
    FUZZ_CHECK(!has_control(e, false));
  }

  // Secrets: changing one changes no message (so none is quoted, even in part).
  for (const auto& [name, value] : env) {
    auto changed = with_secrets_changed(name, value);
    if (!changed || *changed == value) continue;
    Env other = env;
    other[name] = std::move(*changed);
    FUZZ_CHECK(read(other).errors == c.errors);
  }

  // Resource attributes: unique HTTP-token keys other than the four that
  // fill Config's own fields; values without control characters but tab.
  for (std::size_t i = 0; i < c.resource_attributes.size(); ++i) {
    const auto& [key, value] = c.resource_attributes[i];
    FUZZ_CHECK(obs::internal::is_http_token(key));
    FUZZ_CHECK(key != "service.name" && key != "service.version" && key != "deployment.environment" &&
               key != "deployment.environment.name");
    FUZZ_CHECK(!has_control(value, true));
    for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK(c.resource_attributes[j].first != key);
  }

  // Ranges, as docs/configuration.md gives them.
  FUZZ_CHECK(c.traces_sampler_ratio >= 0 && c.traces_sampler_ratio <= 1);
  check_batching(c.span_queue_capacity, c.span_batch_size);
  FUZZ_CHECK(c.span_batch_size <= (std::size_t{1} << 16));
  FUZZ_CHECK(c.log_queue_capacity >= 2 && c.log_queue_capacity <= (std::size_t{1} << 24));
  FUZZ_CHECK(c.log_batch_size >= 1 && c.log_batch_size <= (std::size_t{1} << 16));
  FUZZ_CHECK(c.metric_series_limit >= 1 && c.metric_series_limit <= (std::size_t{1} << 24));
  FUZZ_CHECK(c.metric_export_interval.count() >= 1 && c.metric_export_interval.count() <= 24LL * 3600 * 1000);
  check_otlp(c.otlp_traces);
  check_otlp(c.otlp_metrics);
  check_otlp(c.otlp_logs);
  for (const auto* f : {&c.otlp_file_traces, &c.otlp_file_metrics, &c.otlp_file_logs}) {
    if (!*f) continue;
    FUZZ_CHECK((*f)->max_file_bytes >= 1024);
    FUZZ_CHECK((*f)->max_backups <= 1000);
    check_batching((*f)->max_queue_size, (*f)->max_batch_size);
  }
  if (c.datadog) {
    const auto& d = *c.datadog;
    FUZZ_CHECK(d.dogstatsd.port >= 1);
    FUZZ_CHECK(d.dogstatsd.max_packet_size >= 64 && d.dogstatsd.max_packet_size <= 65507);
    for (const auto* url : {&d.logs_url, &d.metrics_url})
      FUZZ_CHECK(url->empty() || (is_http_url_prefix(*url) && !has_control(*url, false)));
    for (const auto& t : d.tags) FUZZ_CHECK(!t.empty() && t.find_first_of(" ,\t") == std::string::npos);
    for (const auto& a : d.histogram_aggregates)
      FUZZ_CHECK(a == "max" || a == "min" || a == "median" || a == "avg" || a == "count" || a == "sum");
    for (double p : d.histogram_percentiles) FUZZ_CHECK(p > 0 && p < 1);
  }
  return 0;
}
