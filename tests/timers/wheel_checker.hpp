// tests/timers/wheel_checker.hpp — timers/wheel.hpp checked against a model, one operation at a
// time. Shared by the randomized test (tests/timers/wheel_model_test.cpp, a PRNG picks the
// operations) and the libFuzzer target (tests/fuzz/timer_wheel.cpp, libFuzzer picks them).
//
// The model: the armed deadlines in a std::multimap, and for each timer id its place there and
// the time it was filed at (a past deadline counts as due when it was inserted). The property:
// after any sequence of insert / cancel / expire, the wheel releases exactly the timers whose
// deadline is <= now — the same SET as the model's — in nondecreasing order of their filing
// time to within one tick (what wheel.hpp promises); size() always matches the model, and
// next_expiry() is empty exactly when the model is, and never later than its earliest deadline.
//
// Every check returns what went wrong, or an empty string: the test turns that into a gtest
// failure, the fuzzer into an abort (a finding).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "timers/wheel.hpp"

namespace corio::timers::testing {

class wheel_checker {
 public:
  wheel_checker(time_point start, std::size_t timers)
      : now_(start), wheel_(start), nodes_(timers), where_(timers), filed_(timers) {}

  [[nodiscard]] std::size_t timers() const noexcept { return nodes_.size(); }
  [[nodiscard]] time_point now() const noexcept { return now_; }
  [[nodiscard]] const wheel& checked() const noexcept { return wheel_; }
  /// The earliest armed deadline, if any (the model's answer).
  [[nodiscard]] std::optional<time_point> earliest() const {
    if (model_.empty()) return std::nullopt;
    return model_.begin()->first;
  }

  /// Arms timer `id` (< timers()) for `deadline`; an armed timer is left alone.
  void insert(std::size_t id, time_point deadline) {
    if (nodes_[id].armed()) return;
    wheel_.insert(nodes_[id], deadline);
    where_[id] = model_.emplace(deadline, id);
    filed_[id] = std::max(deadline, now_);
  }

  /// Disarms timer `id`; a no-op for an idle one.
  void cancel(std::size_t id) {
    wheel_.cancel(nodes_[id]);
    if (where_[id]) model_.erase(*where_[id]);
    where_[id].reset();
  }

  /// Moves time to `now` (a time before now() is ignored, as the wheel ignores it) and compares
  /// what the wheel releases with what the model says is due.
  [[nodiscard]] std::string expire(time_point now) {
    timer_list out;
    wheel_.expire(now, out);
    now_ = std::max(now_, now);
    std::vector<std::size_t> got;
    std::string problem;
    std::optional<time_point> previous_filed;
    while (timer_node* n = out.pop_front()) {
      const auto id = static_cast<std::size_t>(n - nodes_.data());
      if (n->armed()) problem = "a released timer is still armed";
      if (previous_filed && filed_[id] <= *previous_filed - wheel::tick()) problem = "released out of order by more than a tick";
      previous_filed = std::max(previous_filed.value_or(filed_[id]), filed_[id]);
      got.push_back(id);
    }
    std::vector<std::size_t> want = take_due();
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    if (got != want) {
      problem = "released " + std::to_string(got.size()) + " timers, the model " + std::to_string(want.size()) +
                ": the sets differ";
    }
    return located(problem);
  }

  /// size() and next_expiry() against the model.
  [[nodiscard]] std::string check() const {
    if (wheel_.size() != model_.size()) return located("size() differs from the model");
    const std::optional<time_point> next = wheel_.next_expiry();
    if (next.has_value() != !model_.empty()) return located("next_expiry() is wrong about emptiness");
    if (next && *next > model_.begin()->first) return located("next_expiry() is later than a deadline");
    return {};
  }

  /// Steps time to next_expiry() until every deadline up to `horizon` fired, checking each step;
  /// each deadline must be reached in a bounded number of steps (about one per wheel level, plus
  /// a re-filing of the far-future list per window).
  [[nodiscard]] std::string drain(time_point horizon) {
    std::size_t steps_left = 64 + 16 * model_.size();
    while (!model_.empty() && model_.begin()->first <= horizon) {
      if (steps_left-- == 0) return located("stepping to next_expiry() does not reach the deadlines");
      const std::optional<time_point> next = wheel_.next_expiry();
      if (!next) return located("next_expiry() is empty while timers are armed");
      if (std::string problem = expire(std::max(*next, now_)); !problem.empty()) return problem;
      if (std::string problem = check(); !problem.empty()) return problem;
    }
    return {};
  }

 private:
  using model = std::multimap<time_point, std::size_t>;

  // Removes from the model what is due at now_, and returns their ids.
  std::vector<std::size_t> take_due() {
    std::vector<std::size_t> due;
    const auto due_end = model_.upper_bound(now_);
    for (auto it = model_.begin(); it != due_end; ++it) {
      due.push_back(it->second);
      where_[it->second].reset();
    }
    model_.erase(model_.begin(), due_end);
    return due;
  }

  [[nodiscard]] std::string located(const std::string& problem) const {
    if (problem.empty()) return problem;
    return problem + " (now = " + std::to_string(now_.time_since_epoch().count()) + " ns since the clock's epoch)";
  }

  time_point now_;
  wheel wheel_;
  std::vector<timer_node> nodes_;
  model model_;
  std::vector<std::optional<model::iterator>> where_;
  std::vector<time_point> filed_;
};

}  // namespace corio::timers::testing
