// The Datadog logs and series backends: adapters from the SDK's backend
// interfaces to a BatchExporter posting to Datadog's HTTP intakes.
#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "backends/datadog/datadog_encoder.hpp"
#include "core/call_deadline.hpp"
#include "core/counts_own_deliveries.hpp"
#include "core/diagnostics.hpp"
#include "export/batch_exporter.hpp"
#include "export/http_transport.hpp"
#include "core/fork_locks.hpp"
#include "metrics/delta_tracker.hpp"
#include "obs/datadog.hpp"

namespace obs {
namespace {

// A site is a host name suffix ("datadoghq.eu"): anything else would make
// a wrong URL, or one pointing somewhere unexpected.
std::string checked_site(const std::string& site, const std::string& api_key) {
  const bool ok = !site.empty() && site.size() <= 100 && std::all_of(site.begin(), site.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-';
  });
  // A key pasted into DD_SITE must not be repeated in the message.
  const bool has_key = api_key.size() >= 8 && site.find(api_key) != std::string::npos;
  if (!ok || has_key)
    throw std::invalid_argument("Datadog site '" + (has_key ? std::string("***") : internal::printable(site, 100)) +
                                "' is not a host name such as datadoghq.com or datadoghq.eu");
  return site;
}

std::string read_error(const std::string& body, const std::string&) {
  // Datadog answers {"errors": ["..."]}.
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array()) {
    std::string out;
    for (const auto& e : j["errors"]) {
      if (!out.empty()) out += "; ";
      out += e.is_string() ? e.get<std::string>() : e.dump();
    }
    return out;
  }
  return body;
}

std::unique_ptr<internal::Transport> http_transport(const DatadogOptions& o, const std::string& url,
                                                   const char* content_encoding) {
  if (o.api_key.empty())
    throw std::invalid_argument("no Datadog API key: set DD_API_KEY (or DATADOG_API_KEY)");
  internal::HttpTransportOptions h;
  h.protocol = "Datadog";
  h.url = url;
  h.content_type = "application/json";
  h.headers = {{"DD-API-KEY", o.api_key}};
  if (o.compress) h.content_encoding = content_encoding;
  h.timeout = o.timeout;
  h.certificate = o.certificate;
  // Datadog asks for retries on timeouts, throttling and server errors.
  h.retryable = [](int s) { return s == 408 || s == 429 || s >= 500; };
  h.read_error = read_error;
  return std::make_unique<internal::HttpTransport>(std::move(h));
}

internal::ExporterSettings settings_for(const DatadogOptions& o, std::string signal) {
  internal::ExporterSettings s;
  s.signal = std::move(signal);
  s.backend = "datadog";
  s.max_queue_size = o.max_queue_size;
  s.max_batch_size = std::min<std::size_t>(o.max_batch_size, 1000);
  s.schedule_delay = o.schedule_delay;
  s.max_attempts = o.max_attempts;
  s.initial_backoff = o.initial_backoff;
  s.max_backoff = o.max_backoff;
  s.max_export_time = o.max_export_time;
  return s;
}

// What the exporter thread needs to encode log entries: set from the
// first batch (all carry the same resource).
class LogContextSlot {
 public:
  void set_once(const Resource& r, const DatadogOptions& o) {
    std::call_once(once_, [&] {
      context_.service = r.service;
      context_.hostname = o.hostname.empty() ? r.host : o.hostname;
      context_.source = o.source;
      context_.max_entry_bytes = o.max_entry_bytes;
      for (const auto& t : datadog::unified_tags(r, o.tags)) {
        if (!context_.ddtags.empty()) context_.ddtags += ',';
        context_.ddtags += datadog::safe_tag(t);
      }
    });
  }
  const datadog::LogContext& get() const { return context_; }

 private:
  std::once_flag once_;
  datadog::LogContext context_;
};

class DatadogLogBackend final : public LogBackend, public internal::CountsOwnDeliveries {
 public:
  DatadogLogBackend(DatadogOptions o, std::unique_ptr<internal::Transport> transport)
      : options_(std::move(o)),
        context_(std::make_shared<LogContextSlot>()),
        exporter_(settings_for(options_, "logs"), std::move(transport),
                  [context = context_, max_payload = std::max<std::size_t>(options_.max_payload_bytes, 1024)](
                      std::span<const LogRecord> records) {
                    std::vector<std::string> entries;
                    entries.reserve(records.size());
                    std::size_t truncated = 0;
                    for (const auto& r : records) {
                      bool cut = false;
                      entries.push_back(datadog::encode_log_entry(r, context->get(), cut));
                      truncated += cut;
                    }
                    if (truncated > 0)
                      internal::report_error("datadog-log-truncated",
                                             std::to_string(truncated) +
                                                 " log records were longer than Datadog's limit of " +
                                                 std::to_string(context->get().max_entry_bytes) +
                                                 " bytes and were truncated (marked obs.truncated)");
                    return datadog::pack_log_entries(entries, 1000, max_payload);
                  },
                  [](const LogRecord&) -> std::uint64_t { return 1; }) {}

