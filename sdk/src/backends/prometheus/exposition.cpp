// The two text expositions /metrics answers in, written by one writer:
// Prometheus text format 0.0.4 (the default) and OpenMetrics 1.0 (when the
// scraper asks for it). They differ where the formats say so: OpenMetrics
// names a counter's family without "_total" in # TYPE/# HELP while its
// samples carry it, escapes '"' in HELP too, says a family's unit in
// "# UNIT", gives histogram buckets their exemplar, makes the resource an
// info family and ends with "# EOF".
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "backends/prometheus/exposition.hpp"
#include "backends/prometheus/target_info.hpp"
#include "obs/version.hpp"
#include "obs/backends/prometheus.hpp"
#include "obs/metric_names.hpp"

namespace obs {
namespace {

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form, like "0.1" and "17"
    out.append(buf, r.ptr);
  }
}

void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Label values (and OpenMetrics HELP text): backslash, double quote and line
// feed escaped. Text format 0.0.4 leaves '"' as it is in HELP.
void append_escaped(std::string& out, std::string_view s, bool quote = true) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '"':
        if (quote) out += "\\\"";
        else out += c;
        break;
      default: out += c;
    }
  }
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::Counter: return "counter";
    case MetricType::UpDownCounter:
    case MetricType::Gauge: return "gauge";
    case MetricType::Histogram: return "histogram";
  }
  return "unknown";
}

// The labels every sample of a family carries after its own: the
// instrumentation scope, as the compatibility spec asks by default.
struct ScopeLabels {
  bool on;
};

// {k="v",...}: the series' labels, then the scope's, then an optional extra
// label (le for buckets); nothing if there are none.
void append_labels(std::string& out, const std::vector<std::string>& keys, const SeriesSnapshot& s, ScopeLabels scope,
                   std::string_view extra_key = {}, std::string_view extra_value = {}) {
  bool first = true;
  auto label = [&](std::string_view k, std::string_view v) {
    out += first ? '{' : ',';
    first = false;
    out += k;
    out += "=\"";
    append_escaped(out, v);
    out += '"';
  };
  if (s.overflow) {
    label("otel_metric_overflow", "true");
  } else {
    for (std::size_t i = 0; i < keys.size() && i < s.label_values.size(); ++i)
      if (!s.label_values[i].empty()) label(keys[i], s.label_values[i]);  // empty is absent
  }
  if (scope.on) {
    label("otel_scope_name", kScopeName);
    label("otel_scope_version", OBS_VERSION);
  }
  if (!extra_key.empty()) label(extra_key, extra_value);
  if (!first) out += '}';
}

void append_exemplar(std::string& out, const Exemplar& e) {
  out += " # {trace_id=\"";
  out += e.trace_id.hex();
  out += "\",span_id=\"";
  out += e.span_id.hex();
  out += "\"} ";
  append_number(out, e.value);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.time.time_since_epoch()).count();
  if (ms > 0) {  // seconds since the epoch, millisecond precision
    out += ' ';
    append_uint(out, static_cast<std::uint64_t>(ms / 1000));
    out += '.';
    const auto frac = static_cast<unsigned>(ms % 1000);
    out += static_cast<char>('0' + frac / 100);
    out += static_cast<char>('0' + frac / 10 % 10);
    out += static_cast<char>('0' + frac % 10);
  }
}

}  // namespace

