// runtime/testing_mock.hpp — gmock actions for mocked methods that return corio::task<T>
// (the role of Python's AsyncMock). Not part of <corio.hpp>: include it from test files, which
// link GoogleTest and gmock.
//
//   struct weather_api {
//     virtual ~weather_api() = default;
//     virtual corio::task<int> temperature(std::string city) = 0;
//   };
//   struct mock_weather : weather_api {
//     MOCK_METHOD(corio::task<int>, temperature, (std::string city), (override));
//   };
//
//   EXPECT_CALL(api, temperature("Oslo"))
//       .WillOnce(corio::testing::returns_async(-3))                  // co_await gives -3
//       .WillOnce(corio::testing::returns_after(30s, 4))              // sleeps 30 s first
//       .WillOnce(corio::testing::throws_async(std::runtime_error("down")));
//
// Contract:
//   * Each action makes a NEW task every time the mock is called, so WillRepeatedly works too.
//     Like any task<T>, it is lazy: nothing happens until the caller co_awaits (or spawns) it.
//     Its value is a copy of the one given to the action, converted to the method's T when the
//     action is bound to the method (returns_async("x") for a task<std::string> is fine).
//   * returns_async completes without suspending: the awaiting task goes on inline, as it
//     would with a real method that has its answer cached.
//   * returns_after suspends on corio::sleep(delay), even for a zero delay (the awaiting task
//     goes round the loop once): on the test's manual clock that costs no real time. Cancelled while sleeping, it throws corio::cancelled and leaves no timer behind.
//   * throws_async rethrows a copy of the given exception from the co_await, not from the call:
//     the code under test sees the failure where it awaits, as it would with a real coroutine.
//   * The arguments the mock was called with are not kept by the task (they may be references
//     to the caller's temporaries); match them in EXPECT_CALL instead.
//   * A mocked task method with no action set returns an empty task<T>, and awaiting that
//     throws corio::broken_promise: the test fails with that error, it does not hang.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <gmock/gmock.h>

#include "../timers/clock.hpp"
#include "sleep.hpp"
#include "task.hpp"

namespace corio::testing {

namespace detail {

// The tasks the actions make. Free functions taking their arguments by value, so the frame owns
// copies and outlives the action object (gmock may destroy a WillOnce action right after the call).
template <class T>
task<T> ready_value(T value) {
  co_return value;
}
inline task<void> ready_void() { co_return; }

template <class T>
task<T> value_after(corio::duration delay, T value) {
  co_await corio::sleep(delay);
  co_return value;
}
inline task<void> void_after(corio::duration delay) { co_await corio::sleep(delay); }

inline task<void> rethrow_void(std::exception_ptr error) {
  std::rethrow_exception(error);
  co_return;  // never reached; makes this function a coroutine
}
// Through a task<void>, because a task<T> coroutine must contain a co_ keyword and T may have no
// default value to co_return.
template <class T>
task<T> rethrow(std::exception_ptr error) {
  if constexpr (std::is_void_v<T>) {
    co_await rethrow_void(error);
  } else {
    co_await rethrow_void(error);
    std::rethrow_exception(error);  // never reached
  }
}

// The task type a mocked function returns, checked to be a corio::task.
template <class Result>
struct task_result {
  static_assert(sizeof(Result) == 0, "corio::testing actions are for methods that return corio::task<T>");
};
template <class T>
struct task_result<task<T>> {
  using value_type = T;
};

// A gmock polymorphic action: Perform is instantiated with the mocked method's result type.
template <class V>
class returns_action {
 public:
  returns_action(std::optional<corio::duration> delay, V value) : delay_(delay), value_(std::move(value)) {}
  template <class Result, class Args>
  Result Perform(const Args&) const {
    using T = typename task_result<Result>::value_type;
    if (!delay_) return ready_value<T>(T(value_));
    return value_after<T>(*delay_, T(value_));
  }

 private:
  std::optional<corio::duration> delay_;  // none: complete without suspending
  V value_;
};

class returns_void_action {
 public:
  explicit returns_void_action(std::optional<corio::duration> delay) : delay_(delay) {}
  template <class Result, class Args>
  Result Perform(const Args&) const {
    static_assert(std::is_void_v<typename task_result<Result>::value_type>, "this action is for task<void>");
    if (!delay_) return ready_void();
    return void_after(*delay_);
  }

 private:
  std::optional<corio::duration> delay_;  // none: complete without suspending
};

class throws_action {
 public:
  explicit throws_action(std::exception_ptr error) : error_(std::move(error)) {}
  template <class Result, class Args>
  Result Perform(const Args&) const {
    return rethrow<typename task_result<Result>::value_type>(error_);
  }

 private:
  std::exception_ptr error_;
};

}  // namespace detail

/// The mocked call returns a task whose co_await gives `value` without suspending.
template <class V>
[[nodiscard]] auto returns_async(V value) {
  return ::testing::MakePolymorphicAction(detail::returns_action<V>(std::nullopt, std::move(value)));
}
/// For a method returning task<void>: a task that completes without suspending.
[[nodiscard]] inline auto returns_async() {
  return ::testing::MakePolymorphicAction(detail::returns_void_action(std::nullopt));
}

/// The mocked call returns a task that sleeps for `delay` (loop time), then gives `value`.
template <class Rep, class Period, class V>
[[nodiscard]] auto returns_after(std::chrono::duration<Rep, Period> delay, V value) {
  const auto d = std::chrono::ceil<corio::duration>(delay);
  return ::testing::MakePolymorphicAction(detail::returns_action<V>(d, std::move(value)));
}
/// For a method returning task<void>: a task that sleeps for `delay`, then completes.
template <class Rep, class Period>
[[nodiscard]] auto returns_after(std::chrono::duration<Rep, Period> delay) {
  return ::testing::MakePolymorphicAction(detail::returns_void_action(std::chrono::ceil<corio::duration>(delay)));
}

/// The mocked call returns a task whose co_await throws a copy of `error`.
template <class E>
[[nodiscard]] auto throws_async(E error) {
  return ::testing::MakePolymorphicAction(detail::throws_action(std::make_exception_ptr(std::move(error))));
}

}  // namespace corio::testing
