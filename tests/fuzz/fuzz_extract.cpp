// extract/inject on arbitrary headers: the input is split at '\n' into
// traceparent, tracestate, baggage and x-request-id (a missing part is an
// absent header). Never crashes; inject(extract(h)) is a fixed point of
// extract-then-inject, and every written header parses as valid.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "obs/propagation.hpp"

namespace prop = obs::propagation;

namespace {

using Headers = std::map<std::string, std::string, std::less<>>;

obs::Context extract_from(const Headers& headers) {
  return prop::extract([&headers](std::string_view name) -> const std::string* {
    const auto it = headers.find(name);
    return it == headers.end() ? nullptr : &it->second;
  });
}

Headers inject_to(const obs::Context& context) {
  Headers headers;
  prop::inject(context, [&headers](std::string_view name, std::string value) {
    FUZZ_CHECK(headers.emplace(std::string(name), std::move(value)).second);
  });
  return headers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kNames[] = {prop::kTraceparent, prop::kTracestate, prop::kBaggage,
                                                prop::kRequestId};
  Headers in;
  for (auto name : kNames) {
    if (input.empty()) break;
    const auto newline = input.find('\n');
    in.emplace(std::string(name), std::string(input.substr(0, newline)));
    input = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  }

  const auto context = extract_from(in);
  FUZZ_CHECK(prop::valid_request_id(context.request_id));
  FUZZ_CHECK(context.span.valid() || context.span.trace_state.empty());

  const auto out = inject_to(context);
  FUZZ_CHECK(out.count(std::string(prop::kRequestId)) == 1);
  FUZZ_CHECK(out.count(std::string(prop::kTraceparent)) == (context.span.valid() ? 1u : 0u));
  if (auto it = out.find(prop::kTraceparent); it != out.end())
    FUZZ_CHECK(prop::parse_traceparent(it->second).has_value());
  if (auto it = out.find(prop::kTracestate); it != out.end())
    FUZZ_CHECK(prop::parse_tracestate(it->second) == it->second);

  const auto again = extract_from(out);
  FUZZ_CHECK(again.span.valid() == context.span.valid());
  FUZZ_CHECK(again.span.trace_id == context.span.trace_id);
  FUZZ_CHECK(again.span.span_id == context.span.span_id);
  FUZZ_CHECK(again.span.sampled == context.span.sampled);
  FUZZ_CHECK(again.span.trace_state == context.span.trace_state);
  FUZZ_CHECK(again.baggage == context.baggage);
  FUZZ_CHECK(again.request_id == context.request_id);
  FUZZ_CHECK(inject_to(again) == out);
  return 0;
}
