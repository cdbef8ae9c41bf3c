// timers/wheel.hpp — the hierarchical timer wheel behind every sleep and timeout.
//
// A hashed, hierarchical timing wheel (G. Varghese and A. Lauck, "Hashed and Hierarchical Timing
// Wheels", SOSP 1987). Time is counted in ticks of 2^16 ns (65.536 µs) since the wheel's start.
// There are 7 levels of 64 slots; a slot of level k is 64^k ticks wide, so level 0 resolves the
// next few milliseconds tick by tick and each level above is 64 times coarser:
//
//   Level | Slot width             | Range (64 slots)
//   ------+------------------------+------------------------
//     0   | 2^16 ns =  65.536 µs   | 2^22 ns =   4.19 ms
//     1   | 2^22 ns =   4.19 ms    | 2^28 ns = 268.44 ms
//     2   | 2^28 ns = 268.44 ms    | 2^34 ns =  17.18 s
//     3   | 2^34 ns =  17.18 s     | 2^40 ns =  18.33 min
//     4   | 2^40 ns =  18.33 min   | 2^46 ns =  19.55 h
//     5   | 2^46 ns =  19.55 h     | 2^52 ns =  52.13 days
//     6   | 2^52 ns =  52.13 days  | 2^58 ns =   9.13 years  (= wheel::range())
//
// (tests/timers/wheel_test.cpp checks this table against the constants below.)
//
// Filing. A node is filed at the level of the highest bit in which its deadline tick differs from
// the wheel's current tick, in the slot given by that level's 6 bits of the deadline tick. Slots
// are therefore aligned: level k only holds ticks inside the current level-(k+1) slot and after
// the current level-k slot. Every timer at level k is thus earlier than every timer at level k+1,
// and the next thing to do is found with one std::countr_zero on the first non-empty level's
// occupied bitmap — never by scanning slots (Tokio's `Level::occupied` does the same).
//
// Cascading. When the wheel's time reaches the start of an occupied slot of level k > 0, that
// slot's nodes are re-filed against the new time, which puts them at lower levels. A node moves
// down at most 6 times, so every timer has level-0 precision whatever its distance.
//
// The trade-off. Since Linux 4.8, kernel/time/timer.c does not cascade: far timers fire late by
// up to 1/8 of their distance, because most kernel timeouts are cancelled long before they expire.
// corio's timers are mostly sleeps and deadlines that do expire, and its tests run under a manual
// clock that expects a 2 s sleep to end at exactly t0 + 2 s. So corio pays for the cascade —
// O(levels) re-filings per timer, each O(1) — and expires exactly. Against a binary heap (libuv,
// Asio) the wheel gives O(1) insert and cancel instead of O(log n), for a fixed ~7 KiB of slot
// heads. A wheel tick (65.536 µs) is much finer than Tokio's 1 ms and the kernel's jiffy.
//
// Exactness. Each node keeps its exact deadline. expire(now) releases a node iff its deadline is
// <= now, comparing time_points, not ticks: never early, and late only by how late the caller
// calls expire(). Ticks only decide where a node waits. The one linear scan in this file is
// next_expiry() looking over the nodes of the single level-0 slot due next, to return their
// minimum exact deadline; that slot only holds timers of one 65.536 µs tick.
//
// Beyond the range. The 7 levels span 2^42 ticks = 2^58 ns ≈ 9.13 years. A deadline whose tick
// lies outside the current top-level window (the aligned block of 2^42 ticks holding the wheel's
// current tick) is held in an unordered overflow list, together with a lower bound on the held
// ticks. When the wheel's time reaches the start of the window holding that bound, the held nodes
// are re-filed and those still beyond wait again. This covers 10-year timeouts and
// time_point::max() (292 years past the steady clock's epoch), and — once every 9.13 years of
// wheel time — the short timers that straddle a window edge. Nothing is clamped or wrapped:
// deadlines become unsigned nanosecond offsets from the wheel's start, which cannot overflow.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "clock.hpp"

