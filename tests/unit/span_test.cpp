// Spans: ids, parentage, the current context, sampling, export, and the
// correlation of log records with the span and request they belong to.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "obs/backends/memory.hpp"
#include "obs/backends/memory_span.hpp"
#include "obs/log_format.hpp"
#include "obs/obs.hpp"
#include "obs/propagation.hpp"
#include "trace/random_ids.hpp"
#include "support/numbered.hpp"

namespace {

using obs::Span;
using obs::SpanKind;

struct Tracing {
  explicit Tracing(obs::Config::Sampler sampler = obs::Config::Sampler::ParentBasedAlwaysOn, double ratio = 1.0) {
    sdk = obs::init(obs::Config()
                        .console(false)
                        .admin(false)
                        .with_prometheus(false)
                        .add_span_backend(spans)
                        .add_log_backend(logs)
                        .sampler(sampler, ratio));
    EXPECT_TRUE(sdk.ok());
  }
  std::shared_ptr<obs::MemorySpanBackend> spans = std::make_shared<obs::MemorySpanBackend>();
  std::shared_ptr<obs::MemoryLogBackend> logs = std::make_shared<obs::MemoryLogBackend>();
  obs::Sdk sdk;
};

TEST(SpanIds, RandomNeverZeroAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const auto t = obs::internal::new_trace_id();
    const auto s = obs::internal::new_span_id();
    ASSERT_TRUE(t.valid());
    ASSERT_TRUE(s.valid());
    seen.insert(t.hex());
  }
  EXPECT_EQ(seen.size(), 10000u);
  EXPECT_EQ(obs::internal::new_trace_id().hex().size(), 32u);
  EXPECT_EQ(obs::internal::new_span_id().hex().size(), 16u);
}

// A forked child reseeds: it must not draw the ids its parent draws next
// (the parent's generator state is copied into the child). Checked for the
// span path (the thread's own generator) and for random_bytes.
TEST(SpanIds, AForkedChildDrawsOtherIdsThanItsParent) {
  obs::Span warm("warm");  // both generators in use before the fork
  (void)obs::internal::new_trace_id();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  auto draw = [] {
    obs::Span span("after fork", obs::Context{}, obs::SpanKind::Internal);  // a root: a new trace id
    return span.context().trace_id.hex() + span.context().span_id.hex() + obs::internal::new_trace_id().hex();
  };
  if (child == 0) {
    const std::string ids = draw();
    const bool written = ::write(fds[1], ids.data(), ids.size()) == static_cast<ssize_t>(ids.size());
    ::_exit(written ? 0 : 1);
  }
  const std::string mine = draw();
  std::string theirs(mine.size(), '\0');
  std::size_t got = 0;
  while (got < theirs.size()) {
    const ssize_t n = ::read(fds[0], theirs.data() + got, theirs.size() - got);
    ASSERT_GT(n, 0);
    got += static_cast<std::size_t>(n);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_NE(theirs.substr(0, 32), mine.substr(0, 32)) << "trace id";
  EXPECT_NE(theirs.substr(32, 16), mine.substr(32, 16)) << "span id";
  EXPECT_NE(theirs.substr(48), mine.substr(48)) << "random_bytes";
}

TEST(Spans, ChildrenShareTheTraceAndPointAtTheirParent) {
  Tracing t;
  obs::SpanContext root_ctx, child_ctx;
  {
    Span root("root", {{"a", 1}});
    root_ctx = root.context();
    EXPECT_EQ(obs::current_context().span.span_id, root_ctx.span_id);
    {
      Span child("child", SpanKind::Client);
      child_ctx = child.context();
      EXPECT_EQ(obs::current_context().span.span_id, child_ctx.span_id);
    }
    EXPECT_EQ(obs::current_context().span.span_id, root_ctx.span_id);  // restored
  }
  EXPECT_FALSE(obs::current_context().span.valid());
  ASSERT_TRUE(t.sdk.flush());
  const auto root = t.spans->find("root");
  const auto child = t.spans->find("child");
  ASSERT_TRUE(root && child);
  EXPECT_FALSE(root->parent_span_id.valid());
  EXPECT_EQ(child->context.trace_id, root->context.trace_id);
  EXPECT_EQ(child->parent_span_id, root->context.span_id);
  EXPECT_EQ(child->kind, SpanKind::Client);
  EXPECT_TRUE(root->context.sampled);
  EXPECT_LE(root->start, child->start);
  EXPECT_GE(root->end, child->end);
}

TEST(Spans, AttributesEventsStatusAndExceptions) {
  Tracing t;
  {
    Span s("work", {{"image.format", "png"}});
    s.set_attribute({"bytes", 1024});
    s.set_attribute({"image.format", "webp"});  // replaces
    s.add_event("decoded", {{"width", 640}});
    s.record_exception(std::runtime_error("decoder exploded"));
  }
  ASSERT_TRUE(t.sdk.flush());
  const auto s = t.spans->find("work");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->attributes.size(), 2u);
  EXPECT_EQ(s->attributes[0].str, "webp");
  EXPECT_EQ(s->attributes[1].i, 1024);
  ASSERT_EQ(s->events.size(), 2u);
  EXPECT_EQ(s->events[0].name, "decoded");
  EXPECT_EQ(s->events[1].name, "exception");
  EXPECT_EQ(s->events[1].attributes[1].str, "decoder exploded");
  EXPECT_EQ(s->status, obs::SpanStatus::Error);
  EXPECT_EQ(s->status_message, "decoder exploded");
}

