// A library that uses obs on its own, built twice (OBS_TEST_PLUGIN a and
// b). Each has its own copies of obs's inline functions and their
// thread_locals; what they share must come from libobs.so.
#include "obs/obs.hpp"

#define OBS_PLUGIN_FN2(name, suffix) name##_##suffix
#define OBS_PLUGIN_FN(name, suffix) OBS_PLUGIN_FN2(name, suffix)
#define OBS_PLUGIN_NAME_STR2(x) #x
#define OBS_PLUGIN_NAME_STR(x) OBS_PLUGIN_NAME_STR2(x)

extern "C" __attribute__((visibility("default"))) void OBS_PLUGIN_FN(plugin_count, OBS_TEST_PLUGIN)(int times) {
  // Bound once per library, as a library would.
  static const obs::Counter shared = obs::counter("plugin_increments_total").labels();
  for (int i = 0; i < times; ++i) shared.inc();
  obs::metric::increment("plugin_facade_total", 1, {{"kind", "shared"}});
  static const obs::Histogram seconds = obs::histogram("plugin_seconds", {}, {.buckets = {1.0}}).labels();
  seconds.observe(0.5);
}

// Starts a span, then calls `inner` (the other library's function) inside it.
extern "C" __attribute__((visibility("default"))) void OBS_PLUGIN_FN(plugin_span, OBS_TEST_PLUGIN)(void (*inner)()) {
  obs::Span span("span in " OBS_PLUGIN_NAME_STR(OBS_TEST_PLUGIN));
  if (inner) inner();
}

extern "C" __attribute__((visibility("default"))) void OBS_PLUGIN_FN(plugin_log, OBS_TEST_PLUGIN)() {
  obs::log::info("log from " OBS_PLUGIN_NAME_STR(OBS_TEST_PLUGIN));
}