namespace corio::timers {

class wheel;
class timer_list;

namespace detail {

// The two numbers every other constant derives from, plus the tick size.
inline constexpr unsigned tick_shift = 16;     // a tick is 2^16 ns = 65.536 µs
inline constexpr unsigned bits_per_level = 6;  // 64 slots per level
inline constexpr unsigned num_levels = 7;

inline constexpr unsigned slots_per_level = 1u << bits_per_level;
inline constexpr std::uint64_t slot_mask = slots_per_level - 1;
inline constexpr unsigned wheel_bits = bits_per_level * num_levels;  // the wheel spans 2^42 ticks
inline constexpr unsigned overflow_slot = num_levels * slots_per_level;  // the held list's index

static_assert(slots_per_level == 64, "each level's occupied bitmap is one std::uint64_t");
static_assert(tick_shift + wheel_bits < 63,
              "the wheel's range in ns must fit a signed 64-bit duration with room to spare");
static_assert(overflow_slot < UINT16_MAX, "slot indices are stored in a std::uint16_t");

// A link in a circular doubly-linked list. A list is a sentinel hook; an unlinked hook and an
// empty list both point at themselves, so linking and unlinking never test for null.
struct list_hook {
  list_hook* prev = this;
  list_hook* next = this;

  list_hook() noexcept = default;
  list_hook(const list_hook&) = delete;
  list_hook& operator=(const list_hook&) = delete;

  [[nodiscard]] bool empty() const noexcept { return next == this; }

  void link_before(list_hook& pos) noexcept {
    prev = pos.prev;
    next = &pos;
    pos.prev->next = this;
    pos.prev = this;
  }
  void unlink() noexcept {
    prev->next = next;
    next->prev = prev;
    prev = next = this;
  }
  // Moves every element of `from` (a sentinel) into this empty sentinel, in O(1).
  void take_all(list_hook& from) noexcept {
    assert(empty());
    if (from.empty()) return;
    next = from.next;
    prev = from.prev;
    next->prev = this;
    prev->next = this;
    from.prev = from.next = &from;
  }
};

}  // namespace detail

/// One timer. Intrusive: it lives inside whatever waits on it (an awaiter), so arming a timer
/// allocates nothing. At any moment it is idle, armed in one wheel, or waiting in one
/// timer_list after expiry. Not copyable or movable: the wheel holds its address.
class timer_node : private detail::list_hook {
 public:
  timer_node() noexcept = default;
  timer_node(const timer_node&) = delete;
  timer_node& operator=(const timer_node&) = delete;
  /// Unlinks the node from its wheel or timer_list, keeping their size() right. A safety net:
  /// the owner of a timer should cancel it explicitly.
  ~timer_node();

  /// True while linked in a wheel; false once expire() has moved it to a timer_list.
  [[nodiscard]] bool armed() const noexcept { return wheel_ != nullptr; }
  /// The deadline passed to the last wheel::insert().
  [[nodiscard]] time_point deadline() const noexcept { return deadline_; }

 private:
  friend class wheel;
  friend class timer_list;

  time_point deadline_{};
  std::uint64_t tick_ = 0;       // where it is filed: the deadline in ticks since the wheel's start
  wheel* wheel_ = nullptr;       // set while armed
  timer_list* list_ = nullptr;   // set while waiting in a timer_list
  std::uint16_t slot_ = 0;       // level * 64 + slot, or detail::overflow_slot
};

/// A FIFO of expired timers, filled by wheel::expire(). Pop them one at a time: between pops the
/// caller may cancel, destroy or re-insert any node, including ones still in the list.
/// Not copyable or movable. Destroying it unlinks (does not destroy) the nodes left in it.
class timer_list {
 public:
  timer_list() noexcept = default;
  timer_list(const timer_list&) = delete;
  timer_list& operator=(const timer_list&) = delete;
  ~timer_list() {
    while (pop_front() != nullptr) {
    }
  }

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  /// O(1).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// Unlinks and returns the first node, or nullptr if the list is empty.
  timer_node* pop_front() noexcept {
    if (head_.empty()) return nullptr;
    auto* n = static_cast<timer_node*>(head_.next);
    remove(*n);
    return n;
  }

 private:
  friend class wheel;
  friend class timer_node;

  void push_back(timer_node& n) noexcept {
    n.link_before(head_);
    n.list_ = this;
    ++size_;
  }
  void remove(timer_node& n) noexcept {
    assert(n.list_ == this);
    n.unlink();
    n.list_ = nullptr;
    --size_;
  }

  detail::list_hook head_;
  std::size_t size_ = 0;
};

/// The timer wheel of one event loop (see the comment at the top of this file).
///
/// insert() and cancel() are O(1); expire() costs O(released nodes + occupied slots it passes +
/// nodes it cascades), never O(ticks skipped), so a clock jump of days is cheap. Nothing here
/// allocates; every member function is noexcept. Thread-safety: none — one loop thread owns the
/// wheel, its nodes and the timer_lists it fills. Time is whatever the caller passes in; the wheel
/// never reads a clock.
class wheel {
 public:
  static constexpr unsigned levels = detail::num_levels;
  static constexpr unsigned slots_per_level = detail::slots_per_level;

