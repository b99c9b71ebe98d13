// How much memory one span and one log record of the e2e service take
// while they wait in an OTLP exporter's queue (a std::deque of copies; see
// sdk/src/export/batch_exporter.hpp), so that scripts/soak.sh can say what
// RSS its queue bounds allow. Serves one request through the same
// instrumented route as e2e_service into in-memory backends, then copies
// the span and the record many times and measures the heap they take
// (glibc's mallinfo2, which includes the allocator's per-block overhead).
//
//   queued_item_bytes [SEQUENCE_NUMBER]   prints "span_bytes=N log_bytes=N"
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>

#include <httplib.h>

#include "e2e_routes.hpp"
#include "obs/backends/memory.hpp"
#include "obs/backends/memory_span.hpp"

namespace {

template <class Item>
double heap_bytes_per_copy(const Item& item) {
  constexpr int kCopies = 20000;
  const std::size_t before = mallinfo2().uordblks;
  std::deque<Item> queue;
  for (int i = 0; i < kCopies; ++i) queue.push_back(item);
  const std::size_t after = mallinfo2().uordblks;
  return static_cast<double>(after - before) / kCopies;
}

}  // namespace

int main(int argc, char** argv) {
  // A sequence number as long as the soak's (the id is in the span's
  // url.path and the record's item_id).
  const std::string id = argc > 1 ? argv[1] : "100000";
  auto spans = std::make_shared<obs::MemorySpanBackend>();
  auto logs = std::make_shared<obs::MemoryLogBackend>();
  auto config = obs::Config().default_service("e2e_service").console(false).admin(false).with_prometheus(false);
  config.process_metrics = false;
  config.add_span_backend(spans).add_log_backend(logs);
  auto sdk = obs::init(std::move(config));

  httplib::Server server;
  obs::http::instrument(server);
  e2e::add_instrumented_route(server);
  const int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "queued_item_bytes: cannot listen\n");
    return 1;
  }
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  httplib::Client client("127.0.0.1", port);
  const auto res = client.Get("/items/" + id);
  server.stop();
  listener.join();
  sdk.flush();
  if (!res || res->status != 200 || spans->spans().empty() || logs->records().empty()) {
    std::fprintf(stderr, "queued_item_bytes: the request produced no span or no log record\n");
    return 1;
  }
  const obs::SpanData span = spans->spans().front();
  const obs::LogRecord record = logs->records().front();
  std::printf("span_bytes=%.0f log_bytes=%.0f\n", heap_bytes_per_copy(span), heap_bytes_per_copy(record));
  return 0;
}
