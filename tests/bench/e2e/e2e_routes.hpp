// The instrumented route of the end-to-end service (e2e_service --obs),
// shared with the soak test's item-size measurement (tests/soak) so that
// both produce the same span, log record and metrics per request.
#pragma once

#include <string>
#include <string_view>

#include <httplib.h>

#include "obs/http.hpp"
#include "obs/obs.hpp"

namespace e2e {

// The work every variant does: a small JSON answer built from the id.
inline std::string answer(std::string_view id) {
  std::string body = "{\"id\":\"";
  body.append(id);
  body += "\",\"name\":\"item ";
  body.append(id);
  body += "\",\"tags\":[\"a\",\"b\",\"c\"]}";
  return body;
}

// GET /items/{id}: a server span (from obs::http::instrument, which must
// have been called), one log line and one counter increment per request.
inline void add_instrumented_route(httplib::Server& server) {
  static const auto served = obs::counter("e2e_items_served_total", {"kind"}).labels("item");
  obs::http::route(server, "GET", "/items/{id}", [](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1].str();
    served.inc();
    obs::log::info("item served", {{"item_id", id}});
    res.set_content(answer(id), "application/json");
  });
}

}  // namespace e2e
