// OTLP protobuf encoding, written by hand: one output string, reserved up
// front. A nested message is written in place and its length prefix inserted
// in front of it once its size is known (the move only touches that message's
// own bytes), so no scratch buffers are needed.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "backends/otlp/otlp_common.hpp"
#include "backends/otlp/otlp_encoder.hpp"
#include "text/utf8.hpp"

namespace obs::otlp {
namespace {

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void tag(std::uint32_t field, WireType type) { varint((static_cast<std::uint64_t>(field) << 3) | type); }
  void raw_fixed64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  void raw_fixed32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }

  void uint_field(std::uint32_t field, std::uint64_t v) {
    tag(field, kVarint);
    varint(v);
  }
  void int64_field(std::uint32_t field, std::int64_t v) { uint_field(field, static_cast<std::uint64_t>(v)); }
  void bool_field(std::uint32_t field, bool v) { uint_field(field, v ? 1 : 0); }
  void fixed64_field(std::uint32_t field, std::uint64_t v) {
    tag(field, kFixed64);
    raw_fixed64(v);
  }
  void fixed32_field(std::uint32_t field, std::uint32_t v) {
    tag(field, kFixed32);
    raw_fixed32(v);
  }
  void double_field(std::uint32_t field, double v) { fixed64_field(field, std::bit_cast<std::uint64_t>(v)); }
  void bytes_field(std::uint32_t field, const void* data, std::size_t size) {
    tag(field, kLen);
    varint(size);
    out_.append(static_cast<const char*>(data), size);
  }
  // Protobuf strings must be UTF-8: well-formed input (the usual case) is
  // appended as is, anything else is repaired with U+FFFD in place.
  void string_field(std::uint32_t field, std::string_view s) {
    if (text::is_valid_utf8(s)) {
      bytes_field(field, s.data(), s.size());
      return;
    }
    auto body = begin(field);
    text::append_utf8_repaired(out_, s);
    end(body);
  }

  // begin() writes the tag and returns where the body starts; end() inserts
  // the body's length there.
  std::size_t begin(std::uint32_t field) {
    tag(field, kLen);
    return out_.size();
  }
  void end(std::size_t body_start) {
    std::uint64_t len = out_.size() - body_start;
    char buf[10];
    std::size_t n = 0;
    while (len >= 0x80) {
      buf[n++] = static_cast<char>((len & 0x7F) | 0x80);
      len >>= 7;
    }
    buf[n++] = static_cast<char>(len);
    out_.insert(body_start, buf, n);
  }

 private:
  std::string& out_;
};

// AnyValue fields (common.proto).
constexpr std::uint32_t kAnyString = 1, kAnyBool = 2, kAnyInt = 3, kAnyDouble = 4, kAnyArray = 5;

void key_value(Writer& w, std::uint32_t field, std::string_view key, std::string_view v) {
  auto kv = w.begin(field);
  w.string_field(1, key);
  auto any = w.begin(2);
  w.string_field(kAnyString, v);
  w.end(any);
  w.end(kv);
}
void key_value(Writer& w, std::uint32_t field, std::string_view key, std::int64_t v) {
  auto kv = w.begin(field);
  w.string_field(1, key);
  auto any = w.begin(2);
  w.int64_field(kAnyInt, v);
  w.end(any);
  w.end(kv);
}
void key_value(Writer& w, std::uint32_t field, std::string_view key, bool v) {
  auto kv = w.begin(field);
  w.string_field(1, key);
  auto any = w.begin(2);
  w.bool_field(kAnyBool, v);
  w.end(any);
  w.end(kv);
}
// AnyValue.array_value: an ArrayValue whose `values` (field 1) are one AnyValue per element.
template <class Values, class WriteOne>
void array_value(Writer& w, const Values& values, WriteOne write_one) {
  auto array = w.begin(kAnyArray);
  for (const auto& v : values) {
    auto element = w.begin(1);
    write_one(v);
    w.end(element);
  }
  w.end(array);
}
void key_value(Writer& w, std::uint32_t field, const OwnedField& f) {
  auto kv = w.begin(field);
  w.string_field(1, f.key);
  auto any = w.begin(2);
  switch (f.type) {
    case FieldType::String: w.string_field(kAnyString, f.str); break;
    case FieldType::Int: w.int64_field(kAnyInt, f.i); break;
    case FieldType::Double: w.double_field(kAnyDouble, f.d); break;
    case FieldType::Bool: w.bool_field(kAnyBool, f.b); break;
    case FieldType::StringArray: array_value(w, f.strings, [&](std::string_view v) { w.string_field(kAnyString, v); }); break;
    case FieldType::IntArray: array_value(w, f.ints, [&](std::int64_t v) { w.int64_field(kAnyInt, v); }); break;
    case FieldType::DoubleArray: array_value(w, f.doubles, [&](double v) { w.double_field(kAnyDouble, v); }); break;
    case FieldType::BoolArray: array_value(w, f.bools, [&](bool v) { w.bool_field(kAnyBool, v); }); break;
  }
  w.end(any);
  w.end(kv);
}

