// tests/runtime/debug_mode_test.cpp — debug mode (runtime/debug.hpp): slow resumptions, coroutines
// never awaited, and exceptions nobody retrieved (logged exactly once, debug mode or not).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/capture_log.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

corio::event_loop::options debug_on(corio::duration threshold = 100ms) {
  return {.debug = corio::debug_mode::on, .slow_resumption = threshold};
}

/// Blocks the loop's thread for `d` after one suspension (the seed's time.sleep in async code).
corio::task<> block_after_yield(std::chrono::milliseconds d) {
  co_await corio::yield();
  std::this_thread::sleep_for(d);
}

corio::task<> nested_blocker(std::chrono::milliseconds d) { co_await block_after_yield(d); }

corio::task<> spawn_blocker(std::chrono::milliseconds d) { co_await corio::spawn(nested_blocker(d), "blocker"); }

corio::task<int> forty_two() { co_return 42; }

/// Makes a coroutine and drops it without awaiting it.
corio::task<> drop_a_coroutine() {
  { auto forgotten = forty_two(); }
  co_return;
}

}  // namespace

TEST(debug_mode, a_resumption_that_blocks_for_200_ms_is_reported_with_its_task_and_await_chain) {
  capture_log log;
  corio::run(spawn_blocker(200ms), debug_on());
  const std::string text = log.text();
  EXPECT_EQ(occurrences(text, "slow resumption"), 1u) << text;
  EXPECT_NE(text.find("task #2 'blocker' spawned at"), std::string::npos) << text;
  EXPECT_NE(text.find("debug_mode_test.cpp"), std::string::npos) << text;
  // The await chain, outermost frame first: nested_blocker awaits block_after_yield.
  const std::size_t outer = text.find("nested_blocker");
  EXPECT_NE(outer, std::string::npos) << text;
  EXPECT_NE(text.find("block_after_yield", outer), std::string::npos) << text;
  EXPECT_NE(text.find("threshold 100.0 ms"), std::string::npos) << text;
}

TEST(debug_mode, a_resumption_that_blocks_for_20_ms_is_not_reported) {
  capture_log log;
  corio::run(spawn_blocker(20ms), debug_on());
  EXPECT_EQ(log.text().find("slow resumption"), std::string::npos) << log.text();
}

TEST(debug_mode, the_threshold_is_an_option) {
  capture_log log;
  corio::run(spawn_blocker(20ms), debug_on(5ms));
  EXPECT_EQ(occurrences(log.text(), "slow resumption"), 1u) << log.text();
}

TEST(debug_mode, is_off_by_default_so_a_blocking_resumption_is_not_reported) {
  if (corio::detail::debug_requested_by_environment()) GTEST_SKIP() << "CORIO_DEBUG=1 is set";
  capture_log log;
  corio::run(spawn_blocker(200ms));
  EXPECT_EQ(log.text().find("slow resumption"), std::string::npos) << log.text();
}

TEST(debug_mode, follows_CORIO_DEBUG_in_the_environment_unless_an_option_says_otherwise) {
  const char* env = std::getenv("CORIO_DEBUG");
  const bool requested = env != nullptr && std::string_view(env) == "1";
  EXPECT_EQ(corio::event_loop().debug(), requested);
  EXPECT_TRUE(corio::event_loop({.debug = corio::debug_mode::on}).debug());
  EXPECT_FALSE(corio::event_loop({.debug = corio::debug_mode::off}).debug());
}

TEST(debug_mode, a_coroutine_destroyed_without_being_awaited_is_reported_with_its_location) {
  capture_log log;
  corio::run(drop_a_coroutine(), debug_on());
  const std::string text = log.text();
  EXPECT_EQ(occurrences(text, "was never awaited"), 1u) << text;
  EXPECT_NE(text.find("debug_mode_test.cpp:"), std::string::npos) << text;
}

TEST(debug_mode, coroutines_that_are_awaited_spawned_or_moved_from_are_not_reported) {
  capture_log log;
  corio::run(
      []() -> corio::task<> {
        EXPECT_EQ(co_await forty_two(), 42);
        auto named = forty_two();
        auto moved = std::move(named);  // `named` is empty now: nothing to report for it
        EXPECT_EQ(co_await std::move(moved), 42);
        EXPECT_EQ(co_await corio::spawn(forty_two()), 42);
        auto [a, b] = co_await corio::gather(forty_two(), forty_two());
        EXPECT_EQ(a + b, 84);
      }(),
      debug_on());
  EXPECT_EQ(log.text().find("never awaited"), std::string::npos) << log.text();
}

