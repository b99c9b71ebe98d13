// Two shared libraries, each using obs, loaded with dlopen(RTLD_LOCAL):
// one registry (one series with both libraries' increments), one current
// context (a span started in one is the parent of what the other logs),
// one pipeline (both libraries' records reach the backend the application
// configured).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "obs/backends/memory.hpp"
#include "obs/obs.hpp"

namespace {

struct Plugin {
  explicit Plugin(const char* path) : handle(::dlopen(path, RTLD_NOW | RTLD_LOCAL)) {}
  ~Plugin() {
    if (handle) ::dlclose(handle);
  }
  template <class Fn>
  Fn* fn(const char* name) const {
    return reinterpret_cast<Fn*>(::dlsym(handle, name));
  }
  void* handle;
};

double value_of(const obs::MetricsSnapshot& s, std::string_view name) {
  for (const auto& f : s.families)
    if (f.name == name && f.series.size() == 1) return f.series[0].value;
  return -1;  // missing, or more than one series
}

TEST(TwoLibraries, ShareOneRegistryOneContextAndOnePipeline) {
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto sdk = obs::init(obs::Config().console(false).admin(false).with_prometheus(false).add_log_backend(logs));
  Plugin a(OBS_PLUGIN_A), b(OBS_PLUGIN_B);
  ASSERT_NE(a.handle, nullptr) << ::dlerror();
  ASSERT_NE(b.handle, nullptr) << ::dlerror();
  auto* count_a = a.fn<void(int)>("plugin_count_a");
  auto* count_b = b.fn<void(int)>("plugin_count_b");
  auto* span_a = a.fn<void(void (*)())>("plugin_span_a");
  auto* log_b = b.fn<void()>("plugin_log_b");
  ASSERT_TRUE(count_a && count_b && span_a && log_b);

  count_a(3);
  count_b(4);
  const auto s = obs::MetricsRegistry::global().snapshot();
  EXPECT_EQ(value_of(s, "plugin_increments_total"), 7) << "one series holding both libraries' increments";
  EXPECT_EQ(value_of(s, "plugin_facade_total"), 2);
  for (const auto& f : s.families)
    if (f.name == "plugin_seconds") {
      ASSERT_EQ(f.series.size(), 1u);
      EXPECT_EQ(f.series[0].histogram.count, 2u);
    }

  static void (*inner)() = nullptr;
  inner = log_b;
  span_a([] { inner(); });  // b logs inside a's span
  log_b();                  // and outside it
  ASSERT_TRUE(sdk.flush());
  const auto records = logs->records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].message, "log from b");
  EXPECT_TRUE(records[0].trace_id.valid()) << "b sees the span a made current";
  EXPECT_FALSE(records[1].trace_id.valid()) << "a's span ended: no current span";
}

}  // namespace
