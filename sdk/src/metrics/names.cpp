// The metric model's naming rules: OpenTelemetry's syntax for what is
// registered, and OpenTelemetry's Prometheus compatibility rules for what
// /metrics shows.
#include "obs/metric_names.hpp"

#include <array>
#include <span>
#include <string>
#include <utility>

#include "text/utf8.hpp"

namespace obs {
namespace {

bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

// The name as an error message shows it: printable ASCII only (a name may be
// hostile and must not forge log lines), at most 80 characters.
std::string shown(std::string_view name) {
  std::string out = "'";
  for (std::size_t i = 0; i < name.size() && i < 80; ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (name.size() > 80) out += "...";
  return out + "'";
}

// Characters outside [a-zA-Z0-9_] (and ':' for metric names) become '_',
// then runs of '_' become one, as the compatibility spec says.
std::string sanitise(std::string_view in, bool metric) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    const bool ok = letter(c) || digit(c) || c == '_' || (metric && c == ':');
    const char next = ok ? c : '_';
    if (next == '_' && !out.empty() && out.back() == '_') continue;
    out += next;
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// UCUM units and the words Prometheus names use for them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 27> kUnits{{
    {"d", "days"},          {"h", "hours"},        {"min", "minutes"},     {"s", "seconds"},
    {"ms", "milliseconds"}, {"us", "microseconds"}, {"ns", "nanoseconds"},  {"By", "bytes"},
    {"KiBy", "kibibytes"},  {"MiBy", "mebibytes"}, {"GiBy", "gibibytes"},  {"TiBy", "tibibytes"},
    {"kBy", "kilobytes"},   {"KBy", "kilobytes"},  {"MBy", "megabytes"},   {"GBy", "gigabytes"},
    {"TBy", "terabytes"},   {"bit", "bits"},       {"m", "meters"},        {"V", "volts"},
    {"A", "amperes"},       {"J", "joules"},       {"W", "watts"},         {"g", "grams"},
    {"Cel", "celsius"},     {"Hz", "hertz"},       {"%", "percent"},
}};
// The same after a '/', in the singular ("bytes_per_second").
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kPerUnits{{
    {"s", "second"}, {"min", "minute"}, {"h", "hour"}, {"d", "day"}, {"wk", "week"},
    {"mo", "month"}, {"a", "year"},     {"ms", "millisecond"}, {"By", "byte"},
}};

std::string unit_word(std::string_view unit, bool per) {
  for (const auto& [ucum, word] : per ? std::span<const std::pair<std::string_view, std::string_view>>(kPerUnits)
                                      : std::span<const std::pair<std::string_view, std::string_view>>(kUnits))
    if (unit == ucum) return std::string(word);
  std::string out = sanitise(unit, false);
  while (!out.empty() && out.front() == '_') out.erase(out.begin());
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

bool valid_instrument_name(std::string_view name, std::string& error) {
  if (name.empty()) {
    error = "metric name is empty";
    return false;
  }
  if (name.size() > 255) {
    error = "metric name " + shown(name) + " is longer than 255 characters";
    return false;
  }
  if (!letter(name[0])) {
    error = "metric name " + shown(name) + (digit(name[0]) ? " starts with a digit" : " does not start with a letter") +
            "; OpenTelemetry instrument names start with a letter";
    return false;
  }
  for (std::size_t i = 1; i < name.size(); ++i) {
    const char c = name[i];
    if (!(letter(c) || digit(c) || c == '_' || c == '.' || c == '-' || c == '/')) {
      error = "metric name " + shown(name) + " is not valid: character " + std::to_string(i + 1) +
              " is outside [A-Za-z0-9_.-/]";
      return false;
    }
  }
  return true;
}

bool valid_unit(std::string_view unit, std::string& error) {
  if (unit.size() > 63) {
    error = "unit " + shown(unit) + " is longer than 63 characters";
    return false;
  }
  bool in_braces = false;
  for (std::size_t i = 0; i < unit.size(); ++i) {
    const char c = unit[i];
    if (c <= 0x20 || c >= 0x7f) {
      error = "unit " + shown(unit) + ": character " + std::to_string(i + 1) +
              " is not printable ASCII (units are UCUM, like \"s\", \"By\" or \"{request}\")";
      return false;
    }
    if (c == '{' || c == '}') {
      if (in_braces == (c == '{')) {
        error = "unit " + shown(unit) + " has unbalanced or nested braces";
        return false;
      }
      in_braces = c == '{';
    }
  }
  if (in_braces) {
    error = "unit " + shown(unit) + " has an unclosed '{'";
    return false;
  }
  return true;
}

bool valid_attribute_key(std::string_view key, std::string& error) {
  if (key.empty()) {
    error = "label key is empty";
    return false;
  }
  if (key.size() > 255) {
    error = "label key " + shown(key) + " is longer than 255 bytes";
    return false;
  }
  if (!text::is_valid_utf8(key)) {
    error = "label key " + shown(key) + " is not valid UTF-8";
    return false;
  }
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      error = "label key " + shown(key) + " holds a control character";
      return false;
    }
  }
  return true;
}

std::string prometheus_unit(std::string_view unit) {
  // Annotations ("{request}") say what is counted: Prometheus has no word for them.
  std::string plain;
  bool in_braces = false;
  for (char c : unit) {
    if (c == '{') in_braces = true;
    else if (c == '}') in_braces = false;
    else if (!in_braces) plain += c;
  }
  if (plain == "1") return "ratio";
  const auto slash = plain.find('/');
  if (slash == std::string::npos) return unit_word(plain, false);
  std::string main = unit_word(std::string_view(plain).substr(0, slash), false);
  std::string per = unit_word(std::string_view(plain).substr(slash + 1), true);
  if (per.empty()) return main;
  return main.empty() ? "per_" + per : main + "_per_" + per;
}

std::string prometheus_metric_name(std::string_view name, std::string_view unit, MetricType type) {
  std::string out = sanitise(name, true);
  const bool counter = type == MetricType::Counter;
  // The unit goes before the type's suffix: "x_total" with unit "By" is "x_bytes_total".
  if (counter && ends_with(out, "_total")) out.resize(out.size() - 6);
  const std::string suffix = prometheus_unit(unit);
  if (!suffix.empty() && out != suffix && !ends_with(out, "_" + suffix)) {
    if (!out.empty() && out.back() != '_') out += '_';
    out += suffix;
  }
  if (counter) out += out.empty() || out.back() == '_' ? "total" : "_total";
  if (!out.empty() && digit(out[0])) out.insert(out.begin(), '_');  // a name cannot start with one (nor can a bare unit)
  return out;
}

std::string prometheus_label_name(std::string_view key) {
  std::string out = sanitise(key, false);
  if (!out.empty() && digit(out[0])) {
    out[0] = '_';
    if (out.size() > 1 && out[1] == '_') out.erase(out.begin());
  }
  return out;
}

}  // namespace obs