TEST(Spans, LinksRecordTheLinkedContextAndAttributes) {
  Tracing t;
  obs::SpanContext produced;
  {
    Span producer("produce", SpanKind::Producer);
    produced = producer.context();
  }
  obs::SpanContext remote;  // another service's span, not sampled there
  remote.trace_id = obs::internal::new_trace_id();
  remote.span_id = obs::internal::new_span_id();
  remote.trace_state = "vendor=1";
  remote.remote = true;
  {
    Span consumer("consume", SpanKind::Consumer);
    consumer.add_link(produced, {{"messaging.operation", "process"}, {"batch.index", 0}});
    consumer.add_link(remote);
    consumer.add_link(obs::SpanContext{});  // invalid: ignored
    consumer.end();
    consumer.add_link(produced);  // after end: ignored
  }
  ASSERT_TRUE(t.sdk.flush());
  const auto s = t.spans->find("consume");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->links.size(), 2u);
  const auto& first = s->links[0];
  EXPECT_EQ(first.context.trace_id, produced.trace_id);
  EXPECT_EQ(first.context.span_id, produced.span_id);
  EXPECT_TRUE(first.context.sampled);
  EXPECT_NE(first.context.trace_id, s->context.trace_id);  // a different trace: links cross traces
  ASSERT_EQ(first.attributes.size(), 2u);
  EXPECT_EQ(first.attributes[0].key, "messaging.operation");
  EXPECT_EQ(first.attributes[0].str, "process");
  EXPECT_EQ(first.attributes[1].key, "batch.index");
  EXPECT_EQ(first.attributes[1].type, obs::FieldType::Int);
  EXPECT_EQ(first.attributes[1].i, 0);
  const auto& second = s->links[1];
  EXPECT_EQ(second.context.trace_id, remote.trace_id);
  EXPECT_EQ(second.context.span_id, remote.span_id);
  EXPECT_FALSE(second.context.sampled);
  EXPECT_EQ(second.context.trace_state, "vendor=1");
  EXPECT_TRUE(second.attributes.empty());
  // The span's own identity and parentage are untouched by its links.
  EXPECT_FALSE(s->parent_span_id.valid());
}

TEST(Spans, LinksAreBoundedLikeEvents) {
  Tracing t;
  obs::SpanContext linked;
  linked.trace_id = obs::internal::new_trace_id();
  linked.span_id = obs::internal::new_span_id();
  {
    Span s("fan-in");
    for (int i = 0; i < 200; ++i) s.add_link(linked, {{"i", i}});
  }
  ASSERT_TRUE(t.sdk.flush());
  const auto s = t.spans->find("fan-in");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->links.size(), 128u);  // the first 128 are kept
  EXPECT_EQ(s->links.back().attributes[0].i, 127);
  EXPECT_EQ(s->dropped_links, 72u);  // and the rest counted, for OTLP's dropped_links_count
}

