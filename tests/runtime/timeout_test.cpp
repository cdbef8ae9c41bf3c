// tests/runtime/timeout_test.cpp — timeout and timeout_at.
#include <gtest/gtest.h>

#include <string>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

CORIO_TEST(timeout, work_that_finishes_in_time_returns_its_value_and_leaves_no_timer) {
  EXPECT_EQ(co_await corio::timeout(10ms, value_after(9ms, 3)), 3);
  EXPECT_EQ(current_loop().armed_timers(), 0u);
}

CORIO_TEST(timeout, fires_exactly_at_the_deadline_after_the_work_unwound) {
  std::string how;
  const auto start = current_loop().now();
  try {
    co_await corio::timeout(30s, record(1h, how));
    ADD_FAILURE() << "no timeout_error";
  } catch (const corio::timeout_error& e) {
    EXPECT_EQ(how, "cancelled") << "the work must have unwound before the error";
    EXPECT_EQ(e.limit(), 30s);
    EXPECT_EQ(e.elapsed(), 30s);
    EXPECT_NE(std::string(e.what()).find("timeout_test.cpp"), std::string::npos) << e.what();
  }
  EXPECT_EQ(current_loop().now() - start, 30s);
}

CORIO_TEST(timeout, work_due_a_nanosecond_before_the_limit_wins_and_the_limit_is_never_early) {
  auto sleep_for = [](corio::duration d) -> corio::task<int> {
    co_await corio::sleep(d);
    co_return 1;
  };
  EXPECT_EQ(co_await corio::timeout(10ms, sleep_for(10ms - 1ns)), 1);
  const auto start = current_loop().now();
  EXPECT_THROW(co_await corio::timeout(10ms, sleep_for(10ms + 1ns)), corio::timeout_error);
  EXPECT_EQ(current_loop().now() - start, 10ms);
}

CORIO_TEST(timeout, timeout_at_uses_an_absolute_deadline) {
  const auto deadline = current_loop().now() + 5ms;
  EXPECT_THROW(co_await corio::timeout_at(deadline, value_after(1h, 1)), corio::timeout_error);
  EXPECT_EQ(current_loop().now(), deadline);
}

CORIO_TEST(timeout, a_past_deadline_stops_the_work_at_its_first_suspension) {
  EXPECT_THROW(co_await corio::timeout_at(current_loop().now() - 1s, value_after(1ms, 1)), corio::timeout_error);
}

CORIO_TEST(timeout, nested_limits_the_earliest_fires_and_only_it_becomes_timeout_error) {
  // Inner limit earlier: the inner one fires; the outer sees a timeout_error pass through.
  try {
    co_await corio::timeout(1s, corio::timeout(10ms, value_after(1h, 1)));
    ADD_FAILURE() << "no timeout_error";
  } catch (const corio::timeout_error& e) {
    EXPECT_EQ(e.limit(), 10ms);
  }
  // Outer limit earlier: the outer one fires, the inner limit does not claim it.
  try {
    co_await corio::timeout(10ms, corio::timeout(1s, value_after(1h, 1)));
    ADD_FAILURE() << "no timeout_error";
  } catch (const corio::timeout_error& e) {
    EXPECT_EQ(e.limit(), 10ms);
  }
  EXPECT_EQ(current_loop().armed_timers(), 0u);
}

CORIO_TEST(timeout, an_outer_cancel_is_never_mistaken_for_a_timeout) {
  auto h = corio::spawn(corio::timeout(1h, value_after(2h, 1)));
  co_await corio::sleep(10ms);
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
}

CORIO_TEST(timeout, a_timeout_is_not_mistaken_for_an_outer_cancel_by_an_enclosing_scope) {
  corio::cancel_scope scope;
  bool timed_out = false;
  const auto r = co_await scope.run([](bool& flag) -> corio::task<int> {
    try {
      co_return co_await corio::timeout(5ms, value_after(1h, 1));
    } catch (const corio::timeout_error&) {
      flag = true;
      co_return 0;
    }
  }(timed_out));
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(r, 0);
  EXPECT_FALSE(scope.cancel_called());
}

CORIO_TEST(timeout, work_that_swallows_the_cancellation_and_finishes_returns_its_value) {
  auto swallow = []() -> corio::task<int> {
    try {
      co_await corio::sleep(1h);
    } catch (const corio::cancelled&) {
    }
    co_return 42;  // finishes without suspending again
  };
  EXPECT_EQ(co_await corio::timeout(5ms, swallow()), 42);
}

CORIO_TEST(timeout, stops_a_gather_and_waits_for_every_child) {
  std::string a, b;
  EXPECT_THROW(co_await corio::timeout(5ms, corio::gather(record(1h, a), record(2h, b))), corio::timeout_error);
  EXPECT_EQ(a, "cancelled");
  EXPECT_EQ(b, "cancelled");
  EXPECT_EQ(current_loop().live_tasks(), 1u);
}

CORIO_TEST(timeout, limits_a_join_without_cancelling_the_joined_task) {
  bool done = false;
  auto worker = corio::spawn(set_after(50ms, done));
  auto join = [](corio::join_handle<void>& w) -> corio::task<> { co_await w; };
  EXPECT_THROW(co_await corio::timeout(10ms, join(worker)), corio::timeout_error);
  EXPECT_FALSE(worker.done());
  co_await worker;
  EXPECT_TRUE(done);
}

CORIO_TEST(timeout, a_cancelled_thrown_by_the_work_itself_is_not_reported_as_a_timeout) {
  auto gives_up = []() -> corio::task<int> {
    co_await corio::sleep(1ms);
    throw corio::cancelled{};  // e.g. rethrown from a task it joined that was cancelled
  };
  EXPECT_THROW(co_await corio::timeout(1h, gives_up()), corio::cancelled);
}
