#pragma once
// A small PostgreSQL connection pool: at most `size` connections, opened on
// demand; a caller waits a bounded time for a free one. The schema is
// created the first time a connection opens, so job_svc starts (and says
// it is not ready) while the database is still coming up.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace demo {

class PoolExhausted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DbPool {
 public:
  DbPool(std::string conninfo, std::size_t size, std::chrono::milliseconds wait = std::chrono::seconds(2));

  class Lease {
   public:
    Lease(DbPool &pool, std::unique_ptr<pqxx::connection> conn) : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease &&other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)), discarded_(other.discarded_) {}
    Lease &operator=(Lease &&) = delete;
    ~Lease() {
      if (pool_) pool_->release(discarded_ ? nullptr : std::move(conn_));
    }
    void discard() { discarded_ = true; }
    pqxx::connection &operator*() { return *conn_; }
    pqxx::connection *operator->() { return conn_.get(); }

   private:
    DbPool *pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool discarded_ = false;
  };

  // Throws PoolExhausted when none frees up in time, pqxx::broken_connection
  // when the server cannot be reached.
  Lease acquire();

  // Runs fn(connection). A connection found broken (the server restarted
  // since it was pooled) is dropped with every idle one, which are likely
  // as stale, and fn runs once more on a new connection. A broken
  // connection means no commit happened, so running fn again is safe.
  template <class Fn>
  void run(Fn &&fn) {
    for (int attempt = 1;; ++attempt) {
      Lease lease = acquire();
      try {
        fn(*lease);
        return;
      } catch (const pqxx::broken_connection &) {
        lease.discard();
        drop_idle();
        if (attempt == 2) throw;
      }
    }
  }
  bool schema_ready() const;

 private:
  void release(std::unique_ptr<pqxx::connection> conn);
  void drop_idle();
  std::unique_ptr<pqxx::connection> open();

  const std::string conninfo_;
  const std::size_t size_;
  const std::chrono::milliseconds wait_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;
  bool schema_ready_ = false;
};

}  // namespace demo
