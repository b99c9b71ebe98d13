#pragma once
// Who is emitting: attached to every log batch, span batch and metrics
// snapshot.
#include <string>
#include <utility>
#include <vector>

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

}  // namespace obs
