// tests/runtime/testing_mock_test.cpp — runtime/testing_mock.hpp: gmock actions returning tasks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "runtime/testing_mock.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using ::testing::_;

namespace {

struct storage {
  virtual ~storage() = default;
  virtual corio::task<std::string> load(std::string key) = 0;
  virtual corio::task<int> size() = 0;
  virtual corio::task<void> save(std::string key, std::string value) = 0;
  virtual corio::task<std::unique_ptr<int>> take() = 0;
};

struct mock_storage : storage {
  MOCK_METHOD(corio::task<std::string>, load, (std::string key), (override));
  MOCK_METHOD(corio::task<int>, size, (), (override));
  MOCK_METHOD(corio::task<void>, save, (std::string key, std::string value), (override));
  MOCK_METHOD(corio::task<std::unique_ptr<int>>, take, (), (override));
};

corio::duration elapsed_since(corio::time_point start) { return testing_support::current_loop().now() - start; }

// True if awaiting `work` throws an E (and nothing before the co_await threw).
template <class E, class T>
corio::task<bool> awaiting_throws(corio::task<T> work) {
  try {
    (void)co_await std::move(work);
  } catch (const E&) {
    co_return true;
  }
  co_return false;
}

}  // namespace

CORIO_TEST(testing_mock, returns_async_gives_its_value_at_the_co_await_without_time_passing) {
  mock_storage db;
  EXPECT_CALL(db, load("a")).WillOnce(corio::testing::returns_async("apple"));
  EXPECT_CALL(db, size()).WillOnce(corio::testing::returns_async(3));
  const auto start = testing_support::current_loop().now();
  EXPECT_EQ(co_await db.load("a"), "apple");
  EXPECT_EQ(co_await db.size(), 3);
  EXPECT_EQ(elapsed_since(start), 0s);
}

CORIO_TEST(testing_mock, the_returned_task_is_lazy_like_a_real_coroutine) {
  mock_storage db;
  EXPECT_CALL(db, size()).WillOnce(corio::testing::returns_after(1s, 7));
  corio::task<int> pending = db.size();  // made, not started: no timer yet
  EXPECT_EQ(testing_support::current_loop().armed_timers(), 0u);
  EXPECT_EQ(co_await std::move(pending), 7);
}

CORIO_TEST(testing_mock, will_repeatedly_makes_a_fresh_task_for_every_call) {
  mock_storage db;
  EXPECT_CALL(db, load(_)).WillRepeatedly(corio::testing::returns_async(std::string("same")));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(co_await db.load("k" + std::to_string(i)), "same");
}

CORIO_TEST(testing_mock, returns_after_waits_that_long_on_the_loops_clock) {
  mock_storage db;
  EXPECT_CALL(db, load("slow")).WillOnce(corio::testing::returns_after(30s, "late"));
  EXPECT_CALL(db, save("k", "v")).WillOnce(corio::testing::returns_after(250ms));
  const auto start = testing_support::current_loop().now();
  EXPECT_EQ(co_await db.load("slow"), "late");
  EXPECT_EQ(elapsed_since(start), 30s);
  co_await db.save("k", "v");
  EXPECT_EQ(elapsed_since(start), 30s + 250ms);
}

CORIO_TEST(testing_mock, returns_after_a_zero_delay_still_goes_round_the_loop) {
  mock_storage db;
  EXPECT_CALL(db, size()).WillOnce(corio::testing::returns_after(0s, 1));
  // Counted, not watched through another task: which of a turn's ready tasks runs first is not
  // promised, but a co_await that goes round the loop is resumed by it exactly once.
  const std::uint64_t before = testing_support::current_loop().resumptions();
  EXPECT_EQ(co_await db.size(), 1);
  EXPECT_EQ(testing_support::current_loop().resumptions() - before, 1u) << "the call completed inline";
}

CORIO_TEST(testing_mock, a_slow_mock_is_cut_off_by_a_timeout_and_leaves_no_timer) {
  mock_storage db;
  EXPECT_CALL(db, load("slow")).WillOnce(corio::testing::returns_after(1h, "never"));
  const bool timed_out = co_await awaiting_throws<corio::timeout_error>(corio::timeout(5s, db.load("slow")));
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(testing_support::current_loop().armed_timers(), 0u);
}

CORIO_TEST(testing_mock, throws_async_throws_at_the_co_await_not_at_the_call) {
  mock_storage db;
  EXPECT_CALL(db, load("x")).WillOnce(corio::testing::throws_async(std::runtime_error("disk on fire")));
  EXPECT_CALL(db, save(_, _)).WillOnce(corio::testing::throws_async(std::invalid_argument("no")));
  corio::task<std::string> pending = db.load("x");  // no throw yet
  std::string message;
  try {
    (void)co_await std::move(pending);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  EXPECT_EQ(message, "disk on fire");
  const bool thrown = co_await awaiting_throws<std::invalid_argument>(db.save("k", "v"));
  EXPECT_TRUE(thrown);
}

CORIO_TEST(testing_mock, throws_async_works_for_a_move_only_result_type) {
  mock_storage db;
  EXPECT_CALL(db, take()).WillOnce(corio::testing::throws_async(std::runtime_error("empty")));
  const bool thrown = co_await awaiting_throws<std::runtime_error>(db.take());
  EXPECT_TRUE(thrown);
}

CORIO_TEST(testing_mock, returns_async_void_completes_a_task_void_method) {
  mock_storage db;
  EXPECT_CALL(db, save("k", "v")).WillOnce(corio::testing::returns_async());
  co_await db.save("k", "v");
}

CORIO_TEST(testing_mock, a_method_with_no_action_fails_clearly_instead_of_hanging) {
  ::testing::NiceMock<mock_storage> db;
  const bool broken = co_await awaiting_throws<corio::broken_promise>(db.size());
  EXPECT_TRUE(broken);
}
