// timers/wheel.cpp — the hierarchical timer wheel; the structure is described in wheel.hpp.
#include "wheel.hpp"

#include <algorithm>
#include <bit>

namespace corio::timers {

namespace {

using detail::bits_per_level;
using detail::slot_mask;
using detail::slots_per_level;

// The first tick of the window of `level` that holds `tick`: a level's 64 slots span one slot
// of the level above, and the top level's span is the aligned 2^42-tick window of the wheel.
constexpr std::uint64_t window_start(std::uint64_t tick, unsigned level) noexcept {
  return tick & ~((std::uint64_t{1} << (bits_per_level * (level + 1))) - 1);
}

}  // namespace

wheel::wheel(time_point start) noexcept : start_(start), now_(start) {}

wheel::~wheel() {
  // Teardown only: visiting every slot once is fine here, it is not a hot path.
  for (auto& head : slots_) {
    while (!head.empty()) {
      auto* n = static_cast<timer_node*>(head.next);
      n->unlink();
      n->wheel_ = nullptr;
    }
  }
}

// Ns since start_, with everything at or before start_ mapped to 0. Computed in unsigned
// arithmetic: t - start_ can exceed INT64_MAX (start_ < 0, t = time_point::max()), but since
// t > start_ the true difference is in (0, 2^64) and the modular subtraction yields it exactly.
std::uint64_t wheel::offset_of(time_point t) const noexcept {
  if (t <= start_) return 0;
  return static_cast<std::uint64_t>(t.time_since_epoch().count()) -
         static_cast<std::uint64_t>(start_.time_since_epoch().count());
}

// Only called with offsets that are <= the offset of some real deadline, so the result is
// representable; the unsigned-to-signed conversion is modular (well defined in C++20).
time_point wheel::at_offset(std::uint64_t ns) const noexcept {
  const auto base = static_cast<std::uint64_t>(start_.time_since_epoch().count());
  return time_point{duration{static_cast<duration::rep>(base + ns)}};
}

void wheel::insert(timer_node& n, time_point deadline) noexcept {
  assert(!n.armed() && "timer_node inserted twice; cancel it first");
  if (n.list_ != nullptr) n.list_->remove(n);
  n.deadline_ = deadline;
  // A past deadline is filed at the current tick, i.e. in the level-0 slot the next expire()
  // looks at first; its exact deadline (<= now_) then releases it there.
  n.tick_ = (deadline <= now_ ? now_ns_ : offset_of(deadline)) >> detail::tick_shift;
  n.wheel_ = this;
  ++size_;
  file(n);
}

// Files an armed node by n.tick_, which must be >= elapsed_. The level is that of the highest
// bit in which the two ticks differ; OR-ing slot_mask makes ticks equal to elapsed_ level 0.
void wheel::file(timer_node& n) noexcept {
  assert(n.tick_ >= elapsed_);
  const std::uint64_t differing = (elapsed_ ^ n.tick_) | slot_mask;
  const unsigned level = static_cast<unsigned>(std::bit_width(differing) - 1) / bits_per_level;
  if (level >= levels) {
    n.slot_ = detail::overflow_slot;
    held_min_tick_ = std::min(held_min_tick_, n.tick_);
  } else {
    const auto slot = static_cast<unsigned>((n.tick_ >> (bits_per_level * level)) & slot_mask);
    occupied_[level] |= std::uint64_t{1} << slot;
    n.slot_ = static_cast<std::uint16_t>(level * slots_per_level + slot);
  }
  n.link_before(slots_[n.slot_]);
}

void wheel::cancel(timer_node& n) noexcept {
  if (n.wheel_ != nullptr) {
    assert(n.wheel_ == this && "timer_node cancelled through another wheel");
    n.wheel_->unlink(n);
  } else if (n.list_ != nullptr) {
    n.list_->remove(n);
  }
}

void wheel::unlink(timer_node& n) noexcept {
  n.unlink();
  n.wheel_ = nullptr;
  --size_;
  const unsigned index = n.slot_;
  if (!slots_[index].empty()) return;
  if (index == detail::overflow_slot) {
    held_min_tick_ = UINT64_MAX;
  } else {
    occupied_[index / slots_per_level] &= ~(std::uint64_t{1} << (index % slots_per_level));
  }
}

// The first non-empty level holds the earliest slot (slots are aligned, see wheel.hpp), and in
// it the next occupied slot at or after the current one is a rotate and a countr_zero away.
// Held nodes come last: they all lie beyond the current top-level window.
std::optional<wheel::event> wheel::next_event() const noexcept {
  for (unsigned level = 0; level < levels; ++level) {
    const std::uint64_t occupied = occupied_[level];
    if (occupied == 0) continue;
    const unsigned shift = bits_per_level * level;
    const auto current = static_cast<int>((elapsed_ >> shift) & slot_mask);
    const auto slot =
        static_cast<unsigned>((current + std::countr_zero(std::rotr(occupied, current))) &
                              static_cast<int>(slot_mask));
    // Aligned slots never wrap: nothing is filed behind the current slot of its level.
    assert(slot >= static_cast<unsigned>(current));
    const std::uint64_t tick = window_start(elapsed_, level) + (std::uint64_t{slot} << shift);
    return event{level, level * slots_per_level + slot, tick};
  }
  if (slots_[detail::overflow_slot].empty()) return std::nullopt;
  return event{levels, detail::overflow_slot, window_start(held_min_tick_, levels - 1)};
}

// Moves the nodes of level-0 slot `slot` whose exact deadline has passed to `out`, keeping their
// order. Returns true if some remain (deadlines later in the same tick).
bool wheel::release_due(unsigned slot, timer_list& out) noexcept {
  detail::list_hook& head = slots_[slot];
  for (detail::list_hook* h = head.next; h != &head;) {
    auto* n = static_cast<timer_node*>(h);
    h = h->next;
    if (n->deadline_ <= now_) {
      unlink(*n);
      out.push_back(*n);
    }
  }
  return !head.empty();
}

// Re-files every node of a higher-level slot (or of the held list) against elapsed_, which is
// now that slot's start, so each lands at a lower level. The slot is emptied first: a held node
// that is still beyond the range goes back to the held list, which must not be the list being
// walked (Tokio's process_expiration empties a slot first for the same reason).
void wheel::cascade(const event& e) noexcept {
  detail::list_hook pending;
  pending.take_all(slots_[e.slot]);
  if (e.level == levels) {
    held_min_tick_ = UINT64_MAX;
  } else {
    occupied_[e.level] &= ~(std::uint64_t{1} << (e.slot % slots_per_level));
  }
  while (!pending.empty()) {
    auto* n = static_cast<timer_node*>(pending.next);
    n->unlink();
    file(*n);
  }
}

void wheel::expire(time_point now, timer_list& out) noexcept {
  if (now > now_) {
    now_ = now;
    now_ns_ = offset_of(now);
  }
  const std::uint64_t target = now_ns_ >> detail::tick_shift;
  // Each pass handles one occupied slot that starts at or before `target`; slots in between are
  // skipped through the bitmaps, so a jump of days costs what it touches, not what it skips.
  while (const auto e = next_event()) {
    if (e->tick > target) break;
    elapsed_ = e->tick;
    if (e->level != 0) {
      cascade(*e);
    } else if (release_due(e->slot, out)) {
      break;  // the rest of this slot is due later in the current tick; nothing else is due
    }
  }
  elapsed_ = target;
}

std::optional<time_point> wheel::next_expiry() const noexcept {
  const auto e = next_event();
  if (!e) return std::nullopt;
  if (e->level != 0) return at_offset(e->tick << detail::tick_shift);
  // The one linear scan (see wheel.hpp): exact firing needs the minimum exact deadline among
  // the nodes of the single level-0 slot due next.
  const detail::list_hook& head = slots_[e->slot];
  time_point earliest = time_point::max();
  for (const detail::list_hook* h = head.next; h != &head; h = h->next) {
    earliest = std::min(earliest, static_cast<const timer_node*>(h)->deadline_);
  }
  return earliest;
}

}  // namespace corio::timers
