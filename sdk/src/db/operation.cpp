#include <exception>

#include "obs/db.hpp"
#include "obs/instruments.hpp"

namespace obs::db {
namespace {

std::string span_name(const Statement& st) {
  if (st.operation.empty()) return "db query";
  return st.table.empty() ? st.operation : st.operation + " " + st.table;
}

const HistogramFamily& durations() {
  static const auto f = obs::histogram("db.client.operation.duration",
                                       {"db.system.name", "db.operation.name", "db.collection.name"},
                                       {.description = "Duration of database client operations.", .unit = "s"});
  return f;
}

const CounterFamily& errors() {
  static const auto f = obs::counter("db.client.operation.errors",
                                     {"db.system.name", "db.operation.name", "db.collection.name", "error.type"},
                                     {.description = "Database client operations that failed, by error type.",
                                      .unit = "{operation}"});
  return f;
}

}  // namespace

Operation::Operation(std::string_view sql, const Target& target)
    : statement_(describe(sql)),
      system_(target.system),
      span_(span_name(statement_), SpanKind::Client,
            {{"db.system.name", target.system}, {"db.query.text", statement_.text}}),
      start_(std::chrono::steady_clock::now()),
      uncaught_(std::uncaught_exceptions()) {
  // No operation or table (a function call, say): left out, not empty.
  if (!statement_.operation.empty()) span_.set_attribute({"db.operation.name", statement_.operation});
  if (!statement_.table.empty()) span_.set_attribute({"db.collection.name", statement_.table});
  if (!target.database.empty()) span_.set_attribute({"db.namespace", target.database});
  if (!target.server_address.empty()) span_.set_attribute({"server.address", target.server_address});
  if (target.server_port) span_.set_attribute({"server.port", target.server_port});
}

void Operation::failed(std::string_view error_type, std::string_view message) {
  if (failed_) return;
  failed_ = true;
  span_.set_attribute({"error.type", error_type});
  span_.add_event("exception", {{"exception.message", message}});
  span_.set_status(SpanStatus::Error, message);
  errors().labels(system_, statement_.operation, statement_.table, error_type.substr(0, 64)).inc();
}

void Operation::set_rows(long long rows) { span_.set_attribute({"db.response.returned_rows", rows}); }

Operation::~Operation() {
  // Leaving by an exception nobody reported is a failure too.
  if (!failed_ && std::uncaught_exceptions() > uncaught_) failed("exception", "exception while running the query");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  durations().labels(system_, statement_.operation, statement_.table).observe(seconds);
}

}  // namespace obs::db