namespace prometheus_text {

std::string write(const MetricsSnapshot& snapshot, const Resource* resource, Format format,
                  const PrometheusOptions& options) {
  const bool om = format == Format::OpenMetrics;
  const ScopeLabels scope{options.scope_labels};
  std::string out;
  out.reserve(4096);
  // # HELP line: OpenMetrics escapes '"' there, 0.0.4 does not.
  const auto help = [&](std::string_view name, std::string_view text) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, text, om);
    out += '\n';
  };
  // Every name a family would write; a family that would repeat one is left
  // out, as Prometheus rejects the whole scrape otherwise.
  std::unordered_set<std::string> names;
  if (resource) {
    // An info family in OpenMetrics; 0.0.4 has no info type: a gauge of 1, as the spec allows.
    if (om) {
      out += "# TYPE target info\n";
      help("target", kTargetInfoHelp);
    } else {
      help("target_info", kTargetInfoHelp);
      out += "# TYPE target_info gauge\n";
    }
    out += "target_info";
    std::vector<std::string> keys;
    SeriesSnapshot info;
    for (auto& [k, v] : target_info_labels(*resource)) {
      keys.push_back(std::move(k));
      info.label_values.push_back(std::move(v));
    }
    append_labels(out, keys, info, ScopeLabels{false});  // the resource's attributes and nothing else
    out += " 1\n";
    names.insert({"target", "target_info"});
  }
  std::vector<std::string> keys;
  for (const auto& f : snapshot.families) {
    if (f.series.empty()) continue;  // a family with no series has nothing to say yet
    const std::string sample = prometheus_metric_name(f.name, f.unit, f.type);
    // OpenMetrics names a counter's family without "_total", its samples with it.
    const std::string name = om && f.type == MetricType::Counter ? sample.substr(0, sample.size() - 6) : sample;
    std::vector<std::string> own{name};
    if (f.type == MetricType::Counter) own.push_back(sample);
    if (f.type == MetricType::Histogram)
      for (const char* suffix : {"_bucket", "_count", "_sum"}) own.push_back(name + suffix);
    bool clash = false;
    for (const auto& n : own) clash = clash || names.count(n) > 0;
    if (clash) continue;
    names.insert(own.begin(), own.end());
    keys.clear();
    for (const auto& k : f.label_keys) keys.push_back(prometheus_label_name(k));

    // HELP is expected (promtool warns without it); the instrument's own
    // name says at least what it is when no description was given.
    const std::string_view help_text = f.description.empty() ? std::string_view(f.name) : std::string_view(f.description);
    if (!om) help(name, help_text);
    out += "# TYPE ";
    out += name;
    out += ' ';
    out += type_name(f.type);
    out += '\n';
    if (om) {
      // The unit is a suffix of the name (the renderer put it there), unless
      // the name is nothing but the unit.
      const std::string unit = prometheus_unit(f.unit);
      if (!unit.empty() && name.size() > unit.size() && name.ends_with("_" + unit)) {
        out += "# UNIT ";
        out += name;
        out += ' ';
        out += unit;
        out += '\n';
      }
      help(name, help_text);
    }
    for (const auto& s : f.series) {
      // One sample line: <name><suffix>{labels} <value>, the exemplar going
      // between the value and the line's end.
      const auto line = [&](std::string_view base, std::string_view suffix, auto value,
                            std::string_view extra_key = {}, std::string_view extra_value = {}) {
        out += base;
        out += suffix;
        append_labels(out, keys, s, scope, extra_key, extra_value);
        out += ' ';
        if constexpr (std::is_same_v<decltype(value), double>) append_number(out, value);
        else append_uint(out, value);
      };
      switch (f.type) {
        case MetricType::Counter:
          line(sample, "", s.value);
          out += '\n';
          break;
        case MetricType::UpDownCounter:
        case MetricType::Gauge:
          line(name, "", s.value);
          out += '\n';
          break;
        case MetricType::Histogram: {
          const auto& h = s.histogram;
          std::uint64_t cumulative = 0;
          std::string le;
          // A bucket without an exemplar of its own shows the nearest one
          // below it (the compatibility spec's rule for pull endpoints): its
          // value is within the cumulative bucket too.
          const Exemplar* exemplar = nullptr;
          for (std::size_t i = 0; i < h.counts.size(); ++i) {
            cumulative += h.counts[i];
            le.clear();
            append_number(le, i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity());
            line(name, "_bucket", cumulative, "le", le);
            if (i < h.exemplars.size() && h.exemplars[i]) exemplar = &*h.exemplars[i];
            if (om && exemplar) append_exemplar(out, *exemplar);
            out += '\n';
          }
          line(name, "_count", h.count);
          out += '\n';
          // A histogram's sum only while it is monotonic, that is, no
          // negative value was observed (the compatibility spec, and
          // OpenMetrics for a histogram with negative buckets).
          if (!h.negative_observed) {
            line(name, "_sum", h.sum);
            out += '\n';
          }
          break;
        }
      }
    }
  }
  if (om) out += "# EOF\n";
  return out;
}

}  // namespace prometheus_text
}  // namespace obs
