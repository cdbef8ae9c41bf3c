// tests/runtime/when_any_test.cpp — when_any.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/capture_log.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

CORIO_TEST(when_any, the_first_to_finish_wins_and_the_losers_are_cancelled_and_awaited) {
  std::string slow;
  const auto start = current_loop().now();
  auto r = co_await corio::when_any(record(1h, slow), value_after(10ms, 7), nothing_after(20ms));
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(std::get<1>(r.value), 7);
  EXPECT_EQ(slow, "cancelled");  // already unwound when when_any returned
  EXPECT_EQ(current_loop().now() - start, 10ms);
  EXPECT_EQ(current_loop().live_tasks(), 1u);
  EXPECT_EQ(current_loop().armed_timers(), 0u);
}

CORIO_TEST(when_any, a_winner_that_failed_rethrows_its_exception_after_the_losers_unwound) {
  std::string slow;
  EXPECT_THROW(co_await corio::when_any(record(1h, slow), fail_after(5ms, "first")), std::runtime_error);
  EXPECT_EQ(slow, "cancelled");
}

CORIO_TEST(when_any, of_a_vector_reports_the_winning_index_and_value) {
  std::vector<corio::task<int>> tasks;
  tasks.push_back(value_after(30ms, 0));
  tasks.push_back(value_after(10ms, 1));
  tasks.push_back(value_after(20ms, 2));
  const auto r = co_await corio::when_any(std::move(tasks));
  EXPECT_EQ(r.index, 1u);
  EXPECT_EQ(r.value, 1);
}

CORIO_TEST(when_any, of_an_empty_vector_throws_invalid_argument) {
  EXPECT_THROW(co_await corio::when_any(std::vector<corio::task<int>>{}), std::invalid_argument);
}

CORIO_TEST(when_any, a_loser_failing_while_it_unwinds_is_logged_not_dropped) {
  testing_support::capture_log log;
  const auto r = co_await corio::when_any(value_after(1ms, 5), fail_when_cancelled("loser's cleanup failed"));
  EXPECT_EQ(r.index, 0u);
  EXPECT_NE(log.text().find("loser's cleanup failed"), std::string::npos) << log.text();
}

CORIO_TEST(when_any, cancelling_the_awaiting_task_cancels_every_child) {
  std::string a, b;
  auto h = corio::spawn(corio::when_any(record(1h, a), record(2h, b)));
  co_await corio::sleep(1ms);
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_EQ(a, "cancelled");
  EXPECT_EQ(b, "cancelled");
}
