// Tests for timers/wheel.hpp: the table, boundaries, far-future deadlines, clock jumps and the
// drain-then-resume pattern. Scale and randomized model tests: wheel_model_test.cpp.
#include "timers/wheel.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

namespace corio::timers {
namespace {

using namespace std::chrono_literals;
using std::chrono::duration_cast;

// Not tick-aligned on purpose, so slot edges are not at round offsets from the epoch.
const time_point t0 = time_point{} + 1h + 12'345ns;

std::vector<timer_node*> drain(timer_list& out) {
  std::vector<timer_node*> nodes;
  while (auto* n = out.pop_front()) nodes.push_back(n);
  return nodes;
}

std::vector<timer_node*> expire_at(wheel& w, time_point now) {
  timer_list out;
  w.expire(now, out);
  return drain(out);
}

// Steps the wheel the way an autojumping manual clock does, and checks that every node comes out
// exactly when `now` equals its deadline. Returns the number of steps taken.
int step_to_empty(wheel& w) {
  int steps = 0;
  while (const auto next = w.next_expiry()) {
    ++steps;
    for (timer_node* n : expire_at(w, *next)) EXPECT_EQ(n->deadline(), *next);
  }
  return steps;
}

TEST(timer_wheel, table_in_the_header_matches_the_constants) {
  ASSERT_EQ(wheel::levels, 7u);
  ASSERT_EQ(wheel::slots_per_level, 64u);
  EXPECT_EQ(wheel::tick(), 65'536ns);
  for (unsigned k = 0; k < wheel::levels; ++k) {
    EXPECT_EQ(wheel::slot_width(k).count(), std::int64_t{1} << (16 + 6 * k)) << "level " << k;
    EXPECT_EQ(wheel::level_range(k), wheel::slot_width(k) * 64) << "level " << k;
    if (k > 0) {
      EXPECT_EQ(wheel::level_range(k - 1), wheel::slot_width(k));
    }
  }
  EXPECT_EQ(wheel::range(), wheel::level_range(6));
  // The rounded values printed in the table.
  using dsec = std::chrono::duration<double>;
  const auto near = [](duration d, double value, double unit_seconds) {
    return std::abs(dsec(d).count() / unit_seconds - value) < 0.005 * value + 1e-9;
  };
  EXPECT_TRUE(near(wheel::slot_width(0), 65.536, 1e-6));
  EXPECT_TRUE(near(wheel::slot_width(1), 4.19, 1e-3));
  EXPECT_TRUE(near(wheel::slot_width(2), 268.44, 1e-3));
  EXPECT_TRUE(near(wheel::slot_width(3), 17.18, 1));
  EXPECT_TRUE(near(wheel::slot_width(4), 18.33, 60));
  EXPECT_TRUE(near(wheel::slot_width(5), 19.55, 3600));
  EXPECT_TRUE(near(wheel::slot_width(6), 52.13, 86400));
  EXPECT_TRUE(near(wheel::range(), 9.13, 365.25 * 86400));
}

TEST(timer_wheel, starts_empty_with_no_next_expiry) {
  wheel w(t0);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(w.next_expiry().has_value());
  EXPECT_TRUE(expire_at(w, t0 + 1h).empty());
}

TEST(timer_wheel, releases_a_timer_exactly_at_its_deadline) {
  wheel w(t0);
  timer_node n;
  w.insert(n, t0 + 2s);
  EXPECT_TRUE(n.armed());
  EXPECT_EQ(n.deadline(), t0 + 2s);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_TRUE(expire_at(w, t0 + 2s - 1ns).empty());
  EXPECT_EQ(expire_at(w, t0 + 2s), std::vector<timer_node*>{&n});
  EXPECT_FALSE(n.armed());
  EXPECT_TRUE(w.empty());
}

TEST(timer_wheel, stepping_by_next_expiry_lands_exactly_on_a_two_second_sleep) {
  wheel w(t0);
  timer_node n;
  w.insert(n, t0 + 2s);
  time_point now = t0;
  int steps = 0;
  while (w.next_expiry()) {
    now = *w.next_expiry();
    ASSERT_LE(now, t0 + 2s);
    (void)expire_at(w, now);
    ++steps;
  }
  EXPECT_EQ(now, t0 + 2s);
  EXPECT_LE(steps, static_cast<int>(wheel::levels) + 1);
}

// Deadlines at every slot edge of every level (slots 1..65, so the level's own range edge and
// the first slot past it are included), each -1 ns, exact and +1 ns.
std::vector<duration> edge_offsets() {
  std::vector<duration> offsets;
  for (unsigned k = 0; k < wheel::levels; ++k) {
    for (int slot = 1; slot <= static_cast<int>(wheel::slots_per_level) + 1; ++slot) {
      for (const duration delta : {-1ns, 0ns, 1ns}) {
        offsets.push_back(wheel::slot_width(k) * slot + delta);
      }
    }
  }
  return offsets;
}

TEST(timer_wheel, never_releases_early_and_releases_on_time_at_every_slot_and_level_edge) {
  for (const time_point start : {t0, time_point{}, time_point{} + wheel::tick() - 1ns}) {
    for (const duration offset : edge_offsets()) {
      wheel w(start);
      timer_node n;
      w.insert(n, start + offset);
      ASSERT_TRUE(expire_at(w, start + offset - 1ns).empty()) << offset.count();
      ASSERT_EQ(expire_at(w, start + offset).size(), 1u) << offset.count();
      ASSERT_TRUE(w.empty());
    }
  }
}

TEST(timer_wheel, next_expiry_steps_land_exactly_on_every_edge_deadline) {
  const auto offsets = edge_offsets();
  std::vector<timer_node> nodes(offsets.size());
  wheel w(t0);
  for (std::size_t i = 0; i < offsets.size(); ++i) w.insert(nodes[i], t0 + offsets[i]);
  const int steps = step_to_empty(w);
  EXPECT_TRUE(w.empty());
  EXPECT_LE(steps, static_cast<int>(offsets.size() * (wheel::levels + 1)));
}

// Sets the wheel's time to `now`, then checks deadlines that cross the edge of the level-`k`
// window just after it: each is released at exactly its deadline, never before.
void check_wrap(unsigned k, duration before_edge) {
  wheel w(t0);
  const time_point now = t0 + wheel::level_range(k) * 3 - before_edge;
  (void)expire_at(w, now);
  std::vector<timer_node> nodes(8);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    w.insert(nodes[i], now + wheel::slot_width(k) * static_cast<int>(i) + 1ns);
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const time_point d = nodes[i].deadline();
    ASSERT_TRUE(expire_at(w, d - 1ns).empty()) << "level " << k << " node " << i;
    ASSERT_EQ(expire_at(w, d), std::vector<timer_node*>{&nodes[i]}) << "level " << k;
  }
}

TEST(timer_wheel, level_zero_wrap_around_is_neither_early_nor_missed) {
  check_wrap(0, wheel::tick() * 3);
  check_wrap(0, 1ns);
}

TEST(timer_wheel, higher_level_wrap_around_is_neither_early_nor_missed) {
  for (unsigned k = 1; k < wheel::levels - 1; ++k) {
    check_wrap(k, wheel::slot_width(k) * 3);
    check_wrap(k, wheel::tick());
  }
}

TEST(timer_wheel, holds_a_ten_year_timer_beyond_the_range_and_reaches_it_in_a_few_steps) {
  wheel w(t0);
  timer_node n;
  const time_point d = t0 + std::chrono::years{10};
  w.insert(n, d);
  EXPECT_TRUE(n.armed());
  ASSERT_TRUE(w.next_expiry().has_value());
  EXPECT_LE(*w.next_expiry(), d);
  EXPECT_TRUE(expire_at(w, t0 + std::chrono::years{9}).empty());
  EXPECT_TRUE(expire_at(w, d - 1ns).empty());
  EXPECT_EQ(expire_at(w, d).size(), 1u);

  wheel stepped(t0);
  stepped.insert(n, d);
  EXPECT_LE(step_to_empty(stepped), 2 * static_cast<int>(wheel::levels) + 2);
}

TEST(timer_wheel, reaches_time_point_max_without_overflow) {
  // From the steady clock's epoch, and from the most negative start, where max() - start
  // does not fit in a signed 64-bit count.
  for (const time_point start : {t0, time_point::min() + 1ns}) {
    wheel w(start);
    timer_node n;
    timer_node soon;
    w.insert(n, time_point::max());
    w.insert(soon, start + 1s);
    EXPECT_EQ(w.size(), 2u);
    EXPECT_EQ(expire_at(w, start + 1s), std::vector<timer_node*>{&soon});
    EXPECT_TRUE(expire_at(w, start + std::chrono::years{100}).empty());
    EXPECT_LE(step_to_empty(w), 2 * static_cast<int>(wheel::levels) + 2);
    EXPECT_FALSE(n.armed());
  }
}

TEST(timer_wheel, far_future_timers_can_be_cancelled) {
  wheel w(t0);
  timer_node ten_years;
  timer_node forever;
  w.insert(ten_years, t0 + std::chrono::years{10});
  w.insert(forever, time_point::max());
  w.cancel(ten_years);
  EXPECT_EQ(w.size(), 1u);
  w.cancel(forever);
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(w.next_expiry().has_value());
  EXPECT_TRUE(expire_at(w, time_point::max()).empty());
}

TEST(timer_wheel, a_three_day_clock_jump_releases_every_due_timer_once_and_in_order) {
  wheel w(t0);
  std::vector<timer_node> nodes(3000);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    // Spread over 4 days, in a scrambled insertion order.
    const auto offset = std::chrono::seconds{(i * 7919) % (4 * 86400)};
    w.insert(nodes[i], t0 + offset + std::chrono::nanoseconds{i});
  }
  const time_point now = t0 + std::chrono::days{3};
  const auto released = expire_at(w, now);
  std::size_t due = 0;
  for (const auto& n : nodes) due += n.deadline() <= now ? 1 : 0;
  EXPECT_EQ(released.size(), due);
  for (std::size_t i = 0; i < released.size(); ++i) {
    EXPECT_LE(released[i]->deadline(), now);
    if (i > 0) {
      EXPECT_GT(released[i]->deadline(), released[i - 1]->deadline() - wheel::tick());
    }
  }
  EXPECT_EQ(w.size(), nodes.size() - due);
  for (const auto& n : nodes) EXPECT_EQ(n.armed(), n.deadline() > now);
}

TEST(timer_wheel, ignores_time_that_goes_backwards) {
  wheel w(t0);
  (void)expire_at(w, t0 + 10ms);
  timer_node n;
  w.insert(n, t0 + 12ms);
  EXPECT_TRUE(expire_at(w, t0 + 5ms).empty());
  EXPECT_TRUE(expire_at(w, t0 - 1h).empty());
  EXPECT_TRUE(expire_at(w, time_point::min()).empty());
  EXPECT_EQ(expire_at(w, t0 + 12ms).size(), 1u);
}

TEST(timer_wheel, a_past_deadline_is_released_by_the_next_expire_not_by_insert) {
  wheel w(t0);
  (void)expire_at(w, t0 + 1s);
  timer_node past;
  timer_node before_start;
  w.insert(past, t0 + 500ms);
  w.insert(before_start, time_point::min());
  EXPECT_TRUE(past.armed());
  ASSERT_TRUE(w.next_expiry().has_value());
  EXPECT_LE(*w.next_expiry(), t0 + 500ms);
  EXPECT_EQ(expire_at(w, t0 + 1s).size(), 2u);
  EXPECT_TRUE(w.empty());
}

TEST(timer_wheel, a_timer_cancelled_while_waiting_in_the_expired_list_is_not_returned) {
  wheel w(t0);
  timer_node a, b, c;
  for (timer_node* n : {&a, &b, &c}) w.insert(*n, t0 + 1ms);
  timer_list out;
  w.expire(t0 + 1ms, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.pop_front(), &a);
  w.cancel(b);  // still in `out`
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out.pop_front(), &c);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(out.pop_front(), nullptr);
  w.cancel(b);  // idle: no-op
}

