// OTLP JSON encoding (the OTLP flavour of the proto3 JSON mapping), written
// by hand into one reserved string: lowerCamelCase field names, trace and
// span ids as lower-case hex (not base64), enums as integers, 64-bit
// integers (int64, fixed64) as decimal strings, non-finite doubles as
// "NaN" / "Infinity" / "-Infinity", fields with default values left out.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backends/otlp/otlp_common.hpp"
#include "backends/otlp/otlp_encoder.hpp"
#include "text/utf8.hpp"

namespace obs::otlp {
namespace {

class Json {
 public:
  explicit Json(std::string& out) : out_(out) {}

  void raw(std::string_view s) { out_.append(s); }
  void ch(char c) { out_.push_back(c); }

  // A JSON string. JSON text must be UTF-8: well-formed characters are
  // copied, each ill-formed subpart becomes U+FFFD (as in the protobuf
  // encoding, see utf8.hpp).
  void string(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
      const char c = s[i];
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) {
        const text::Utf8Step step = text::utf8_step(s, i);
        if (step.valid) out_.append(s.substr(i, step.length));
        else out_.append(text::kReplacementCharacter);
        i += step.length;
        continue;
      }
      ++i;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        default:
          if (u < 0x20) {
            out_ += "\\u00";
            out_.push_back(kHex[u >> 4]);
            out_.push_back(kHex[u & 0xF]);
          } else {
            out_.push_back(c);
          }
      }
    }
    out_.push_back('"');
  }
  // "name":
  void key(std::string_view k) {
    out_.push_back('"');
    out_.append(k);
    out_ += "\":";
  }
  // A comma unless this is the first member/element (tracked by the caller).
  void sep(bool& first) {
    if (!first) out_.push_back(',');
    first = false;
  }

  void integer(std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, static_cast<std::size_t>(r.ptr - buf));  // (pointer, count): g++ 12 -O3 warns falsely on the iterator form
  }
  void uinteger(std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, static_cast<std::size_t>(r.ptr - buf));  // (pointer, count): g++ 12 -O3 warns falsely on the iterator form
  }
  // 64-bit integers are strings in the JSON mapping.
  void int64_string(std::int64_t v) {
    out_.push_back('"');
    integer(v);
    out_.push_back('"');
  }
  void uint64_string(std::uint64_t v) {
    out_.push_back('"');
    uinteger(v);
    out_.push_back('"');
  }
  void number(double v) {
    if (std::isnan(v)) {
      out_ += "\"NaN\"";
    } else if (std::isinf(v)) {
      out_ += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, v);
      out_.append(buf, static_cast<std::size_t>(r.ptr - buf));  // (pointer, count): g++ 12 -O3 warns falsely on the iterator form
    }
  }
  template <std::size_t N>
  void hex(const std::array<std::uint8_t, N>& bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_.push_back('"');
    for (auto b : bytes) {
      out_.push_back(kHex[b >> 4]);
      out_.push_back(kHex[b & 0xF]);
    }
    out_.push_back('"');
  }

 private:
  std::string& out_;
};

