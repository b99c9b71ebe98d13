#include "api_docs.hpp"

#include <nlohmann/json.hpp>

namespace demo {
namespace {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// The object at `key`, or an empty one. (Not json::value(key, object()):
// g++ 12 reports a false maybe-uninitialized in iterating its temporary.)
const nlohmann::json& object_at(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

std::string text_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string render_api_docs(std::string_view openapi_json) {
  const nlohmann::json doc = nlohmann::json::parse(openapi_json);
  const nlohmann::json& info = object_at(doc, "info");
  std::string html =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + escape(text_of(info, "title")) +
      "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
      "code{background:#eee;padding:0 .2em}.m{font-weight:bold;display:inline-block;width:4.5em}"
      "section{border-top:1px solid #ccc;padding:.5em 0}td{padding:0 1em 0 0;vertical-align:top}</style></head><body>";
  html += "<h1>" + escape(text_of(info, "title")) + " <small>" + escape(text_of(info, "version")) + "</small></h1>";
  html += "<p>" + escape(text_of(info, "description")) + "</p>";
  html += "<p>Machine-readable: <a href=\"/openapi.json\"><code>/openapi.json</code></a> (OpenAPI " +
          escape(text_of(doc, "openapi")) + ")</p>";
  for (const auto& [path, item] : object_at(doc, "paths").items()) {
    for (const auto& [method, op] : item.items()) {
      if (!op.is_object()) continue;
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      html += "<section><p><span class=\"m\">" + escape(upper) + "</span><code>" + escape(path) + "</code> " +
              escape(text_of(op, "summary")) + "</p>";
      if (auto d = text_of(op, "description"); !d.empty()) html += "<p>" + escape(d) + "</p>";
      if (auto params = op.find("parameters"); params != op.end() && params->is_array() && !params->empty()) {
        html += "<p>Parameters:</p><table>";
        for (const auto& p : *params)
          html += "<tr><td><code>" + escape(text_of(p, "name")) + "</code></td><td>" + escape(text_of(p, "in")) +
                  (p.value("required", false) ? ", required" : "") + "</td><td>" +
                  escape(text_of(p, "description")) + "</td></tr>";
        html += "</table>";
      }
      if (auto body = op.find("requestBody"); body != op.end() && body->is_object()) {
        html += "<p>Request body: ";
        for (const auto& [type, _] : object_at(*body, "content").items())
          html += "<code>" + escape(type) + "</code> ";
        html += escape(text_of(*body, "description")) + "</p>";
      }
      html += "<p>Responses:</p><table>";
      for (const auto& [code, response] : object_at(op, "responses").items())
        html += "<tr><td><code>" + escape(code) + "</code></td><td>" + escape(text_of(response, "description")) +
                "</td></tr>";
      html += "</table></section>";
    }
  }
  html += "</body></html>\n";
  return html;
}

}  // namespace demo
