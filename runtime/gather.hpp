// runtime/gather.hpp — run tasks concurrently and collect every result.
//
//   auto [user, orders] = co_await corio::gather(fetch_user(id), fetch_orders(id));
//   std::vector<int> sizes = co_await corio::gather(std::move(tasks));      // a vector of task<int>
//   auto results = co_await corio::gather_settled(a(), b());                // outcome<T> each
//
// gather: every argument is spawned as a task of its own (they start on the next turn, in
// argument order). The result is a std::tuple (a task<void> contributes std::monostate), or a
// std::vector for the vector form, in argument order whatever the finishing order.
//   * First failure wins: when a task fails, all the others are cancelled and AWAITED, and then
//     that first exception is rethrown (a C++ frame must not outlive the call that owns it, so
//     unlike asyncio nothing keeps running behind your back). Another real failure (not
//     corio::cancelled) cannot be rethrown as well: it is logged as never retrieved, not dropped.
//   * Cancelling the task that awaits gather cancels every child, waits for them, and then
//     throws corio::cancelled.
// gather_settled: the same, but nothing is cancelled on failure; each slot holds an
// outcome<T> with the value or the exception.
// Both resume the awaiting task on the loop's thread once the last child finished.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "await_chain.hpp"
#include "errors.hpp"
#include "log.hpp"
#include "outcome.hpp"
#include "spawn.hpp"
#include "task.hpp"

namespace corio {
namespace detail {

/// When a group of children stops waiting for the others and cancels them.
enum class finish_rule : unsigned char {
  all_settle,             // gather_settled: never; every child runs to its end
  first_failure_cancels,  // gather: the first child to fail
  first_done_cancels,     // when_any: the first child to finish, whatever its outcome
};

/// Waits until every one of a set of spawned tasks has finished; depending on the rule, the
/// first to fail (or to finish) cancels the rest, and is remembered as first().
class gather_group final : public waiter, public completion_listener {
 public:
  gather_group(std::span<task_state* const> children, finish_rule rule) noexcept
      : children_(children), remaining_(children.size()), rule_(rule) {
    for (task_state* child : children_) child->set_listener(this);
  }
  gather_group(const gather_group&) = delete;
  gather_group& operator=(const gather_group&) = delete;
  ~gather_group() {
    for (task_state* child : children_)
      if (child->listener() == this) child->set_listener(nullptr);
  }

  [[nodiscard]] bool await_ready() const noexcept { return remaining_ == 0; }

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    owner_ = &task_of(h);
    resume_point = h;
    if (owner_->cancel_requested()) {
      cancel_children();
      if (remaining_ == 0) return false;
    }
    parked_ = true;
    owner_->park(*this);
    return true;
  }

  void await_resume() const {
    if (owner_ != nullptr && owner_->cancel_requested()) detail::throw_cancelled();
  }

  void on_task_done(task_state& child) noexcept override {
    --remaining_;
    const bool stops_the_rest = rule_ == finish_rule::first_done_cancels ||
                                (rule_ == finish_rule::first_failure_cancels && child.failed());
    if (first_ == nullptr && stops_the_rest) {
      first_ = &child;
      cancel_children();
    }
    if (remaining_ == 0 && parked_) {
      parked_ = false;
      owner_->wake(*this);
    }
  }

  // The wait cannot end before the children have: cancel them and keep waiting.
  bool on_cancel() noexcept override {
    cancel_children();
    return false;
  }

  [[nodiscard]] std::string describe() const override {
    const char* what = rule_ == finish_rule::all_settle ? "gather_settled" :
                       rule_ == finish_rule::first_done_cancels ? "when_any" : "gather";
    return std::string(what) + " of " + std::to_string(children_.size()) + " tasks, " +
           std::to_string(remaining_) + " running";
  }

  /// The child that cancelled the others (the first to fail, or to finish), or nullptr.
  [[nodiscard]] const task_state* first() const noexcept { return first_; }

 private:
  void cancel_children() noexcept {
    for (task_state* child : children_) child->request_cancel();
  }

