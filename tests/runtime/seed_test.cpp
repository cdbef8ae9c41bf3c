// tests/runtime/seed_test.cpp — the seed lesson's examples, on virtual time.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;

namespace {


corio::task<> fetch_data(std::vector<std::string>& out) {
  out.push_back("Fetching data...");
  co_await corio::sleep(2s);
  out.push_back("Data fetched!");
}

corio::task<> process_data(std::vector<std::string>& out) {
  out.push_back("Processing data...");
  co_await corio::sleep(1s);
  out.push_back("Data processed!");
}

const std::vector<std::string> seed_order = {"Fetching data...", "Processing data...", "Data processed!",
                                             "Data fetched!"};

}  // namespace

// FIFO pinned here and below: the seed's printed order is asyncio's, whose tasks start in the
// order they were created (call_soon is FIFO); corio gives the same order with a FIFO ready queue.
CORIO_TEST_WITH(seed, gather_of_a_2s_and_a_1s_task_finishes_at_2s_in_the_seeds_order, corio::testing::fifo_order()) {
  std::vector<std::string> out;
  const auto start = testing_support::current_loop().now();
  co_await corio::gather(fetch_data(out), process_data(out));
  EXPECT_EQ(testing_support::current_loop().now() - start, 2s);
  EXPECT_EQ(out, seed_order);
}

CORIO_TEST(seed, awaiting_one_after_the_other_takes_the_sum_3s) {
  std::vector<std::string> out;
  const auto start = testing_support::current_loop().now();
  co_await fetch_data(out);
  co_await process_data(out);
  EXPECT_EQ(testing_support::current_loop().now() - start, 3s);
  EXPECT_EQ(out, (std::vector<std::string>{"Fetching data...", "Data fetched!", "Processing data...",
                                            "Data processed!"}));
}

CORIO_TEST_WITH(seed, create_task_then_await_both_also_takes_2s, corio::testing::fifo_order()) {
  std::vector<std::string> out;
  const auto start = testing_support::current_loop().now();
  auto fetch = corio::spawn(fetch_data(out), "fetch");
  auto process = corio::spawn(process_data(out), "process");
  co_await fetch;
  co_await process;
  EXPECT_EQ(testing_support::current_loop().now() - start, 2s);
  EXPECT_EQ(out, seed_order);
}

namespace {
corio::task<int> risky(int v) {
  co_await corio::sleep(1s);
  if (v == 2) throw std::runtime_error("task 2 failed");
  co_return v;
}
}  // namespace

// The seed's exception lesson: a try/catch around gather sees the failure of any task.
CORIO_TEST(seed, try_catch_around_gather_catches_a_failing_task) {
  std::string caught;
  try {
    co_await corio::gather(risky(1), risky(2), risky(3));
  } catch (const std::exception& e) {
    caught = e.what();
  }
  EXPECT_EQ(caught, "task 2 failed");
}

// ...and with return_exceptions=True (gather_settled) every result comes back, the failure as
// an exception object, the others as values.
CORIO_TEST(seed, gather_settled_returns_the_failure_next_to_the_results) {
  auto [a, b, c] = co_await corio::gather_settled(risky(1), risky(2), risky(3));
  EXPECT_EQ(a.value(), 1);
  EXPECT_FALSE(b.has_value());
  EXPECT_THROW((void)b.value(), std::runtime_error);
  EXPECT_EQ(c.value(), 3);
}
