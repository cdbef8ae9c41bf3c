// tests/runtime/spawn_test.cpp — spawn, join_handle: join, cancel, detach, drop.
#include <gtest/gtest.h>

#include <coroutine>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/capture_log.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

corio::task<> never_resumed() { co_await std::suspend_always{}; }

}  // namespace

CORIO_TEST(spawn, a_spawned_task_runs_concurrently_and_its_result_is_awaited) {
  const auto start = current_loop().now();
  auto a = corio::spawn(value_after(20ms, 1));
  auto b = corio::spawn(value_after(30ms, 2));
  EXPECT_EQ(co_await a + co_await b, 3);
  EXPECT_EQ(current_loop().now() - start, 30ms);
}

CORIO_TEST(spawn, the_task_does_not_start_inside_spawn) {
  bool started = false;
  auto h = corio::spawn([](bool& s) -> corio::task<> {
    s = true;
    co_return;
  }(started));
  EXPECT_FALSE(started);
  co_await h;
  EXPECT_TRUE(started);
}

CORIO_TEST(spawn, awaiting_a_failed_task_rethrows_its_exception) {
  auto h = corio::spawn(fail_after(1ms, "bad"));
  EXPECT_THROW(co_await h, std::runtime_error);
}

CORIO_TEST(spawn, cancel_makes_a_sleeping_task_throw_cancelled_and_disarms_its_timer_at_once) {
  std::string how;
  auto h = corio::spawn(record(1h, how));
  co_await until_parked(h);  // let it start sleeping
  EXPECT_EQ(current_loop().armed_timers(), 1u);
  h.cancel();
  EXPECT_EQ(current_loop().armed_timers(), 0u);
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_EQ(how, "cancelled");
}

CORIO_TEST(spawn, a_task_cancelled_before_it_starts_never_runs_its_body) {
  bool ran = false;
  auto h = corio::spawn(set_after(0ms, ran));
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_FALSE(ran);
}

CORIO_TEST(spawn, a_task_that_swallows_cancelled_is_cancelled_again_at_its_next_suspension) {
  int caught = 0;
  auto stubborn = [](int& n) -> corio::task<> {
    for (int i = 0; i < 3; ++i) {
      try {
        co_await corio::sleep(1h);
      } catch (const corio::cancelled&) {
        ++n;  // swallowed, on purpose: the cancellation must come back
      }
    }
  };
  auto h = corio::spawn(stubborn(caught));
  co_await until_parked(h);
  h.cancel();
  co_await h;  // it ends normally after swallowing all three
  EXPECT_EQ(caught, 3);
}

CORIO_TEST(spawn, dropping_an_unjoined_handle_cancels_the_task) {
  std::string how;
  {
    auto h = corio::spawn(record(1h, how));
    co_await until_parked(h);
  }
  co_await within_100_turns([&] { return !how.empty(); });  // its unwinding runs on a later turn
  EXPECT_EQ(how, "cancelled");
  EXPECT_EQ(current_loop().live_tasks(), 1u);  // only the test body
}

CORIO_TEST(spawn, a_detached_task_runs_to_completion) {
  bool done = false;
  corio::spawn(set_after(10ms, done)).detach();
  co_await corio::sleep(20ms);
  EXPECT_TRUE(done);
}

CORIO_TEST(spawn, a_detached_tasks_exception_is_logged_once_with_its_name) {
  testing_support::capture_log log;
  corio::spawn(fail_after(1ms, "lost in the void"), "reporter").detach();
  co_await corio::sleep(5ms);
  const std::string text = log.text();
  EXPECT_NE(text.find("never retrieved"), std::string::npos) << text;
  EXPECT_NE(text.find("'reporter'"), std::string::npos) << text;
  EXPECT_NE(text.find("lost in the void"), std::string::npos) << text;
  EXPECT_EQ(text.find("lost in the void"), text.rfind("lost in the void")) << "logged more than once";
}

CORIO_TEST(spawn, a_failure_whose_handle_is_dropped_unawaited_is_logged) {
  testing_support::capture_log log;
  {
    auto h = corio::spawn(fail_after(1ms, "nobody looked"), "ignored");
    co_await corio::sleep(5ms);
  }
  EXPECT_NE(log.text().find("nobody looked"), std::string::npos) << log.text();
}

CORIO_TEST(spawn, a_cancelled_task_is_not_reported_as_a_lost_exception) {
  testing_support::capture_log log;
  std::string how;
  corio::spawn(record(1h, how)).cancel();  // dropped right away: cancelled
  co_await corio::yield();
  EXPECT_EQ(log.text(), "");
}

CORIO_TEST(spawn, the_result_can_be_taken_only_once) {
  auto h = corio::spawn(value_after(1ms, 5));
  EXPECT_EQ(co_await h, 5);
  EXPECT_THROW(co_await h, corio::broken_promise);
}

CORIO_TEST(spawn, cancelling_the_joiner_leaves_the_joined_task_running) {
  bool done = false;
  auto worker = corio::spawn(set_after(50ms, done));
  auto joiner = corio::spawn([](corio::join_handle<void>& w) -> corio::task<> { co_await w; }(worker));
  co_await corio::sleep(10ms);
  joiner.cancel();
  EXPECT_THROW(co_await joiner, corio::cancelled);
  EXPECT_FALSE(worker.done());
  co_await worker;
  EXPECT_TRUE(done);
}

TEST(spawn, outside_a_running_loop_throws_logic_error) {
  EXPECT_THROW((void)corio::spawn(value_after(1ms, 1)), std::logic_error);
}

TEST(run, cancels_and_drains_the_tasks_left_when_main_returns) {
  std::string how;
  corio::run([](std::string& h) -> corio::task<> {
    corio::spawn(record(1h, h)).detach();
    co_await corio::yield();
  }(how));
  EXPECT_EQ(how, "cancelled");
}

TEST(run, reports_a_deadlock_instead_of_hanging) {
  EXPECT_THROW(corio::run(never_resumed()), corio::deadlock_error);
}

TEST(run, cannot_be_nested_inside_a_running_loop) {
  EXPECT_THROW(corio::run([]() -> corio::task<> {
                 corio::run(value_after(1ms, 1));
                 co_return;
               }()),
               std::logic_error);
}

// FIFO pinned: the test needs the body to resume before the sleeper in the turn where both
// timers fire (the wheel wakes them in arming order), which the shuffle would only sometimes give.
CORIO_TEST_WITH(spawn, a_cancel_that_arrives_after_the_sleep_ended_but_before_the_task_resumed_still_throws,
                corio::testing::fifo_order()) {
  std::string how;
  auto h = corio::spawn(record(5ms, how));
  co_await corio::sleep(5ms);  // both wake in this turn: the sleeper is queued right after us
  h.cancel();                  // its sleep completed, but it has not resumed yet
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_EQ(how, "cancelled");
}

CORIO_TEST(spawn, cancelling_a_finished_task_changes_nothing) {
  auto h = corio::spawn(value_after(1ms, 9));
  co_await corio::sleep(2ms);
  EXPECT_TRUE(h.done());
  h.cancel();
  EXPECT_EQ(co_await h, 9);
}
