// tests/support/tasks.hpp — small coroutines the runtime tests are built from.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <corio.hpp>

namespace testing_support {

/// The loop the calling test body runs on.
inline corio::event_loop& current_loop() { return *corio::event_loop::current(); }

/// Is the task behind `h` parked on a waiter (not running, not queued to run)?
template <class T>
bool parked(const corio::join_handle<T>& h) {
  return h.state()->current_wait() != nullptr;
}

/// Yields until the task behind `h` parks, at most 100 turns; callers check parked(h) afterwards.
/// A single yield is not enough: a spawned task starts on a later turn, but which of the tasks
/// ready in that turn runs first is not promised (the ready-queue shuffle changes it).
template <class T>
corio::task<> until_parked(const corio::join_handle<T>& h) {
  for (int i = 0; i < 100 && !parked(h); ++i) co_await corio::yield();
}

/// Yields until `condition()` holds, at most 100 turns; callers check the condition afterwards.
template <class Condition>
corio::task<> within_100_turns(Condition condition) {
  for (int i = 0; i < 100 && !condition(); ++i) co_await corio::yield();
}

inline corio::task<int> value_after(std::chrono::milliseconds d, int v) {
  co_await corio::sleep(d);
  co_return v;
}

inline corio::task<> nothing_after(std::chrono::milliseconds d) { co_await corio::sleep(d); }

inline corio::task<int> fail_after(std::chrono::milliseconds d, std::string message) {
  co_await corio::sleep(d);
  throw std::runtime_error(message);
}

inline corio::task<> set_after(std::chrono::milliseconds d, bool& done) {
  co_await corio::sleep(d);
  done = true;
}

/// Sleeps until cancelled, then fails while unwinding: a second, real failure that a combinator
/// cannot rethrow (the first one wins) and must not drop silently.
inline corio::task<int> fail_when_cancelled(std::string message) {
  try {
    co_await corio::sleep(std::chrono::hours(1));
  } catch (const corio::cancelled&) {
    throw std::runtime_error(message);
  }
  co_return 0;
}

/// Sleeps for `d`, and records how that ended in `how`: "finished" or "cancelled".
inline corio::task<int> record(std::chrono::milliseconds d, std::string& how) {
  try {
    co_await corio::sleep(d);
  } catch (const corio::cancelled&) {
    how = "cancelled";
    throw;
  }
  how = "finished";
  co_return 0;
}

}  // namespace testing_support
