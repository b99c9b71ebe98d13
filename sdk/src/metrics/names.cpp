// Prometheus naming rules. Dots (OpenTelemetry style) become underscores;
// anything else outside the allowed set is an error, not silently rewritten,
// so two different names can never end up as one series.
#include <string>

#include "obs/metrics_registry.hpp"

namespace obs {
namespace {

bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string shown(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size() && i < 80; ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (name.size() > 80) out += "...";
  return "'" + out + "'";
}

std::string canonical(std::string_view name, bool metric, std::string& error) {
  constexpr std::size_t kMaxLength = 200;
  const char* what = metric ? "metric name " : "label name ";
  if (name.empty()) {
    error = std::string(what) + "is empty";
    return {};
  }
  if (name.size() > kMaxLength) {
    error = std::string(what) + shown(name) + " is longer than " + std::to_string(kMaxLength) + " characters";
    return {};
  }
  std::string out(name);
  for (std::size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (c == '.') c = '_';
    const bool ok = alpha(c) || (i > 0 && digit(c)) || (metric && c == ':');
    if (!ok) {
      error = std::string(what) + shown(name) + " is not valid: character " + std::to_string(i + 1) +
              (metric ? " is outside [a-zA-Z0-9_:.] (and a name cannot start with a digit)"
                      : " is outside [a-zA-Z0-9_.] (and a name cannot start with a digit)");
      return {};
    }
  }
  if (out.size() >= 2 && out[0] == '_' && out[1] == '_') {
    error = std::string(what) + shown(name) + " starts with '__', which Prometheus reserves";
    return {};
  }
  return out;
}

}  // namespace

std::string canonical_metric_name(std::string_view name, std::string& error) { return canonical(name, true, error); }
std::string canonical_label_name(std::string_view name, std::string& error) { return canonical(name, false, error); }

}  // namespace obs
