// tests/support/tasks.hpp — small coroutines the runtime tests are built from.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <corio.hpp>

namespace testing_support {

/// The loop the calling test body runs on.
inline corio::event_loop& current_loop() { return *corio::event_loop::current(); }

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
