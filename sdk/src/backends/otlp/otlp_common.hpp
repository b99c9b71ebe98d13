#pragma once
// Helpers shared by the OTLP protobuf and JSON encoders (internal).
#include <cstdint>
#include <string_view>

#include "obs/fields.hpp"
#include "obs/resource.hpp"
#include "obs/version.hpp"

namespace obs::otlp::detail {

inline constexpr std::string_view kScopeName = "obs";
inline constexpr std::string_view kOverflowAttribute = "otel.metric.overflow";
inline constexpr std::string_view kThreadIdAttribute = "thread.id";
inline constexpr std::string_view kRequestIdAttribute = "request_id";

// Calls visit(key, value) with a string_view, int64 or bool for each
// resource attribute, in a fixed order; empty strings are left out.
template <class Visit>
void for_each_resource_attribute(const Resource& r, Visit&& visit) {
  if (!r.service.empty()) visit(std::string_view("service.name"), std::string_view(r.service));
  if (!r.version.empty()) visit(std::string_view("service.version"), std::string_view(r.version));
  if (!r.environment.empty()) visit(std::string_view("deployment.environment"), std::string_view(r.environment));
  if (!r.host.empty()) visit(std::string_view("host.name"), std::string_view(r.host));
  if (r.pid != 0) visit(std::string_view("process.pid"), static_cast<std::int64_t>(r.pid));
  visit(std::string_view("telemetry.sdk.name"), std::string_view("obs"));
  visit(std::string_view("telemetry.sdk.language"), std::string_view("cpp"));
  visit(std::string_view("telemetry.sdk.version"), std::string_view(OBS_VERSION));
}

}  // namespace obs::otlp::detail
