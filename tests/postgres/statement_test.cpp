// obs::db::describe: literals out, operation and table in, never a failure.
#include <gtest/gtest.h>

#include "obs/db.hpp"

namespace {

struct Case {
  const char* sql;
  const char* text;
  const char* operation;
  const char* table;
};

class DbStatement : public ::testing::TestWithParam<Case> {};

TEST_P(DbStatement, Describes) {
  const auto& c = GetParam();
  const auto st = obs::db::describe(c.sql);
  EXPECT_EQ(st.text, c.text);
  EXPECT_EQ(st.operation, c.operation);
  EXPECT_EQ(st.table, c.table);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DbStatement,
    ::testing::Values(
        Case{"SELECT id, name FROM users WHERE email = 'bob@example.com' AND age > 42",
             "SELECT id, name FROM users WHERE email = ? AND age > ?", "SELECT", "users"},
        Case{"insert into jobs (user_id, status) values ($1, 'queued')",
             "insert into jobs (user_id, status) values ($1, ?)", "INSERT", "jobs"},
        Case{"UPDATE jobs SET status = $1, tries = tries + 1 WHERE id = 7", "UPDATE jobs SET status = $1, tries = tries + ? WHERE id = ?",
             "UPDATE", "jobs"},
        Case{"DELETE FROM public.jobs WHERE created < now() - interval '1 day'",
             "DELETE FROM public.jobs WHERE created < now() - interval ?", "DELETE", "public.jobs"},
        Case{"CREATE TABLE IF NOT EXISTS jobs (id serial PRIMARY KEY)", "CREATE TABLE IF NOT EXISTS jobs (id serial PRIMARY KEY)",
             "CREATE", "jobs"},
        Case{"select 'it''s', E'a\\'b', $$dollar ' quoted$$, $tag$x$tag$, 1.5e-3, .5 -- comment 'x'\n/* block 'y' */ from t",
             "select ?, ?, ?, ?, ?, ? from t", "SELECT", "t"},
        Case{"SELECT * FROM \"Weird \"\"Name\"\"\" WHERE x = 1", "SELECT * FROM \"Weird \"\"Name\"\"\" WHERE x = ?", "SELECT",
             "Weird \"\"Name\"\""},
        Case{"BEGIN", "BEGIN", "BEGIN", ""},
        Case{"", "", "", ""},
        Case{"   ;  ", ";", "", ""},
        Case{"SELECT 'unterminated", "SELECT ?", "SELECT", ""},
        Case{"SELECT $$unterminated", "SELECT ?", "SELECT", ""},
        Case{"WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT ?) SELECT * FROM x", "WITH", ""}));

TEST(DbStatementLimits, HugeOrHostileInputIsBounded) {
  const std::string huge = "SELECT '" + std::string(1 << 20, 'x') + "' FROM t WHERE " + std::string(100000, '(');
  const auto st = obs::db::describe(huge);
  EXPECT_LE(st.text.size(), 2048u);
  EXPECT_EQ(st.text.find('x'), std::string::npos);
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>(i % 256);
  EXPECT_LE(obs::db::describe(binary).text.size(), 2048u);
}

}  // namespace
