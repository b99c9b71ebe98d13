#include "db_pool.hpp"

#include "obs/pqxx.hpp"

namespace demo {

DbPool::DbPool(std::string conninfo, std::size_t size, std::chrono::milliseconds wait)
    : conninfo_(std::move(conninfo)), size_(size == 0 ? 1 : size), wait_(wait) {}

bool DbPool::schema_ready() const {
  std::lock_guard lock(mu_);
  return schema_ready_;
}

DbPool::Lease DbPool::acquire() {
  {
    std::unique_lock lock(mu_);
    if (!freed_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < size_; }))
      throw PoolExhausted("all " + std::to_string(size_) + " database connections are busy");
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn));
    }
    ++open_;  // reserved; opened below without the lock
  }
  try {
    return Lease(*this, open());
  } catch (...) {
    std::lock_guard lock(mu_);
    --open_;
    freed_.notify_one();
    throw;
  }
}

void DbPool::release(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mu_);
  if (conn && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;  // broken: the next acquire opens a new one
  }
  freed_.notify_one();
}

void DbPool::drop_idle() {
  std::vector<std::unique_ptr<pqxx::connection>> stale;
  {
    std::lock_guard lock(mu_);
    stale.swap(idle_);
    open_ -= stale.size();
  }
  freed_.notify_all();
}  // closed here, outside the lock

std::unique_ptr<pqxx::connection> DbPool::open() {
  auto conn = std::make_unique<pqxx::connection>(conninfo_);
  bool need_schema;
  {
    std::lock_guard lock(mu_);
    need_schema = !schema_ready_;
  }
  if (need_schema) {
    // An advisory lock makes concurrent first connections (and replicas)
    // create the schema once.
    pqxx::work tx(*conn);
    obs::pqxx::exec(tx, "SELECT pg_advisory_xact_lock(4242)");
    obs::pqxx::exec(tx,
                    "CREATE TABLE IF NOT EXISTS jobs ("
                    " id BIGSERIAL PRIMARY KEY,"
                    " user_id BIGINT NOT NULL,"
                    " status TEXT NOT NULL,"
                    " source_width INT NOT NULL, source_height INT NOT NULL,"
                    " width INT NOT NULL, height INT NOT NULL, format TEXT NOT NULL,"
                    " output_bytes BIGINT, error TEXT,"
                    " created_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
                    " updated_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    obs::pqxx::exec(tx, "CREATE INDEX IF NOT EXISTS jobs_user_id ON jobs (user_id)");
    tx.commit();
    std::lock_guard lock(mu_);
    schema_ready_ = true;
  }
  return conn;
}

}  // namespace demo