  /// The width of a level-0 slot: the granularity at which nodes are filed (not fired).
  [[nodiscard]] static constexpr duration tick() noexcept { return slot_width(0); }
  /// The width of one slot of `level` (0 <= level < levels): 2^(16 + 6 level) ns.
  [[nodiscard]] static constexpr duration slot_width(unsigned level) noexcept {
    return duration{std::int64_t{1} << (detail::tick_shift + detail::bits_per_level * level)};
  }
  /// How far ahead `level`'s 64 slots reach: 64 slot widths.
  [[nodiscard]] static constexpr duration level_range(unsigned level) noexcept {
    return slot_width(level) * slots_per_level;
  }
  /// The span of the whole wheel (2^58 ns ≈ 9.13 years); later deadlines are held, not lost.
  [[nodiscard]] static constexpr duration range() noexcept { return level_range(levels - 1); }

  /// `start` is the loop clock's now(); deadlines are measured from it.
  explicit wheel(time_point start) noexcept;
  wheel(const wheel&) = delete;
  wheel& operator=(const wheel&) = delete;
  /// Unlinks (does not destroy) the nodes still armed.
  ~wheel();

  /// Arms `n` for `deadline`. O(1). `n` must not be armed (asserted). A node still waiting in a
  /// timer_list is taken out of it first. A deadline <= the wheel's current time is released by
  /// the next expire(), never inside this call.
  void insert(timer_node& n, time_point deadline) noexcept;

  /// Disarms `n`, or takes it out of the timer_list it was expired into. O(1). No-op for an idle
  /// node.
  void cancel(timer_node& n) noexcept;

  /// Moves exactly the nodes whose deadline <= now to the back of `out`, in nondecreasing order of
  /// their level-0 slot (nodes within one 65.536 µs slot keep insertion order; a node inserted
  /// with a past deadline counts as due at the wheel's time when it was inserted). A `now` earlier
  /// than a previous one counts as the previous one: the wheel's time never goes backwards.
  void expire(time_point now, timer_list& out) noexcept;

  /// nullopt iff empty(). Otherwise a time t <= every armed deadline such that expire(x) releases
  /// nothing for x < t. It is the exact earliest deadline when that node sits in the level-0 slot
  /// due next; otherwise the start of the slot that cascades next. So stepping
  /// `now = *next_expiry(); expire(now, out)` reaches every deadline exactly, in at most about
  /// `levels` steps each. It may lie before the latest `now` (a node inserted with a past
  /// deadline): the caller should read that as "due now".
  [[nodiscard]] std::optional<time_point> next_expiry() const noexcept;

  /// The number of nodes armed in this wheel. O(1).
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  friend class timer_node;

  // The next slot to act on: a level-0 slot to release, a higher slot or the held list to
  // re-file. `tick` is when that slot starts.
  struct event {
    unsigned level;  // == levels for the overflow list
    unsigned slot;   // index into slots_
    std::uint64_t tick;
  };

  [[nodiscard]] std::optional<event> next_event() const noexcept;
  void file(timer_node& n) noexcept;
  void unlink(timer_node& n) noexcept;
  void cascade(const event& e) noexcept;
  bool release_due(unsigned slot, timer_list& out) noexcept;
  [[nodiscard]] std::uint64_t offset_of(time_point t) const noexcept;
  [[nodiscard]] time_point at_offset(std::uint64_t ns) const noexcept;

  time_point start_;
  time_point now_;              // the latest `now` given to expire() (start_ at first)
  std::uint64_t now_ns_ = 0;    // now_ - start_, in ns
  std::uint64_t elapsed_ = 0;   // the wheel's current tick; slots are aligned to it
  std::uint64_t held_min_tick_ = UINT64_MAX;  // <= the tick of every held node
  std::size_t size_ = 0;
  std::array<std::uint64_t, detail::num_levels> occupied_{};  // bit s of level k: slot non-empty
  std::array<detail::list_hook, detail::overflow_slot + 1> slots_;  // level-major, then held
};

inline timer_node::~timer_node() {
  if (wheel_ != nullptr) {
    wheel_->cancel(*this);
  } else if (list_ != nullptr) {
    list_->remove(*this);
  }
}

}  // namespace corio::timers