// What the limits cut is counted, as OTLP's dropped_*_count fields expect.
TEST(Spans, ArrayAttributesOnSpansEventsLinksAndLogRecords) {
  Tracing t;
  const std::vector<std::string> hosts = {"db-1", "db-2"};
  const std::vector<std::string> huge(40, std::string(1000, 'x'));  // 40 000 bytes: over the 16 KiB a value holds
  {
    Span s("fan-out", {{"peer.hosts", hosts}});
    s.set_attribute({"retry.delays_ms", {10, 20, 40}});
    s.set_attribute({"huge", huge});
    s.add_event("batch", {{"sizes", {0.5, 1.5}}});
    obs::log::info("sent", {{"hosts", hosts}, {"huge", huge}});
  }
  ASSERT_TRUE(t.sdk.flush());
  const auto s = t.spans->find("fan-out");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->attributes.size(), 3u);
  EXPECT_EQ(s->attributes[0].type, obs::FieldType::StringArray);
  EXPECT_EQ(s->attributes[0].strings, hosts);
  EXPECT_EQ(s->attributes[1].ints, (std::vector<std::int64_t>{10, 20, 40}));
  EXPECT_EQ(s->attributes[2].strings.size(), 17u);  // 16 whole, the 17th cut to what is left of 16 KiB
  EXPECT_EQ(s->attributes[2].strings.back().size(), 16u * 1024 - 16 * 1000);
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].attributes[0].doubles, (std::vector<double>{0.5, 1.5}));
  ASSERT_TRUE(t.logs->wait_for([](const auto& records) { return !records.empty(); }));
  const auto records = t.logs->records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields[0].strings, hosts);
  EXPECT_EQ(records[0].fields[1].strings.size(), 17u);
}

TEST(Spans, LimitsCountWhatTheyDrop) {
  Tracing t;
  obs::SpanContext linked;
  linked.trace_id = obs::internal::new_trace_id();
  linked.span_id = obs::internal::new_span_id();
  {
    Span s("crowded");
    for (int i = 0; i < 130; ++i) s.set_attribute({obs_test::numbered("a", i), i});
    s.set_attribute({"a0", -1});  // replacing a kept key drops nothing
    for (int i = 0; i < 131; ++i) s.add_event("e");
    s.add_link(linked, {{"k", 1}});
  }
  ASSERT_TRUE(t.sdk.flush());
  const auto s = t.spans->find("crowded");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->attributes.size(), 128u);
  EXPECT_EQ(s->dropped_attributes, 2u);
  EXPECT_EQ(s->events.size(), 128u);
  EXPECT_EQ(s->dropped_events, 3u);
  EXPECT_EQ(s->dropped_links, 0u);
  ASSERT_EQ(s->links.size(), 1u);
  EXPECT_EQ(s->links[0].dropped_attributes, 0u);
}

TEST(Spans, AnUnsampledSpanRecordsNoLinks) {
  Tracing t(obs::Config::Sampler::AlwaysOff);
  obs::SpanContext linked;
  linked.trace_id = obs::internal::new_trace_id();
  linked.span_id = obs::internal::new_span_id();
  {
    Span s("dropped");
    s.add_link(linked);
    EXPECT_FALSE(s.recording());
  }
  ASSERT_TRUE(t.sdk.flush());
  EXPECT_TRUE(t.spans->spans().empty());
}

TEST(Spans, ARemoteParentIsFollowedWithItsRequestIdAndBaggage) {
  Tracing t;
  obs::Context incoming;
  incoming.span.trace_id = obs::internal::new_trace_id();
  incoming.span.span_id = obs::internal::new_span_id();
  incoming.span.sampled = true;
  incoming.span.remote = true;
  incoming.request_id = "req-42";
  incoming.baggage = {{"tenant", "acme"}};
  {
    Span server("GET /users/{id}", incoming, SpanKind::Server);
    EXPECT_EQ(obs::current_context().request_id, "req-42");
    EXPECT_EQ(obs::current_context().baggage, incoming.baggage);
    Span inner("inner");
  }
  EXPECT_EQ(obs::current_context().request_id, "");
  ASSERT_TRUE(t.sdk.flush());
  const auto server = t.spans->find("GET /users/{id}");
  const auto inner = t.spans->find("inner");
  ASSERT_TRUE(server && inner);
  EXPECT_EQ(server->context.trace_id, incoming.span.trace_id);
  EXPECT_EQ(server->parent_span_id, incoming.span.span_id);
  EXPECT_EQ(inner->parent_span_id, server->context.span_id);
  for (const auto* s : {&*server, &*inner}) {
    bool has_request_id = false;
    for (const auto& a : s->attributes) has_request_id = has_request_id || (a.key == "request_id" && a.str == "req-42");
    EXPECT_TRUE(has_request_id) << s->name;
  }
}

