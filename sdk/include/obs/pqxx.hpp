#pragma once
// libpqxx instrumentation (header-only: libobs itself does not link
// libpqxx). Use these in place of tx.exec / tx.exec_params:
//
//   pqxx::work tx(conn);
//   auto rows = obs::pqxx::exec(tx, "SELECT id, status FROM jobs WHERE id = $1", job_id);
//
// Each call is a client span (db.system=postgresql, db.operation.name,
// db.collection.name, db.query.text with literals removed) with
// db_client_operation_duration_seconds and, on failure, the error on the
// span and db_client_operation_errors_total. Errors are rethrown unchanged.
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <utility>

#include "obs/db.hpp"

namespace obs::pqxx {

inline db::Target target_of(::pqxx::transaction_base& tx) {
  db::Target t;
  t.system = "postgresql";
  auto& conn = tx.conn();
  if (const char* name = conn.dbname()) t.database = name;
  if (const char* host = conn.hostname()) t.server_address = host;
  if (const char* port = conn.port()) t.server_port = std::atoi(port);
  return t;
}

template <class... Args>
::pqxx::result exec(::pqxx::transaction_base& tx, std::string_view sql, Args&&... args) {
  db::Operation op(sql, target_of(tx));
  try {
    ::pqxx::result r;
    if constexpr (sizeof...(Args) == 0) r = tx.exec(std::string(sql));
    else r = tx.exec_params(std::string(sql), std::forward<Args>(args)...);
    op.set_rows(static_cast<long long>(r.empty() ? r.affected_rows() : r.size()));
    return r;
  } catch (const ::pqxx::sql_error& e) {
    op.failed(e.sqlstate().empty() ? std::string_view("sql_error") : std::string_view(e.sqlstate()), e.what());
    throw;
  } catch (const ::pqxx::broken_connection& e) {
    op.failed("broken_connection", e.what());
    throw;
  } catch (const std::exception& e) {
    op.failed("exception", e.what());
    throw;
  }
}

}  // namespace obs::pqxx