// {"key":"k","value":{...}} for the four AnyValue kinds we emit.
void key_value(Json& j, bool& first, std::string_view key, std::string_view v) {
  j.sep(first);
  j.raw("{\"key\":");
  j.string(key);
  j.raw(",\"value\":{\"stringValue\":");
  j.string(v);
  j.raw("}}");
}
void key_value(Json& j, bool& first, std::string_view key, std::int64_t v) {
  j.sep(first);
  j.raw("{\"key\":");
  j.string(key);
  j.raw(",\"value\":{\"intValue\":");
  j.int64_string(v);
  j.raw("}}");
}
void key_value(Json& j, bool& first, std::string_view key, bool v) {
  j.sep(first);
  j.raw("{\"key\":");
  j.string(key);
  j.raw(v ? ",\"value\":{\"boolValue\":true}}" : ",\"value\":{\"boolValue\":false}}");
}
// {"arrayValue":{"values":[{...},...]}}, each element an AnyValue.
template <class Values, class WriteOne>
void array_value(Json& j, const Values& values, WriteOne write_one) {
  j.raw("{\"arrayValue\":{\"values\":[");
  bool first = true;
  for (const auto& v : values) {
    j.sep(first);
    write_one(v);
  }
  j.raw("]}}");
}
void key_value(Json& j, bool& first, const OwnedField& f) {
  const auto array_field = [&](const auto& values, auto write_one) {
    j.sep(first);
    j.raw("{\"key\":");
    j.string(f.key);
    j.raw(",\"value\":");
    array_value(j, values, write_one);
    j.raw("}");
  };
  switch (f.type) {
    case FieldType::StringArray:
      array_field(f.strings, [&](const std::string& v) {
        j.raw("{\"stringValue\":");
        j.string(v);
        j.raw("}");
      });
      break;
    case FieldType::IntArray:
      array_field(f.ints, [&](std::int64_t v) {
        j.raw("{\"intValue\":");
        j.int64_string(v);
        j.raw("}");
      });
      break;
    case FieldType::DoubleArray:
      array_field(f.doubles, [&](double v) {
        j.raw("{\"doubleValue\":");
        j.number(v);
        j.raw("}");
      });
      break;
    case FieldType::BoolArray:
      array_field(f.bools, [&](bool v) { j.raw(v ? "{\"boolValue\":true}" : "{\"boolValue\":false}"); });
      break;
    case FieldType::String: key_value(j, first, f.key, std::string_view(f.str)); break;
    case FieldType::Int: key_value(j, first, f.key, f.i); break;
    case FieldType::Bool: key_value(j, first, f.key, f.b); break;
    case FieldType::Double:
      j.sep(first);
      j.raw("{\"key\":");
      j.string(f.key);
      j.raw(",\"value\":{\"doubleValue\":");
      j.number(f.d);
      j.raw("}}");
      break;
  }
}

// ,"attributes":[...] when there are any.
// ,"droppedXCount":n when a limit cut something (uint32: a JSON number).
void dropped(Json& j, std::string_view key, std::uint32_t n) {
  if (n == 0) return;
  j.raw(",\"");
  j.raw(key);
  j.raw("\":");
  j.uinteger(n);
}

void attributes(Json& j, const std::vector<OwnedField>& fields) {
  if (fields.empty()) return;
  j.raw(",\"attributes\":[");
  bool first = true;
  for (const auto& f : fields) key_value(j, first, f);
  j.ch(']');
}

// {"resourceX":[{"resource":{...},"scopeX":[{"scope":{...},"items":[
void open(Json& j, const Resource& r, std::string_view resource_x, std::string_view scope_x, std::string_view items) {
  j.raw("{");
  j.key(resource_x);
  j.raw("[{\"resource\":{\"attributes\":[");
  bool first = true;
  for_each_resource_attribute(r, [&](std::string_view key, auto value) { key_value(j, first, key, value); });
  j.raw("]},");
  j.key(scope_x);
  j.raw("[{\"scope\":{\"name\":");
  j.string(detail::kScopeName);
  j.raw(",\"version\":");
  j.string(OBS_VERSION);
  j.raw("},\"schemaUrl\":");
  j.string(detail::kSchemaUrl);
  j.ch(',');
  j.key(items);
  j.ch('[');
}
void close(Json& j) { j.raw("]}]}]}"); }

}  // namespace

