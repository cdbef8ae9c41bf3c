// tests/fuzz/timer_wheel.cpp — libFuzzer target: timers/wheel.hpp against a std::multimap model.
//
// Property: after any sequence of insert / cancel / expire, the wheel releases exactly the
// timers whose deadline is <= now — the same SET as a multimap of the armed deadlines gives —
// in nondecreasing order of their level-0 slot (to within one tick, as wheel.hpp promises; a
// past deadline counts as due when it was inserted). After every step, size() matches the
// model and next_expiry() is never later than the earliest armed deadline; at the end,
// stepping `now = *next_expiry()` reaches every deadline in a bounded number of steps. The
// randomized version of this test (tests/timers/wheel_model_test.cpp) draws from a PRNG; here
// libFuzzer chooses, and steers towards the branches the PRNG rarely reaches.
//
// Input layout: a sequence of operations, each an opcode byte and its operands; a truncated
// operation at the end is ignored.
//   opcode % 4 == 0 or 1   insert: id byte (timer id % 64; an armed timer is left alone),
//                          then an offset from now (below)
//   opcode % 4 == 2        cancel: id byte
//   opcode % 4 == 3        advance: an offset (below), added to now; a negative one tries to
//                          move time backwards, which the wheel must ignore. Scale 7 (below)
//                          jumps to next_expiry() instead (the loop's "autojump").
// An offset is a scale byte and a 16-bit big-endian value v:
//   scale % 8: 0 -v µs (the past)   1 v ns   2 slot_width(v % 7) * (v / 7 % 70) + (v % 5 - 2) ns
//   (slot edges at every level)     3 v µs   4 v ms   5 v s   6 v hours
//   7 beyond the wheel's range: range() * (1 + v % 3) + (v % 11 - 5) ns, or time_point::max()
//     when v % 16 == 0 (for advance: autojump)
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include "timers/wheel.hpp"

