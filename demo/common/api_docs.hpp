#pragma once
// GET /docs: the service's OpenAPI document rendered as one self-contained
// HTML page (no scripts or assets from elsewhere, so it works offline).
#include <string>
#include <string_view>

namespace demo {

// Throws nlohmann::json::exception when `openapi_json` is not JSON.
std::string render_api_docs(std::string_view openapi_json);

}  // namespace demo