TEST(debug_mode, a_coroutine_never_awaited_is_not_reported_when_debug_mode_is_off) {
  capture_log log;
  corio::run(drop_a_coroutine(), {.debug = corio::debug_mode::off});
  EXPECT_EQ(log.text().find("never awaited"), std::string::npos) << log.text();
}

TEST(debug_mode, longest_resumption_and_slow_resumptions_are_measured) {
  corio::event_loop loop(debug_on(10ms));
  auto h = corio::detail::spawn_on(loop, nested_blocker(30ms), "blocker", {});
  capture_log log;
  corio::run_until_done(loop, h);
  const corio::loop_metrics m = loop.metrics();
  EXPECT_GE(m.longest_resumption, 30ms);
  EXPECT_EQ(m.slow_resumptions, 1u);
}

// --- exceptions nobody retrieved: logged exactly once (debug mode or not) ---

CORIO_TEST(unretrieved, a_detached_task_that_fails_is_logged_once) {
  capture_log log;
  corio::spawn(fail_after(1ms, "detached and lost"), "detached").detach();
  co_await corio::sleep(5ms);
  EXPECT_EQ(occurrences(log.text(), "detached and lost"), 1u) << log.text();
  EXPECT_NE(log.text().find("never retrieved"), std::string::npos) << log.text();
}

CORIO_TEST(unretrieved, a_handle_dropped_after_its_task_failed_is_logged_once) {
  capture_log log;
  {
    auto h = corio::spawn(fail_after(1ms, "dropped after failing"));
    co_await corio::sleep(5ms);
  }
  EXPECT_EQ(occurrences(log.text(), "dropped after failing"), 1u) << log.text();
}

CORIO_TEST(unretrieved, a_handle_dropped_while_its_task_runs_logs_the_failure_it_ends_with) {
  capture_log log;
  {
    auto h = corio::spawn(fail_when_cancelled("failed while cancelled"));
    co_await until_parked(h);  // it must have started: cancelled before that, it never fails
    EXPECT_TRUE(parked(h));
  }  // dropping cancels it; it fails for real while unwinding
  // It unwinds in a later turn, and which of that turn's ready tasks runs first is not promised.
  auto only_the_body_is_left = [] { return current_loop().live_tasks() == 1; };
  co_await within_100_turns(only_the_body_is_left);
  EXPECT_EQ(occurrences(log.text(), "failed while cancelled"), 1u) << log.text();
}

CORIO_TEST(unretrieved, an_awaited_failure_is_not_logged) {
  capture_log log;
  auto h = corio::spawn(fail_after(1ms, "seen by its joiner"));
  EXPECT_THROW(co_await h, std::runtime_error);
  EXPECT_EQ(log.text().find("seen by its joiner"), std::string::npos) << log.text();
}

CORIO_TEST(unretrieved, a_gathers_second_failure_is_logged_once_and_the_first_is_rethrown_not_logged) {
  capture_log log;
  EXPECT_THROW(co_await corio::gather(fail_after(1ms, "first failure"), fail_when_cancelled("second failure")),
               std::runtime_error);
  const std::string text = log.text();
  EXPECT_EQ(occurrences(text, "second failure"), 1u) << text;
  EXPECT_EQ(occurrences(text, "first failure"), 0u) << text;
}

CORIO_TEST(unretrieved, gather_settled_hands_every_failure_back_so_nothing_is_logged) {
  capture_log log;
  auto [a, b] = co_await corio::gather_settled(fail_after(1ms, "settled one"), fail_after(2ms, "settled two"));
  EXPECT_FALSE(a.has_value());
  EXPECT_FALSE(b.has_value());
  EXPECT_EQ(log.text().find("settled"), std::string::npos) << log.text();
}

CORIO_TEST(unretrieved, a_to_thread_job_that_fails_after_its_task_gave_up_is_logged_once) {
  capture_log log;
  std::atomic<bool> started{false};
  std::atomic<bool> may_fail{false};
  auto job = [&started, &may_fail] {
    started = true;
    while (!may_fail) std::this_thread::sleep_for(1ms);
    throw std::runtime_error("thread job failed unheard");
  };
  auto waiter = corio::spawn([](auto fn) -> corio::task<> { co_await corio::to_thread(fn); }(job));
  while (!started) co_await corio::sleep(1ms);  // a job cancelled before it starts never runs
  waiter.cancel();
  may_fail = true;  // only now: the job fails after its task gave up, whatever the scheduling
  EXPECT_THROW(co_await waiter, corio::cancelled);
  while (corio::event_loop::current()->thread_jobs_in_flight() > 0) co_await corio::sleep(1ms);
  EXPECT_EQ(occurrences(log.text(), "thread job failed unheard"), 1u) << log.text();
}
