#pragma once
// Structured fields of a log record: non-owning at the call site (Field),
// owned once copied into a record (OwnedField).
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

#include "obs/export.hpp"

namespace obs {

enum class FieldType : std::uint8_t { String, Int, Double, Bool };

// 40 bytes, and a constructor stores only the key, the one value and the
// type: a call below the log level still builds its fields (they are
// arguments), so what they cost is most of what such a call costs.
class Field {
 public:
  Field(std::string_view key, std::string_view v) : key_(key), str_(v), type_(FieldType::String) {}
  Field(std::string_view key, const char* v)
      : key_(key), str_(v ? std::string_view(v) : std::string_view("(null)")), type_(FieldType::String) {}
  Field(std::string_view key, const std::string& v) : key_(key), str_(v), type_(FieldType::String) {}
  // Only a real bool: a pointer or an enum must not turn into true/false.
  template <std::same_as<bool> B>
  Field(std::string_view key, B v) : key_(key), b_(v), type_(FieldType::Bool) {}
  Field(std::string_view key, char v) = delete;  // a character is ambiguous: pass a string or a number
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Field(std::string_view key, T v) : key_(key), i_(0), type_(FieldType::Int) {
    // Unsigned values beyond int64 keep their magnitude as a double rather than wrapping.
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max())) {
        d_ = static_cast<double>(v);
        type_ = FieldType::Double;
        return;
      }
    }
    i_ = static_cast<std::int64_t>(v);
  }
  template <std::floating_point T>
  Field(std::string_view key, T v) : key_(key), d_(static_cast<double>(v)), type_(FieldType::Double) {}

  std::string_view key() const { return key_; }
  FieldType type() const { return type_; }
  // Each accessor answers its own type's value, and a zero value otherwise.
  std::string_view as_string() const { return type_ == FieldType::String ? str_ : std::string_view(); }
  std::int64_t as_int() const { return type_ == FieldType::Int ? i_ : 0; }
  double as_double() const { return type_ == FieldType::Double ? d_ : 0; }
  bool as_bool() const { return type_ == FieldType::Bool && b_; }

 private:
  std::string_view key_;
  union {
    std::string_view str_;
    std::int64_t i_;
    double d_;
    bool b_;
  };
  FieldType type_;
};

using Fields = std::initializer_list<Field>;

// A field copied into a log record. Assignment reuses the strings' capacity,
// so records in a warmed-up queue slot do not allocate.
struct OwnedField {
  std::string key;
  std::string str;
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  FieldType type = FieldType::String;

  void assign(const Field& f) {
    key.assign(f.key());
    type = f.type();
    switch (type) {
      case FieldType::String: str.assign(f.as_string()); break;
      case FieldType::Int: i = f.as_int(); break;
      case FieldType::Double: d = f.as_double(); break;
      case FieldType::Bool: b = f.as_bool(); break;
    }
  }
};

}  // namespace obs
