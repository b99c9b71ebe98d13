// OpenMetrics 1.0 text exposition (our own: prometheus-cpp 1.0.1 writes only
// the 0.0.4 text format). Differs from 0.0.4 where the spec says so: counter
// families are named without "_total" in # TYPE/# HELP while their samples
// carry it, HELP escapes '"' too, histogram buckets may carry an exemplar
// ("# {trace_id=...,span_id=...} value timestamp"), a family's unit is
// said in "# UNIT", the resource is an info family, and "# EOF" ends it.
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "backends/prometheus/target_info.hpp"
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

// Label values and HELP text: backslash, double quote and line feed escaped.
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
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

// {k="v",...} with an optional extra label last (le for buckets); nothing if empty.
void append_labels(std::string& out, const std::vector<std::string>& keys, const SeriesSnapshot& s,
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
      if (!s.label_values[i].empty()) label(keys[i], s.label_values[i]);  // empty is absent, as in render()
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

std::string PrometheusBackend::render_openmetrics() const {
  MetricsProducer producer;
  Resource resource;
  {
    std::lock_guard lock(mutex_);
    producer = producer_;
    resource = resource_;
  }
  return producer ? render_openmetrics(producer(), &resource) : std::string("# EOF\n");
}

std::string PrometheusBackend::render_openmetrics(const MetricsSnapshot& snapshot, const Resource* resource) {
  std::string out;
  out.reserve(4096);
  // Every name a family would write; a family that would repeat one is left
  // out, as Prometheus rejects the whole scrape otherwise.
  std::unordered_set<std::string> names;
  if (resource) {
    out += "# TYPE target info\n# HELP target ";
    out += prometheus_text::kTargetInfoHelp;
    out += "\ntarget_info";
    std::vector<std::string> keys;
    SeriesSnapshot info;
    for (auto& [k, v] : prometheus_text::target_info_labels(*resource)) {
      keys.push_back(std::move(k));
      info.label_values.push_back(std::move(v));
    }
    append_labels(out, keys, info);
    out += " 1\n";
    names.insert({"target", "target_info"});
  }
  std::vector<std::string> keys;
  for (const auto& f : snapshot.families) {
    if (f.series.empty()) continue;
    const std::string sample = prometheus_metric_name(f.name, f.unit, f.type);
    // OpenMetrics names a counter's family without "_total", its samples with it.
    const std::string name = f.type == MetricType::Counter ? sample.substr(0, sample.size() - 6) : sample;
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

    out += "# TYPE ";
    out += name;
    out += ' ';
    out += type_name(f.type);
    out += '\n';
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
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, f.description.empty() ? f.name : f.description);  // as in render()
    out += '\n';
    for (const auto& s : f.series) {
      // One sample line: <name><suffix>{labels} <value>, the exemplar going
      // between the value and the line's end.
      const auto line = [&](std::string_view base, std::string_view suffix, auto value,
                            std::string_view extra_key = {}, std::string_view extra_value = {}) {
        out += base;
        out += suffix;
        append_labels(out, keys, s, extra_key, extra_value);
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
          for (std::size_t i = 0; i < h.counts.size(); ++i) {
            cumulative += h.counts[i];
            le.clear();
            append_number(le, i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity());
            line(name, "_bucket", cumulative, "le", le);
            if (i < h.exemplars.size() && h.exemplars[i]) append_exemplar(out, *h.exemplars[i]);
            out += '\n';
          }
          line(name, "_count", h.count);
          out += '\n';
          // OpenMetrics (and OpenTelemetry's compatibility spec) give a
          // histogram a sum only when no negative value was observed.
          if (!h.negative_observed) {
            line(name, "_sum", h.sum);
            out += '\n';
          }
          break;
        }
      }
    }
  }
  out += "# EOF\n";
  return out;
}

}  // namespace obs
