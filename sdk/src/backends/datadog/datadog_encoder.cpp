#include "backends/datadog/datadog_encoder.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "text/utf8.hpp"

namespace obs::datadog {
namespace {

using ordered_json = nlohmann::ordered_json;
using text::utf8_prefix;

std::string dump(const ordered_json& j) { return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace); }

template <std::size_t N>
std::uint64_t low64(const std::array<std::uint8_t, N>& bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = N - 8; i < N; ++i) v = (v << 8) | bytes[i];
  return v;
}

// Bytes a message byte takes in nlohmann::json's output (valid UTF-8 is
// written as is).
std::size_t escaped_size(unsigned char c) {
  if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') return 2;
  if (c < 0x20) return 6;  // \u00XX
  return 1;
}

bool reserved_key(std::string_view k) {
  if (k.starts_with("dd.") || k.starts_with("field.")) return true;  // Datadog's, and our renamed ones
  for (std::string_view r : {"message", "status", "service", "ddsource", "ddtags", "hostname", "timestamp", "dd",
                             "request_id", "obs.truncated", "obs.fields_dropped"})
    if (k == r) return true;
  return false;
}

int percentile_name(double p) { return static_cast<int>(p * 100 + 1e-9); }

std::string format_number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : std::string("0");
}

}  // namespace

std::vector<std::string> unified_tags(const Resource& resource, const std::vector<std::string>& tags) {
  std::vector<std::string> out;
  if (!resource.environment.empty()) out.push_back("env:" + resource.environment);
  if (!resource.service.empty()) out.push_back("service:" + resource.service);
  if (!resource.version.empty()) out.push_back("version:" + resource.version);
  for (const auto& t : tags)
    if (!t.empty()) out.push_back(t);
  return out;
}

std::string decimal_id(const TraceId& id) { return id.valid() ? std::to_string(low64(id.bytes)) : std::string(); }
std::string decimal_id(const SpanId& id) { return id.valid() ? std::to_string(low64(id.bytes)) : std::string(); }

std::string_view status(log::Level level) {
  switch (level) {
    case log::Level::Trace:
    case log::Level::Debug: return "debug";
    case log::Level::Info: return "info";
    case log::Level::Warning: return "warning";
    case log::Level::Error: return "error";
    case log::Level::Critical: return "critical";
    case log::Level::Off: break;
  }
  return "info";
}

std::string safe_tag(std::string_view tag) {
  std::string out(tag);
  for (auto& c : out)
    if (c == ',' || c == '|' || c == '#' || c == '\n' || c == '\r') c = '_';
  return out;
}

// ---- logs ----

// An array field as a JSON array, holding about `cap` bytes of its elements
// at most (the marker as the last element says some were cut).
ordered_json array_value(const OwnedField& f, std::size_t cap) {
  ordered_json a = ordered_json::array();
  std::size_t used = 0;
  bool cut = false;
  const auto add_each = [&](const auto& values, auto size_of, auto to_json) {
    for (const auto& v : values) {
      used += size_of(v);
      if (cap != std::string::npos && used > cap) {
        cut = true;
        return;
      }
      a.push_back(to_json(v));
    }
  };
  const auto as_is = [](const auto& v) { return ordered_json(v); };
  const auto eight = [](const auto&) { return std::size_t{8}; };
  switch (f.type) {
    case FieldType::StringArray: add_each(f.strings, [](const std::string& v) { return v.size(); }, as_is); break;
    case FieldType::IntArray: add_each(f.ints, eight, as_is); break;
    case FieldType::DoubleArray:  // JSON has no NaN or infinity
      add_each(f.doubles, eight, [](double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(format_number(v)); });
      break;
    case FieldType::BoolArray: add_each(f.bools, [](bool) { return std::size_t{1}; }, [](bool v) { return ordered_json(v); }); break;
    default: break;
  }
  if (cut) a.push_back(std::string(kTruncatedMarker));
  return a;
}