  std::string_view name() const override { return "datadog"; }
  void write(const LogBatch& batch) override {
    context_->set_once(batch.resource, options_);
    exporter_.add(batch.records);
  }
  void flush() override {
    if (!exporter_.flush(internal::call_deadline_or(options_.max_export_time))) internal::mark_call_incomplete();
  }
  void shutdown() override { exporter_.shutdown(internal::call_deadline_or(options_.max_export_time)); }

 private:
  DatadogOptions options_;
  std::shared_ptr<LogContextSlot> context_;
  internal::BatchExporter<LogRecord> exporter_;
};

struct SeriesExport {
  MetricsSnapshot delta;
  std::shared_ptr<const datadog::SeriesContext> context;
  // What the counts cover: the export interval, or less for a flush's.
  std::int64_t interval_seconds = 1;
};

class DatadogMetricsBackend final : public MetricsBackend, public internal::CountsOwnDeliveries {
 public:
  DatadogMetricsBackend(DatadogOptions o, std::unique_ptr<internal::Transport> transport,
                        std::chrono::milliseconds interval)
      : options_(std::move(o)),
        histograms_(datadog::histogram_settings(options_)),
        interval_(interval),
        exporter_(
            [&] {
              auto s = settings_for(options_, "metrics");
              s.max_queue_size = 16;  // snapshots
              s.max_batch_size = 1;
              s.schedule_delay = std::chrono::milliseconds(0);
              return s;
            }(),
            std::move(transport),
            [histograms = histograms_](std::span<const SeriesExport> batch) {
              // Well under the API's 3.2 MB per request, even uncompressed.
              constexpr std::size_t kMaxRequestBytes = 3000000;
              const auto& e = batch.front();
              auto context = *e.context;
              context.interval_seconds = e.interval_seconds;
              return datadog::encode_series(e.delta, context, histograms, kMaxRequestBytes);
            },
            [](const SeriesExport& e) {
              std::uint64_t n = 0;
              for (const auto& f : e.delta.families) n += f.series.size();
              return n;
            }) {}

  std::string_view name() const override { return "datadog"; }
  void attach(const Resource& resource, MetricsProducer producer) override {
    auto c = std::make_shared<datadog::SeriesContext>();
    c->host = options_.hostname.empty() ? resource.host : options_.hostname;
    c->tags = datadog::unified_tags(resource, options_.tags);
    context_ = std::move(c);
    delta_.emplace(std::chrono::system_clock::now());
    // In a forked child the counts so far are the parent's, which it reports.
    if (internal::restarting_after_fork() && producer) (void)delta_->next(producer());
  }
  std::chrono::milliseconds export_interval() const override { return interval_; }
  void write(const MetricsSnapshot& snapshot) override {
    if (!delta_) attach(Resource{}, {});
    auto delta = delta_->next(snapshot);
    const auto covered = delta.time - delta_->interval_start();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(covered + std::chrono::milliseconds(500));
    exporter_.add(SeriesExport{std::move(delta), context_, std::max<std::int64_t>(1, seconds.count())});
  }
  void flush() override {
    if (!exporter_.flush(internal::call_deadline_or(options_.max_export_time))) internal::mark_call_incomplete();
  }
  void shutdown() override { exporter_.shutdown(internal::call_deadline_or(options_.max_export_time)); }

 private:
  DatadogOptions options_;
  datadog::HistogramSettings histograms_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<const datadog::SeriesContext> context_;
  std::optional<internal::DeltaTracker> delta_;
  internal::BatchExporter<SeriesExport> exporter_;
};

}  // namespace

std::shared_ptr<LogBackend> make_datadog_log_backend(DatadogOptions o) {
  const std::string url = o.logs_url.empty() ? "https://http-intake.logs." + checked_site(o.site, o.api_key) + "/api/v2/logs"
                                             : o.logs_url;
  auto transport = http_transport(o, url, "gzip");
  return std::make_shared<DatadogLogBackend>(std::move(o), std::move(transport));
}

std::shared_ptr<MetricsBackend> make_datadog_metrics_backend(DatadogOptions o, std::chrono::milliseconds interval) {
  const std::string url =
      o.metrics_url.empty() ? "https://api." + checked_site(o.site, o.api_key) + "/api/v1/series" : o.metrics_url;
  datadog::histogram_settings(o);  // bad settings fail here, not on the first export
  auto transport = http_transport(o, url, "deflate");  // the series API v1 takes deflate, not gzip
  return std::make_shared<DatadogMetricsBackend>(std::move(o), std::move(transport), interval);
}

}  // namespace obs