std::string encode_traces_json(const Resource& resource, std::span<const SpanData> spans) {
  std::string out;
  std::size_t guess = 512;
  for (const auto& s : spans) {
    guess += 320 + s.name.size() + s.status_message.size() + 2 * (64 * s.attributes.size()) + 128 * s.events.size();
    for (const auto& l : s.links) guess += 96 + l.context.trace_state.size() + 128 * l.attributes.size();
  }
  out.reserve(guess);
  Json j(out);
  open(j, resource, "resourceSpans", "scopeSpans", "spans");
  bool first_span = true;
  for (const auto& s : spans) {
    j.sep(first_span);
    j.raw("{\"traceId\":");
    j.hex(s.context.trace_id.bytes);
    j.raw(",\"spanId\":");
    j.hex(s.context.span_id.bytes);
    if (!s.context.trace_state.empty()) {
      j.raw(",\"traceState\":");
      j.string(s.context.trace_state);
    }
    if (s.parent_span_id.valid()) {
      j.raw(",\"parentSpanId\":");
      j.hex(s.parent_span_id.bytes);
    }
    if (auto flags = span_flags(s)) {
      j.raw(",\"flags\":");
      j.uinteger(flags);
    }
    j.raw(",\"name\":");
    j.string(s.name);
    j.raw(",\"kind\":");
    j.integer(span_kind_number(s.kind));
    j.raw(",\"startTimeUnixNano\":");
    j.uint64_string(unix_nanos(s.start));
    j.raw(",\"endTimeUnixNano\":");
    j.uint64_string(unix_nanos(s.end));
    attributes(j, s.attributes);
    dropped(j, "droppedAttributesCount", s.dropped_attributes);
    dropped(j, "droppedEventsCount", s.dropped_events);
    dropped(j, "droppedLinksCount", s.dropped_links);
    if (!s.events.empty()) {
      j.raw(",\"events\":[");
      bool first = true;
      for (const auto& e : s.events) {
        j.sep(first);
        j.raw("{\"timeUnixNano\":");
        j.uint64_string(unix_nanos(e.time));
        j.raw(",\"name\":");
        j.string(e.name);
        attributes(j, e.attributes);
        dropped(j, "droppedAttributesCount", e.dropped_attributes);
        j.ch('}');
      }
      j.ch(']');
    }
    if (!s.links.empty()) {
      j.raw(",\"links\":[");
      bool first = true;
      for (const auto& l : s.links) {
        j.sep(first);
        j.raw("{\"traceId\":");
        j.hex(l.context.trace_id.bytes);
        j.raw(",\"spanId\":");
        j.hex(l.context.span_id.bytes);
        if (!l.context.trace_state.empty()) {
          j.raw(",\"traceState\":");
          j.string(l.context.trace_state);
        }
        attributes(j, l.attributes);
        dropped(j, "droppedAttributesCount", l.dropped_attributes);
        if (auto flags = detail::link_flags(l)) {
          j.raw(",\"flags\":");
          j.uinteger(flags);
        }
        j.ch('}');
      }
      j.ch(']');
    }
    if (s.status != SpanStatus::Unset) {
      j.raw(",\"status\":{");
      bool first = true;
      if (s.status == SpanStatus::Error && !s.status_message.empty()) {  // only Error has a description
        j.sep(first);
        j.raw("\"message\":");
        j.string(s.status_message);
      }
      if (int code = status_code_number(s.status)) {
        j.sep(first);
        j.raw("\"code\":");
        j.integer(code);
      }
      j.ch('}');
    }
    j.ch('}');
  }
  close(j);
  return out;
}

