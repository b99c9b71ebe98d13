#pragma once
// An open-addressing hash index that readers probe without a lock. Entries
// are only ever added (under the owner's mutex) and never removed, so a
// reader that sees a pointer sees a fully built entry (release/acquire)
// that stays valid for the index's life.
//
// It grows by building a table twice the size and publishing it; older
// tables stay allocated (at most as much memory again) because a reader
// may still be probing one. A reader on an older table may miss a newer
// entry; callers then take their slow path, lock, and look again.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace obs::internal {

template <class T>
class InsertOnlyIndex {
 public:
  InsertOnlyIndex() { publish(16); }

  // `matches(const T&)` is called only for entries with the same hash.
  template <class Matches>
  T* find(std::uint64_t hash, Matches&& matches) const {
    const Table* t = current_.load(std::memory_order_acquire);
    for (std::size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
      T* e = t->slots[i].load(std::memory_order_acquire);
      if (!e) return nullptr;
      if (e->hash == hash && matches(*e)) return e;
    }
  }

  // Caller holds the owner's mutex and has checked that find() misses.
  void insert(T* entry) {
    Table* t = current_.load(std::memory_order_relaxed);
    if ((count_ + 1) * 2 > t->mask + 1) {  // keep the load factor at most one half
      const Table* old = t;
      t = publish((old->mask + 1) * 2, old);
    }
    place(*t, entry);
    ++count_;
  }

  std::size_t size() const { return count_; }

 private:
  struct Table {
    std::size_t mask;
    std::unique_ptr<std::atomic<T*>[]> slots;
  };

  static void place(Table& t, T* entry) {
    for (std::size_t i = entry->hash & t.mask;; i = (i + 1) & t.mask) {
      if (!t.slots[i].load(std::memory_order_relaxed)) {
        t.slots[i].store(entry, std::memory_order_release);
        return;
      }
    }
  }

  Table* publish(std::size_t capacity, const Table* from = nullptr) {
    auto t = std::make_unique<Table>(Table{capacity - 1, std::unique_ptr<std::atomic<T*>[]>(new std::atomic<T*>[capacity]())});
    if (from)
      for (std::size_t i = 0; i <= from->mask; ++i)
        if (T* e = from->slots[i].load(std::memory_order_relaxed)) place(*t, e);
    Table* raw = t.get();
    tables_.push_back(std::move(t));
    current_.store(raw, std::memory_order_release);
    return raw;
  }

  std::atomic<Table*> current_{nullptr};
  std::vector<std::unique_ptr<Table>> tables_;  // every table ever published
  std::size_t count_ = 0;
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
