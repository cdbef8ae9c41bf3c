// Tests for timers/clock.hpp: the manual clock moves only forward and only when told; the
// steady clock is monotonic and cannot be moved.
#include "timers/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

namespace corio {
namespace {

using namespace std::chrono_literals;

const time_point clock_start = time_point{} + 5s;

TEST(manual_clock, starts_where_it_is_told_and_stands_still) {
  const clock c = clock::manual(clock_start);
  EXPECT_TRUE(c.is_manual());
  EXPECT_EQ(c.now(), clock_start);
  EXPECT_EQ(c.now(), clock_start);
}

TEST(manual_clock, autojumps_by_default_unless_asked_not_to) {
  EXPECT_TRUE(clock::manual().autojump());
  EXPECT_FALSE(clock::manual(clock_start, false).autojump());
  EXPECT_EQ(clock::manual().now(), time_point{});
}

TEST(manual_clock, advance_moves_it_forward_by_exactly_the_duration) {
  clock c = clock::manual(clock_start);
  c.advance(2s);
  EXPECT_EQ(c.now(), clock_start + 2s);
  c.advance(1ns);
  EXPECT_EQ(c.now(), clock_start + 2s + 1ns);
  c.advance(0ns);
  EXPECT_EQ(c.now(), clock_start + 2s + 1ns);
}

TEST(manual_clock, set_moves_it_to_a_later_or_equal_time) {
  clock c = clock::manual(clock_start);
  c.set(clock_start + 1h);
  EXPECT_EQ(c.now(), clock_start + 1h);
  c.set(clock_start + 1h);
  EXPECT_EQ(c.now(), clock_start + 1h);
}

TEST(manual_clock, a_negative_advance_throws_and_leaves_the_time_alone) {
  clock c = clock::manual(clock_start);
  EXPECT_THROW(c.advance(-1ns), std::logic_error);
  EXPECT_EQ(c.now(), clock_start);
}

TEST(manual_clock, setting_it_backwards_throws_and_leaves_the_time_alone) {
  clock c = clock::manual(clock_start);
  EXPECT_THROW(c.set(clock_start - 1ns), std::logic_error);
  EXPECT_EQ(c.now(), clock_start);
}

TEST(steady_clock, is_monotonic) {
  const clock c = clock::steady();
  EXPECT_FALSE(c.is_manual());
  time_point previous = c.now();
  for (int i = 0; i < 10'000; ++i) {
    const time_point now = c.now();
    ASSERT_GE(now, previous);
    previous = now;
  }
}

TEST(steady_clock, cannot_be_set_or_advanced) {
  clock c = clock::steady();
  EXPECT_THROW(c.set(c.now() + 1s), std::logic_error);
  EXPECT_THROW(c.advance(1s), std::logic_error);
}

}  // namespace
}  // namespace corio