namespace {

using corio::duration;
using corio::time_point;
using corio::timers::timer_list;
using corio::timers::timer_node;
using corio::timers::wheel;
using namespace std::chrono_literals;

const time_point t0 = time_point{} + 1h + 777ns;
// Keeps every sum below time_point::max() (292 years): now never passes t0 + 100 years, and
// an insert adds at most 3 ranges (27 years) or 7.5 years.
const time_point horizon = t0 + std::chrono::hours{24 * 365 * 100};

[[noreturn]] void mismatch(const char* what, time_point now) {
  std::fprintf(stderr, "timer wheel fuzz: %s (now = t0 + %lld ns)\n", what,
               static_cast<long long>((now - t0).count()));
  std::abort();
}

/// Reads the input front to back; reports when it runs out.
class byte_reader {
 public:
  byte_reader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool read(std::uint8_t& out) {
    if (pos_ == size_) return false;
    out = data_[pos_++];
    return true;
  }
  bool read16(std::uint16_t& out) {
    std::uint8_t hi = 0;
    std::uint8_t lo = 0;
    if (!read(hi) || !read(lo)) return false;
    out = static_cast<std::uint16_t>(hi << 8 | lo);
    return true;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// An offset (the table at the top); nullopt means "the far end": time_point::max() for an
// insert, next_expiry() for an advance.
std::optional<duration> offset_of(std::uint8_t scale, std::uint16_t v) {
  const auto ns = [](std::int64_t n) { return duration{n}; };
  switch (scale % 8) {
    case 0: return -std::chrono::microseconds{v};
    case 1: return ns(v);
    case 2: return wheel::slot_width(v % 7U) * (v / 7 % 70) + ns(v % 5 - 2);
    case 3: return std::chrono::microseconds{v};
    case 4: return std::chrono::milliseconds{v};
    case 5: return std::chrono::seconds{v};
    case 6: return std::chrono::hours{v};
    default:
      if (v % 16 == 0) return std::nullopt;
      return wheel::range() * (1 + v % 3) + ns(v % 11 - 5);
  }
}

class wheel_against_model {
 public:
  void run(byte_reader& in) {
    std::uint8_t opcode = 0;
    while (in.read(opcode)) {
      if (!step(opcode % 4, in)) break;
      if (w_.size() != model_.size()) mismatch("size() differs from the model", now_);
      check_next_expiry();
    }
    drain();
  }

 private:
  static constexpr std::size_t timer_count = 64;
  using model = std::multimap<time_point, std::size_t>;

  bool step(unsigned op, byte_reader& in) {
    std::uint8_t id = 0;
    std::uint8_t scale = 0;
    std::uint16_t v = 0;
    if (op == 2) {
      if (!in.read(id)) return false;
      cancel(id % timer_count);
      return true;
    }
    if (op != 3 && !in.read(id)) return false;
    if (!in.read(scale) || !in.read16(v)) return false;
    const std::optional<duration> offset = offset_of(scale, v);
    if (op == 3) {
      advance(offset);
    } else {
      insert(id % timer_count, offset ? now_ + *offset : time_point::max());
    }
    return true;
  }

  void insert(std::size_t id, time_point deadline) {
    if (nodes_[id].armed()) return;
    w_.insert(nodes_[id], deadline);
    where_[id] = model_.emplace(deadline, id);
    filed_[id] = std::max(deadline, now_);
  }

  void cancel(std::size_t id) {
    w_.cancel(nodes_[id]);  // a no-op for an idle timer
    if (where_[id]) model_.erase(*where_[id]);
    where_[id].reset();
  }

  void advance(std::optional<duration> offset) {
    time_point next = now_;
    if (offset) {
      next += *offset;
    } else if (const auto e = w_.next_expiry()) {
      next = std::max(*e, now_);
    }
    if (next > horizon) return;  // see horizon
    expire_and_compare(next);
  }

  void expire_and_compare(time_point now) {
    timer_list out;
    w_.expire(now, out);  // a `now` before now_ counts as now_
    now_ = std::max(now_, now);

    std::vector<std::size_t> got;
    time_point previous_filed = time_point::min();
    while (timer_node* n = out.pop_front()) {
      const auto id = static_cast<std::size_t>(n - nodes_.data());
      if (n->armed()) mismatch("a released timer is still armed", now_);
      // Nondecreasing level-0 slots: each key is later than the previous one minus a tick.
      if (previous_filed != time_point::min() && filed_[id] <= previous_filed - wheel::tick()) {
        mismatch("released out of order by more than a tick", now_);
      }
      previous_filed = std::max(previous_filed, filed_[id]);
      got.push_back(id);
    }

    std::vector<std::size_t> want;
    const auto due_end = model_.upper_bound(now_);
    for (auto it = model_.begin(); it != due_end; ++it) {
      want.push_back(it->second);
      where_[it->second].reset();
    }
    model_.erase(model_.begin(), due_end);

    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    if (got != want) {
      std::fprintf(stderr, "released %zu timers, the model %zu\n", got.size(), want.size());
      mismatch("the released set differs from the model's", now_);
    }
  }

  void check_next_expiry() {
    const auto next = w_.next_expiry();
    if (next.has_value() != !model_.empty()) mismatch("next_expiry() is wrong about emptiness", now_);
    if (next && *next > model_.begin()->first) mismatch("next_expiry() is later than a deadline", now_);
  }

  // Every armed deadline within reach must be reached by stepping to next_expiry(), each in
  // about `levels` steps (plus a re-filing of the held list per 9-year window).
  void drain() {
    std::size_t steps_left = 64 + 16 * model_.size();
    while (!model_.empty() && model_.begin()->first <= horizon) {
      if (steps_left-- == 0) mismatch("stepping to next_expiry() does not reach the deadlines", now_);
      const auto next = w_.next_expiry();
      if (!next) mismatch("next_expiry() is empty while timers are armed", now_);
      expire_and_compare(std::max(*next, now_));
      check_next_expiry();
    }
  }

  time_point now_ = t0;
  wheel w_{t0};
  std::array<timer_node, timer_count> nodes_;
  model model_;
  std::array<std::optional<model::iterator>, timer_count> where_;
  std::array<time_point, timer_count> filed_{};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  wheel_against_model().run(in);
  return 0;
}