std::string encode_log_entry(const LogRecord& r, const LogContext& c, bool& truncated) {
  truncated = false;
  // field_cap: the longest a string field's value may be; drop_fields: none at all.
  const auto build = [&](std::string_view message, std::size_t field_cap, bool drop_fields, bool mark) {
    ordered_json j;
    j["message"] = message;
    j["status"] = status(r.level);
    j["service"] = c.service;
    j["ddsource"] = c.source;
    if (!c.ddtags.empty()) j["ddtags"] = c.ddtags;
    if (!c.hostname.empty()) j["hostname"] = c.hostname;
    j["timestamp"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(r.time.time_since_epoch()).count();
    if (r.trace_id.valid()) {
      j["dd"]["trace_id"] = decimal_id(r.trace_id);
      if (r.span_id.valid()) j["dd"]["span_id"] = decimal_id(r.span_id);
    }
    if (!r.request_id.empty())
      j["request_id"] = field_cap == std::string::npos ? r.request_id : std::string(utf8_prefix(r.request_id, 256));
    if (drop_fields) {
      if (!r.fields.empty()) j["obs.fields_dropped"] = r.fields.size();
    } else {
      for (const auto& f : r.fields) {
        const std::string key = reserved_key(f.key) ? "field." + f.key : f.key;
        switch (f.type) {
          case FieldType::String:
            if (f.str.size() > field_cap) j[key] = std::string(utf8_prefix(f.str, field_cap)) + std::string(kTruncatedMarker);
            else j[key] = f.str;
            break;
          case FieldType::Int: j[key] = f.i; break;
          case FieldType::Double:
            if (std::isfinite(f.d)) j[key] = f.d;
            else j[key] = format_number(f.d);  // JSON has no NaN or infinity
            break;
          case FieldType::Bool: j[key] = f.b; break;
          case FieldType::StringArray:
          case FieldType::IntArray:
          case FieldType::DoubleArray:
          case FieldType::BoolArray: j[key] = array_value(f, field_cap); break;
        }
      }
    }
    if (mark) j["obs.truncated"] = true;
    return dump(j);
  };
  std::string out = build(r.message, std::string::npos, false, false);
  const std::size_t max = std::max<std::size_t>(c.max_entry_bytes, 512);
  if (out.size() <= max) return out;
  truncated = true;
  // Fit the rest first: all fields, then fields cut to 1 KiB each, then none.
  std::size_t field_cap = std::string::npos;
  bool drop = false;
  std::string rest = build(kTruncatedMarker, field_cap, drop, true);
  if (rest.size() > max) {
    field_cap = 1024;
    rest = build(kTruncatedMarker, field_cap, drop, true);
  }
  if (rest.size() > max) {
    drop = true;
    rest = build(kTruncatedMarker, field_cap, drop, true);
  }
  // Then as much of the message as fits once escaped. The guess is exact
  // for valid UTF-8; the loop below shrinks it if repairs grew the text.
  const std::size_t budget = max > rest.size() ? max - rest.size() : 0;
  std::size_t keep = 0;
  for (std::size_t used = 0; keep < r.message.size(); ++keep) {
    used += escaped_size(static_cast<unsigned char>(r.message[keep]));
    if (used > budget) break;
  }
  for (int i = 0; i < 16; ++i) {
    const std::string message = std::string(utf8_prefix(r.message, keep)) + std::string(kTruncatedMarker);
    out = build(message, field_cap, drop, true);
    if (out.size() <= max || keep == 0) return out;
    // Repairs (ill-formed bytes become U+FFFD) grew the text: shrink in
    // proportion to how much the kept part grew.
    const std::size_t grown = out.size() - rest.size();
    keep = grown > 0 ? std::min(keep - 1, keep * budget / grown) : 0;
  }
  // Only the SDK's own attributes are left, and they are small unless the
  // configuration made them huge: then the entry goes as it is and the
  // intake cuts it.
  return build(kTruncatedMarker, 0, true, true);
}

std::vector<internal::Payload> pack_log_entries(std::span<const std::string> entries, std::size_t max_entries,
                                                std::size_t max_bytes) {
  std::vector<internal::Payload> out;
  internal::Payload current;
  const auto close = [&] {
    if (current.weight == 0) return;
    current.body += ']';
    out.push_back(std::move(current));
    current = {};
  };
  for (const auto& e : entries) {
    if (current.weight > 0 &&
        (current.weight >= max_entries || current.body.size() + 1 + e.size() + 1 > max_bytes))
      close();
    current.body += current.weight == 0 ? '[' : ',';
    current.body += e;
    ++current.weight;
  }
  close();
  return out;
}

// ---- metrics ----

HistogramSettings histogram_settings(const DatadogOptions& o) {
  HistogramSettings s;
  for (const auto& a : o.histogram_aggregates) {
    if (a != "max" && a != "min" && a != "median" && a != "avg" && a != "count" && a != "sum")
      throw std::invalid_argument("Datadog histogram aggregate '" + a +
                                  "' is not one of max, min, median, avg, count, sum");
    if (std::find(s.aggregates.begin(), s.aggregates.end(), a) == s.aggregates.end()) s.aggregates.push_back(a);
  }
  std::vector<int> names;
  for (double p : o.histogram_percentiles) {
    if (!(p > 0 && p < 1))
      throw std::invalid_argument("Datadog histogram percentile " + format_number(p) + " is not between 0 and 1");
    // Named by whole percent, as the Agent does: 0.99 and 0.995 would both be .99percentile.
    const int name = percentile_name(p);
    if (std::find(names.begin(), names.end(), name) != names.end())
      throw std::invalid_argument("Datadog histogram percentiles " + format_number(p) + " and another both make ." +
                                  std::to_string(name) + "percentile; give whole percents");
    names.push_back(name);
    s.percentiles.push_back(p);
  }
  return s;
}

std::string metric_name(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), ':', '_');
  return out;
}

