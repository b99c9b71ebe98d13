#pragma once
// Credentials for the admin endpoints that reveal the service's state
// (/metrics, /health/ready): an optional bearer token and an optional
// basic-auth "user:password". Either one admits a request.
#include <optional>
#include <string>
#include <string_view>

namespace obs::internal {

struct AdminCredentials {
  std::optional<std::string> bearer_token;
  std::optional<std::string> basic_user_password;  // "user:password"

  bool required() const { return bearer_token || basic_user_password; }
};

// Why `token` cannot be used as a bearer token ("is empty", ...), or an
// empty string. The messages never quote the value: it is a secret.
std::string bearer_token_problem(std::string_view token);
// Likewise for a basic-auth "user:password".
std::string basic_auth_problem(std::string_view user_password);

// True when `given` equals `expected`, taking a time that depends on
// given's length only: no early exit at the first difference, nor when
// the lengths differ.
bool equal_constant_time(std::string_view given, std::string_view expected);

// True when no credential is required, or the Authorization header value
// carries one of the configured ones ("Bearer <token>" or "Basic
// <base64 of user:password>"; schemes in any case).
bool authorized(std::string_view authorization, const AdminCredentials& credentials);

// The WWW-Authenticate challenges for a 401, one per configured scheme.
std::string bearer_challenge();
std::string basic_challenge();

}  // namespace obs::internal
