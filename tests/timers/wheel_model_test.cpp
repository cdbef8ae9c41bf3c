// Scale and randomized tests for timers/wheel.hpp: a million timers, a million cancels, and a
// differential test against a std::multimap model (wheel_checker.hpp).
#include "timers/wheel.hpp"
#include "timers/wheel_checker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace corio::timers {
namespace {

using namespace std::chrono_literals;

const time_point model_start = time_point{} + 1h + 777ns;
constexpr std::size_t million = 1'000'000;

// Released deadlines must be nondecreasing to within one level-0 slot.
void expect_ordered_within_a_tick(const std::vector<time_point>& keys) {
  for (std::size_t i = 1; i < keys.size(); ++i) {
    ASSERT_GT(keys[i], keys[i - 1] - wheel::tick()) << "at " << i;
  }
}

TEST(timer_wheel_scale, a_million_timers_over_one_second_each_fire_once_in_order) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> over_a_second(0, 1'000'000'000);
  auto nodes = std::make_unique<timer_node[]>(million);
  wheel w(model_start);
  for (std::size_t i = 0; i < million; ++i) {
    w.insert(nodes[i], model_start + std::chrono::nanoseconds{over_a_second(rng)});
  }
  ASSERT_EQ(w.size(), million);

  std::vector<time_point> released;
  released.reserve(million);
  timer_list out;
  time_point previous = model_start - 1ns;
  for (time_point now = model_start; !w.empty(); now += 1ms + 123ns) {
    w.expire(now, out);
    while (timer_node* n = out.pop_front()) {
      ASSERT_LE(n->deadline(), now);
      ASSERT_GT(n->deadline(), previous);  // otherwise an earlier expire() should have had it
      ASSERT_FALSE(n->armed());
      released.push_back(n->deadline());
    }
    previous = now;
  }
  EXPECT_EQ(released.size(), million);
  expect_ordered_within_a_tick(released);
  EXPECT_FALSE(w.next_expiry().has_value());
}

TEST(timer_wheel_scale, a_million_timers_cancelled_before_expiry_never_fire) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> over_a_second(1, 1'000'000'000);
  auto nodes = std::make_unique<timer_node[]>(million);
  wheel w(model_start);
  for (std::size_t i = 0; i < million; ++i) {
    w.insert(nodes[i], model_start + std::chrono::nanoseconds{over_a_second(rng)});
  }
  for (std::size_t i = 0; i < million; ++i) w.cancel(nodes[(i * 7919) % million]);
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(w.next_expiry().has_value());
  timer_list out;
  w.expire(model_start + 2s, out);
  EXPECT_TRUE(out.empty());
}

// Random operations on the wheel, each checked against the model (wheel_checker.hpp).
class differential {
 public:
  explicit differential(std::uint64_t seed) : rng_(seed), checker_(model_start, node_count) {}

  void run(int operations) {
    for (int op = 0; op < operations; ++op) {
      const auto dice = pick(0, 99);
      if (dice < 45) {
        checker_.insert(random_id(), checker_.now() + random_offset());
      } else if (dice < 65) {
        checker_.cancel(random_id());
      } else {
        ASSERT_EQ(checker_.expire(random_next_now()), "");
      }
      ASSERT_EQ(checker_.check(), "");
    }
    ASSERT_EQ(checker_.drain(time_point::max()), "");
    EXPECT_TRUE(checker_.checked().empty());
  }

 private:
  static constexpr std::size_t node_count = 512;

  std::int64_t pick(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }

  std::size_t random_id() { return static_cast<std::size_t>(pick(0, node_count - 1)); }

  // Offsets from now at every scale: past, within a tick, each level, beyond the range.
  duration random_offset() {
    switch (pick(0, 5)) {
      case 0: return -std::chrono::nanoseconds{pick(0, 10'000'000)};
      case 1: return std::chrono::nanoseconds{pick(0, 200'000)};
      case 2: return std::chrono::nanoseconds{pick(0, 2'000'000'000)};
      case 3: return wheel::slot_width(static_cast<unsigned>(pick(0, 6))) * pick(0, 70) +
                     std::chrono::nanoseconds{pick(-2, 2)};
      case 4: return std::chrono::hours{pick(0, 24 * 400)};
      default: return wheel::range() * pick(1, 3) + std::chrono::nanoseconds{pick(-5, 5)};
    }
  }

  time_point random_next_now() {
    const time_point now = checker_.now();
    switch (pick(0, 4)) {
      case 0: return now - std::chrono::nanoseconds{pick(0, 1'000'000)};  // backwards: ignored
      case 1: return now + std::chrono::nanoseconds{pick(0, 300'000)};
      case 2: return now + std::chrono::milliseconds{pick(0, 5'000)};
      case 3: return now + std::chrono::hours{pick(0, 24 * 20)};  // crosses 9-year windows
      default: return std::max(checker_.checked().next_expiry().value_or(now), now);  // autojump
    }
  }

  std::mt19937_64 rng_;
  testing::wheel_checker checker_;
};

TEST(timer_wheel_model, random_insert_cancel_advance_sequences_match_a_multimap_model) {
  for (const std::uint64_t seed : {1u, 2u, 3u, 2024u, 99991u}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    differential(seed).run(20'000);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace corio::timers
