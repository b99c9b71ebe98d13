// A small SQL tokenizer, enough to take literals out of a statement before
// it goes on a span (they may hold personal data) and to name the
// operation and table. It never fails: unknown syntax passes through.
#include <algorithm>
#include <cctype>

#include "obs/db.hpp"

namespace obs::db {
namespace {

constexpr std::size_t kMaxInput = 64 * 1024;
constexpr std::size_t kMaxText = 2048;

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$'; }

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

struct Token {
  enum Kind { Word, Quoted, Other } kind;
  std::string_view text;  // for Quoted: without the quotes
};

}  // namespace

Statement describe(std::string_view sql) {
  sql = sql.substr(0, kMaxInput);
  Statement st;
  std::vector<Token> words;  // identifiers and keywords, in order, for operation/table
  // The statement keeps its own spacing, each run of whitespace or
  // comments collapsed to one space.
  bool gap = false;
  auto emit = [&](std::string_view piece) {
    if (st.text.size() >= kMaxText) return;
    if (gap && !st.text.empty()) st.text += ' ';
    gap = false;
    st.text.append(piece.substr(0, kMaxText - st.text.size()));
  };
  std::size_t i = 0;
  const std::size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      gap = true;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {  // comment to end of line
      while (i < n && sql[i] != '\n') ++i;
      gap = true;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {  // block comment
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
      gap = true;
    } else if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < n && sql[i + 1] == '\'')) {
      // String literal ('' escapes; E'' strings also \' ).
      const bool escapes = c != '\'';
      i += escapes ? 2 : 1;
      while (i < n) {
        if (escapes && sql[i] == '\\') {
          i += 2;
        } else if (sql[i] == '\'') {
          if (i + 1 < n && sql[i + 1] == '\'') i += 2;
          else break;
        } else {
          ++i;
        }
      }
      i = std::min(n, i + 1);
      emit("?");
    } else if (c == '$' && i + 1 < n && (sql[i + 1] == '$' || ident_start(sql[i + 1]))) {
      // Dollar-quoted string $tag$...$tag$; a $1 placeholder is not (digit).
      const auto close = sql.find('$', i + 1);
      if (close == std::string_view::npos) {
        i = n;
      } else {
        const std::string_view tag = sql.substr(i, close - i + 1);
        const auto end = sql.find(tag, close + 1);
        i = end == std::string_view::npos ? n : end + tag.size();
      }
      emit("?");
    } else if (c == '$' && i + 1 < n && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      std::size_t j = i + 1;
      while (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      emit(sql.substr(i, j - i));  // a bind placeholder is not a literal
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
      std::size_t j = i;
      while (j < n && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '.' ||
                       ((sql[j] == '+' || sql[j] == '-') && (sql[j - 1] == 'e' || sql[j - 1] == 'E'))))
        ++j;
      emit("?");
      i = j;
    } else if (c == '"') {  // quoted identifier: kept
      auto end = sql.find('"', i + 1);
      while (end != std::string_view::npos && end + 1 < n && sql[end + 1] == '"') end = sql.find('"', end + 2);
      const std::size_t stop = end == std::string_view::npos ? n : end + 1;
      words.push_back({Token::Quoted, sql.substr(i + 1, (stop > i + 1 ? stop - 1 : i + 1) - (i + 1))});
      emit(sql.substr(i, stop - i));
      i = stop;
    } else if (ident_start(c)) {
      std::size_t j = i;
      while (j < n && ident_char(sql[j])) ++j;
      words.push_back({Token::Word, sql.substr(i, j - i)});
      emit(sql.substr(i, j - i));
      i = j;
    } else {
      emit(sql.substr(i, 1));
      if (c == ';' || c == '.') words.push_back({Token::Other, sql.substr(i, 1)});
      ++i;
    }
  }

  if (!words.empty() && words[0].kind == Token::Word) st.operation = upper(words[0].text);
  // The table follows the keyword that introduces it; schema.table keeps both.
  auto table_after = [&](std::size_t k) {
    if (k >= words.size() || words[k].kind == Token::Other) return;
    std::string name(words[k].text);
    if (k + 2 < words.size() && words[k + 1].kind == Token::Other && words[k + 1].text == "." &&
        words[k + 2].kind != Token::Other)
    {
      name += '.';  // appended piecewise: GCC 12 misreports "." + std::string(...) under -O3 (-Wrestrict)
      name.append(words[k + 2].text);
    }
    st.table = name.substr(0, 128);
  };
  const std::string& op = st.operation;
  const char* keyword = op == "SELECT" || op == "DELETE" ? "FROM"
                        : op == "INSERT"                  ? "INTO"
                        : op == "UPDATE"                  ? nullptr
                        : op == "CREATE" || op == "ALTER" || op == "DROP" || op == "TRUNCATE" ? "TABLE"
                                                                                               : "";
  if (keyword == nullptr) {
    table_after(1);
  } else if (*keyword) {
    for (std::size_t k = 1; k < words.size(); ++k) {
      if (words[k].kind == Token::Word && upper(words[k].text) == keyword) {
        std::size_t t = k + 1;
        // CREATE TABLE IF NOT EXISTS x / DROP TABLE IF EXISTS x
        while (t < words.size() && words[t].kind == Token::Word &&
               (upper(words[t].text) == "IF" || upper(words[t].text) == "NOT" || upper(words[t].text) == "EXISTS" ||
                upper(words[t].text) == "ONLY"))
          ++t;
        table_after(t);
        break;
      }
    }
  }
  return st;
}

}  // namespace obs::db
