// tests/runtime/resumption_record_test.cpp — what debug mode notes before each resumption
// (runtime/debug.hpp, resumption_record) and how the slow-resumption warning prints it; and the
// coroutine names await chains print (await_chain.hpp, coroutine_name).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include <corio.hpp>

#include "runtime/await_chain.hpp"
#include "support/capture_log.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

corio::event_loop::options debug_on_at_5ms() { return {.debug = corio::debug_mode::on, .slow_resumption = 5ms}; }

constexpr int descend_line = __LINE__ + 8;  // the co_await of the next level
constexpr int yield_line = __LINE__ + 3;    // where the innermost level suspends
corio::task<> descend(int levels) {
  if (levels == 0) {
    co_await corio::yield();
    std::this_thread::sleep_for(30ms);  // blocks the loop: a slow resumption
    co_return;
  }
  co_await descend(levels - 1);
}

corio::task<> spawn_and_join(corio::task<> t, std::string name) { co_await corio::spawn(std::move(t), name); }

std::string site(int line) { return "resumption_record_test.cpp:" + std::to_string(line); }

}  // namespace

TEST(resumption_record, a_deep_chain_keeps_its_outermost_frames_and_its_innermost_one) {
  capture_log log;
  corio::run(spawn_and_join(descend(20), "deep"), debug_on_at_5ms());  // 21 frames: levels 20..0
  const std::string text = log.text();
  ASSERT_EQ(occurrences(text, "slow resumption"), 1u) << text;
  EXPECT_NE(text.find("task #2 'deep' spawned at"), std::string::npos) << text;
  EXPECT_EQ(occurrences(text, "in descend at " + site(descend_line) + " -> "), 15u) << text;
  EXPECT_NE(text.find("(5 more frames) -> in descend at " + site(yield_line) + ": ready to run kept the loop busy"),
            std::string::npos)
      << text;
}

TEST(resumption_record, a_long_task_name_is_cut_and_says_so) {
  const std::string name(100, 'n');
  capture_log log;
  corio::run(spawn_and_join(descend(0), name), debug_on_at_5ms());
  const std::string text = log.text();
  ASSERT_EQ(occurrences(text, "slow resumption"), 1u) << text;
  EXPECT_NE(text.find("'" + std::string(64, 'n') + "...' spawned at"), std::string::npos) << text;
}

TEST(resumption_record, a_task_slow_in_its_first_run_is_described_as_not_started_yet) {
  auto blocks_at_once = []() -> corio::task<> {
    std::this_thread::sleep_for(30ms);
    co_return;
  };
  capture_log log;
  corio::run(spawn_and_join(blocks_at_once(), "eager"), debug_on_at_5ms());
  const std::string text = log.text();
  ASSERT_EQ(occurrences(text, "slow resumption"), 1u) << text;
  EXPECT_NE(text.find("'eager' spawned at"), std::string::npos) << text;
  EXPECT_NE(text.find(", resumed not started yet kept the loop busy"), std::string::npos) << text;
}

TEST(coroutine_name, drops_a_final_template_argument_list) {
  using corio::detail::coroutine_name;
  EXPECT_EQ(coroutine_name("gather<void, void, void>"), "gather");
  EXPECT_EQ(coroutine_name("value_after<std::vector<int> >"), "value_after");
  EXPECT_EQ(coroutine_name("fetch"), "fetch");
  EXPECT_EQ(coroutine_name("operator()"), "operator()");
}

TEST(coroutine_name, leaves_operators_that_end_in_an_angle_bracket_alone) {
  using corio::detail::coroutine_name;
  EXPECT_EQ(coroutine_name("operator->"), "operator->");
  EXPECT_EQ(coroutine_name("operator<=>"), "operator<=>");
  EXPECT_EQ(coroutine_name("operator>>"), "operator>>");
}
