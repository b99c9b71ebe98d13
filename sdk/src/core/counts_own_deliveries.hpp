#pragma once
// Marks a built-in backend that delivers on its own thread and counts what
// it delivered, failed and dropped itself (obs_exporter_*): write() only
// queues, so the pipeline must not count a returned write() as exported.
namespace obs::internal {

class CountsOwnDeliveries {
 public:
  virtual ~CountsOwnDeliveries() = default;
};

}  // namespace obs::internal
