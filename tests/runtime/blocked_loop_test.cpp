// tests/runtime/blocked_loop_test.cpp — a resumption that blocks the loop (reliability.md T-38):
// a task does blocking work for 300 ms (the anti-pattern debug mode warns about) while timers
// fall due behind it. Once it yields, every overdue timer fires in the very next turn, in
// deadline order — the poll timeout computed for them is 0, never negative (an unsigned
// underflow would mean a wait of years) — and none fired before its deadline.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/sockets.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

corio::task<> note_when_woken(std::chrono::milliseconds after, steady::time_point armed, std::vector<int>& order,
                              std::vector<steady::duration>& late_by) {
  co_await corio::sleep(after);
  order.push_back(static_cast<int>(after.count()));
  late_by.push_back(steady::now() - armed - after);
}

// Real time, and FIFO even under CORIO_SHUFFLE_SEED: the sleepers record the order they run
// in, which shows the order the timers released them only if the ready queue keeps it.
corio::testing::options real_time_in_fifo_order() {
  corio::testing::options opts = corio::testing::real_time();
  opts.shuffle_seed = 0;
  return opts;
}

}  // namespace

CORIO_TEST_WITH(blocked_loop, timers_that_fell_due_while_a_task_blocked_the_loop_all_fire_in_the_next_turn_in_order,
                real_time_in_fifo_order()) {
  std::vector<int> order;
  std::vector<steady::duration> late_by;
  const auto armed = steady::now();
  std::vector<corio::join_handle<void>> sleepers;
  for (int ms : {30, 10, 20, 250}) sleepers.push_back(corio::spawn(note_when_woken(std::chrono::milliseconds(ms), armed, order, late_by)));
  auto all_armed = [&] { return std::all_of(sleepers.begin(), sleepers.end(), [](const auto& s) { return testing_support::parked(s); }); };
  co_await testing_support::within_100_turns(all_armed);  // every sleeper arms its timer
  CORIO_ASSERT(all_armed());
  std::this_thread::sleep_for(300ms);  // blocks the loop: all four deadlines pass meanwhile
  const auto unblocked = steady::now();
  for (auto& s : sleepers) co_await s;
  EXPECT_LT(steady::now() - unblocked, 100ms) << "overdue timers must not wait for another timeout";
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30, 250}));
  for (const auto& late : late_by) EXPECT_GE(late, steady::duration::zero()) << "a timer fired early";
}
