#pragma once
// The "key1=value1,key2=value2" lists of OTEL_EXPORTER_OTLP_*HEADERS and
// OTEL_RESOURCE_ATTRIBUTES (W3C Baggage syntax without properties): keys are
// HTTP tokens, keys and values are trimmed, values are percent-decoded.
//
// Parsing never fails as a whole: a malformed entry is skipped and recorded
// as a problem that names its position and (when it is a valid token) its
// key, never its value, since header values are usually secrets. Written to
// be fuzzed on its own (implemented in config.cpp).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obs::internal {

enum class KeyValueIssue {
  NoEquals,          // the entry has no '='
  EmptyKey,          // nothing before the '='
  KeyNotToken,       // the key has a character an HTTP token cannot have
  BadPercentEscape,  // '%' in the value not followed by two hex digits
  ControlCharacter,  // the decoded value has a control character (CR, LF, NUL...) other than tab
};

// What is wrong, for messages ("has no '='").
std::string_view describe(KeyValueIssue issue);

struct KeyValueProblem {
  std::size_t entry = 0;  // 1-based position among the comma-separated entries
  std::string key;        // the entry's key if it is a valid token, else empty
  KeyValueIssue issue = KeyValueIssue::NoEquals;
};

struct KeyValueList {
  // The well-formed entries, in order; duplicates are kept (the caller
  // decides which wins). Every key is a non-empty HTTP token; no value has a
  // control character other than tab.
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<KeyValueProblem> problems;
};

// Blank entries ("a=1,,b=2") are skipped silently.
KeyValueList parse_key_value_list(std::string_view text);

// RFC 7230 token: one or more of ALPHA, DIGIT and !#$%&'*+-.^_`|~
bool is_http_token(std::string_view s);

// %XX sequences decoded ('+' stays '+'); nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace obs::internal
