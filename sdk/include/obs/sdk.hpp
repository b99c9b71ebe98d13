#pragma once
// obs::init starts the pipelines, the backends and the admin server, and
// returns the handle that stops them. init never throws and never aborts:
// problems (bad env values, a port in use) are reported by ok()/errors(),
// and whatever could start keeps working.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "obs/config.hpp"
#include "obs/export.hpp"
#include "obs/resource.hpp"

namespace obs {

class OBS_API Sdk {
 public:
  Sdk();
  Sdk(Sdk&&) noexcept;
  Sdk& operator=(Sdk&&) noexcept;
  ~Sdk();  // shutdown() with the default deadline

  bool ok() const;
  explicit operator bool() const { return ok(); }
  const std::vector<std::string>& errors() const;

  // Delivers everything buffered so far; returns false if the deadline passed first.
  bool flush(std::chrono::milliseconds deadline = std::chrono::seconds(5));
  // Flushes, then stops threads and backends. Safe to call twice.
  void shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(5));

  // The admin server's port (useful with port 0), or 0 when it is not running.
  std::uint16_t admin_port() const;
  const Resource& resource() const;

  struct State;

 private:
  explicit Sdk(std::shared_ptr<State> state);
  friend OBS_API Sdk init(Config config);
  std::shared_ptr<State> state_;
};

OBS_API Sdk init(Config config = Config::from_env());

}  // namespace obs
