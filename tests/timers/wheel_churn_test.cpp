// tests/timers/wheel_churn_test.cpp — cancel churn (reliability.md T-36): ten seconds of a busy
// server's timers, where half of everything armed is cancelled before it is due (the usual fate
// of a request timeout). Every millisecond 20 timers are armed for 1..200 ms ahead and, among
// the ones still armed, every other one is cancelled. Checked: no cancelled timer ever fires,
// every other one fires exactly once and never early, the wheel ends empty, and the work stays
// flat — the wheel holds no more than the ~200 ms window of timers (it allocates nothing: the
// nodes belong to the caller, timers/wheel.hpp) however long the churn goes on.
#include "timers/wheel.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

namespace corio::timers {
namespace {

using namespace std::chrono_literals;

const time_point t0 = time_point{} + 3h + 123ns;

struct churn_timer : timer_node {
  bool cancelled = false;
  int fired = 0;
};

TEST(timer_wheel_churn, ten_seconds_of_half_cancelled_timers_fire_the_rest_once_on_time_and_leave_it_empty) {
  constexpr int steps = 10'000;  // 1 ms each
  constexpr int per_step = 20;
  std::mt19937_64 rng(36);
  std::uniform_int_distribution<std::int64_t> ahead_us(1'000, 200'000);
  std::deque<churn_timer> timers;  // stable addresses while it grows
  std::vector<churn_timer*> armed_order;
  wheel w(t0);
  std::size_t largest = 0;
  std::size_t next_to_consider = 0;  // cancels walk forward through what was armed
  timer_list due;
  for (int step = 1; step <= steps; ++step) {
    const time_point now = t0 + std::chrono::milliseconds(step);
    for (int i = 0; i < per_step; ++i) {
      churn_timer& t = timers.emplace_back();
      w.insert(t, now + std::chrono::microseconds(ahead_us(rng)));
      armed_order.push_back(&t);
    }
    // Cancel every other timer among those armed since the last step and still armed.
    for (bool cancel = true; next_to_consider < armed_order.size(); ++next_to_consider, cancel = !cancel) {
      churn_timer& t = *armed_order[next_to_consider];
      if (cancel && t.armed()) {
        w.cancel(t);
        t.cancelled = true;
      }
    }
    largest = std::max(largest, w.size());
    w.expire(now + 1ms, due);
    while (timer_node* n = due.pop_front()) {
      auto* t = static_cast<churn_timer*>(n);
      ASSERT_FALSE(t->cancelled) << "a cancelled timer fired";
      ASSERT_LE(n->deadline(), now + 1ms) << "a timer fired early";
      ++t->fired;
    }
  }
  w.expire(t0 + std::chrono::milliseconds(steps) + 1s, due);
  while (timer_node* n = due.pop_front()) {
    auto* t = static_cast<churn_timer*>(n);
    ASSERT_FALSE(t->cancelled);
    ++t->fired;
  }
  EXPECT_TRUE(w.empty());
  std::size_t cancelled = 0;
  for (const churn_timer& t : timers) {
    if (t.cancelled) ++cancelled;
    EXPECT_EQ(t.fired, t.cancelled ? 0 : 1);
  }
  EXPECT_EQ(cancelled, timers.size() / 2);
  // At most 200 ms of timers are armed at once, half of them cancelled: about 20 x 200 / 2.
  EXPECT_LE(largest, std::size_t{per_step} * 200);
  RecordProperty("largest_armed", std::to_string(largest));
}

}  // namespace
}  // namespace corio::timers
