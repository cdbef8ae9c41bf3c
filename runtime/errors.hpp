// runtime/errors.hpp — the exception types the runtime throws.
#pragma once

#include <cstdint>
#include <exception>
#include <stdexcept>

namespace corio {

/// Thrown at a suspension point of a task whose cancellation was requested.
///
/// It deliberately does NOT derive from std::exception: `catch (const std::exception&)` in user
/// code must not swallow a cancellation by accident, for the same reason asyncio made
/// CancelledError a BaseException (Python 3.8). Catch it only to clean up, then rethrow.
struct cancelled {
  [[nodiscard]] const char* what() const noexcept { return "corio::cancelled"; }
};

/// Misuse of a task or handle: awaiting an empty (moved-from) task, taking a result twice,
/// awaiting a join_handle from two tasks at once.
class broken_promise : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// The loop found nothing that could ever wake the task being run: no task ready, no timer
/// armed, no I/O registered. Go reports the same as "all goroutines are asleep - deadlock!".
class deadlock_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Throws corio::cancelled. Out of line and without any local that needs destroying, so the
/// unwinder finds no cleanup to run in it (a landing pad here doubled the cost of a cancel).
[[noreturn]] void throw_cancelled();

/// How many corio::cancelled this thread has thrown so far (for runtime/testing_cancel.hpp,
/// which tells a cancellation that was delivered and then swallowed from one never delivered).
[[nodiscard]] std::uint64_t cancellations_thrown() noexcept;

/// True when the exception being handled (inside a catch block) is exactly corio::cancelled.
/// Asks the C++ ABI for its type instead of rethrowing it to look (a second unwind).
[[nodiscard]] bool handling_cancellation() noexcept;

}  // namespace detail
}  // namespace corio
