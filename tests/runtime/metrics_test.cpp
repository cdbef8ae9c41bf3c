// tests/runtime/metrics_test.cpp — event_loop::metrics() (runtime/metrics.hpp) in known scenarios.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

// main spawns three sleepers (10, 20, 30 ms) at once and joins them in order. Resumptions: main
// starts (1), the sleepers start (3) and wake (3), and main wakes from each join (3) = 10.
corio::task<> three_sleepers() {
  std::vector<corio::join_handle<void>> handles;
  for (auto d : {10ms, 20ms, 30ms}) handles.push_back(corio::spawn(nothing_after(d)));
  for (auto& h : handles) co_await h;
}

struct ignore_readiness final : corio::detail::io_handler {
  void on_ready(const corio::detail::poll_event&) noexcept override {}
};

}  // namespace

TEST(metrics, count_a_known_scenario_exactly) {
  corio::event_loop loop({.clock = corio::clock::manual()});
  auto main = corio::detail::spawn_on(loop, three_sleepers(), "main", {});
  corio::run_until_done(loop, main);
  const corio::loop_metrics m = loop.metrics();
  EXPECT_EQ(m.tasks_spawned, 4u);
  EXPECT_EQ(m.live_tasks, 0u);
  EXPECT_EQ(m.resumptions, 10u);
  EXPECT_EQ(m.timers_armed, 3u);
  EXPECT_EQ(m.timers_fired, 3u);
  EXPECT_EQ(m.armed_timers, 0u);
  EXPECT_EQ(m.ready_high_water_mark, 3u);  // the three sleepers, queued together
  EXPECT_EQ(m.polls, 0u);                  // a manual clock jumps: nothing to wait for in the poller
  EXPECT_EQ(m.registered_fds, 0u);
  EXPECT_EQ(m.thread_jobs_in_flight, 0u);
  EXPECT_EQ(m.resumptions, loop.resumptions());  // the same counter, not a second one
}

TEST(metrics, a_cancelled_timer_was_armed_but_never_fired) {
  corio::event_loop loop({.clock = corio::clock::manual()});
  auto main = corio::detail::spawn_on(loop, []() -> corio::task<> {
    auto sleeper = corio::spawn(nothing_after(1h));
    co_await until_parked(sleeper);  // it arms its timer (a single yield may run before it starts)
    EXPECT_TRUE(parked(sleeper));
    sleeper.cancel();
    EXPECT_THROW(co_await sleeper, corio::cancelled);
  }(), "main", {});
  corio::run_until_done(loop, main);
  EXPECT_EQ(loop.metrics().timers_armed, 1u);
  EXPECT_EQ(loop.metrics().timers_fired, 0u);
}

TEST(metrics, a_real_clock_waits_in_the_poller_and_registered_descriptors_are_counted) {
  corio::event_loop loop;
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  ignore_readiness handler;
  loop.watch(pipe_fds[0], handler);
  EXPECT_EQ(loop.metrics().registered_fds, 1u);
  loop.unwatch(pipe_fds[0]);
  EXPECT_EQ(loop.metrics().registered_fds, 0u);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);

  auto main = corio::detail::spawn_on(loop, nothing_after(1ms), "main", {});
  corio::run_until_done(loop, main);
  EXPECT_GE(loop.metrics().polls, 1u);  // it blocked until the timer was due
}

TEST(metrics, longest_resumption_stays_zero_outside_debug_mode) {
  corio::event_loop loop({.clock = corio::clock::manual(), .debug = corio::debug_mode::off});
  auto main = corio::detail::spawn_on(loop, nothing_after(1ms), "main", {});
  corio::run_until_done(loop, main);
  EXPECT_EQ(loop.metrics().longest_resumption, corio::duration::zero());
  EXPECT_EQ(loop.metrics().slow_resumptions, 0u);
}

TEST(metrics, print_on_one_line_with_every_field) {
  std::ostringstream out;
  out << corio::loop_metrics{.tasks_spawned = 12, .live_tasks = 3, .resumptions = 85, .polls = 9};
  const std::string line = out.str();
  EXPECT_NE(line.find("tasks spawned 12, live 3, resumptions 85, polls 9"), std::string::npos) << line;
  EXPECT_NE(line.find("ready high-water mark 0"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

CORIO_TEST(metrics, are_readable_from_inside_a_task) {
  const corio::loop_metrics before = current_loop().metrics();
  co_await corio::sleep(1ms);
  const corio::loop_metrics after = current_loop().metrics();
  EXPECT_EQ(after.timers_armed - before.timers_armed, 1u);
  EXPECT_EQ(after.timers_fired - before.timers_fired, 1u);
  EXPECT_EQ(after.resumptions - before.resumptions, 1u);
  EXPECT_EQ(after.live_tasks, 1u);  // the test body
}
