#pragma once
// Database client instrumentation, independent of any driver: describe a
// statement (literals removed, operation and table found) and time one
// operation as a client span plus metrics, per OpenTelemetry's database
// semantic conventions. obs/pqxx.hpp applies it to libpqxx.
#include <chrono>
#include <string>
#include <string_view>

#include "obs/export.hpp"
#include "obs/span.hpp"

namespace obs::db {

struct Statement {
  std::string text;       // literals replaced by '?', comments dropped, whitespace collapsed; at most 2048 bytes
  std::string operation;  // first keyword, upper case: SELECT, INSERT, ... (empty if none)
  std::string table;      // the main table where it can be told (FROM, INTO, UPDATE, TABLE), else empty
};
// Never throws on any input; reads at most 64 KiB of it.
OBS_API Statement describe(std::string_view sql);

struct Target {
  std::string_view system = "postgresql";  // db.system
  std::string_view database;               // db.namespace
  std::string_view server_address;
  int server_port = 0;
};

// One database operation: a Client span named "<operation> <table>"
// (child of the current span), db_client_operation_duration_seconds on
// completion, and on failure the span's error status and
// db_client_operation_errors_total{error_type}. If it is destroyed
// during stack unwinding without failed() having been called, it counts
// as failed with error_type "exception".
class OBS_API Operation {
 public:
  Operation(std::string_view sql, const Target& target = {});
  ~Operation();
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  // error_type: a low-cardinality code (SQLSTATE, exception class); message goes on the span only.
  void failed(std::string_view error_type, std::string_view message);
  void set_rows(long long rows);

 private:
  Statement statement_;
  std::string system_;
  Span span_;
  std::chrono::steady_clock::time_point start_;
  int uncaught_ = 0;
  bool failed_ = false;
};

}  // namespace obs::db
