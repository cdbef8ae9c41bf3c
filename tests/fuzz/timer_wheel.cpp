// tests/fuzz/timer_wheel.cpp — libFuzzer target: timers/wheel.hpp against a std::multimap model.
//
// The property and the model are tests/timers/wheel_checker.hpp's: after any sequence of insert
// / cancel / expire the wheel releases exactly the timers a std::multimap of the armed deadlines
// says are due, in order to within a tick; at the end, stepping `now = *next_expiry()` reaches
// every deadline in a bounded number of steps. The randomized version of this test
// (tests/timers/wheel_model_test.cpp) draws the operations from a PRNG; here libFuzzer chooses,
// and steers towards the branches the PRNG rarely reaches.
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
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "timers/wheel.hpp"
#include "timers/wheel_checker.hpp"

namespace {

using corio::duration;
using corio::time_point;
using corio::timers::wheel;
using namespace std::chrono_literals;

const time_point t0 = time_point{} + 1h + 777ns;
// Keeps every sum below time_point::max() (292 years): now never passes t0 + 100 years, and
// an insert adds at most 3 ranges (27 years) or 7.5 years.
const time_point horizon = t0 + std::chrono::hours{24 * 365 * 100};

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

// Runs the operations the input spells out against the wheel and its model (wheel_checker.hpp).
class wheel_against_model {
 public:
  void run(byte_reader& in) {
    std::uint8_t opcode = 0;
    while (in.read(opcode)) {
      if (!step(opcode % 4, in)) break;
      fail_on(checker_.check());
    }
    // Every armed deadline within reach must be reached by stepping to next_expiry().
    fail_on(checker_.drain(horizon));
  }

 private:
  static constexpr std::size_t timer_count = 64;

  static void fail_on(const std::string& problem) {
    if (problem.empty()) return;
    std::fprintf(stderr, "timer wheel fuzz: %s\n", problem.c_str());
    std::abort();
  }

  bool step(unsigned op, byte_reader& in) {
    std::uint8_t id = 0;
    std::uint8_t scale = 0;
    std::uint16_t v = 0;
    if (op == 2) {
      if (!in.read(id)) return false;
      checker_.cancel(id % timer_count);
      return true;
    }
    if (op != 3 && !in.read(id)) return false;
    if (!in.read(scale) || !in.read16(v)) return false;
    const std::optional<duration> offset = offset_of(scale, v);
    if (op == 3) {
      advance(offset);
    } else {
      checker_.insert(id % timer_count, offset ? checker_.now() + *offset : time_point::max());
    }
    return true;
  }

  void advance(std::optional<duration> offset) {
    time_point next = checker_.now();
    if (offset) {
      next += *offset;
    } else if (const auto e = checker_.checked().next_expiry()) {
      next = std::max(*e, next);
    }
    if (next > horizon) return;  // see horizon
    fail_on(checker_.expire(next));
  }

  corio::timers::testing::wheel_checker checker_{t0, timer_count};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  wheel_against_model().run(in);
  return 0;
}
