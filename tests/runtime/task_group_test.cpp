// tests/runtime/task_group_test.cpp — task_group.
#include <gtest/gtest.h>

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

corio::task<> append_after(std::chrono::milliseconds d, std::vector<int>& out, int v) {
  co_await corio::sleep(d);
  out.push_back(v);
}

}  // namespace

CORIO_TEST(task_group, run_returns_when_the_body_and_every_child_have_finished) {
  std::vector<int> out;
  const auto start = current_loop().now();
  co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
    group.spawn(append_after(30ms, out, 3));
    group.spawn(append_after(10ms, out, 1));
    co_await corio::sleep(20ms);
    out.push_back(2);
  });
  EXPECT_EQ(out, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(current_loop().now() - start, 30ms);
  EXPECT_EQ(current_loop().live_tasks(), 1u);
}

CORIO_TEST(task_group, children_may_spawn_more_children_into_the_group) {
  std::vector<int> out;
  co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
    group.spawn([](corio::task_group& g, std::vector<int>& o) -> corio::task<> {
      co_await corio::sleep(5ms);
      g.spawn(append_after(5ms, o, 2));
      o.push_back(1);
    }(group, out));
    co_return;
  });
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
}

CORIO_TEST(task_group, the_first_failure_cancels_the_siblings_and_the_body_then_is_rethrown) {
  std::string sibling, body;
  try {
    co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
      group.spawn(record(1h, sibling));
      group.spawn(fail_after(10ms, "first"));
      try {
        co_await corio::sleep(1h);
      } catch (const corio::cancelled&) {
        body = "cancelled";
        throw;
      }
    });
    ADD_FAILURE() << "run did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first");
  }
  EXPECT_EQ(sibling, "cancelled");
  EXPECT_EQ(body, "cancelled");
  EXPECT_EQ(current_loop().live_tasks(), 1u);
}

CORIO_TEST(task_group, a_failing_body_cancels_the_children) {
  std::string child;
  EXPECT_THROW(co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
                 group.spawn(record(1h, child));
                 co_await corio::sleep(1ms);
                 throw std::logic_error("body failed");
               }),
               std::logic_error);
  EXPECT_EQ(child, "cancelled");
}

CORIO_TEST(task_group, every_other_failure_is_logged_once_not_dropped) {
  testing_support::capture_log log;
  EXPECT_THROW(co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
                 group.spawn(fail_after(1ms, "first failure"));
                 group.spawn(fail_when_cancelled("second failure"));
                 co_return;
               }),
               std::runtime_error);
  const std::string text = log.text();
  EXPECT_EQ(text.find("first failure"), std::string::npos) << "the rethrown one is not logged: " << text;
  EXPECT_NE(text.find("second failure"), std::string::npos) << text;
  EXPECT_EQ(text.find("second failure"), text.rfind("second failure")) << "logged once: " << text;
}

CORIO_TEST(task_group, cancelling_the_awaiting_task_cancels_everything_and_throws_cancelled) {
  std::string a, b;
  auto h = corio::spawn(corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
    group.spawn(record(1h, a));
    co_await record(2h, b);
  }));
  co_await corio::sleep(1ms);
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_EQ(a, "cancelled");
  EXPECT_EQ(b, "cancelled");
}

CORIO_TEST(task_group, group_cancel_stops_everything_and_run_returns_normally) {
  std::string child;
  co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
    group.spawn(record(1h, child));
    co_await corio::sleep(1ms);
    group.cancel();
    co_await corio::sleep(1h);  // cancelled: the group cancelled its own body
  });
  EXPECT_EQ(child, "cancelled");
}
