#pragma once
// The labels of the target_info series (internal to the Prometheus
// backend): the resource's attributes with their keys made Prometheus
// labels. Keys that become the same label have their values joined with
// ';' in the order of the original keys, as the compatibility spec says.
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "obs/metric_names.hpp"
#include "obs/resource.hpp"

namespace obs::prometheus_text {

inline std::vector<std::pair<std::string, std::string>> target_info_labels(const Resource& resource) {
  std::map<std::string, std::map<std::string, std::string>> by_label;  // label -> original key -> value
  for_each_resource_attribute(resource, [&](std::string_view key, auto value) {
    std::string text;
    if constexpr (std::is_same_v<decltype(value), std::string_view>) text = std::string(value);
    else text = std::to_string(value);
    const std::string label = prometheus_label_name(key);
    if (!label.empty()) by_label[label].emplace(std::string(key), std::move(text));
  });
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [label, values] : by_label) {
    std::string joined;
    bool first = true;
    for (const auto& [key, value] : values) {
      if (!first) joined += ';';
      first = false;
      joined += value;
    }
    out.emplace_back(label, std::move(joined));
  }
  return out;
}

inline constexpr const char* kTargetInfoHelp = "Target metadata: the OpenTelemetry resource of this service";

}  // namespace obs::prometheus_text
