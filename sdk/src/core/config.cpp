// Config::from_env: every variable is optional; a bad value is reported in
// Config::errors with the variable's name, and the default is kept.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string>

#include "obs/config.hpp"

namespace obs {
namespace {

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

class EnvReader {
 public:
  EnvReader(const Config::EnvLookup& getenv, std::vector<std::string>& errors) : getenv_(getenv), errors_(errors) {}

  // Set and non-blank values only.
  std::optional<std::string_view> get(const char* name) const {
    const char* v = getenv_(name);
    if (!v) return std::nullopt;
    std::string_view t = trim(v);
    if (t.empty()) return std::nullopt;
    return t;
  }

  void string(const char* name, std::string& out) const {
    if (auto v = get(name)) out.assign(*v);
  }

  void boolean(const char* name, bool& out) const {
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

  template <class T>
  void integer(const char* name, T& out, T min, T max) const {
    auto v = get(name);
    if (!v) return;
    T parsed{};
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
    if (ec != std::errc() || ptr != v->data() + v->size() || parsed < min || parsed > max) {
      error(name, *v,
            "is not an integer from " + std::to_string(min) + " to " + std::to_string(max),
            std::to_string(out));
      return;
    }
    out = parsed;
  }

  void error(const char* name, std::string_view value, const std::string& problem, const std::string& kept) const {
    errors_.push_back(std::string(name) + "=" + quoted(value) + " " + problem + "; using " + kept);
  }

 private:
  const Config::EnvLookup& getenv_;
  std::vector<std::string>& errors_;
};

// OTEL_*_EXPORTER values are comma-separated lists of exporter names.
void exporters(const EnvReader& env, const char* name, std::string_view builtin, bool& enabled) {
  auto v = env.get(name);
  if (!v) return;
  bool found = false, none = false, bad = false;
  std::string_view rest = *v;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string item = lower(trim(rest.substr(0, comma)));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item == builtin) {
      found = true;
    } else if (item == "none") {
      none = true;
    } else if (!item.empty()) {
      env.error(name, item, "is not an exporter this build provides (" + std::string(builtin) + ", none)",
                "the others listed");
      bad = true;
    }
  }
  if (found || none || bad) enabled = found;
}

}  // namespace

Config Config::from_env() {
  return from_env([](const char* name) { return static_cast<const char*>(std::getenv(name)); });
}

Config Config::from_env(const EnvLookup& getenv) {
  Config c;
  EnvReader env(getenv, c.errors);

  env.boolean("OTEL_SDK_DISABLED", c.disabled);

  env.string("DD_SERVICE", c.service_name);
  env.string("OTEL_SERVICE_NAME", c.service_name);
  env.string("DD_ENV", c.environment);
  env.string("OBS_ENVIRONMENT", c.environment);
  env.string("DD_VERSION", c.version);
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
  exporters(env, "OTEL_LOGS_EXPORTER", "console", c.console_logs);
  exporters(env, "OTEL_TRACES_EXPORTER", "console", c.console_spans);
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
  env.integer<std::size_t>("OTEL_BSP_MAX_QUEUE_SIZE", c.span_queue_capacity, 2, std::size_t{1} << 24);
  env.integer<std::size_t>("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", c.span_batch_size, 1, std::size_t{1} << 16);
  exporters(env, "OTEL_METRICS_EXPORTER", "prometheus", c.prometheus);
  env.integer<std::size_t>("OBS_LOG_QUEUE_SIZE", c.log_queue_capacity, 2, std::size_t{1} << 24);

  env.boolean("OBS_PROCESS_METRICS", c.process_metrics);
  env.integer<std::size_t>("OBS_METRIC_SERIES_LIMIT", c.metric_series_limit, 1, std::size_t{1} << 24);

  env.boolean("OBS_ADMIN_SERVER", c.admin_server);
  env.integer<std::uint16_t>("PROMETHEUS_PORT", c.admin_port, 0, 65535);
  env.integer<std::uint16_t>("OTEL_EXPORTER_PROMETHEUS_PORT", c.admin_port, 0, 65535);
  env.string("OTEL_EXPORTER_PROMETHEUS_HOST", c.admin_bind_address);
  return c;
}

}  // namespace obs