// ResourceX.resource (field 1) then the start of ResourceX.scope_x (field 2)
// with its scope (field 1) written; returns the scope_x body start.
std::size_t resource_and_scope(Writer& w, const Resource& r) {
  auto res = w.begin(1);
  for_each_resource_attribute(r, [&](std::string_view key, auto value) { key_value(w, 1, key, value); });
  w.end(res);
  auto scope_x = w.begin(2);
  auto scope = w.begin(1);
  w.string_field(1, detail::kScopeName);
  w.string_field(2, OBS_VERSION);
  w.end(scope);
  w.string_field(3, detail::kSchemaUrl);  // ScopeX.schema_url
  return scope_x;
}

std::size_t estimate(const std::vector<OwnedField>& fields) {
  std::size_t n = 0;
  for (const auto& f : fields) {
    n += 16 + f.key.size() + f.str.size() + 12 * (f.ints.size() + f.doubles.size() + f.bools.size());
    for (const auto& s : f.strings) n += 4 + s.size();
  }
  return n;
}

}  // namespace

std::string encode_traces_protobuf(const Resource& resource, std::span<const SpanData> spans) {
  std::string out;
  std::size_t guess = 256;
  for (const auto& s : spans) {
    guess += 128 + s.name.size() + s.status_message.size() + estimate(s.attributes) + 48 * s.events.size();
    for (const auto& l : s.links) guess += 48 + l.context.trace_state.size() + estimate(l.attributes);
  }
  out.reserve(guess);
  Writer w(out);

  auto rs = w.begin(1);  // ExportTraceServiceRequest.resource_spans
  auto ss = resource_and_scope(w, resource);
  for (const auto& s : spans) {
    auto span = w.begin(2);  // ScopeSpans.spans
    w.bytes_field(1, s.context.trace_id.bytes.data(), s.context.trace_id.bytes.size());
    w.bytes_field(2, s.context.span_id.bytes.data(), s.context.span_id.bytes.size());
    if (!s.context.trace_state.empty()) w.string_field(3, s.context.trace_state);
    if (s.parent_span_id.valid()) w.bytes_field(4, s.parent_span_id.bytes.data(), s.parent_span_id.bytes.size());
    w.string_field(5, s.name);
    w.uint_field(6, static_cast<std::uint64_t>(span_kind_number(s.kind)));
    w.fixed64_field(7, unix_nanos(s.start));
    w.fixed64_field(8, unix_nanos(s.end));
    for (const auto& a : s.attributes) key_value(w, 9, a);
    // Span.dropped_attributes_count (10), dropped_events_count (12) and
    // dropped_links_count (14): what the per-span limits cut.
    if (s.dropped_attributes) w.uint_field(10, s.dropped_attributes);
    for (const auto& e : s.events) {
      auto ev = w.begin(11);
      w.fixed64_field(1, unix_nanos(e.time));
      w.string_field(2, e.name);
      for (const auto& a : e.attributes) key_value(w, 3, a);
      if (e.dropped_attributes) w.uint_field(4, e.dropped_attributes);
      w.end(ev);
    }
    for (const auto& l : s.links) {
      auto link = w.begin(13);
      w.bytes_field(1, l.context.trace_id.bytes.data(), l.context.trace_id.bytes.size());
      w.bytes_field(2, l.context.span_id.bytes.data(), l.context.span_id.bytes.size());
      if (!l.context.trace_state.empty()) w.string_field(3, l.context.trace_state);
      for (const auto& a : l.attributes) key_value(w, 4, a);
      if (l.dropped_attributes) w.uint_field(5, l.dropped_attributes);
      if (auto flags = detail::link_flags(l)) w.fixed32_field(6, flags);
      w.end(link);
    }
    if (s.dropped_events) w.uint_field(12, s.dropped_events);
    if (s.dropped_links) w.uint_field(14, s.dropped_links);
    if (s.status != SpanStatus::Unset) {
      auto st = w.begin(15);
      // The description means something only with an Error status (trace
      // API, "Set Status"); with Ok or Unset it is not sent.
      if (s.status == SpanStatus::Error && !s.status_message.empty()) w.string_field(2, s.status_message);
      if (int code = status_code_number(s.status)) w.uint_field(3, static_cast<std::uint64_t>(code));
      w.end(st);
    }
    if (auto flags = span_flags(s)) w.fixed32_field(16, flags);
    w.end(span);
  }
  w.end(ss);
  w.end(rs);
  return out;
}

