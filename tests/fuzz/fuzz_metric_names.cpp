// canonical_metric_name and canonical_label_name on arbitrary bytes.
//
// Checks, for both: a name is accepted exactly when a reference
// implementation of the documented grammar accepts it (dots read as
// underscores; metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]*;
// 1 to 200 characters; no leading "__"), the result is the input with dots
// made underscores, canonicalising is idempotent, and an error is set
// exactly on rejection, as one short line of printable ASCII (the name may
// be hostile: it must not forge log output). Every label name is also a
// valid metric name.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "obs/metrics_registry.hpp"

namespace {

bool reference_accepts(std::string_view name, bool metric) {
  if (name.empty() || name.size() > 200) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i] == '.' ? '_' : name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  const auto at = [&](std::size_t i) { return name[i] == '.' ? '_' : name[i]; };
  return !(name.size() >= 2 && at(0) == '_' && at(1) == '_');
}

void check(std::string_view name, bool metric) {
  const auto canonical = [metric](std::string_view n, std::string& error) {
    return metric ? obs::canonical_metric_name(n, error) : obs::canonical_label_name(n, error);
  };
  std::string error;
  const std::string out = canonical(name, error);
  const bool accepted = error.empty();
  FUZZ_CHECK(accepted == reference_accepts(name, metric));
  if (accepted) {
    std::string expected(name);
    std::replace(expected.begin(), expected.end(), '.', '_');
    FUZZ_CHECK(out == expected);
    std::string again_error;
    FUZZ_CHECK(canonical(out, again_error) == out);
    FUZZ_CHECK(again_error.empty());
  } else {
    FUZZ_CHECK(out.empty());
    FUZZ_CHECK(error.size() <= 400);
    FUZZ_CHECK(std::all_of(error.begin(), error.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
    // The message says which kind of name it is.
    FUZZ_CHECK(error.rfind(metric ? "metric name " : "label name ", 0) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input, true);
  check(input, false);
  std::string error;
  if (!obs::canonical_label_name(input, error).empty()) {
    FUZZ_CHECK(!obs::canonical_metric_name(input, error).empty());
  }
  return 0;
}
