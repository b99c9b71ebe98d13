#include "http/admin_auth.hpp"

#include <algorithm>
#include <cstdint>

#include "text/ascii.hpp"

namespace obs::internal {
namespace {

bool has_control_or_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with optional padding; nullopt on anything else.
std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    const int v = base64_value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::string bearer_token_problem(std::string_view token) {
  if (token.empty()) return "is empty";
  if (has_control_or_space(token)) return "contains a space or a control character";
  return {};
}

std::string basic_auth_problem(std::string_view user_password) {
  if (user_password.empty()) return "is empty";
  const auto colon = user_password.find(':');
  if (colon == std::string_view::npos) return "is not user:password (no ':')";
  if (colon == 0) return "has an empty user name (expected user:password)";
  if (colon + 1 == user_password.size()) return "has an empty password (expected user:password)";
  if (std::any_of(user_password.begin(), user_password.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return "contains a control character";
  return {};
}

bool equal_constant_time(std::string_view given, std::string_view expected) {
  if (expected.empty()) return false;  // never configured: validation refuses empty secrets
  // Walk all of `given` (whose length the client knows anyway), comparing
  // against `expected` cyclically, and fold the length difference in
  // without branching on it.
  unsigned diff = given.size() != expected.size() ? 1u : 0u;
  for (std::size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(expected[i % expected.size()]);
  // Through a volatile so the compiler cannot turn the OR chain into an early exit.
  volatile unsigned result = diff;
  return result == 0;
}

bool authorized(std::string_view authorization, const AdminCredentials& credentials) {
  if (!credentials.required()) return true;
  authorization = trim_spaces(authorization);
  const auto space = authorization.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string_view scheme = authorization.substr(0, space);
  const std::string_view value = trim_spaces(authorization.substr(space + 1));
  if (credentials.bearer_token && text::equals_ignoring_case(scheme, "bearer"))
    return equal_constant_time(value, *credentials.bearer_token);
  if (credentials.basic_user_password && text::equals_ignoring_case(scheme, "basic")) {
    const auto decoded = base64_decode(value);
    return decoded && equal_constant_time(*decoded, *credentials.basic_user_password);
  }
  return false;
}

std::string bearer_challenge() { return "Bearer realm=\"obs\""; }
std::string basic_challenge() { return "Basic realm=\"obs\", charset=\"UTF-8\""; }

}  // namespace obs::internal
