// Scale and randomized tests for timers/wheel.hpp: a million timers, a million cancels, and a
// differential test against a std::multimap model.
#include "timers/wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

namespace corio::timers {
namespace {

using namespace std::chrono_literals;

const time_point t0 = time_point{} + 1h + 777ns;
constexpr std::size_t million = 1'000'000;

// Released deadlines must be nondecreasing to within one level-0 slot.
void expect_ordered_within_a_tick(const std::vector<time_point>& keys) {
  for (std::size_t i = 1; i < keys.size(); ++i) {
    ASSERT_GT(keys[i], keys[i - 1] - wheel::tick()) << "at " << i;
  }
}

TEST(timer_wheel_scale, a_million_timers_over_one_second_each_fire_once_in_order) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> over_a_second(0, 1'000'000'000);
  auto nodes = std::make_unique<timer_node[]>(million);
  wheel w(t0);
  for (std::size_t i = 0; i < million; ++i) {
    w.insert(nodes[i], t0 + std::chrono::nanoseconds{over_a_second(rng)});
  }
  ASSERT_EQ(w.size(), million);

  std::vector<time_point> released;
  released.reserve(million);
  timer_list out;
  time_point previous = t0 - 1ns;
  for (time_point now = t0; !w.empty(); now += 1ms + 123ns) {
    w.expire(now, out);
    while (timer_node* n = out.pop_front()) {
      ASSERT_LE(n->deadline(), now);
      ASSERT_GT(n->deadline(), previous);  // otherwise an earlier expire() should have had it
      ASSERT_FALSE(n->armed());
      released.push_back(n->deadline());
    }
    previous = now;
  }
  EXPECT_EQ(released.size(), million);
  expect_ordered_within_a_tick(released);
  EXPECT_FALSE(w.next_expiry().has_value());
}

TEST(timer_wheel_scale, a_million_timers_cancelled_before_expiry_never_fire) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> over_a_second(1, 1'000'000'000);
  auto nodes = std::make_unique<timer_node[]>(million);
  wheel w(t0);
  for (std::size_t i = 0; i < million; ++i) {
    w.insert(nodes[i], t0 + std::chrono::nanoseconds{over_a_second(rng)});
  }
  for (std::size_t i = 0; i < million; ++i) w.cancel(nodes[(i * 7919) % million]);
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(w.next_expiry().has_value());
  timer_list out;
  w.expire(t0 + 2s, out);
  EXPECT_TRUE(out.empty());
}

// The model: the armed deadlines in a multimap, plus for each id its place in it and the time it
// was filed at (a past deadline is ordered as if due when it was inserted).
class differential {
 public:
  explicit differential(std::uint64_t seed)
      : rng_(seed), wheel_(t0), nodes_(node_count), where_(node_count), filed_(node_count) {}

  void run(int operations) {
    for (int op = 0; op < operations; ++op) {
      const auto dice = pick(0, 99);
      if (dice < 45) {
        insert_random();
      } else if (dice < 65) {
        cancel_random();
      } else {
        advance_random();
      }
      ASSERT_EQ(wheel_.size(), model_.size());
      check_next_expiry();
      if (testing::Test::HasFatalFailure()) return;
    }
    while (!model_.empty()) {
      expire_and_compare(*wheel_.next_expiry());
      if (testing::Test::HasFatalFailure()) return;
    }
    EXPECT_TRUE(wheel_.empty());
  }

 private:
  using model = std::multimap<time_point, std::size_t>;
  static constexpr std::size_t node_count = 512;

  std::int64_t pick(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }

  // Offsets from now at every scale: past, within a tick, each level, beyond the range.
  duration random_offset() {
    switch (pick(0, 5)) {
      case 0: return -std::chrono::nanoseconds{pick(0, 10'000'000)};
      case 1: return std::chrono::nanoseconds{pick(0, 200'000)};
      case 2: return std::chrono::nanoseconds{pick(0, 2'000'000'000)};
      case 3: return wheel::slot_width(static_cast<unsigned>(pick(0, 6))) * pick(0, 70) +
                     std::chrono::nanoseconds{pick(-2, 2)};
      case 4: return std::chrono::hours{pick(0, 24 * 400)};
      default: return wheel::range() * pick(1, 3) + std::chrono::nanoseconds{pick(-5, 5)};
    }
  }

  void insert_random() {
    const auto id = static_cast<std::size_t>(pick(0, node_count - 1));
    if (nodes_[id].armed()) return;
    const time_point deadline = now_ + random_offset();
    wheel_.insert(nodes_[id], deadline);
    where_[id] = model_.emplace(deadline, id);
    filed_[id] = std::max(deadline, now_);
  }

  void cancel_random() {
    const auto id = static_cast<std::size_t>(pick(0, node_count - 1));
    wheel_.cancel(nodes_[id]);  // no-op if idle
    if (where_[id]) model_.erase(*where_[id]);
    where_[id].reset();
  }

  void advance_random() {
    time_point next = now_;
    switch (pick(0, 4)) {
      case 0: next -= std::chrono::nanoseconds{pick(0, 1'000'000)}; break;  // backwards: ignored
      case 1: next += std::chrono::nanoseconds{pick(0, 300'000)}; break;
      case 2: next += std::chrono::milliseconds{pick(0, 5'000)}; break;
      case 3: next += std::chrono::hours{pick(0, 24 * 20)}; break;  // crosses 9-year windows
      default:
        if (const auto e = wheel_.next_expiry()) next = std::max(*e, now_);  // autojump
    }
    expire_and_compare(next);
  }

  void expire_and_compare(time_point now) {
    now_ = std::max(now_, now);
    timer_list out;
    wheel_.expire(now, out);
    std::vector<std::size_t> got;
    std::vector<time_point> keys;
    while (timer_node* n = out.pop_front()) {
      const auto id = static_cast<std::size_t>(n - nodes_.data());
      got.push_back(id);
      keys.push_back(filed_[id]);
    }
    expect_ordered_within_a_tick(keys);
    std::vector<std::size_t> want;
    const auto due_end = model_.upper_bound(now_);
    for (auto it = model_.begin(); it != due_end; ++it) {
      want.push_back(it->second);
      where_[it->second].reset();
    }
    model_.erase(model_.begin(), due_end);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    ASSERT_EQ(got, want) << "at now = " << now_.time_since_epoch().count();
  }

  void check_next_expiry() {
    const auto next = wheel_.next_expiry();
    ASSERT_EQ(next.has_value(), !model_.empty());
    if (next) {
      ASSERT_LE(*next, model_.begin()->first);
    }
  }

  std::mt19937_64 rng_;
  wheel wheel_;
  std::vector<timer_node> nodes_;
  model model_;
  std::vector<std::optional<model::iterator>> where_;
  std::vector<time_point> filed_;
  time_point now_ = t0;
};

TEST(timer_wheel_model, random_insert_cancel_advance_sequences_match_a_multimap_model) {
  for (const std::uint64_t seed : {1u, 2u, 3u, 2024u, 99991u}) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    differential(seed).run(20'000);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace corio::timers
