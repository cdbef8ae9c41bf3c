// timers/clock.hpp — where the loop gets "now" from.
//
// The loop never calls std::chrono::steady_clock directly: it asks its `clock`. Production code
// uses the steady clock (monotonic, immune to wall-clock changes). Tests use a manual clock that
// only moves when told to, optionally in "autojump" mode: when every task is blocked on timers
// and no I/O is pending, the loop jumps the clock straight to the next deadline, so a test of a
// 30-second timeout runs in microseconds (trio's MockClock(autojump_threshold=0), Tokio's
// time::pause()).
//
// This is a plain value type with a two-way branch instead of a virtual interface: `now()` sits
// on the loop's hot path, and there are only ever these two kinds of clock.
#pragma once

#include <chrono>
#include <stdexcept>

namespace corio {

/// The one time type used across corio: steady-clock nanoseconds.
using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::steady_clock::duration;

class clock {
 public:
  /// The monotonic system clock.
  [[nodiscard]] static clock steady() noexcept { return clock(kind::steady, time_point{}, false); }

  /// A clock that starts at `start` and moves only through advance()/set(), or, with
  /// `autojump`, when the loop finds nothing runnable and jumps to the next timer deadline.
  [[nodiscard]] static clock manual(time_point start = time_point{}, bool autojump = true) noexcept {
    return clock(kind::manual, start, autojump);
  }

  [[nodiscard]] time_point now() const noexcept {
    return kind_ == kind::steady ? std::chrono::steady_clock::now() : manual_now_;
  }

  [[nodiscard]] bool is_manual() const noexcept { return kind_ == kind::manual; }
  [[nodiscard]] bool autojump() const noexcept { return autojump_; }

  /// Moves a manual clock forward. Throws std::logic_error on the steady clock, or when asked to
  /// go backwards (a steady clock never does, and the timer wheel relies on that).
  void advance(duration d) {
    if (d < duration::zero()) throw std::logic_error("corio::clock::advance: negative duration");
    set(manual_now_ + d);
  }

  /// Sets a manual clock to `t`, which must not be earlier than now().
  void set(time_point t) {
    if (kind_ != kind::manual) throw std::logic_error("corio::clock: only a manual clock can be moved");
    if (t < manual_now_) throw std::logic_error("corio::clock::set: time cannot go backwards");
    manual_now_ = t;
  }

 private:
  enum class kind : unsigned char { steady, manual };
  clock(kind k, time_point start, bool autojump) noexcept
      : kind_(k), autojump_(autojump), manual_now_(start) {}

  kind kind_;
  bool autojump_;
  time_point manual_now_;
};

}  // namespace corio
