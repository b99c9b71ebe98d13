#pragma once
// Who is emitting: attached to every log batch and metrics snapshot.
#include <string>

namespace obs {

struct Resource {
  std::string service;
  std::string environment;
  std::string version;
  std::string host;
  long pid = 0;
};

}  // namespace obs
