// The OTLP span, log and metrics backends: thin adapters from the SDK's
// backend interfaces to an OtlpExporter over an HTTP or file transport.
#include <memory>
#include <mutex>
#include <optional>

#include "backends/otlp/otlp_encoder.hpp"
#include "backends/otlp/otlp_file_transport.hpp"
#include "backends/otlp/otlp_http.hpp"
#include "core/call_deadline.hpp"
#include "core/counts_own_deliveries.hpp"
#include "export/batch_exporter.hpp"
#include "core/fork_locks.hpp"
#include "metrics/delta_tracker.hpp"
#include "obs/otlp.hpp"

namespace obs {
namespace {

internal::ExporterSettings settings_for(const OtlpOptions& o, std::string signal) {
  internal::ExporterSettings s;
  s.signal = std::move(signal);
  s.backend = "otlp";
  s.max_queue_size = o.max_queue_size;
  s.max_batch_size = o.max_batch_size;
  s.schedule_delay = o.schedule_delay;
  s.max_attempts = o.max_attempts;
  s.initial_backoff = o.initial_backoff;
  s.max_backoff = o.max_backoff;
  s.max_export_time = o.max_export_time;
  return s;
}

internal::ExporterSettings settings_for(const OtlpFileOptions& o, std::string signal) {
  internal::ExporterSettings s;
  s.signal = std::move(signal);
  s.backend = "otlp_file";
  s.max_queue_size = o.max_queue_size;
  s.max_batch_size = o.max_batch_size;
  s.schedule_delay = o.schedule_delay;
  s.max_attempts = 1;  // a file that cannot be written now will not be in a second
  return s;
}

// Set once, by the first batch (all batches carry the same resource), and
// read by the exporter thread after it took items queued afterwards.
class ResourceSlot {
 public:
  void set_once(const Resource& r) {
    std::call_once(once_, [&] { resource_ = r; });
  }
  const Resource& get() const { return resource_; }

 private:
  std::once_flag once_;
  Resource resource_;
};

std::span<const SpanData> items(const SpanBatch& b) { return b.spans; }
std::span<const LogRecord> items(const LogBatch& b) { return b.records; }

// Spans and log records: each batch's records are copied into the
// exporter's queue; the exporter thread encodes and sends them.
template <class Backend, class Batch, class Record>
class OtlpRecordBackend final : public Backend, public internal::CountsOwnDeliveries {
 public:
  using Encode = std::string (*)(const Resource&, std::span<const Record>);

  OtlpRecordBackend(std::string name, internal::ExporterSettings settings, std::unique_ptr<internal::Transport> transport,
                    Encode encode, std::chrono::milliseconds fallback)
      : name_(std::move(name)),
        fallback_(fallback),
        resource_(std::make_shared<ResourceSlot>()),
        exporter_(std::move(settings), std::move(transport),
                  [encode, resource = resource_](std::span<const Record> records) {
                    std::vector<internal::Payload> out;
                    out.push_back({encode(resource->get(), records), records.size()});
                    return out;
                  },
                  [](const Record&) -> std::uint64_t { return 1; }) {}

  std::string_view name() const override { return name_; }
  void write(const Batch& batch) override {
    resource_->set_once(batch.resource);
    exporter_.add(items(batch));
  }
  void flush() override {
    if (!exporter_.flush(internal::call_deadline_or(fallback_))) internal::mark_call_incomplete();
  }
  void shutdown() override { exporter_.shutdown(internal::call_deadline_or(fallback_)); }

 private:
  std::string name_;
  std::chrono::milliseconds fallback_;
  std::shared_ptr<ResourceSlot> resource_;
  internal::BatchExporter<Record> exporter_;
};

using OtlpSpanBackend = OtlpRecordBackend<SpanBackend, SpanBatch, SpanData>;
using OtlpLogBackend = OtlpRecordBackend<LogBackend, LogBatch, LogRecord>;

// A snapshot as exported: its interval start (the SDK's start when
// cumulative, the previous export when delta).
struct MetricsExport {
  MetricsSnapshot snapshot;
  std::chrono::system_clock::time_point start;
  std::chrono::system_clock::time_point cumulative_start;  // the SDK's start, for up-down counters
};

std::uint64_t points(const MetricsExport& e) {
  std::uint64_t n = 0;
  for (const auto& f : e.snapshot.families) n += f.series.size();
  return n;
}

class OtlpMetricsBackend final : public MetricsBackend, public internal::CountsOwnDeliveries {
 public:
  OtlpMetricsBackend(std::string name, internal::ExporterSettings settings,
                     std::unique_ptr<internal::Transport> transport, bool json, OtlpTemporality temporality,
                     std::chrono::milliseconds interval, std::chrono::milliseconds fallback)
      : name_(std::move(name)),
        interval_(interval),
        fallback_(fallback),
        temporality_(temporality),
        resource_(std::make_shared<ResourceSlot>()),
        exporter_(std::move(settings), std::move(transport),
                  [json, temporality, resource = resource_](std::span<const MetricsExport> batch) {
                    // One snapshot per request (batch size 1).
                    const auto t = temporality == OtlpTemporality::Delta ? otlp::Temporality::Delta
                                                                         : otlp::Temporality::Cumulative;
                    const auto& e = batch.front();
                    std::vector<internal::Payload> out;
                    out.push_back({json ? otlp::encode_metrics_json(resource->get(), e.snapshot, e.start, t,
                                                                    e.cumulative_start)
                                        : otlp::encode_metrics_protobuf(resource->get(), e.snapshot, e.start, t,
                                                                        e.cumulative_start),
                                   points(e)});
                    return out;
                  },
                  points) {}

