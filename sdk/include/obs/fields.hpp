#pragma once
// Structured fields of a log record or a span: non-owning at the call site
// (Field), owned once copied into a record (OwnedField).
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "obs/export.hpp"

namespace obs {

// A value is one string, integer, double or bool, or an array of one of
// those (OpenTelemetry's homogeneous attribute arrays).
enum class FieldType : std::uint8_t { String, Int, Double, Bool, StringArray, IntArray, DoubleArray, BoolArray };

inline bool is_array(FieldType t) { return t >= FieldType::StringArray; }

namespace field_detail {
// How the elements of an array the caller passed are laid out in memory: the
// Field keeps only a pointer to them, so it must know their C++ type.
enum class Element : std::uint8_t { None, StringView, StdString, CString, I16, U16, I32, U32, I64, U64, F32, F64, Bool };

template <class T>
constexpr Element element_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::same_as<U, std::string_view>) return Element::StringView;
  else if constexpr (std::same_as<U, std::string>) return Element::StdString;
  else if constexpr (std::same_as<U, const char*> || std::same_as<U, char*>) return Element::CString;
  else if constexpr (std::same_as<U, bool>) return Element::Bool;
  else if constexpr (std::same_as<U, float>) return Element::F32;
  else if constexpr (std::same_as<U, double>) return Element::F64;
  else if constexpr (std::integral<U> && !std::same_as<U, char> && !std::same_as<U, wchar_t> &&
                     !std::same_as<U, char8_t> && !std::same_as<U, char16_t> && !std::same_as<U, char32_t> &&
                     sizeof(U) >= 2) {
    if constexpr (sizeof(U) == 2) return std::is_signed_v<U> ? Element::I16 : Element::U16;
    else if constexpr (sizeof(U) == 4) return std::is_signed_v<U> ? Element::I32 : Element::U32;
    else if constexpr (sizeof(U) == 8) return std::is_signed_v<U> ? Element::I64 : Element::U64;
    else return Element::None;
  } else {
    return Element::None;  // characters of any width (text, not numbers), 8-bit integers, long double, ...
  }
}

template <class R>
concept ArrayValue = std::ranges::contiguous_range<const R> && std::ranges::sized_range<const R> &&
                     element_of<std::ranges::range_value_t<R>>() != Element::None &&
                     !std::convertible_to<const R&, std::string_view>;
}  // namespace field_detail

// 40 bytes, and a constructor stores only the key, the one value and the
// type: a call below the log level still builds its fields (they are
// arguments), so what they cost is most of what such a call costs. An array
// is not copied either: the Field points at the caller's elements, which
// live until the end of the statement that logs or sets them.
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

  // Arrays: any contiguous container of strings, integers (16 to 64 bits),
  // doubles or bools: std::vector, std::array, std::span, a C array, or a
  // brace list ({"a", "b"}, {1, 2, 3}). Braces make an array even around
  // one element: {"k", {"abc"}} is a one-string array, {"k", "abc"} a
  // string. std::vector<bool> is not contiguous: use std::array<bool, N> or
  // a brace list.
  template <field_detail::ArrayValue R>
  Field(std::string_view key, const R& values)
      : key_(key), array_{std::ranges::data(values), std::ranges::size(values)} {
    using T = std::ranges::range_value_t<R>;
    element_ = field_detail::element_of<T>();
    if constexpr (std::same_as<T, bool>) type_ = FieldType::BoolArray;
    else if constexpr (std::floating_point<T>) type_ = FieldType::DoubleArray;
    else if constexpr (std::integral<T>) type_ = FieldType::IntArray;
    else type_ = FieldType::StringArray;
    // As for one value: unsigned 64-bit values beyond int64 make the array doubles.
    if constexpr (std::unsigned_integral<T> && sizeof(T) == 8) {
      for (const auto v : values)
        if (v > static_cast<T>(std::numeric_limits<std::int64_t>::max())) type_ = FieldType::DoubleArray;
    }
  }
  template <class T>
    requires(field_detail::element_of<T>() != field_detail::Element::None)
  Field(std::string_view key, std::initializer_list<T> values) : Field(key, std::span<const T>(values.begin(), values.size())) {}

  std::string_view key() const { return key_; }
  FieldType type() const { return type_; }
  // Each accessor answers its own type's value, and a zero value otherwise.
  std::string_view as_string() const { return type_ == FieldType::String ? str_ : std::string_view(); }
  std::int64_t as_int() const { return type_ == FieldType::Int ? i_ : 0; }
  double as_double() const { return type_ == FieldType::Double ? d_ : 0; }
  bool as_bool() const { return type_ == FieldType::Bool && b_; }

  // An array's elements (0 for a single value); each accessor answers its
  // own array type's element, and a zero value otherwise.
  std::size_t array_size() const { return is_array(type_) ? array_.size : 0; }
  OBS_API std::string_view string_at(std::size_t i) const;
  OBS_API std::int64_t int_at(std::size_t i) const;
  OBS_API double double_at(std::size_t i) const;
  OBS_API bool bool_at(std::size_t i) const;

 private:
  struct ArrayRef {
    const void* data;
    std::size_t size;
  };
  std::string_view key_;
  union {
    std::string_view str_;
    std::int64_t i_;
    double d_;
    bool b_;
    ArrayRef array_;
  };
  FieldType type_;
  field_detail::Element element_ = field_detail::Element::None;
};

using Fields = std::initializer_list<Field>;

// A field copied into a log record or a span. Assignment reuses the strings'
// and vectors' capacity, so records in a warmed-up queue slot do not allocate.
struct OwnedField {
  std::string key;
  std::string str;
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  FieldType type = FieldType::String;
  // The elements of an array value, in the vector of its type.
  std::vector<std::string> strings;
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
  std::vector<bool> bools;

  bool assign(const Field& f) { return assign(f, std::numeric_limits<std::size_t>::max()); }
  // Copies `f`, holding at most `max_value_bytes` of its value: a string is
  // cut at a character boundary, and an array keeps the elements that fit
  // (strings counted by their bytes, numbers as 8, bools as 1), the last
  // string cut if it crosses the bound. Returns false if anything was cut.
  OBS_API bool assign(const Field& f, std::size_t max_value_bytes);
};

}  // namespace obs