std::string encode_logs_json(const Resource& resource, std::span<const LogRecord> records) {
  std::string out;
  std::size_t guess = 512;
  for (const auto& r : records) guess += 256 + r.message.size() + r.request_id.size() + 64 * r.fields.size();
  out.reserve(guess);
  Json j(out);
  open(j, resource, "resourceLogs", "scopeLogs", "logRecords");
  bool first_record = true;
  for (const auto& r : records) {
    j.sep(first_record);
    auto t = unix_nanos(r.time);
    j.raw("{\"timeUnixNano\":");
    j.uint64_string(t);
    j.raw(",\"observedTimeUnixNano\":");
    j.uint64_string(t);
    if (int sev = severity_number(r.level)) {
      j.raw(",\"severityNumber\":");
      j.integer(sev);
    }
    if (auto text = severity_text(r.level); !text.empty()) {
      j.raw(",\"severityText\":");
      j.string(text);
    }
    j.raw(",\"body\":{\"stringValue\":");
    j.string(r.message);
    j.ch('}');
    if (!r.fields.empty() || r.thread_id != 0 || !r.request_id.empty()) {
      j.raw(",\"attributes\":[");
      bool first = true;
      for (const auto& f : r.fields) key_value(j, first, f);
      if (r.thread_id != 0) key_value(j, first, detail::kThreadIdAttribute, static_cast<std::int64_t>(r.thread_id));
      if (!r.request_id.empty()) key_value(j, first, detail::kRequestIdAttribute, std::string_view(r.request_id));
      j.ch(']');
    }
    if (r.trace_id.valid()) {
      j.raw(",\"traceId\":");
      j.hex(r.trace_id.bytes);
    }
    if (r.span_id.valid()) {
      j.raw(",\"spanId\":");
      j.hex(r.span_id.bytes);
      if (r.trace_flags != 0) {  // the span's W3C trace flags
        j.raw(",\"flags\":");
        j.integer(r.trace_flags);
      }
    }
    j.ch('}');
  }
  close(j);
  return out;
}

namespace {

// "attributes":[...] of one series (no leading comma); false if none.
bool series_attributes(Json& j, const MetricFamilySnapshot& fam, const SeriesSnapshot& s) {
  auto n = std::min(fam.label_keys.size(), s.label_values.size());
  const bool any = s.overflow || std::any_of(s.label_values.begin(), s.label_values.begin() + static_cast<std::ptrdiff_t>(n),
                                             [](const std::string& v) { return !v.empty(); });
  if (!any) return false;
  j.raw("\"attributes\":[");
  bool first = true;
  if (s.overflow) {
    key_value(j, first, detail::kOverflowAttribute, true);
  } else {
    // An empty value is an absent attribute, as in the protobuf encoding.
    for (std::size_t i = 0; i < n; ++i)
      if (!s.label_values[i].empty()) key_value(j, first, fam.label_keys[i], std::string_view(s.label_values[i]));
  }
  j.ch(']');
  return true;
}

void number_points(Json& j, const MetricFamilySnapshot& fam, std::uint64_t start, std::uint64_t now) {
  j.raw("\"dataPoints\":[");
  bool first = true;
  for (const auto& s : fam.series) {
    j.sep(first);
    j.ch('{');
    if (series_attributes(j, fam, s)) j.ch(',');
    if (start != 0) {
      j.raw("\"startTimeUnixNano\":");
      j.uint64_string(start);
      j.ch(',');
    }
    j.raw("\"timeUnixNano\":");
    j.uint64_string(now);
    if (fam.integer) {
      j.raw(",\"asInt\":");  // an int64: a string in proto3's JSON mapping
      j.int64_string(s.int_value);
    } else {
      j.raw(",\"asDouble\":");
      j.number(s.value);
    }
    j.ch('}');
  }
  j.ch(']');
}

}  // namespace

