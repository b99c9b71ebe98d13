#pragma once
// Symbols of the SDK are hidden unless marked, so one copy of the global
// state lives in the library and only the intended API is exported.
#if defined(OBS_STATIC_DEFINE)
#define OBS_API
#else
#define OBS_API __attribute__((visibility("default")))
#endif
