#pragma once
// Who is emitting: attached to every log batch, span batch and metrics
// snapshot.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "obs/version.hpp"

namespace obs {

struct Resource {
  std::string service;
  std::string environment;
  std::string version;
  std::string host;
  long pid = 0;
  // Further attributes, from OTEL_RESOURCE_ATTRIBUTES or Config, in the
  // order given. Keys already covered by the fields above are not repeated.
  std::vector<std::pair<std::string, std::string>> attributes;
};

// Calls visit(key, value) with a string_view or an int64 for each resource
// attribute, as OpenTelemetry names them; every backend that sends the
// resource uses this, so all send the same. The built-in ones come first in
// a fixed order (empty strings left out), then Resource::attributes in
// their order. An extra attribute is
// skipped when its key is empty, was already emitted by a built-in, or
// appeared earlier in the list (the first one wins): OTLP requires unique
// keys, and the built-in fields already hold the resolved values.
template <class Visit>
void for_each_resource_attribute(const Resource& r, Visit&& visit) {
  std::array<std::string_view, 8> builtin_keys;
  std::size_t builtins = 0;
  auto builtin = [&](std::string_view key, auto value) {
    builtin_keys[builtins++] = key;
    visit(key, value);
  };
  auto builtin_string = [&](std::string_view key, std::string_view value) {
    if (!value.empty()) builtin(key, value);
  };
  builtin_string("service.name", r.service);
  builtin_string("service.version", r.version);
  builtin_string("deployment.environment.name", r.environment);
  builtin_string("host.name", r.host);
  if (r.pid != 0) builtin(std::string_view("process.pid"), static_cast<std::int64_t>(r.pid));
  builtin_string("telemetry.sdk.name", "obs");
  builtin_string("telemetry.sdk.language", "cpp");
  builtin_string("telemetry.sdk.version", OBS_VERSION);

  const auto emitted_builtins = std::span(builtin_keys).first(builtins);
  const auto& extra = r.attributes;
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const std::string_view key = extra[i].first;
    if (key.empty() || std::find(emitted_builtins.begin(), emitted_builtins.end(), key) != emitted_builtins.end()) continue;
    // Quadratic, but resources carry a handful of attributes.
    const auto earlier = extra.begin() + static_cast<std::ptrdiff_t>(i);
    if (std::find_if(extra.begin(), earlier, [&](const auto& kv) { return kv.first == key; }) != earlier) continue;
    visit(key, std::string_view(extra[i].second));
  }
}

}  // namespace obs
