// runtime/when_any.hpp — race tasks: the first to finish wins, the others are cancelled.
//
//   auto r = co_await corio::when_any(fetch(mirror_a), fetch(mirror_b));
//   // r.index: which argument won (0, 1, ...); its value: std::get<0>(r.value) or std::get<1>(r.value)
//
//   auto r = co_await corio::when_any(std::move(tasks));   // a vector of task<T>
//   // r.index and r.value (a T)
//
// Every argument is spawned as a task of its own. The first to finish — with a value or an
// exception — wins; every other one is cancelled and AWAITED before when_any returns, so no
// loser outlives the call. If the winner failed, its exception is rethrown. A loser that fails
// with something other than corio::cancelled while unwinding is logged as never retrieved,
// not dropped. A void task contributes std::monostate. Cancelling the awaiting task cancels
// every child, waits for them all, then throws corio::cancelled. Resumes on the loop's thread.
#pragma once

#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "gather.hpp"

namespace corio {

template <class... T>
struct when_any_result {
  std::size_t index;                                    // which argument won
  std::variant<detail::value_t<T>...> value;    // its value, at that same index
};

template <class T>
struct when_any_vector_result {
  std::size_t index;                  // which element of the vector won
  detail::value_t<T> value;
};

namespace detail {

template <class Result, class Handles, std::size_t... I>
Result take_winner(Handles& handles, std::size_t winner, std::index_sequence<I...>) {
  std::optional<Result> out;
  ((I == winner ? (void)out.emplace(Result{I, decltype(Result::value)(std::in_place_index<I>,
                                                                      take_value(std::get<I>(handles)))})
                : (void)0),
   ...);
  return std::move(*out);
}

template <class States>
std::size_t index_of(const States& states, const task_state* winner) noexcept {
  std::size_t i = 0;
  while (states[i] != winner) ++i;
  return i;
}

}  // namespace detail

template <class... T>
task<when_any_result<T...>> when_any(task<T>... tasks) {
  static_assert(sizeof...(T) > 0, "when_any needs at least one task");
  std::tuple<join_handle<T>...> handles{spawn(std::move(tasks))...};
  const auto states = std::apply([](auto&... h) { return std::array<detail::task_state*, sizeof...(T)>{h.state()...}; }, handles);
  detail::gather_group group(states, detail::finish_rule::first_done_cancels);
  co_await group;
  const std::size_t winner = detail::index_of(states, group.first());
  co_return detail::take_winner<when_any_result<T...>>(handles, winner, std::index_sequence_for<T...>{});
}

/// when_any() of tasks and socket operations mixed: each operation runs as its task
/// (detail::task_operation, task.hpp); a losing read is cancelled like any loser, and a read
/// is cancel-safe (io/socket.hpp), so it consumed nothing.
template <class... A>
  requires detail::mixed_with_operations<A...>
auto when_any(A... items) {
  return when_any(detail::as_task(std::move(items))...);
}

/// Throws std::invalid_argument for an empty vector (there would be no winner).
template <class T>
task<when_any_vector_result<T>> when_any(std::vector<task<T>> tasks) {
  if (tasks.empty()) throw std::invalid_argument("corio::when_any: no tasks");
  auto handles = detail::spawn_all(tasks);
  const auto states = detail::states_of(handles);
  detail::gather_group group(states, detail::finish_rule::first_done_cancels);
  co_await group;
  const std::size_t winner = detail::index_of(states, group.first());
  co_return when_any_vector_result<T>{winner, detail::take_value(handles[winner])};
}

}  // namespace corio
