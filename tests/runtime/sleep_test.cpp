// tests/runtime/sleep_test.cpp — sleep, sleep_until, yield.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;

namespace {

corio::task<> append_after(corio::duration d, std::vector<std::string>& out, std::string what) {
  co_await corio::sleep(d);
  out.push_back(std::move(what));
}
}  // namespace

CORIO_TEST(sleep, resumes_exactly_at_its_deadline_on_the_manual_clock) {
  const auto start = testing_support::current_loop().now();
  co_await corio::sleep(1500us);
  EXPECT_EQ(testing_support::current_loop().now() - start, 1500us);
  co_await corio::sleep(std::chrono::duration<double>(0.25));
  EXPECT_EQ(testing_support::current_loop().now() - start, 1500us + 250ms);
}

CORIO_TEST(sleep, counts_from_the_co_await_not_from_the_call) {
  auto pending = corio::sleep(10ms);
  co_await corio::sleep(5ms);
  const auto before = testing_support::current_loop().now();
  co_await pending;
  EXPECT_EQ(testing_support::current_loop().now() - before, 10ms);
}

// FIFO pinned: yield() promises that every other ready task runs first; under the shuffle that
// holds only for tasks that were ready when the turn began, and `other` was spawned in this turn.
CORIO_TEST_WITH(sleep, zero_and_yield_let_every_other_ready_task_run_first, corio::testing::fifo_order()) {
  std::vector<std::string> out;
  auto other = corio::spawn(append_after(0ms, out, "other"));
  co_await corio::yield();  // `other` starts, and parks on its zero sleep
  out.push_back("body");
  co_await corio::sleep(0ms);
  co_await other;
  EXPECT_EQ(out, (std::vector<std::string>{"body", "other"}));
}

// Whether another ready task runs before or after the body resumes is not promised (the shuffle
// changes it), so the test looks at the loop's count of resumptions instead.
CORIO_TEST(sleep, a_past_deadline_does_not_complete_inside_the_co_await) {
  const std::uint64_t before = testing_support::current_loop().resumptions();
  co_await corio::sleep_until(testing_support::current_loop().now() - 1s);
  EXPECT_EQ(testing_support::current_loop().resumptions(), before + 1) << "the body was suspended and resumed once";
}

CORIO_TEST(sleep, timers_fire_in_deadline_order_at_their_deadlines) {
  std::vector<std::string> out;
  std::vector<corio::task<>> tasks;
  tasks.push_back(append_after(30ms, out, "c"));
  tasks.push_back(append_after(10ms, out, "a"));
  tasks.push_back(append_after(20ms, out, "b"));
  const auto start = testing_support::current_loop().now();
  co_await corio::gather(std::move(tasks));
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(testing_support::current_loop().now() - start, 30ms);
}

CORIO_TEST(sleep, a_far_future_deadline_is_clamped_and_can_be_cancelled) {
  auto forever = corio::spawn([]() -> corio::task<> { co_await corio::sleep(std::chrono::hours::max()); }());
  auto until_max = corio::spawn([]() -> corio::task<> { co_await corio::sleep_until(corio::time_point::max()); }());
  co_await testing_support::until_parked(forever);
  co_await testing_support::until_parked(until_max);
  EXPECT_EQ(testing_support::current_loop().armed_timers(), 2u);
  forever.cancel();
  until_max.cancel();
  EXPECT_EQ(testing_support::current_loop().armed_timers(), 0u);
  EXPECT_THROW(co_await forever, corio::cancelled);
  EXPECT_THROW(co_await until_max, corio::cancelled);
}

CORIO_TEST(sleep, ten_years_passes_in_virtual_time) {
  const auto start = testing_support::current_loop().now();
  co_await corio::sleep(24h * 3653);
  EXPECT_EQ(testing_support::current_loop().now() - start, 24h * 3653);
}

CORIO_TEST(sleep, a_cancelled_task_throws_at_once_without_sleeping) {
  auto h = corio::spawn([]() -> corio::task<> {
    co_await corio::sleep(1h);
  }());
  h.cancel();
  const auto start = testing_support::current_loop().now();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_EQ(testing_support::current_loop().now(), start);
}

// T-39: on the real clock, no sleep ever ends before its deadline (the poll timeout is
// rounded up, never down).
TEST(sleep, never_wakes_early_on_the_steady_clock) {
  corio::run([]() -> corio::task<> {
    std::mt19937 random(39);
    std::vector<corio::task<>> sleepers;
    int early = 0;
    for (int i = 0; i < 1000; ++i) {
      const auto d = std::chrono::microseconds(1000 + random() % 49'000);
      sleepers.push_back([](corio::duration delay, int& early_count) -> corio::task<> {
        const auto deadline = std::chrono::steady_clock::now() + delay;
        co_await corio::sleep(delay);
        if (std::chrono::steady_clock::now() < deadline) ++early_count;
      }(d, early));
    }
    co_await corio::gather(std::move(sleepers));
    EXPECT_EQ(early, 0);
  }());
}
