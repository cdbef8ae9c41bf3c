// tests/support/capture_log.hpp — captures what corio logs (stderr) during a test's scope.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace testing_support {

/// How many times `what` occurs in `text` (a log line expected once, say).
inline std::size_t occurrences(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

class capture_log {
 public:
  capture_log() { ::testing::internal::CaptureStderr(); }
  capture_log(const capture_log&) = delete;
  capture_log& operator=(const capture_log&) = delete;
  ~capture_log() {
    if (!taken_) (void)::testing::internal::GetCapturedStderr();
  }
  /// Stops capturing and returns everything written to stderr since construction.
  std::string text() {
    if (!taken_) text_ = ::testing::internal::GetCapturedStderr(), taken_ = true;
    return text_;
  }

 private:
  std::string text_;
  bool taken_ = false;
};

}  // namespace testing_support