TEST(Sampling, AlwaysOffStillPropagatesButExportsNothing) {
  Tracing t(obs::Config::Sampler::AlwaysOff);
  {
    Span s("dropped");
    EXPECT_FALSE(s.recording());
    EXPECT_TRUE(s.context().valid());
    EXPECT_FALSE(s.context().sampled);
    Span child("child");
    EXPECT_EQ(child.context().trace_id, s.context().trace_id);
  }
  ASSERT_TRUE(t.sdk.flush());
  EXPECT_TRUE(t.spans->spans().empty());
}

TEST(Sampling, ParentBasedFollowsAnUnsampledRemoteParent) {
  Tracing t;
  obs::Context incoming;
  incoming.span.trace_id = obs::internal::new_trace_id();
  incoming.span.span_id = obs::internal::new_span_id();
  incoming.span.sampled = false;
  {
    Span s("child of unsampled", incoming, SpanKind::Server);
    EXPECT_FALSE(s.recording());
  }
  ASSERT_TRUE(t.sdk.flush());
  EXPECT_TRUE(t.spans->spans().empty());
}

TEST(Sampling, TraceIdRatioKeepsAboutThatShareAndDecidesPerTraceId) {
  Tracing t(obs::Config::Sampler::TraceIdRatio, 0.25);
  int kept = 0;
  for (int i = 0; i < 4000; ++i) {
    Span s("ratio");
    kept += s.recording() ? 1 : 0;
  }
  // Binomial(4000, 0.25): mean 1000, sd 27; these bounds are 7 sd wide.
  EXPECT_GT(kept, 800);
  EXPECT_LT(kept, 1200);
  obs::Context parent;
  parent.span.trace_id = obs::internal::new_trace_id();
  parent.span.span_id = obs::internal::new_span_id();
  Span a("a", parent, SpanKind::Server);
  const bool first = a.recording();
  a.end();
  Span b("b", parent, SpanKind::Server);
  EXPECT_EQ(b.recording(), first);  // the same trace id, the same decision
}

// OpenTelemetry's consistent probability sampling: randomness R is the
// trace id's rightmost 56 bits, kept when R >= (1 - ratio) * 2^56, so the
// boundary falls exactly where the spec puts it.
TEST(Sampling, TraceIdRatioUsesTheRightmost56BitsAgainstTheSpecsThreshold) {
  Tracing t(obs::Config::Sampler::TraceIdRatio, 0.25);
  const auto decided = [](std::uint64_t randomness, std::uint8_t first_byte) {
    obs::Context parent;  // a remote parent under TraceIdRatio (not parent-based): only the id decides
    parent.span.trace_id.bytes[0] = first_byte;  // outside the 56 bits: changes nothing
    for (int i = 0; i < 7; ++i)
      parent.span.trace_id.bytes[static_cast<std::size_t>(15 - i)] = static_cast<std::uint8_t>(randomness >> (8 * i));
    parent.span.span_id.bytes[7] = 1;
    parent.span.random_trace_id = true;
    Span s("decide", parent, SpanKind::Server);
    return s.recording();
  };
  const std::uint64_t threshold = std::uint64_t{3} << 54;  // (1 - 0.25) * 2^56
  EXPECT_TRUE(decided(threshold, 0));
  EXPECT_TRUE(decided((std::uint64_t{1} << 56) - 1, 0xff));
  EXPECT_FALSE(decided(threshold - 1, 0));
  EXPECT_FALSE(decided(0, 0xff));
}

// W3C Trace Context Level 2, "Random Trace ID Flag": the traces obs starts
// say their ids are random; children and remote parents keep what their
// trace says.
TEST(Spans, Level2RandomFlagOnNewTracesAndKeptByChildren) {
  Tracing t;
  Span root("root");
  EXPECT_TRUE(root.context().random_trace_id);
  {
    Span child("child");
    EXPECT_TRUE(child.context().random_trace_id);
    std::string traceparent;
    obs::propagation::inject(obs::current_context(), [&](std::string_view name, std::string value) {
      if (name == "traceparent") traceparent = std::move(value);
    });
    EXPECT_EQ(traceparent.substr(53), "03");  // sampled and random
  }
  obs::Context remote;
  remote.span = *obs::propagation::parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  Span server("server", remote, SpanKind::Server);
  EXPECT_FALSE(server.context().random_trace_id);  // the caller's trace did not say so
}

