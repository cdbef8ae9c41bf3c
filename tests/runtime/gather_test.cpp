// tests/runtime/gather_test.cpp — gather and gather_settled.
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

CORIO_TEST(gather, returns_results_in_argument_order_whatever_the_finishing_order) {
  const auto start = current_loop().now();
  auto [a, nothing, b] = co_await corio::gather(value_after(30ms, 1), nothing_after(10ms), value_after(20ms, 2));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(nothing, std::monostate{});
  EXPECT_EQ(b, 2);
  EXPECT_EQ(current_loop().now() - start, 30ms);  // concurrent: the longest, not the sum
}

CORIO_TEST(gather, of_a_vector_returns_a_vector_in_order) {
  std::vector<corio::task<int>> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(value_after(std::chrono::milliseconds(50 - 10 * i), i));
  const std::vector<int> results = co_await corio::gather(std::move(tasks));
  EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3, 4}));
}

CORIO_TEST(gather, of_an_empty_vector_returns_at_once) {
  const auto results = co_await corio::gather(std::vector<corio::task<int>>{});
  EXPECT_TRUE(results.empty());
}

CORIO_TEST(gather, of_ten_thousand_tasks_completes) {
  std::vector<corio::task<int>> tasks;
  for (int i = 0; i < 10'000; ++i) tasks.push_back(value_after(std::chrono::milliseconds(i % 100), i));
  const auto results = co_await corio::gather(std::move(tasks));
  CORIO_ASSERT(results.size() == 10'000u);
  for (int i = 0; i < 10'000; ++i) CORIO_ASSERT(results[static_cast<std::size_t>(i)] == i);
}

CORIO_TEST(gather, on_the_first_failure_cancels_the_rest_waits_for_them_then_rethrows_it) {
  std::string slow_one;
  const auto start = current_loop().now();
  try {
    co_await corio::gather(record(1h, slow_one), fail_after(10ms, "first"), value_after(5ms, 3));
    ADD_FAILURE() << "gather did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first");
  }
  EXPECT_EQ(slow_one, "cancelled");  // already unwound when gather threw
  EXPECT_EQ(current_loop().now() - start, 10ms);
  EXPECT_EQ(current_loop().live_tasks(), 1u);  // only the test body is left
}

CORIO_TEST(gather, a_second_real_failure_is_logged_not_dropped) {
  testing_support::capture_log log;
  EXPECT_THROW(co_await corio::gather(fail_after(1ms, "first"), fail_when_cancelled("second, during cleanup")),
               std::runtime_error);
  const std::string text = log.text();
  EXPECT_NE(text.find("second, during cleanup"), std::string::npos) << text;
  EXPECT_EQ(text.find("first"), std::string::npos) << "the rethrown error must not be reported as lost: " << text;
}

CORIO_TEST(gather, cancelling_the_awaiting_task_cancels_every_child_and_waits_for_them) {
  std::string a, b;
  auto h = corio::spawn(corio::gather(record(1h, a), record(2h, b)));
  co_await corio::sleep(1ms);
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_EQ(a, "cancelled");
  EXPECT_EQ(b, "cancelled");
  EXPECT_EQ(current_loop().armed_timers(), 0u);
}

CORIO_TEST(gather_settled, collects_values_and_exceptions_without_cancelling_anything) {
  std::string slow_one;
  auto [ok, failed, slow, nothing] =
      co_await corio::gather_settled(value_after(1ms, 7), fail_after(2ms, "bad"), record(30ms, slow_one), nothing_after(1ms));
  CORIO_ASSERT(ok.has_value());
  EXPECT_EQ(ok.value(), 7);
  EXPECT_FALSE(failed.has_value());
  EXPECT_THROW((void)failed.value(), std::runtime_error);
  EXPECT_NE(failed.error(), nullptr);
  EXPECT_TRUE(slow.has_value());
  EXPECT_EQ(slow_one, "finished");
  EXPECT_TRUE(nothing.has_value());
}

CORIO_TEST(gather_settled, of_a_vector_keeps_argument_order) {
  std::vector<corio::task<int>> tasks;
  tasks.push_back(fail_after(3ms, "x"));
  tasks.push_back(value_after(1ms, 1));
  const auto results = co_await corio::gather_settled(std::move(tasks));
  CORIO_ASSERT(results.size() == 2u);
  EXPECT_FALSE(results[0].has_value());
  EXPECT_EQ(results[1].value(), 1);
}