  std::string_view name() const override { return name_; }
  void attach(const Resource& resource, MetricsProducer producer) override {
    resource_->set_once(resource);
    start_ = std::chrono::system_clock::now();
    delta_.emplace(start_);
    // In a forked child the counts so far are the parent's, which it reports.
    if (internal::restarting_after_fork() && producer) (void)delta_->next(producer());
  }
  std::chrono::milliseconds export_interval() const override { return interval_; }
  void write(const MetricsSnapshot& snapshot) override {
    if (!delta_) attach(Resource{}, {});  // driven without init(): start now
    if (temporality_ == OtlpTemporality::Delta) {
      auto d = delta_->next(snapshot);
      exporter_.add(MetricsExport{std::move(d), delta_->interval_start(), start_});
    } else {
      exporter_.add(MetricsExport{snapshot, start_, start_});
    }
  }
  void flush() override {
    if (!exporter_.flush(internal::call_deadline_or(fallback_))) internal::mark_call_incomplete();
  }
  void shutdown() override { exporter_.shutdown(internal::call_deadline_or(fallback_)); }

 private:
  std::string name_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds fallback_;
  OtlpTemporality temporality_;
  std::shared_ptr<ResourceSlot> resource_;
  std::chrono::system_clock::time_point start_;
  std::optional<internal::DeltaTracker> delta_;
  internal::BatchExporter<MetricsExport> exporter_;
};

constexpr std::size_t kMetricSnapshotsQueued = 16;

}  // namespace

std::shared_ptr<SpanBackend> make_otlp_span_backend(OtlpOptions o) {
  auto transport = otlp::make_http_transport(o, "traces");
  return std::make_shared<OtlpSpanBackend>(
      "otlp", settings_for(o, "spans"), std::move(transport),
      o.protocol == OtlpProtocol::HttpJson ? otlp::encode_traces_json : otlp::encode_traces_protobuf, o.max_export_time);
}

std::shared_ptr<LogBackend> make_otlp_log_backend(OtlpOptions o) {
  auto transport = otlp::make_http_transport(o, "logs");
  return std::make_shared<OtlpLogBackend>(
      "otlp", settings_for(o, "logs"), std::move(transport),
      o.protocol == OtlpProtocol::HttpJson ? otlp::encode_logs_json : otlp::encode_logs_protobuf, o.max_export_time);
}

std::shared_ptr<MetricsBackend> make_otlp_metrics_backend(OtlpOptions o, std::chrono::milliseconds interval) {
  auto transport = otlp::make_http_transport(o, "metrics");
  auto settings = settings_for(o, "metrics");
  settings.max_queue_size = kMetricSnapshotsQueued;
  settings.max_batch_size = 1;
  settings.schedule_delay = std::chrono::milliseconds(0);
  return std::make_shared<OtlpMetricsBackend>("otlp", std::move(settings), std::move(transport),
                                              o.protocol == OtlpProtocol::HttpJson, o.temporality, interval,
                                              o.max_export_time);
}

std::shared_ptr<SpanBackend> make_otlp_file_span_backend(OtlpFileOptions o) {
  auto transport = std::make_unique<otlp::OtlpFileTransport>(o, "traces");
  return std::make_shared<OtlpSpanBackend>("otlp_file", settings_for(o, "spans"), std::move(transport),
                                           otlp::encode_traces_json, std::chrono::seconds(5));
}

std::shared_ptr<LogBackend> make_otlp_file_log_backend(OtlpFileOptions o) {
  auto transport = std::make_unique<otlp::OtlpFileTransport>(o, "logs");
  return std::make_shared<OtlpLogBackend>("otlp_file", settings_for(o, "logs"), std::move(transport),
                                          otlp::encode_logs_json, std::chrono::seconds(5));
}

std::shared_ptr<MetricsBackend> make_otlp_file_metrics_backend(OtlpFileOptions o, std::chrono::milliseconds interval) {
  auto transport = std::make_unique<otlp::OtlpFileTransport>(o, "metrics");
  auto settings = settings_for(o, "metrics");
  settings.max_queue_size = kMetricSnapshotsQueued;
  settings.max_batch_size = 1;
  settings.schedule_delay = std::chrono::milliseconds(0);
  return std::make_shared<OtlpMetricsBackend>("otlp_file", std::move(settings), std::move(transport), true,
                                              OtlpTemporality::Cumulative, interval, std::chrono::seconds(5));
}

}  // namespace obs
