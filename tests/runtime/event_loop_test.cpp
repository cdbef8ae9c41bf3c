// tests/runtime/event_loop_test.cpp — the loop itself: turns, fairness, clocks, teardown.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/counted.hpp"

using namespace std::chrono_literals;

namespace {

corio::task<> sleep_holding(testing_support::counted, corio::duration d) { co_await corio::sleep(d); }

class event_loop_test : public ::testing::Test {
 protected:
  void TearDown() override { corio::testing::expect_loop_is_empty(loop); }
  corio::event_loop loop{{.clock = corio::clock::manual()}};
};

}  // namespace

TEST_F(event_loop_test, an_empty_loop_reports_that_nothing_can_happen) { EXPECT_FALSE(loop.run_once()); }

TEST_F(event_loop_test, the_manual_clock_jumps_to_the_next_deadline_when_all_tasks_wait) {
  auto h = corio::detail::spawn_on(loop, []() -> corio::task<> { co_await corio::sleep(1h); }(), "sleeper", {});
  const auto start = loop.now();
  corio::run_until_done(loop, h);
  EXPECT_EQ(loop.now() - start, 1h);
}

TEST(event_loop, a_manual_clock_without_autojump_only_moves_when_told) {
  corio::event_loop loop({.clock = corio::clock::manual(corio::time_point{}, /*autojump=*/false)});
  auto h = corio::detail::spawn_on(loop, []() -> corio::task<> { co_await corio::sleep(10ms); }(), "sleeper", {});
  loop.run_once();                 // starts sleeping
  EXPECT_FALSE(loop.run_once());   // stalled: only the test can move time
  loop.clock().advance(9ms);
  loop.run_once();
  EXPECT_FALSE(h.done());
  loop.clock().advance(1ms);
  loop.run_once();
  loop.run_once();
  EXPECT_TRUE(h.done());
}

TEST(event_loop, destroying_it_destroys_every_live_frame_exactly_once_without_resuming_it) {
  testing_support::lifetime_counter frames;
  {
    corio::event_loop loop({.clock = corio::clock::manual()});
    auto a = corio::detail::spawn_on(loop, sleep_holding(testing_support::counted(frames), 1h), "a", {});
    auto b = corio::detail::spawn_on(loop, sleep_holding(testing_support::counted(frames), 2h), "b", {});
    a.detach();
    b.detach();
    loop.run_once();  // both now sleep
    EXPECT_EQ(frames.alive, 2);
    EXPECT_EQ(loop.armed_timers(), 2u);
  }
  EXPECT_EQ(frames.alive, 0);
}

TEST(event_loop, a_task_that_always_yields_does_not_starve_timers) {
  // Real clock: the spinner is always ready, so virtual time would never move.
  corio::run([]() -> corio::task<> {
    bool stop = false;
    long spins = 0;
    auto spinner = corio::spawn([](bool& s, long& n) -> corio::task<> {
      while (!s) {
        ++n;
        co_await corio::yield();
      }
    }(stop, spins));
    co_await corio::sleep(5ms);
    stop = true;
    co_await spinner;
    EXPECT_GT(spins, 0);
  }());
}

TEST(event_loop, counts_resumptions_and_the_ready_queue_high_water_mark) {
  corio::event_loop loop({.clock = corio::clock::manual()});
  for (int i = 0; i < 100; ++i)
    corio::detail::spawn_on(loop, []() -> corio::task<> { co_return; }(), "", {}).detach();
  while (loop.run_once()) {
  }
  EXPECT_EQ(loop.resumptions(), 100u);
  EXPECT_GE(loop.ready_high_water_mark(), 100u);
  EXPECT_EQ(loop.live_tasks(), 0u);
}

TEST(event_loop, the_turn_time_is_read_once_per_turn_and_again_in_the_next) {
  // Real clock: the point is what a real clock read costs, and when it is taken. A bare loop,
  // nothing registered: a turn that follows a yield does not wait for I/O at all.
  corio::event_loop loop;
  auto h = corio::detail::spawn_on(loop, [](corio::event_loop& l) -> corio::task<> {
    const corio::time_point first = l.turn_time();
    while (l.now() - first < 2ms) {
    }  // the turn goes on
    EXPECT_EQ(l.turn_time(), first) << "one turn, one reading";
    co_await corio::yield();  // the next turn
    const corio::time_point next_turn = l.turn_time();
    EXPECT_GE(next_turn - first, 2ms);
    co_await corio::sleep(5ms);
    EXPECT_GE(l.turn_time() - next_turn, 5ms);
  }(loop), "reader", {});
  corio::run_until_done(loop, h);
}

TEST(event_loop, with_a_manual_clock_the_turn_time_is_always_now) {
  corio::event_loop loop({.clock = corio::clock::manual(corio::time_point{}, /*autojump=*/false)});
  auto h = corio::detail::spawn_on(loop, [](corio::event_loop& l) -> corio::task<> {
    const corio::time_point start = l.turn_time();
    l.clock().advance(3s);
    EXPECT_EQ(l.turn_time(), start + 3s) << "a test sees exactly the time it set";
    co_return;
  }(loop), "advancer", {});
  corio::run_until_done(loop, h);
}

TEST(event_loop, a_timer_that_falls_due_while_a_turn_runs_fires_at_the_end_of_that_turn) {
  // The timer phase reads the clock afresh rather than take the turn's time, which is older
  // than the timer's deadline here. The order of one turn: the ready tasks, then due timers;
  // the steps below count on first-in first-out among the ready tasks, so no shuffle.
  corio::event_loop loop({.shuffle_seed = 0});
  bool fired = false;
  auto h = corio::detail::spawn_on(loop, [](corio::event_loop& l, bool& f) -> corio::task<> {
    auto sleeper = corio::spawn([](bool& done) -> corio::task<> {
      co_await corio::sleep(1ms);
      done = true;
    }(f));
    co_await corio::yield();  // next turn: the sleeper arms its timer, then this task runs
    const corio::time_point turn = l.turn_time();
    while (l.now() - turn < 3ms) {
    }  // the timer falls due while this turn runs
    co_await corio::yield();  // the timer fired at the end of that turn: the sleeper is queued
    co_await corio::yield();  // and has run by now
    EXPECT_TRUE(f) << "the timer waited for another turn";
    co_await sleeper;
  }(loop, fired), "spinner", {});
  corio::run_until_done(loop, h);
}
