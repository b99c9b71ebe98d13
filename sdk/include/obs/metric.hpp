#pragma once
// The metrics facade: name, value, tags; aggregated in process.
//
//   obs::metric::increment("comments.created", 1, {{"region", "eu"}});
//   obs::metric::gauge("users.online", 17);
//   obs::metric::histogram("request.duration", 0.0125, {{"route", "/api/comments"}});
//
// The first use of a name registers it with the tag keys seen; later uses
// must have the same keys. For hot paths prefer the bound handles in
// obs/instruments.hpp, which skip the lookup.
#include <string_view>

#include "obs/export.hpp"
#include "obs/tags.hpp"

namespace obs::metric {

OBS_API void increment(std::string_view name, double value = 1, Tags tags = {});
OBS_API void gauge(std::string_view name, double value, Tags tags = {});
OBS_API void histogram(std::string_view name, double value, Tags tags = {});

}  // namespace obs::metric
