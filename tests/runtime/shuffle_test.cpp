// tests/runtime/shuffle_test.cpp — the ready-queue shuffle (event_loop::options::shuffle_seed):
// off it is FIFO, on it reorders a turn's ready tasks reproducibly, and a failing CORIO_TEST
// names the seed.
#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"

namespace {

constexpr int tasks = 16;

corio::task<> record(std::vector<int>& order, int id) {
  order.push_back(id);
  co_return;
}

// The order in which `tasks` tasks, spawned in id order, first run.
std::vector<int> start_order(std::optional<std::uint64_t> seed) {
  std::vector<int> order;
  corio::run(
      [](std::vector<int>& out) -> corio::task<> {
        std::vector<corio::task<>> all;
        for (int id = 0; id < tasks; ++id) all.push_back(record(out, id));
        co_await corio::gather(std::move(all));
      }(order),
      corio::event_loop::options{.shuffle_seed = seed});
  return order;
}

std::vector<int> fifo() {
  std::vector<int> ids;
  for (int id = 0; id < tasks; ++id) ids.push_back(id);
  return ids;
}

// Sets an environment variable for one scope, restoring what was there.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
  ~scoped_env() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST(ready_queue_shuffle, is_off_with_seed_0_and_tasks_start_in_spawn_order) {
  EXPECT_EQ(start_order(0), fifo());
}

TEST(ready_queue_shuffle, reorders_the_ready_tasks_of_a_turn) {
  EXPECT_NE(start_order(1), fifo());
  EXPECT_NE(start_order(2), start_order(1)) << "different seeds, different orders";
}

TEST(ready_queue_shuffle, replays_the_same_order_for_the_same_seed) {
  const std::vector<int> first = start_order(12345);
  EXPECT_EQ(start_order(12345), first);
  std::vector<int> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, fifo()) << "every task ran exactly once";
}

TEST(ready_queue_shuffle, takes_its_seed_from_CORIO_SHUFFLE_SEED_unless_the_options_set_one) {
  const scoped_env env("CORIO_SHUFFLE_SEED", "12345");
  EXPECT_EQ(corio::event_loop().shuffle_seed(), 12345u);
  EXPECT_EQ(corio::event_loop({.shuffle_seed = 0}).shuffle_seed(), 0u) << "0 pins FIFO";
  EXPECT_EQ(start_order(std::nullopt), start_order(12345));
}

TEST(ready_queue_shuffle, refuses_a_CORIO_SHUFFLE_SEED_that_is_not_a_number) {
  const scoped_env env("CORIO_SHUFFLE_SEED", "12x");
  EXPECT_THROW(corio::event_loop(), std::invalid_argument);
}

namespace {

corio::task<> a_failing_body() {
  ADD_FAILURE() << "the body failed";
  co_return;
}

}  // namespace

TEST(ready_queue_shuffle, a_failing_CORIO_TEST_names_the_seed_to_replay_it) {
  ::testing::TestPartResultArray failures;
  {
    const ::testing::ScopedFakeTestPartResultReporter intercept(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    corio::testing::options opts;
    opts.shuffle_seed = 777;
    corio::testing::run_test(a_failing_body(), opts);
  }
  ASSERT_EQ(failures.size(), 1);
  EXPECT_THAT(failures.GetTestPartResult(0).message(), ::testing::HasSubstr("CORIO_SHUFFLE_SEED=777"));
}