  std::span<task_state* const> children_;
  task_state* owner_ = nullptr;
  const task_state* first_ = nullptr;
  std::size_t remaining_;
  finish_rule rule_;
  bool parked_ = false;
};

template <class T>
value_t<T> take_value(join_handle<T>& h) {
  if constexpr (std::is_void_v<T>) {
    h.result();
    return std::monostate{};
  } else {
    return h.result();
  }
}

template <class T>
outcome<T> take_outcome(join_handle<T>& h) noexcept {
  try {
    if constexpr (std::is_void_v<T>) {
      h.result();
      return outcome<void>();
    } else {
      return outcome<T>(h.result());
    }
  } catch (...) {
    return outcome<T>(std::current_exception());
  }
}

/// Rethrows the first failure of a fail-fast gather. Its result is taken from its handle first;
/// every other child's real error is logged as never retrieved when its handle is dropped.
template <class T>
void take_failure(join_handle<T>& h, const task_state* first_failure) {
  if (h.state() == first_failure) (void)take_outcome(h);
}

template <class... Handles>
void rethrow_first_failure(const gather_group& group, Handles&... handles) {
  const task_state* first = group.first();
  if (first == nullptr) return;
  const std::exception_ptr error = first->root().error();
  (take_failure(handles, first), ...);
  std::rethrow_exception(error);
}

/// Spawns a child of a gather, naming as its spawn site the co_await of the gather (in the
/// caller's code), not this header: task dumps then point at the user's line.
template <class T>
join_handle<T> spawn_child(task<T> t, corio::source_location gather_site) {
  return spawn(std::move(t), {}, gather_site);
}

template <class T>
std::vector<join_handle<T>> spawn_all(std::vector<task<T>>& tasks) {
  const corio::source_location site = caller_site(corio::source_location::current());
  std::vector<join_handle<T>> handles;
  handles.reserve(tasks.size());
  for (task<T>& t : tasks) handles.push_back(spawn_child(std::move(t), site));
  return handles;
}

template <class T>
std::vector<task_state*> states_of(const std::vector<join_handle<T>>& handles) {
  std::vector<task_state*> states;
  states.reserve(handles.size());
  for (const auto& h : handles) states.push_back(h.state());
  return states;
}

}  // namespace detail

template <class... T>
task<std::tuple<detail::value_t<T>...>> gather(task<T>... tasks) {
  const corio::source_location site = detail::caller_site(corio::source_location::current());
  std::tuple<join_handle<T>...> handles{detail::spawn_child(std::move(tasks), site)...};
  const auto states = std::apply([](auto&... h) { return std::array<detail::task_state*, sizeof...(T)>{h.state()...}; }, handles);
  detail::gather_group group(states, detail::finish_rule::first_failure_cancels);
  co_await group;
  std::apply([&](auto&... h) { detail::rethrow_first_failure(group, h...); }, handles);
  co_return std::apply([](auto&... h) { return std::tuple<detail::value_t<T>...>{detail::take_value(h)...}; },
                       handles);
}

template <class T>
task<std::vector<detail::value_t<T>>> gather(std::vector<task<T>> tasks) {
  auto handles = detail::spawn_all(tasks);
  const auto states = detail::states_of(handles);
  detail::gather_group group(states, detail::finish_rule::first_failure_cancels);
  co_await group;
  if (group.first() != nullptr) {
    for (auto& h : handles) detail::take_failure(h, group.first());
    std::rethrow_exception(group.first()->root().error());
  }
  std::vector<detail::value_t<T>> results;
  results.reserve(handles.size());
  for (auto& h : handles) results.push_back(detail::take_value(h));
  co_return results;
}

template <class... T>
task<std::tuple<outcome<T>...>> gather_settled(task<T>... tasks) {
  const corio::source_location site = detail::caller_site(corio::source_location::current());
  std::tuple<join_handle<T>...> handles{detail::spawn_child(std::move(tasks), site)...};
  const auto states = std::apply([](auto&... h) { return std::array<detail::task_state*, sizeof...(T)>{h.state()...}; }, handles);
  detail::gather_group group(states, detail::finish_rule::all_settle);
  co_await group;
  co_return std::apply([](auto&... h) { return std::tuple<outcome<T>...>{detail::take_outcome(h)...}; }, handles);
}

/// gather() and gather_settled() of tasks and socket operations mixed
/// (`gather(a.read_some(buf), b.write_all(text), fetch())`): each operation runs as its task
/// (detail::task_operation, task.hpp), exactly as `op.as_task()` would.
template <class... A>
  requires detail::mixed_with_operations<A...>
auto gather(A... items) {
  return gather(detail::as_task(std::move(items))...);
}
template <class... A>
  requires detail::mixed_with_operations<A...>
auto gather_settled(A... items) {
  return gather_settled(detail::as_task(std::move(items))...);
}

template <class T>
task<std::vector<outcome<T>>> gather_settled(std::vector<task<T>> tasks) {
  auto handles = detail::spawn_all(tasks);
  const auto states = detail::states_of(handles);
  detail::gather_group group(states, detail::finish_rule::all_settle);
  co_await group;
  std::vector<outcome<T>> results;
  results.reserve(handles.size());
  for (auto& h : handles) results.push_back(detail::take_outcome(h));
  co_return results;
}

}  // namespace corio