TEST(timer_wheel, a_timer_rearmed_in_the_past_while_draining_comes_out_of_the_next_expire) {
  wheel w(t0);
  timer_node a, b, c;
  for (timer_node* n : {&a, &b, &c}) w.insert(*n, t0 + 1ms);
  timer_list out;
  w.expire(t0 + 2ms, out);
  EXPECT_EQ(out.pop_front(), &a);
  w.insert(a, t0);  // popped, re-armed with a past deadline
  w.insert(b, t0 + 1ms);  // still in `out`: re-arming takes it out
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out.pop_front(), &c);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(expire_at(w, t0 + 2ms), (std::vector<timer_node*>{&a, &b}));
}

TEST(timer_wheel, a_timer_due_later_in_the_current_tick_stays_armed) {
  wheel w(t0);
  timer_node early, late;
  w.insert(early, t0 + 10ns);
  w.insert(late, t0 + 20ns);
  EXPECT_EQ(expire_at(w, t0 + 15ns), std::vector<timer_node*>{&early});
  EXPECT_EQ(w.next_expiry(), t0 + 20ns);
  EXPECT_EQ(expire_at(w, t0 + 20ns), std::vector<timer_node*>{&late});
}

TEST(timer_wheel, destroying_an_armed_node_unlinks_it) {
  wheel w(t0);
  timer_node kept;
  w.insert(kept, t0 + 1s);
  {
    timer_node gone;
    w.insert(gone, t0 + 1s);
    auto far = std::make_unique<timer_node>();
    w.insert(*far, time_point::max());
    EXPECT_EQ(w.size(), 3u);
    far.reset();
    EXPECT_EQ(w.size(), 2u);
  }
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(expire_at(w, t0 + 1s), std::vector<timer_node*>{&kept});
}

TEST(timer_wheel, destroying_a_node_waiting_in_the_expired_list_unlinks_it) {
  wheel w(t0);
  timer_list out;
  timer_node kept;
  w.insert(kept, t0 + 1ms);
  {
    timer_node gone;
    w.insert(gone, t0 + 1ms);
    w.expire(t0 + 1ms, out);
    EXPECT_EQ(out.size(), 2u);
  }
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out.pop_front(), &kept);
}

TEST(timer_wheel, destroying_the_wheel_or_list_first_leaves_nodes_idle) {
  timer_node armed, expired;
  {
    wheel w(t0);
    w.insert(armed, t0 + 1s);
    w.insert(expired, t0);
    timer_list out;
    w.expire(t0, out);
  }
  EXPECT_FALSE(armed.armed());
  EXPECT_FALSE(expired.armed());
}

}  // namespace
}  // namespace corio::timers
