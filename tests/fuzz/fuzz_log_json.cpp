// A log record and resource made from the input (any bytes in the message,
// field keys and values, request id and resource strings; any level, time,
// ids and numbers) through append_log_json, and append_log_text.
//
// Checks, JSON: the line is one JSON object that nlohmann/json parses (so
// it is valid UTF-8), with no raw control character or DEL, and of bounded
// size; every string reads back as written when it was valid UTF-8 (else
// as its own repair, no longer than three bytes per input byte); time,
// severity, pid, thread, ids and request_id are where the format says;
// every field is under its key ("fields.<key>" for a reserved one) with its
// value and type (non-finite doubles as "NaN", "+Inf", "-Inf").
// Text: one line, no raw control character or DEL.
#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "obs/log_format.hpp"

namespace {

using nlohmann::json;

// An independent strict UTF-8 check (shortest forms, no surrogates, at most
// U+10FFFF), to know when a string must come back unchanged.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned c = b(i);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c == 0xE0) { n = 2; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) n = 2;
    else if (c == 0xED) { n = 2; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) n = 2;
    else if (c == 0xF0) { n = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) n = 3;
    else if (c == 0xF4) { n = 3; hi = 0x8F; }
    else return false;
    if (n > 0 && i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const unsigned cc = b(i + k);
      if (k == 1 ? (cc < lo || cc > hi) : (cc < 0x80 || cc > 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

void check_string(const json& line, const std::string& key, const std::string& written) {
  FUZZ_CHECK(line.contains(key));
  const auto& v = line.at(key);
  FUZZ_CHECK(v.is_string());
  const auto& read = v.get_ref<const std::string&>();
  if (valid_utf8(written)) FUZZ_CHECK(read == written);
  else FUZZ_CHECK(read.size() <= 3 * written.size());
}

// One field value, or one element of an array field.
void check_string_value(const json& v, const std::string& written) {
  FUZZ_CHECK(v.is_string());
  if (valid_utf8(written)) FUZZ_CHECK(v.get_ref<const std::string&>() == written);
}
void check_int_value(const json& v, std::int64_t written) {
  FUZZ_CHECK(v.is_number_integer() && v.get<std::int64_t>() == written);
}
void check_double_value(const json& v, double written) {
  if (std::isnan(written)) FUZZ_CHECK(v == "NaN");
  else if (std::isinf(written)) FUZZ_CHECK(v == (written > 0 ? "+Inf" : "-Inf"));
  else FUZZ_CHECK(v.is_number() && v.get<double>() == written);
}

bool no_raw_control(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool is_reserved(std::string_view k) {
  return k == "time" || k == "severity" || k == "message" || k == "service" || k == "environment" ||
         k == "version" || k == "host" || k == "pid" || k == "thread" || k == "trace_id" || k == "span_id" ||
         k == "request_id";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  obs::LogRecord r;
  obs::Resource res;
  r.level = static_cast<obs::log::Level>(in.ConsumeIntegralInRange<int>(0, 6));
  // system_clock counts nanoseconds in an int64 (years 1678 to 2261): stay inside.
  const auto micros = in.ConsumeIntegralInRange<std::int64_t>(-9'000'000'000'000'000, 9'000'000'000'000'000);
  r.time = std::chrono::system_clock::time_point(std::chrono::microseconds(micros));
  r.thread_id = in.ConsumeIntegral<std::uint64_t>();
  res.pid = in.ConsumeIntegral<long>();
  if (in.ConsumeBool()) {
    for (auto& b : r.trace_id.bytes) b = in.ConsumeIntegral<std::uint8_t>();
    for (auto& b : r.span_id.bytes) b = in.ConsumeIntegral<std::uint8_t>();
  }
  res.service = in.ConsumeRandomLengthString(256);
  res.environment = in.ConsumeRandomLengthString(64);
  res.version = in.ConsumeRandomLengthString(64);
  res.host = in.ConsumeRandomLengthString(64);
  r.request_id = in.ConsumeRandomLengthString(256);
  r.message = in.ConsumeRandomLengthString(4096);
  std::size_t input_bytes = res.service.size() + res.environment.size() + res.version.size() + res.host.size() +
                            r.request_id.size() + r.message.size();
  while (in.remaining_bytes() > 0 && r.fields.size() < 64) {
    obs::OwnedField f;
    f.key = in.ConsumeRandomLengthString(128);
    f.type = static_cast<obs::FieldType>(in.ConsumeIntegralInRange<int>(0, 7));
    const std::size_t elements = in.ConsumeIntegralInRange<std::size_t>(0, 16);
    input_bytes += f.key.size() + 8;  // "fields." and the value's own room
    switch (f.type) {
      case obs::FieldType::String: f.str = in.ConsumeRandomLengthString(1024); break;
      case obs::FieldType::Int: f.i = in.ConsumeIntegral<std::int64_t>(); break;
      case obs::FieldType::Double: f.d = in.ConsumeFloatingPoint<double>(); break;
      case obs::FieldType::Bool: f.b = in.ConsumeBool(); break;
      // Each element gets room for its separator (and quotes) or its number.
      case obs::FieldType::StringArray:
        for (std::size_t i = 0; i < elements; ++i) {
          f.strings.push_back(in.ConsumeRandomLengthString(64));
          input_bytes += f.strings.back().size() + 1;
        }
        break;
      case obs::FieldType::IntArray:
        for (std::size_t i = 0; i < elements; ++i) f.ints.push_back(in.ConsumeIntegral<std::int64_t>());
        input_bytes += 8 * elements;
        break;
      case obs::FieldType::DoubleArray:
        for (std::size_t i = 0; i < elements; ++i) f.doubles.push_back(in.ConsumeFloatingPoint<double>());
        input_bytes += 8 * elements;
        break;
      case obs::FieldType::BoolArray:
        for (std::size_t i = 0; i < elements; ++i) f.bools.push_back(in.ConsumeBool());
        input_bytes += elements;
        break;
    }
    input_bytes += f.str.size();
    r.fields.push_back(std::move(f));
  }

  std::string line;
  obs::append_log_json(line, r, res);
  // Six bytes per input byte at most (\u00XX), plus the fixed keys, the
  // numbers (26 bytes each at most) and per-field punctuation.
  FUZZ_CHECK(line.size() <= 6 * input_bytes + 400 + 32 * r.fields.size());
  FUZZ_CHECK(no_raw_control(line));

  FUZZ_CHECK(json::accept(line));  // strict: invalid UTF-8 is refused too
  const json j = json::parse(line);
  FUZZ_CHECK(j.is_object());
  std::string time;
  obs::append_timestamp(time, r.time);
  FUZZ_CHECK(time.size() == 27 && time[4] == '-' && time[10] == 'T' && time[19] == '.' && time.back() == 'Z');
  FUZZ_CHECK(j.at("time") == time);
  FUZZ_CHECK(j.at("severity") == std::string(obs::log::to_string(r.level)));
  check_string(j, "message", r.message);
  check_string(j, "service", res.service);
  FUZZ_CHECK(j.contains("environment") == !res.environment.empty());
  if (!res.environment.empty()) check_string(j, "environment", res.environment);
  FUZZ_CHECK(j.contains("version") == !res.version.empty());
  if (!res.version.empty()) check_string(j, "version", res.version);
  check_string(j, "host", res.host);
  FUZZ_CHECK(j.at("pid").is_number_integer() && j.at("pid").get<long>() == res.pid);
  FUZZ_CHECK(j.at("thread").get<std::int64_t>() == static_cast<std::int64_t>(r.thread_id));
  FUZZ_CHECK(j.contains("trace_id") == r.trace_id.valid());
  FUZZ_CHECK(j.contains("span_id") == r.trace_id.valid());
  if (r.trace_id.valid()) {
    FUZZ_CHECK(j.at("trace_id") == r.trace_id.hex());
    FUZZ_CHECK(j.at("span_id") == r.span_id.hex());
  }
  FUZZ_CHECK(j.contains("request_id") == !r.request_id.empty());
  if (!r.request_id.empty()) check_string(j, "request_id", r.request_id);

  // Every field whose key is valid UTF-8 is there. Its value is the last
  // one written under that key, unless a key that is not valid UTF-8 was
  // repaired into the same text: values are compared only without those.
  std::map<std::string, const obs::OwnedField*> last;
  bool all_keys_valid = true;
  for (const auto& f : r.fields) {
    if (valid_utf8(f.key)) last[is_reserved(f.key) ? "fields." + f.key : f.key] = &f;
    else all_keys_valid = false;
  }
  for (const auto& [key, f] : last) {
    FUZZ_CHECK(j.contains(key));
    if (!all_keys_valid) continue;
    const auto& v = j.at(key);
    switch (f->type) {
      case obs::FieldType::String: check_string_value(v, f->str); break;
      case obs::FieldType::Int: check_int_value(v, f->i); break;
      case obs::FieldType::Double: check_double_value(v, f->d); break;
      case obs::FieldType::Bool: FUZZ_CHECK(v.is_boolean() && v.get<bool>() == f->b); break;
      case obs::FieldType::StringArray:
        FUZZ_CHECK(v.is_array() && v.size() == f->strings.size());
        for (std::size_t i = 0; i < f->strings.size(); ++i) check_string_value(v[i], f->strings[i]);
        break;
      case obs::FieldType::IntArray:
        FUZZ_CHECK(v.is_array() && v.size() == f->ints.size());
        for (std::size_t i = 0; i < f->ints.size(); ++i) check_int_value(v[i], f->ints[i]);
        break;
      case obs::FieldType::DoubleArray:
        FUZZ_CHECK(v.is_array() && v.size() == f->doubles.size());
        for (std::size_t i = 0; i < f->doubles.size(); ++i) check_double_value(v[i], f->doubles[i]);
        break;
      case obs::FieldType::BoolArray:
        FUZZ_CHECK(v.is_array() && v.size() == f->bools.size());
        for (std::size_t i = 0; i < f->bools.size(); ++i) FUZZ_CHECK(v[i].is_boolean() && v[i].get<bool>() == f->bools[i]);
        break;
    }
  }

  std::string text;
  obs::append_log_text(text, r, res);
  FUZZ_CHECK(no_raw_control(text));
  return 0;
}