TEST(Correlation, LogsInsideASpanCarryItsIdsAndTheRequestId) {
  Tracing t;
  obs::Context incoming;
  incoming.request_id = "abc-123";
  std::string trace_id, span_id;
  {
    Span s("handler", incoming, SpanKind::Server);
    trace_id = s.context().trace_id.hex();
    span_id = s.context().span_id.hex();
    obs::log::info("inside");
  }
  obs::log::info("outside");
  ASSERT_TRUE(t.sdk.flush());
  const auto records = t.logs->records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].trace_id.hex(), trace_id);
  EXPECT_EQ(records[0].span_id.hex(), span_id);
  EXPECT_EQ(records[0].request_id, "abc-123");
  EXPECT_FALSE(records[1].trace_id.valid());
  EXPECT_EQ(records[1].request_id, "");

  std::string line;
  obs::append_log_json(line, records[0], t.sdk.resource());
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["trace_id"], trace_id);
  EXPECT_EQ(j["span_id"], span_id);
  EXPECT_EQ(j["request_id"], "abc-123");
  line.clear();
  obs::append_log_text(line, records[0], t.sdk.resource());
  EXPECT_NE(line.find(" trace_id=" + trace_id + " span_id=" + span_id + " request_id=abc-123"), std::string::npos)
      << line;
}

TEST(Correlation, AContextHandedToAnotherThreadTakesItsSpanAlong) {
  Tracing t;
  Span s("request");
  const obs::Context captured = obs::current_context();
  std::thread([captured] {
    EXPECT_FALSE(obs::current_context().span.valid());
    obs::ContextScope scope(captured);
    Span child("in worker");
    obs::log::info("from worker");
  }).join();
  s.end();
  ASSERT_TRUE(t.sdk.flush());
  const auto child = t.spans->find("in worker");
  ASSERT_TRUE(child);
  EXPECT_EQ(child->parent_span_id, s.context().span_id);
  ASSERT_EQ(t.logs->records().size(), 1u);
  EXPECT_EQ(t.logs->records()[0].trace_id, s.context().trace_id);
}

TEST(Spans, WithoutASpanBackendTheyPropagateAndCountAsDropped) {
  auto sdk = obs::init(obs::Config().console(false).admin(false).with_prometheus(false));
  auto value = [] {
    const auto s = obs::MetricsRegistry::global().snapshot();
    for (const auto& f : s.families)
      if (f.name == "obs_exporter_dropped")
        for (const auto& series : f.series)
          if (series.label_values == std::vector<std::string>{"spans", "not_initialized"}) return series.value;
    return 0.0;
  };
  const double before = value();
  { Span s("nowhere"); EXPECT_TRUE(s.context().valid()); }
  EXPECT_EQ(value(), before + 1);
}

}  // namespace

namespace {

// Each scenario runs on threads of its own: the thread that started a span
// ended elsewhere (or out of order) keeps a stale current context, which
// the SDK reports; it must not leak into the other tests.
TEST(SpanOwnership, EndingOnAnotherThreadLeavesThatThreadsContextAlone) {
  Tracing t;
  std::unique_ptr<Span> span;
  std::thread([&] { span = std::make_unique<Span>("started here"); }).join();
  obs::Context worker_ctx;
  worker_ctx.request_id = "worker-request";
  std::thread([&] {
    obs::ContextScope scope(worker_ctx);
    span->end();  // exported, but this thread's context is not replaced
    EXPECT_EQ(obs::current_context().request_id, "worker-request");
  }).join();
  ASSERT_TRUE(t.sdk.flush());
  EXPECT_TRUE(t.spans->find("started here").has_value());
}

TEST(SpanOwnership, EndingOutOfOrderDoesNotInstallAnEndedSpan) {
  Tracing t;
  std::thread([] {
    auto a = std::make_unique<Span>("a");
    Span b("b");
    a->end();  // b is current: a must not put its own parent back over b
    EXPECT_EQ(obs::current_context().span.span_id, b.context().span_id);
  }).join();
}

}  // namespace
