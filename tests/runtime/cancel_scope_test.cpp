// tests/runtime/cancel_scope_test.cpp — cancel scopes and shields.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

corio::task<> cancel_later(corio::cancel_scope& scope, std::chrono::milliseconds after) {
  co_await corio::sleep(after);
  scope.cancel();
}

// Swallows every cancellation it sees, counting them, and sleeps again each time.
corio::task<int> stubborn_sleeps(int times, int& swallowed) {
  for (int i = 0; i < times; ++i) {
    try {
      co_await corio::sleep(1h);
    } catch (const corio::cancelled&) {
      ++swallowed;
    }
  }
  co_return swallowed;
}

}  // namespace

CORIO_TEST(cancel_scope, run_returns_the_value_when_nothing_cancels_it) {
  corio::cancel_scope scope;
  const std::optional<int> r = co_await scope.run(value_after(5ms, 7));
  EXPECT_EQ(r, 7);
  EXPECT_FALSE(scope.cancel_called());
}

CORIO_TEST(cancel_scope, cancelling_the_scope_stops_the_work_and_run_returns_empty) {
  corio::cancel_scope scope;
  std::string how;
  auto canceller = corio::spawn(cancel_later(scope, 10ms));
  const auto start = current_loop().now();
  const auto r = co_await scope.run(record(1h, how));
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(how, "cancelled");
  EXPECT_EQ(current_loop().now() - start, 10ms);
  EXPECT_EQ(current_loop().armed_timers(), 0u);
  co_await canceller;
}

CORIO_TEST(cancel_scope, the_task_goes_on_normally_after_its_scope_was_cancelled) {
  corio::cancel_scope scope;
  scope.cancel();  // before run(): the first suspension inside throws
  const auto r = co_await scope.run(value_after(1ms, 1));
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(co_await value_after(1ms, 2), 2);  // outside the scope, sleeping works again
}

CORIO_TEST(cancel_scope, is_level_triggered_so_a_swallowed_cancellation_comes_back_at_every_suspension) {
  corio::cancel_scope scope;
  int swallowed = 0;
  auto canceller = corio::spawn(cancel_later(scope, 1ms));
  const auto start = current_loop().now();
  const auto r = co_await scope.run(stubborn_sleeps(3, swallowed));
  EXPECT_EQ(r, 3);  // it finished, having swallowed three cancellations
  EXPECT_EQ(swallowed, 3);
  EXPECT_EQ(current_loop().now() - start, 1ms) << "no sleep inside a cancelled scope may really sleep";
  co_await canceller;
}

CORIO_TEST(cancel_scope, an_outer_cancellation_passes_through_run_as_cancelled) {
  corio::cancel_scope inner;
  auto h = corio::spawn(inner.run(value_after(1h, 1)));
  co_await corio::sleep(1ms);
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_FALSE(inner.cancel_called());
}

CORIO_TEST(cancel_scope, when_both_the_scope_and_the_task_are_cancelled_the_task_wins) {
  corio::cancel_scope scope;
  auto h = corio::spawn(scope.run(value_after(1h, 1)));
  co_await corio::sleep(1ms);
  scope.cancel();
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
}

CORIO_TEST(cancel_scope, exceptions_other_than_cancelled_pass_through) {
  corio::cancel_scope scope;
  EXPECT_THROW(co_await scope.run(fail_after(1ms, "boom")), std::runtime_error);
}

CORIO_TEST(shield, a_shielded_section_finishes_despite_a_cancel_and_the_cancel_strikes_after_it) {
  std::string after_shield = "not reached";
  bool critical_done = false;
  auto h = corio::spawn([](bool& done, std::string& after) -> corio::task<> {
    co_await corio::shield(set_after(50ms, done));
    after = "reached";  // code right after the shield runs: it does not suspend
    co_await corio::sleep(1h);  // the pending cancellation strikes here
    after = "slept";
  }(critical_done, after_shield));
  co_await corio::sleep(10ms);
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_TRUE(critical_done);
  EXPECT_EQ(after_shield, "reached");
}

CORIO_TEST(shield, a_cancel_scope_inside_a_shield_still_works) {
  auto h = corio::spawn([]() -> corio::task<bool> {
    co_return co_await corio::shield([]() -> corio::task<bool> {
      corio::cancel_scope inner;
      auto canceller = corio::spawn(cancel_later(inner, 5ms));
      const auto r = co_await inner.run(value_after(1h, 1));
      co_await canceller;
      co_return r.has_value();
    }());
  }());
  EXPECT_EQ(co_await h, false);
}

CORIO_TEST(cancel_scope, cancelling_a_scope_stops_a_gather_inside_it_and_waits_for_its_children) {
  corio::cancel_scope scope;
  std::string a, b;
  auto canceller = corio::spawn(cancel_later(scope, 10ms));
  const auto r = co_await scope.run(corio::gather(record(1h, a), record(2h, b)));
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(a, "cancelled");
  EXPECT_EQ(b, "cancelled");
  EXPECT_EQ(current_loop().live_tasks(), 1u);  // only the body: no gather child outlived it
  co_await canceller;
}
