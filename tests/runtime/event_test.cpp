// tests/runtime/event_test.cpp — corio::event.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using testing_support::current_loop;

namespace {

corio::task<> wait_and_append(corio::event& e, std::vector<std::string>& out, std::string name) {
  co_await e.wait();
  out.push_back(std::move(name));
}

}  // namespace

// FIFO pinned: the waiters are woken in order (documented), and the test sees that order through
// the order the woken tasks run, which only a FIFO ready queue keeps.
CORIO_TEST_WITH(event, set_wakes_every_waiter_in_the_order_they_began_to_wait, corio::testing::fifo_order()) {
  corio::event e;
  std::vector<std::string> out;
  auto a = corio::spawn(wait_and_append(e, out, "a"));
  auto b = corio::spawn(wait_and_append(e, out, "b"));
  co_await corio::sleep(1ms);
  EXPECT_TRUE(out.empty());
  e.set();
  EXPECT_TRUE(out.empty()) << "waiters must not run inside set()";
  co_await a;
  co_await b;
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b"}));
}

CORIO_TEST(event, a_set_event_lets_waits_through_until_cleared) {
  corio::event e;
  e.set();
  const auto start = current_loop().now();
  co_await e.wait();
  EXPECT_EQ(current_loop().now(), start);
  e.clear();
  EXPECT_FALSE(e.is_set());
  auto waiter = corio::spawn([](corio::event& ev) -> corio::task<> { co_await ev.wait(); }(e));
  co_await corio::sleep(10ms);
  EXPECT_FALSE(waiter.done());
  e.set();
  co_await waiter;
}

CORIO_TEST(event, a_cancelled_waiter_is_unlinked_at_once_and_the_event_is_untouched) {
  corio::event e;
  std::vector<std::string> out;
  auto cancelled_one = corio::spawn(wait_and_append(e, out, "cancelled"));
  auto other = corio::spawn(wait_and_append(e, out, "other"));
  co_await corio::yield();
  cancelled_one.cancel();
  EXPECT_THROW(co_await cancelled_one, corio::cancelled);
  EXPECT_FALSE(e.is_set());
  e.set();
  co_await other;
  EXPECT_EQ(out, (std::vector<std::string>{"other"}));
}

CORIO_TEST(event, a_cancelled_task_cannot_pass_even_a_set_event) {
  corio::event e;
  e.set();
  auto stubborn = corio::spawn([](corio::event& ev) -> corio::task<> {
    try {
      co_await corio::sleep(1h);
    } catch (const corio::cancelled&) {
    }
    co_await ev.wait();  // must throw again: the task is still cancelled
  }(e));
  co_await corio::yield();
  stubborn.cancel();
  EXPECT_THROW(co_await stubborn, corio::cancelled);
}

CORIO_TEST(event, two_tasks_can_pass_a_token_back_and_forth) {
  corio::event to_pong, to_ping;
  int rounds = 0;
  auto pong = corio::spawn([](corio::event& in, corio::event& out) -> corio::task<> {
    for (int i = 0; i < 1000; ++i) {
      co_await in.wait();
      in.clear();
      out.set();
    }
  }(to_pong, to_ping));
  for (int i = 0; i < 1000; ++i) {
    to_pong.set();
    co_await to_ping.wait();
    to_ping.clear();
    ++rounds;
  }
  co_await pong;
  EXPECT_EQ(rounds, 1000);
}
