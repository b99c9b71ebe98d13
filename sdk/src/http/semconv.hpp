#pragma once
// OpenTelemetry HTTP semantic conventions shared by the server and client
// instrumentation: method normalisation and the metrics' bucket bounds.
#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

namespace obs::internal::http {

// The methods of RFC 9110 and RFC 5789 that the conventions name; any
// other is recorded as "_OTHER" so that label values stay bounded.
inline constexpr std::array<std::string_view, 9> kKnownMethods = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                                  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
inline constexpr std::string_view kOtherMethod = "_OTHER";

// Index into kKnownMethods, or kKnownMethods.size() for "_OTHER". Case
// sensitive, as methods are.
inline std::size_t method_index(std::string_view method) {
  for (std::size_t i = 0; i < kKnownMethods.size(); ++i)
    if (kKnownMethods[i] == method) return i;
  return kKnownMethods.size();
}

inline std::string_view method_label(std::size_t index) {
  return index < kKnownMethods.size() ? kKnownMethods[index] : kOtherMethod;
}

// What a span name starts with: the method, or "HTTP" for "_OTHER".
inline std::string_view method_for_span_name(std::size_t index) {
  return index < kKnownMethods.size() ? kKnownMethods[index] : std::string_view("HTTP");
}

// The conventions' advisory bounds for http.{server,client}.request.duration.
inline const std::vector<double>& duration_buckets() {
  static const std::vector<double> b{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10};
  return b;
}

// Body sizes: powers of 4 from 64 B to 256 MiB.
inline const std::vector<double>& body_size_buckets() {
  static const std::vector<double> b{64,     256,     1024,    4096,     16384,    65536,
                                     262144, 1048576, 4194304, 16777216, 67108864, 268435456};
  return b;
}

}  // namespace obs::internal::http