std::string encode_metrics_json(const Resource& resource, const MetricsSnapshot& snapshot,
                                std::chrono::system_clock::time_point start_time, Temporality temporality,
                                std::chrono::system_clock::time_point cumulative_start) {
  std::string out;
  std::size_t guess = 512;
  for (const auto& f : snapshot.families) {
    guess += 96 + f.name.size() + f.description.size() + f.unit.size();
    std::size_t labels = 0;
    for (const auto& k : f.label_keys) labels += 48 + 2 * k.size();
    for (const auto& s : f.series) guess += 96 + labels + 40 * s.histogram.counts.size() + 160 * s.histogram.exemplars.size();
  }
  out.reserve(guess);
  Json j(out);
  const auto start = unix_nanos(start_time);
  const auto since_start = cumulative_start.time_since_epoch().count() != 0 ? unix_nanos(cumulative_start) : start;
  const auto now = unix_nanos(snapshot.time);
  open(j, resource, "resourceMetrics", "scopeMetrics", "metrics");
  bool first_metric = true;
  for (const auto& fam : snapshot.families) {
    if (fam.series.empty()) continue;
    j.sep(first_metric);
    j.raw("{\"name\":");
    j.string(fam.name);
    if (!fam.description.empty()) {
      j.raw(",\"description\":");
      j.string(fam.description);
    }
    if (!fam.unit.empty()) {
      j.raw(",\"unit\":");
      j.string(fam.unit);
    }
    switch (fam.type) {
      case MetricType::Counter:
        j.raw(",\"sum\":{");
        number_points(j, fam, start, now);
        j.raw(",\"aggregationTemporality\":");
        j.integer(temporality_number(temporality));
        j.raw(",\"isMonotonic\":true}");
        break;
      case MetricType::UpDownCounter:
        j.raw(",\"sum\":{");
        number_points(j, fam, since_start, now);
        j.raw(",\"aggregationTemporality\":");
        j.integer(temporality_number(Temporality::Cumulative));
        j.raw(",\"isMonotonic\":false}");
        break;
      case MetricType::Gauge:
        j.raw(",\"gauge\":{");
        number_points(j, fam, 0, now);
        j.ch('}');
        break;
      case MetricType::Histogram: {
        j.raw(",\"histogram\":{\"dataPoints\":[");
        bool first = true;
        for (const auto& s : fam.series) {
          const auto& h = s.histogram;
          j.sep(first);
          j.ch('{');
          if (series_attributes(j, fam, s)) j.ch(',');
          if (start != 0) {
            j.raw("\"startTimeUnixNano\":");
            j.uint64_string(start);
            j.ch(',');
          }
          j.raw("\"timeUnixNano\":");
          j.uint64_string(now);
          j.raw(",\"count\":");
          j.uint64_string(h.count);
          if (!h.negative_observed) {  // as in the protobuf encoding
            j.raw(",\"sum\":");
            j.number(h.sum);
          }
          if (!h.counts.empty()) {
            j.raw(",\"bucketCounts\":[");
            bool f = true;
            for (auto c : h.counts) {
              j.sep(f);
              j.uint64_string(c);
            }
            j.ch(']');
          }
          if (!h.bounds.empty()) {
            j.raw(",\"explicitBounds\":[");
            bool f = true;
            for (auto b : h.bounds) {
              j.sep(f);
              j.number(b);
            }
            j.ch(']');
          }
          bool any_exemplar = std::any_of(h.exemplars.begin(), h.exemplars.end(), [](const auto& e) { return e.has_value(); });
          if (any_exemplar) {
            j.raw(",\"exemplars\":[");
            bool f = true;
            for (const auto& ex : h.exemplars) {
              if (!ex) continue;
              j.sep(f);
              j.ch('{');
              bool m = true;
              if (auto t = unix_nanos(ex->time)) {
                j.sep(m);
                j.raw("\"timeUnixNano\":");
                j.uint64_string(t);
              }
              j.sep(m);
              j.raw("\"asDouble\":");
              j.number(ex->value);
              if (ex->span_id.valid()) {
                j.raw(",\"spanId\":");
                j.hex(ex->span_id.bytes);
              }
              if (ex->trace_id.valid()) {
                j.raw(",\"traceId\":");
                j.hex(ex->trace_id.bytes);
              }
              j.ch('}');
            }
            j.ch(']');
          }
          if (h.min) {
            j.raw(",\"min\":");
            j.number(*h.min);
          }
          if (h.max) {
            j.raw(",\"max\":");
            j.number(*h.max);
          }
          j.ch('}');
        }
        j.raw("],\"aggregationTemporality\":");
        j.integer(temporality_number(temporality));
        j.ch('}');
        break;
      }
    }
    j.ch('}');
  }
  close(j);
  return out;
}

}  // namespace obs::otlp
