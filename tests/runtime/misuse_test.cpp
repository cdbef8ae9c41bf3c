// tests/runtime/misuse_test.cpp — using tasks and join handles the wrong way (reliability.md
// T-27): awaiting an empty or moved-from task, awaiting a task a second time (after it finished,
// or while another task is still running it), spawning a task that was already awaited, and the
// join_handle mistakes. Each one is a corio::broken_promise saying what went wrong, in every
// build type — never a resumed finished frame (undefined behaviour that ASan reports, or a crash).
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <utility>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using testing_support::value_after;

namespace {

corio::task<int> forty_two() { co_return 42; }

corio::task<> fails_at_once() {
  throw std::runtime_error("the one failure");
  co_return;
}

// Awaits `t`, which another task may be awaiting too (the caller keeps it alive).
corio::task<int> await_shared(corio::task<int>& t) { co_return co_await std::move(t); }

}  // namespace

CORIO_TEST(task_misuse, awaiting_a_moved_from_task_throws_broken_promise_and_the_new_owner_still_works) {
  corio::task<int> original = forty_two();
  corio::task<int> owner = std::move(original);
  EXPECT_THROW(co_await std::move(original), corio::broken_promise);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(co_await std::move(owner), 42);
}

CORIO_TEST(task_misuse, awaiting_a_task_that_finished_inline_again_throws_broken_promise) {
  corio::task<int> t = forty_two();
  EXPECT_EQ(co_await std::move(t), 42);
  EXPECT_THROW(co_await std::move(t), corio::broken_promise);  // NOLINT(bugprone-use-after-move)
  EXPECT_THROW(co_await std::move(t), corio::broken_promise);  // and a third time: still the same
}

CORIO_TEST(task_misuse, awaiting_a_task_that_finished_after_suspending_again_throws_broken_promise) {
  corio::task<int> t = value_after(5ms, 7);
  EXPECT_EQ(co_await std::move(t), 7);
  EXPECT_THROW(co_await std::move(t), corio::broken_promise);  // NOLINT(bugprone-use-after-move)
}

CORIO_TEST(task_misuse, awaiting_a_failed_task_again_is_broken_promise_not_its_exception_a_second_time) {
  corio::task<> t = fails_at_once();
  EXPECT_THROW(co_await std::move(t), std::runtime_error);
  EXPECT_THROW(co_await std::move(t), corio::broken_promise);  // NOLINT(bugprone-use-after-move)
}

CORIO_TEST(task_misuse, a_second_task_awaiting_a_task_that_is_still_running_gets_broken_promise) {
  corio::task<int> shared = value_after(10ms, 3);
  auto first = corio::spawn(await_shared(shared), "first");
  co_await corio::sleep(1ms);  // `first` has started `shared`, which now sleeps
  auto second = corio::spawn(await_shared(shared), "second");
  EXPECT_THROW(co_await second, corio::broken_promise);
  EXPECT_EQ(co_await first, 3);  // the rightful awaiter is untouched
}

CORIO_TEST(task_misuse, spawning_an_empty_task_throws_broken_promise) {
  corio::task<int> empty;
  co_await corio::yield();  // (a body without co_await: g++ 12 takes the co_return for a missing return)
  EXPECT_THROW((void)corio::spawn(std::move(empty)), corio::broken_promise);
}

CORIO_TEST(task_misuse, spawning_a_task_that_was_already_awaited_throws_broken_promise_and_frees_it) {
  corio::task<int> t = forty_two();
  EXPECT_EQ(co_await std::move(t), 42);
  EXPECT_THROW((void)corio::spawn(std::move(t)), corio::broken_promise);  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(t.valid());  // spawn took the frame and destroyed it; nothing leaks
}

CORIO_TEST(join_handle_misuse, result_before_the_task_finished_throws_broken_promise) {
  auto h = corio::spawn(value_after(1ms, 1));
  EXPECT_THROW((void)h.result(), corio::broken_promise);
  EXPECT_EQ(co_await h, 1);
}

CORIO_TEST(join_handle_misuse, awaiting_an_empty_or_moved_from_handle_throws_broken_promise) {
  corio::join_handle<int> empty;
  EXPECT_THROW(co_await empty, corio::broken_promise);
  auto h = corio::spawn(value_after(1ms, 2));
  auto owner = std::move(h);
  EXPECT_THROW(co_await h, corio::broken_promise);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(co_await owner, 2);
}

CORIO_TEST(join_handle_misuse, two_tasks_awaiting_one_handle_at_once_the_second_gets_broken_promise) {
  auto worker = corio::spawn(value_after(10ms, 9), "worker");
  auto join = [](corio::join_handle<int>& h) -> corio::task<int> { co_return co_await h; };
  auto first = corio::spawn(join(worker), "first joiner");
  co_await corio::sleep(1ms);  // the first joiner is parked on the worker
  auto second = corio::spawn(join(worker), "second joiner");
  EXPECT_THROW(co_await second, corio::broken_promise);
  EXPECT_EQ(co_await first, 9);
}
