// Reading a Field's array elements and copying a Field into an OwnedField.
#include <cstring>

#include "obs/fields.hpp"
#include "text/utf8.hpp"

namespace obs {

namespace {
using field_detail::Element;

// Elements are read by memcpy: the caller's `long long` array and our
// std::int64_t (a `long`) are different types to the aliasing rules.
template <class T>
T load(const void* data, std::size_t i) {
  T v;
  std::memcpy(&v, static_cast<const char*>(data) + i * sizeof(T), sizeof(T));
  return v;
}

}  // namespace

std::string_view Field::string_at(std::size_t i) const {
  if (type_ != FieldType::StringArray || i >= array_.size) return {};
  switch (element_) {
    case Element::StringView: return static_cast<const std::string_view*>(array_.data)[i];
    case Element::StdString: return static_cast<const std::string*>(array_.data)[i];
    case Element::CString: {
      const char* s = static_cast<const char* const*>(array_.data)[i];
      return s ? std::string_view(s) : std::string_view("(null)");
    }
    default: return {};
  }
}

std::int64_t Field::int_at(std::size_t i) const {
  if (type_ != FieldType::IntArray || i >= array_.size) return 0;
  switch (element_) {
    case Element::I16: return load<std::int16_t>(array_.data, i);
    case Element::U16: return load<std::uint16_t>(array_.data, i);
    case Element::I32: return load<std::int32_t>(array_.data, i);
    case Element::U32: return load<std::uint32_t>(array_.data, i);
    case Element::I64: return load<std::int64_t>(array_.data, i);
    case Element::U64: return static_cast<std::int64_t>(load<std::uint64_t>(array_.data, i));  // <= int64 max, or DoubleArray
    default: return 0;
  }
}

double Field::double_at(std::size_t i) const {
  if (type_ != FieldType::DoubleArray || i >= array_.size) return 0;
  switch (element_) {
    case Element::F32: return load<float>(array_.data, i);
    case Element::F64: return load<double>(array_.data, i);
    case Element::U64: return static_cast<double>(load<std::uint64_t>(array_.data, i));
    default: return 0;
  }
}

bool Field::bool_at(std::size_t i) const {
  return type_ == FieldType::BoolArray && i < array_.size && static_cast<const bool*>(array_.data)[i];
}

bool OwnedField::assign(const Field& f, std::size_t max_value_bytes) {
  key.assign(f.key());
  type = f.type();
  bool whole = true;
  // Copies the part of `s` that fits in `budget`, without splitting a character.
  const auto bounded = [&](std::string& out, std::string_view s, std::size_t budget) {
    const std::string_view kept = text::utf8_prefix(s, budget);
    if (kept.size() < s.size()) whole = false;
    out.assign(kept);
    return kept.size();
  };
  const std::size_t n = f.array_size();
  // How many elements of `size` bytes each fit.
  const auto fitting = [&](std::size_t size) {
    const std::size_t fit = std::min(n, max_value_bytes / size);
    if (fit < n) whole = false;
    return fit;
  };
  switch (type) {
    case FieldType::String: bounded(str, f.as_string(), max_value_bytes); break;
    case FieldType::Int: i = f.as_int(); break;
    case FieldType::Double: d = f.as_double(); break;
    case FieldType::Bool: b = f.as_bool(); break;
    case FieldType::StringArray: {
      // Elements in order until one does not fit whole: that one is cut and
      // is the last, unless nothing of it fits (an empty string was never
      // in the array).
      std::size_t budget = max_value_bytes, k = 0;
      while (k < n && whole && budget > 0) {
        if (k == strings.size()) strings.emplace_back();
        const std::string_view value = f.string_at(k);
        budget -= bounded(strings[k], value, budget);
        if (strings[k].empty() && !value.empty()) break;
        ++k;
      }
      if (k < n) whole = false;
      strings.resize(k);  // keeps the vector's own capacity
      break;
    }
    case FieldType::IntArray:
      ints.resize(fitting(sizeof(std::int64_t)));
      for (std::size_t k = 0; k < ints.size(); ++k) ints[k] = f.int_at(k);
      break;
    case FieldType::DoubleArray:
      doubles.resize(fitting(sizeof(double)));
      for (std::size_t k = 0; k < doubles.size(); ++k) doubles[k] = f.double_at(k);
      break;
    case FieldType::BoolArray:
      bools.resize(fitting(1));
      for (std::size_t k = 0; k < bools.size(); ++k) bools[k] = f.bool_at(k);
      break;
  }
  return whole;
}

}  // namespace obs
