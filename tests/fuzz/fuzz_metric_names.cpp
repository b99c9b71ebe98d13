// The metric model's naming rules on arbitrary bytes.
//
// Checks: valid_instrument_name accepts exactly what a reference
// implementation of OpenTelemetry's grammar accepts (a letter, then up to
// 254 of [A-Za-z0-9_.-/]); an error is set exactly on rejection, as one
// short line of printable ASCII (the name may be hostile: it must not forge
// log output); valid_unit and valid_attribute_key say the same of units and
// keys. Whatever the input, the Prometheus renderings are valid Prometheus
// names ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for
// labels, never a run of '_'), a counter's ends in "_total", and rendering
// a label name again changes nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "obs/metric_names.hpp"

namespace {

bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

bool reference_accepts(std::string_view name) {
  if (name.empty() || name.size() > 255 || !letter(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(), [](char c) {
    return letter(c) || digit(c) || c == '_' || c == '.' || c == '-' || c == '/';
  });
}

void check_error(bool accepted, const std::string& error) {
  if (accepted) return;
  FUZZ_CHECK(!error.empty());
  FUZZ_CHECK(error.size() <= 400);
  FUZZ_CHECK(std::all_of(error.begin(), error.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
}

void check_prometheus_name(const std::string& out, bool metric) {
  if (out.empty()) return;
  FUZZ_CHECK(letter(out[0]) || out[0] == '_' || (metric && out[0] == ':'));
  FUZZ_CHECK(std::all_of(out.begin(), out.end(),
                         [&](char c) { return letter(c) || digit(c) || c == '_' || (metric && c == ':'); }));
  FUZZ_CHECK(out.find("__") == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  std::string error;
  const bool accepted = obs::valid_instrument_name(input, error);
  FUZZ_CHECK(accepted == reference_accepts(input));
  check_error(accepted, error);
  error.clear();
  check_error(obs::valid_unit(input, error), error);
  error.clear();
  check_error(obs::valid_attribute_key(input, error), error);

  // The first byte picks the unit's length, so names and units vary together.
  const std::size_t split = size == 0 ? 0 : std::min<std::size_t>(data[0] % 16, size - 1);
  const std::string_view unit = size == 0 ? input : input.substr(1, split);
  const std::string_view name = size == 0 ? input : input.substr(1 + split);
  for (auto type : {obs::MetricType::Counter, obs::MetricType::UpDownCounter, obs::MetricType::Gauge,
                    obs::MetricType::Histogram}) {
    const std::string out = obs::prometheus_metric_name(name, unit, type);
    check_prometheus_name(out, true);
    if (type == obs::MetricType::Counter) FUZZ_CHECK(out.size() >= 5 && out.ends_with("total"));
  }
  const std::string unit_word = obs::prometheus_unit(unit);
  FUZZ_CHECK(std::all_of(unit_word.begin(), unit_word.end(), [](char c) { return letter(c) || digit(c) || c == '_'; }));

  const std::string label = obs::prometheus_label_name(input);
  check_prometheus_name(label, false);
  FUZZ_CHECK(obs::prometheus_label_name(label) == label);
  return 0;
}
