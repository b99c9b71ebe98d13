#pragma once
// Config::from_env over a map instead of the process environment, so tests
// set variables without touching (or racing on) the real environment.
#include <map>
#include <string>

#include "obs/config.hpp"

namespace obs_test {

inline obs::Config from(std::map<std::string, std::string> env) {
  return obs::Config::from_env([env = std::move(env)](const char* name) -> const char* {
    static thread_local std::string value;  // outlives the call, as getenv's answer does
    auto it = env.find(name);
    if (it == env.end()) return nullptr;
    value = it->second;
    return value.c_str();
  });
}

}  // namespace obs_test
