#pragma once
// Tags of a facade measurement: label key and value. Integer values are
// formatted into the tag itself, so no allocation happens at the call site.
#include <charconv>
#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>

namespace obs {

class Tag {
 public:
  Tag(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  Tag(std::string_view key, const char* value) : key_(key), value_(value ? value : "") {}
  Tag(std::string_view key, const std::string& value) : key_(key), value_(value) {}
  // Only a real bool: a pointer or an enum must not turn into "true".
  template <std::same_as<bool> B>
  Tag(std::string_view key, B value) : key_(key), value_(value ? "true" : "false") {}
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Tag(std::string_view key, T value) : key_(key) {
    auto r = std::to_chars(buf_, buf_ + sizeof(buf_), value);
    len_ = static_cast<unsigned char>(r.ptr - buf_);
  }
  template <std::floating_point T>
  Tag(std::string_view key, T value) : key_(key) {
    auto r = std::to_chars(buf_, buf_ + sizeof(buf_), static_cast<double>(value));
    len_ = static_cast<unsigned char>(r.ptr - buf_);
  }
  Tag(std::string_view key, char value) = delete;  // a character is ambiguous: pass a string or a number
  Tag(const Tag&) = delete;  // value_ may point into buf_; tags live in the initializer list only
  Tag& operator=(const Tag&) = delete;

  std::string_view key() const { return key_; }
  std::string_view value() const { return len_ ? std::string_view(buf_, len_) : value_; }

 private:
  std::string_view key_;
  std::string_view value_;
  char buf_[32];
  unsigned char len_ = 0;
};

using Tags = std::initializer_list<Tag>;

}  // namespace obs