std::string encode_logs_protobuf(const Resource& resource, std::span<const LogRecord> records) {
  std::string out;
  std::size_t guess = 256;
  for (const auto& r : records) guess += 96 + r.message.size() + r.request_id.size() + estimate(r.fields);
  out.reserve(guess);
  Writer w(out);

  auto rl = w.begin(1);  // ExportLogsServiceRequest.resource_logs
  auto sl = resource_and_scope(w, resource);
  for (const auto& r : records) {
    auto rec = w.begin(2);  // ScopeLogs.log_records
    auto t = unix_nanos(r.time);
    w.fixed64_field(1, t);
    if (int sev = severity_number(r.level)) w.uint_field(2, static_cast<std::uint64_t>(sev));
    if (auto text = severity_text(r.level); !text.empty()) w.string_field(3, text);
    auto body = w.begin(5);
    w.string_field(kAnyString, r.message);
    w.end(body);
    for (const auto& f : r.fields) key_value(w, 6, f);
    if (r.thread_id != 0) key_value(w, 6, detail::kThreadIdAttribute, static_cast<std::int64_t>(r.thread_id));
    if (!r.request_id.empty()) key_value(w, 6, detail::kRequestIdAttribute, std::string_view(r.request_id));
    if (r.trace_flags != 0 && r.span_id.valid()) w.fixed32_field(8, r.trace_flags);  // LogRecord.flags
    if (r.trace_id.valid()) w.bytes_field(9, r.trace_id.bytes.data(), r.trace_id.bytes.size());
    if (r.span_id.valid()) w.bytes_field(10, r.span_id.bytes.data(), r.span_id.bytes.size());
    w.fixed64_field(11, t);  // observed: the SDK observes records as they are logged
    w.end(rec);
  }
  w.end(sl);
  w.end(rl);
  return out;
}

namespace {

void series_attributes(Writer& w, std::uint32_t field, const MetricFamilySnapshot& fam, const SeriesSnapshot& s) {
  if (s.overflow) {
    key_value(w, field, detail::kOverflowAttribute, true);
    return;
  }
  auto n = std::min(fam.label_keys.size(), s.label_values.size());
  // An empty value is an absent attribute, as in Prometheus' data model
  // (http.route where no route matched, say).
  for (std::size_t i = 0; i < n; ++i)
    if (!s.label_values[i].empty()) key_value(w, field, fam.label_keys[i], std::string_view(s.label_values[i]));
}

}  // namespace

