#include <string>
#include <string_view>

#include "obs/otlp.hpp"

namespace obs {

std::string otlp_signal_url(std::string_view base, std::string_view signal) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  std::string url(base);
  url += "/v1/";
  url += signal;
  return url;
}

}  // namespace obs
