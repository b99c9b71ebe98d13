#pragma once
// A fixed-capacity open-addressing hash index that readers probe without a
// lock. Entries are only ever added (under the owner's mutex) and never
// removed, so a reader that sees a pointer sees a fully built entry
// (release/acquire) that stays valid for the index's life.
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace obs::internal {

template <class T>
class InsertOnlyIndex {
 public:
  // Room for `max_entries` at a load factor of at most one half.
  explicit InsertOnlyIndex(std::size_t max_entries)
      : mask_(std::bit_ceil(std::max<std::size_t>(8, max_entries * 2)) - 1),
        slots_(new std::atomic<T*>[mask_ + 1]()) {}

  // `matches(const T&)` is called only for entries with the same hash.
  template <class Matches>
  T* find(std::uint64_t hash, Matches&& matches) const {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      T* e = slots_[i].load(std::memory_order_acquire);
      if (!e) return nullptr;
      if (e->hash == hash && matches(*e)) return e;
    }
  }

  // Caller holds the owner's mutex, has checked find() misses and that
  // fewer than max_entries are present.
  void insert(T* entry) {
    for (std::size_t i = entry->hash & mask_;; i = (i + 1) & mask_) {
      if (!slots_[i].load(std::memory_order_relaxed)) {
        slots_[i].store(entry, std::memory_order_release);
        return;
      }
    }
  }

 private:
  std::size_t mask_;
  std::unique_ptr<std::atomic<T*>[]> slots_;
};

// FNV-1a over the pieces, with a separator so ("ab","c") != ("a","bc").
inline std::uint64_t hash_pieces(const std::string_view* pieces, std::size_t n) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t k = 0; k < n; ++k) {
    for (unsigned char c : pieces[k]) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  return h;
}

}  // namespace obs::internal