double histogram_quantile(const HistogramData& h, double q) {
  const std::size_t n = std::min(h.counts.size(), h.bounds.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += h.counts[i];
  if (total == 0) return 0;
  const double avg = h.sum / static_cast<double>(total);
  if (h.bounds.empty()) return avg;
  const double rank = q * static_cast<double>(total);
  double before = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double c = static_cast<double>(h.counts[i]);
    if (c == 0 || before + c < rank) {
      before += c;
      continue;
    }
    if (i == h.bounds.size()) return std::max(h.bounds.back(), avg);  // the +Inf bucket
    const double upper = h.bounds[i];
    const double lower = i == 0 ? std::min(0.0, upper) : h.bounds[i - 1];
    return lower + (upper - lower) * std::clamp((rank - before) / c, 0.0, 1.0);
  }
  return h.bounds.back();
}

namespace {

// The edge of the lowest or highest bucket with observations, kept on the
// right side of the average.
double histogram_extreme(const HistogramData& h, bool highest) {
  const std::size_t n = std::min(h.counts.size(), h.bounds.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += h.counts[i];
  const double avg = total ? h.sum / static_cast<double>(total) : 0;
  if (h.bounds.empty() || total == 0) return avg;
  std::size_t first = n, last = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (h.counts[i]) {
      if (first == n) first = i;
      last = i;
    }
  if (highest) return std::max(last < h.bounds.size() ? h.bounds[last] : h.bounds.back(), avg);
  const double low = first == 0 ? std::min(0.0, h.bounds[0]) : h.bounds[first - 1];
  return std::min(low, avg);
}

}  // namespace

std::vector<Point> points_of(const MetricFamilySnapshot& fam, const SeriesSnapshot& s,
                             const HistogramSettings& histograms, std::size_t& skipped) {
  std::vector<std::string> tags;
  if (s.overflow) {
    tags.emplace_back("otel.metric.overflow:true");
  } else {
    const auto n = std::min(fam.label_keys.size(), s.label_values.size());
    for (std::size_t i = 0; i < n; ++i)  // an empty value is no tag, as in Prometheus and OTLP
      if (!s.label_values[i].empty()) tags.push_back(fam.label_keys[i] + ":" + s.label_values[i]);
  }
  const std::string name = metric_name(fam.name);
  std::vector<Point> out;
  const auto add = [&](std::string n, double v, PointType t) {
    if (!std::isfinite(v)) {
      ++skipped;
      return;
    }
    out.push_back(Point{std::move(n), v, t, tags});
  };
  switch (fam.type) {
    case MetricType::Counter: add(name, s.value, PointType::Count); break;
    case MetricType::UpDownCounter:  // its current total, as a gauge (it may go down)
    case MetricType::Gauge: add(name, s.value, PointType::Gauge); break;
    case MetricType::Histogram: {
      const auto& h = s.histogram;
      const double count = static_cast<double>(h.count);
      for (const auto& a : histograms.aggregates) {
        if (a == "count") add(name + ".count", count, PointType::Count);
        else if (a == "sum") add(name + ".sum", h.sum, PointType::Gauge);
        else if (h.count == 0) continue;  // nothing observed: no average, no extremes
        else if (a == "avg") add(name + ".avg", h.sum / count, PointType::Gauge);
        else if (a == "max") add(name + ".max", histogram_extreme(h, true), PointType::Gauge);
        else if (a == "min") add(name + ".min", histogram_extreme(h, false), PointType::Gauge);
        else if (a == "median") add(name + ".median", histogram_quantile(h, 0.5), PointType::Gauge);
      }
      if (h.count > 0)
        for (double p : histograms.percentiles)
          add(name + "." + std::to_string(percentile_name(p)) + "percentile", histogram_quantile(h, p),
              PointType::Gauge);
      break;
    }
  }
  return out;
}

std::vector<internal::Payload> encode_series(const MetricsSnapshot& delta, const SeriesContext& c,
                                             const HistogramSettings& histograms, std::size_t max_bytes) {
  const auto ts = std::chrono::duration_cast<std::chrono::seconds>(delta.time.time_since_epoch()).count();
  std::vector<internal::Payload> out;
  internal::Payload current;
  std::size_t entries = 0;
  constexpr std::string_view kOpen = "{\"series\":[";
  const auto close = [&] {
    if (current.weight == 0) return;
    if (entries == 0) current.body = kOpen;
    current.body += "]}";
    out.push_back(std::move(current));
    current = {};
    entries = 0;
  };
  for (const auto& fam : delta.families) {
    for (const auto& s : fam.series) {
      std::size_t skipped = 0;
      const auto points = points_of(fam, s, histograms, skipped);
      if (points.empty() && skipped > 0) continue;  // not sent: the exporter counts it as failed
      // One snapshot series' points stay in one request, so its weight does.
      std::string group;
      for (const auto& p : points) {
        ordered_json j;
        j["metric"] = p.name;
        j["points"] = ordered_json::array({ordered_json::array({ts, p.value})});
        j["type"] = p.type == PointType::Count ? "count" : "gauge";
        if (p.type == PointType::Count) j["interval"] = c.interval_seconds;
        if (!c.host.empty()) j["host"] = c.host;
        auto tags = ordered_json::array();
        for (const auto& t : c.tags) tags.push_back(t);
        for (const auto& t : p.tags) tags.push_back(t);
        j["tags"] = std::move(tags);
        if (!group.empty()) group += ',';
        group += dump(j);
      }
      if (current.weight > 0 && current.body.size() + group.size() + 3 > max_bytes) close();
      if (current.weight == 0) current.body = kOpen;
      if (!group.empty()) {
        if (entries > 0) current.body += ',';
        current.body += group;
        entries += points.size();
      }
      ++current.weight;
    }
  }
  close();
  return out;
}

std::string dogstatsd_line(const Point& p, std::string_view common_tags) {
  std::string line = p.name;
  line += ':';
  line += format_number(p.value);
  line += p.type == PointType::Count ? "|c" : "|g";
  bool first = true;
  const auto tag = [&](std::string_view t) {
    line += first ? "|#" : ",";
    first = false;
    line += t;
  };
  if (!common_tags.empty()) tag(common_tags);
  for (const auto& t : p.tags) tag(safe_tag(t));
  return line;
}

}  // namespace obs::datadog