std::string encode_metrics_protobuf(const Resource& resource, const MetricsSnapshot& snapshot,
                                    std::chrono::system_clock::time_point start_time, Temporality temporality,
                                    std::chrono::system_clock::time_point cumulative_start) {
  std::string out;
  std::size_t guess = 256;
  for (const auto& f : snapshot.families) {
    guess += 32 + f.name.size() + f.description.size() + f.unit.size();
    std::size_t labels = 0;
    for (const auto& k : f.label_keys) labels += 8 + 2 * k.size();
    for (const auto& s : f.series) guess += 40 + labels + 17 * s.histogram.counts.size() + 60 * s.histogram.exemplars.size();
  }
  out.reserve(guess);
  Writer w(out);
  const auto start = unix_nanos(start_time);
  const auto since_start = cumulative_start.time_since_epoch().count() != 0 ? unix_nanos(cumulative_start) : start;
  const auto now = unix_nanos(snapshot.time);
  const auto temporality_number = static_cast<std::uint64_t>(otlp::temporality_number(temporality));
  // NumberDataPoint: attributes, start, time, then as_double (4) or as_int (6).
  const auto number_point = [&](const MetricFamilySnapshot& fam, const SeriesSnapshot& s, std::uint64_t from) {
    auto dp = w.begin(1);
    series_attributes(w, 7, fam, s);
    if (from != 0) w.fixed64_field(2, from);
    w.fixed64_field(3, now);
    if (fam.integer) w.fixed64_field(6, static_cast<std::uint64_t>(s.int_value));
    else w.double_field(4, s.value);
    w.end(dp);
  };

  auto rm = w.begin(1);  // ExportMetricsServiceRequest.resource_metrics
  auto sm = resource_and_scope(w, resource);
  for (const auto& fam : snapshot.families) {
    if (fam.series.empty()) continue;
    auto metric = w.begin(2);  // ScopeMetrics.metrics
    w.string_field(1, fam.name);
    if (!fam.description.empty()) w.string_field(2, fam.description);
    if (!fam.unit.empty()) w.string_field(3, fam.unit);
    switch (fam.type) {
      case MetricType::Counter: {
        auto sum = w.begin(7);
        for (const auto& s : fam.series) number_point(fam, s, start);
        w.uint_field(2, temporality_number);
        w.bool_field(3, true);
        w.end(sum);
        break;
      }
      case MetricType::UpDownCounter: {
        auto sum = w.begin(7);
        for (const auto& s : fam.series) number_point(fam, s, since_start);
        w.uint_field(2, static_cast<std::uint64_t>(otlp::temporality_number(Temporality::Cumulative)));
        // is_monotonic false: the default, so not written.
        w.end(sum);
        break;
      }
      case MetricType::Gauge: {
        auto gauge = w.begin(5);
        for (const auto& s : fam.series) number_point(fam, s, 0);
        w.end(gauge);
        break;
      }
      case MetricType::Histogram: {
        auto hist = w.begin(9);
        for (const auto& s : fam.series) {
          const auto& h = s.histogram;
          auto dp = w.begin(1);
          series_attributes(w, 9, fam, s);
          if (start != 0) w.fixed64_field(2, start);
          w.fixed64_field(3, now);
          w.fixed64_field(4, h.count);
          // "Negative events can be recorded, but sum should not be filled
          // out when doing so" (metrics.proto): OpenMetrics compatibility.
          if (!h.negative_observed) w.double_field(5, h.sum);
          if (!h.counts.empty()) {  // packed
            w.tag(6, kLen);
            w.varint(8 * h.counts.size());
            for (auto c : h.counts) w.raw_fixed64(c);
          }
          if (!h.bounds.empty()) {  // packed
            w.tag(7, kLen);
            w.varint(8 * h.bounds.size());
            for (auto b : h.bounds) w.raw_fixed64(std::bit_cast<std::uint64_t>(b));
          }
          for (const auto& ex : h.exemplars) {
            if (!ex) continue;
            auto e = w.begin(8);
            if (auto t = unix_nanos(ex->time)) w.fixed64_field(2, t);
            w.double_field(3, ex->value);
            if (ex->span_id.valid()) w.bytes_field(4, ex->span_id.bytes.data(), ex->span_id.bytes.size());
            if (ex->trace_id.valid()) w.bytes_field(5, ex->trace_id.bytes.data(), ex->trace_id.bytes.size());
            w.end(e);
          }
          if (h.min) w.double_field(11, *h.min);
          if (h.max) w.double_field(12, *h.max);
          w.end(dp);
        }
        w.uint_field(2, temporality_number);
        w.end(hist);
        break;
      }
    }
    w.end(metric);
  }
  w.end(sm);
  w.end(rm);
  return out;
}

int severity_number(log::Level level) {
  switch (level) {
    case log::Level::Trace: return 1;
    case log::Level::Debug: return 5;
    case log::Level::Info: return 9;
    case log::Level::Warning: return 13;
    case log::Level::Error: return 17;
    case log::Level::Critical: return 21;
    case log::Level::Off: break;
  }
  return 0;
}

std::string_view severity_text(log::Level level) {
  switch (level) {
    case log::Level::Trace: return "TRACE";
    case log::Level::Debug: return "DEBUG";
    case log::Level::Info: return "INFO";
    case log::Level::Warning: return "WARN";
    case log::Level::Error: return "ERROR";
    case log::Level::Critical: return "FATAL";
    case log::Level::Off: break;
  }
  return "";
}

int span_kind_number(SpanKind kind) {
  switch (kind) {
    case SpanKind::Internal: return 1;
    case SpanKind::Server: return 2;
    case SpanKind::Client: return 3;
    case SpanKind::Producer: return 4;
    case SpanKind::Consumer: return 5;
  }
  return 0;
}

int status_code_number(SpanStatus status) {
  switch (status) {
    case SpanStatus::Unset: return 0;
    case SpanStatus::Ok: return 1;
    case SpanStatus::Error: return 2;
  }
  return 0;
}

int temporality_number(Temporality t) { return t == Temporality::Delta ? 1 : 2; }

std::uint32_t span_flags(const SpanData& span) {
  return detail::w3c_flags(span.context) | detail::kHasIsRemote | (span.parent_remote ? detail::kIsRemote : 0u);
}

std::uint64_t unix_nanos(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return ns > 0 ? static_cast<std::uint64_t>(ns) : 0;
}

}  // namespace obs::otlp
