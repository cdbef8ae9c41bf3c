// tests/runtime/timeout_blame_test.cpp — a timeout_error says where the budget went: the await
// site the task was parked at when the deadline fired, and for how long (timeout.hpp).
#include <gtest/gtest.h>

#include <string>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

constexpr unsigned event_wait_line = __LINE__ + 4;
// Spends 200 ms on a sleep, then waits on an event that never comes, one frame further down.
corio::task<int> wait_for_reply(corio::event& reply) {
  co_await corio::sleep(200ms);
  co_await reply.wait();
  co_return 1;
}

corio::task<int> request(corio::event& reply) { co_return co_await wait_for_reply(reply); }

std::string file_of(const corio::source_location& where) {
  const std::string path = where.file_name();
  return path.substr(path.rfind('/') + 1);
}

}  // namespace

CORIO_TEST(timeout_blame, names_the_await_site_where_the_task_was_parked_and_for_how_long) {
  corio::event reply;
  try {
    (void)co_await corio::timeout(1s, request(reply));
    ADD_FAILURE() << "no timeout_error";
  } catch (const corio::timeout_error& e) {
    EXPECT_EQ(file_of(e.parked_at()), "timeout_blame_test.cpp");
    EXPECT_EQ(e.parked_at().line(), event_wait_line);
    EXPECT_STREQ(e.parked_at().function_name(), "wait_for_reply");
    EXPECT_EQ(e.parked_for(), 800ms);
    EXPECT_EQ(e.waiting_for(), "waiting for event");
    const std::string what = e.what();
    EXPECT_NE(what.find("expired after 1.000 s; the task had been parked for 0.800 s at timeout_blame_test.cpp:" +
                        std::to_string(event_wait_line) + " (in wait_for_reply), waiting for event"),
              std::string::npos)
        << what;
  }
}

CORIO_TEST(timeout_blame, a_sleep_that_outlasts_the_limit_is_blamed_with_its_whole_parked_time) {
  try {
    (void)co_await corio::timeout(30s, value_after(1h, 1));
    ADD_FAILURE() << "no timeout_error";
  } catch (const corio::timeout_error& e) {
    EXPECT_EQ(file_of(e.parked_at()), "tasks.hpp");  // value_after's co_await
    EXPECT_EQ(e.parked_for(), 30s);
    EXPECT_EQ(e.waiting_for(), "waiting for sleep, due in 3570.000 s");
  }
}

CORIO_TEST(timeout_blame, the_inner_of_two_nested_limits_blames_its_own_parking) {
  corio::event reply;
  try {
    (void)co_await corio::timeout(10s, corio::timeout(500ms, request(reply)));
    ADD_FAILURE() << "no timeout_error";
  } catch (const corio::timeout_error& e) {
    EXPECT_EQ(e.limit(), 500ms);
    EXPECT_EQ(e.parked_at().line(), event_wait_line);
    EXPECT_EQ(e.parked_for(), 300ms);
  }
}

CORIO_TEST(timeout_blame, a_task_that_was_not_parked_is_blamed_on_its_last_await_with_no_parked_time) {
  // The work yields in a loop: whenever the deadline fires, it sits in the ready queue.
  auto spin = []() -> corio::task<> {
    for (;;) {
      co_await corio::yield();
      current_loop().clock().advance(1ms);
    }
  };
  try {
    co_await corio::timeout(10ms, spin());
    ADD_FAILURE() << "no timeout_error";
  } catch (const corio::timeout_error& e) {
    EXPECT_EQ(e.parked_for(), 0ns);
    EXPECT_EQ(e.waiting_for(), "ready to run");
    EXPECT_EQ(file_of(e.parked_at()), "timeout_blame_test.cpp");
  }
}
