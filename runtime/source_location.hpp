// runtime/source_location.hpp — where in the program something happened (a spawn, an await).
//
// std::source_location would do, but clang 14 with libstdc++ 12 (Debian 12's pair) does not
// provide it: libstdc++ needs __builtin_source_location, which clang only gained in version 15.
// The __builtin_FILE/LINE/FUNCTION builtins it is made of work in both compilers, and as
// default arguments they are evaluated at the call site, which is all we need.
#pragma once

#include <cstdint>

namespace corio {

class source_location {
 public:
  /// The location of the call that evaluates this default argument.
  [[nodiscard]] static constexpr source_location current(const char* file = __builtin_FILE(),
                                                         const char* function = __builtin_FUNCTION(),
                                                         std::uint_least32_t line = __builtin_LINE()) noexcept {
    return source_location(file, function, line);
  }

  constexpr source_location() noexcept = default;

  [[nodiscard]] constexpr const char* file_name() const noexcept { return file_; }
  [[nodiscard]] constexpr const char* function_name() const noexcept { return function_; }
  [[nodiscard]] constexpr std::uint_least32_t line() const noexcept { return line_; }

 private:
  constexpr source_location(const char* file, const char* function, std::uint_least32_t line) noexcept
      : file_(file), function_(function), line_(line) {}

  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
};

}  // namespace corio
