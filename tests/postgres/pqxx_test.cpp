// obs::pqxx against a real PostgreSQL (Debian's package), started by the test.
#include <gtest/gtest.h>

#include "obs/backends/memory.hpp"
#include "obs/backends/memory_span.hpp"
#include "obs/obs.hpp"
#include "obs/pqxx.hpp"
#include "postgres_server.hpp"

namespace {

class Pqxx : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test_support::PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    sdk_ = obs::init(obs::Config()
                         .console(false)
                         .admin(false)
                         .with_prometheus(false)
                         .add_span_backend(spans_)
                         .add_metrics_backend(metrics_));
    ASSERT_TRUE(sdk_.ok());
    conn_ = std::make_unique<pqxx::connection>(server_->connection_string());
  }
  double count(std::string_view op, std::string_view table) const {
    const auto h = metrics_->histogram("db.client.operation.duration",
                                       {{"db.system.name", "postgresql"}, {"db.operation.name", std::string(op)},
                                        {"db.collection.name", std::string(table)}});
    return h ? static_cast<double>(h->first) : 0;
  }
  static test_support::PostgresServer* server_;
  std::shared_ptr<obs::MemorySpanBackend> spans_ = std::make_shared<obs::MemorySpanBackend>();
  std::shared_ptr<obs::MemoryMetricsBackend> metrics_ = std::make_shared<obs::MemoryMetricsBackend>();
  obs::Sdk sdk_;
  std::unique_ptr<pqxx::connection> conn_;
};
test_support::PostgresServer* Pqxx::server_ = nullptr;

std::string attribute(const obs::SpanData& s, std::string_view key) {
  for (const auto& a : s.attributes)
    if (a.key == key) return a.type == obs::FieldType::Int ? std::to_string(a.i) : a.str;
  return "<absent>";
}

TEST_F(Pqxx, QueriesBecomeClientSpansUnderTheCurrentSpanWithMetrics) {
  const double inserts_before = count("INSERT", "jobs");
  obs::SpanContext parent;
  {
    obs::Span request("handle request");
    parent = request.context();
    pqxx::work tx(*conn_);
    obs::pqxx::exec(tx, "CREATE TABLE IF NOT EXISTS jobs (id serial PRIMARY KEY, owner text, status text)");
    for (int i = 0; i < 3; ++i) obs::pqxx::exec(tx, "INSERT INTO jobs (owner, status) VALUES ($1, 'queued')", "alice@example.com");
    const auto rows = obs::pqxx::exec(tx, "SELECT id FROM jobs WHERE owner = 'alice@example.com'");
    EXPECT_EQ(rows.size(), 3u);
    tx.commit();
  }
  ASSERT_TRUE(sdk_.flush());
  const auto select = spans_->find("SELECT jobs");
  ASSERT_TRUE(select);
  EXPECT_EQ(select->kind, obs::SpanKind::Client);
  EXPECT_EQ(select->context.trace_id, parent.trace_id);
  EXPECT_EQ(select->parent_span_id, parent.span_id);
  EXPECT_EQ(attribute(*select, "db.system.name"), "postgresql");
  EXPECT_EQ(attribute(*select, "db.operation.name"), "SELECT");
  EXPECT_EQ(attribute(*select, "db.collection.name"), "jobs");
  EXPECT_EQ(attribute(*select, "db.query.text"), "SELECT id FROM jobs WHERE owner = ?");
  EXPECT_EQ(attribute(*select, "db.namespace"), "postgres");
  EXPECT_EQ(attribute(*select, "server.port"), std::to_string(server_->port()));
  EXPECT_EQ(attribute(*select, "db.response.returned_rows"), "3");
  EXPECT_EQ(select->status, obs::SpanStatus::Unset);
  const auto insert = spans_->find("INSERT jobs");
  ASSERT_TRUE(insert);
  EXPECT_EQ(attribute(*insert, "db.query.text"), "INSERT INTO jobs (owner, status) VALUES ($1, ?)");
  EXPECT_EQ(count("INSERT", "jobs"), inserts_before + 3);
  EXPECT_GE(count("SELECT", "jobs"), 1);
}

TEST_F(Pqxx, AFailedQueryIsRecordedOnItsSpanCountedAndRethrown) {
  auto errors = [&](std::string_view type) {
    return metrics_
        ->value("db.client.operation.errors",
                {{"db.system.name", "postgresql"}, {"db.operation.name", "SELECT"}, {"db.collection.name", "missing_table"},
                 {"error.type", std::string(type)}})
        .value_or(0);
  };
  const double before = errors("42P01");
  pqxx::work tx(*conn_);
  EXPECT_THROW(obs::pqxx::exec(tx, "SELECT * FROM missing_table WHERE id = 1"), pqxx::sql_error);
  ASSERT_TRUE(sdk_.flush());
  const auto span = spans_->find("SELECT missing_table");
  ASSERT_TRUE(span);
  EXPECT_EQ(span->status, obs::SpanStatus::Error);
  EXPECT_NE(span->status_message.find("missing_table"), std::string::npos) << span->status_message;
  EXPECT_EQ(attribute(*span, "error.type"), "42P01");  // undefined_table
  EXPECT_EQ(errors("42P01"), before + 1);
}

}  // namespace
