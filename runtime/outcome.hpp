// runtime/outcome.hpp — corio::outcome<T>: a finished task's value or its exception.
// gather_settled() returns one per task (asyncio's gather(return_exceptions=True)).
#pragma once

#include <exception>
#include <utility>
#include <variant>

namespace corio {

template <class T>
class outcome {
 public:
  explicit outcome(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  explicit outcome(std::exception_ptr error) : state_(std::in_place_index<1>, std::move(error)) {}

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The value; rethrows the stored exception when there is none.
  [[nodiscard]] T& value() & { return check(), std::get<0>(state_); }
  [[nodiscard]] const T& value() const& { return check(), std::get<0>(state_); }
  [[nodiscard]] T&& value() && { return check(), std::get<0>(std::move(state_)); }

  /// The exception, or nullptr when there is a value.
  [[nodiscard]] std::exception_ptr error() const noexcept {
    return has_value() ? nullptr : std::get<1>(state_);
  }

 private:
  void check() const {
    if (!has_value()) std::rethrow_exception(std::get<1>(state_));
  }
  std::variant<T, std::exception_ptr> state_;
};

template <>
class outcome<void> {
 public:
  outcome() noexcept = default;
  explicit outcome(std::exception_ptr error) noexcept : error_(std::move(error)) {}

  [[nodiscard]] bool has_value() const noexcept { return error_ == nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  /// Rethrows the stored exception, if any.
  void value() const {
    if (error_) std::rethrow_exception(error_);
  }
  [[nodiscard]] std::exception_ptr error() const noexcept { return error_; }

 private:
  std::exception_ptr error_;
};

}  // namespace corio
