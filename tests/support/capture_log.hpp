// tests/support/capture_log.hpp — captures what corio logs (stderr) during a test's scope.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace testing_support {

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
