// tests/support/fault_report.cpp — linked into every I/O test executable (corio_add_io_test):
// under fault injection (CORIO_FAULTS, io/sys.hpp), each test that failed, or had a reset
// injected while it ran, gets one line on GoogleTest's own output stream:
//
//   corio-faults: HttpServer.ParsesTheSameRequestsSentOneByteAtATime resets=1 failed=1
//
// scripts/fault-run.sh accepts a failure in its reset pass only if its line says resets > 0.
// Why not the injector's own stderr line per reset: stdout and stderr reach a log in an order
// that buffering decides, and a test that captures stderr (capture_log) swallows the line.
// The count is exact: it is the injector's own tally, read when the test starts and ends.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>

#include "io/sys.hpp"

namespace {

class fault_report : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { resets_at_start_ = resets_so_far(); }

  void OnTestEnd(const ::testing::TestInfo& test) override {
    if (!corio::net::sys::faults_ever_enabled()) return;
    const std::uint64_t now = resets_so_far();
    // enable_faults() (fault_injection_test) starts the tally again from zero.
    const std::uint64_t resets = now >= resets_at_start_ ? now - resets_at_start_ : now;
    const bool failed = test.result()->Failed();
    if (resets == 0 && !failed) return;
    std::printf("corio-faults: %s.%s resets=%llu failed=%d\n", test.test_suite_name(), test.name(),
                static_cast<unsigned long long>(resets), failed ? 1 : 0);
    std::fflush(stdout);
  }

  static std::uint64_t resets_so_far() { return corio::net::sys::fault_stats().resets; }

  std::uint64_t resets_at_start_ = 0;
};

// Registered before main() runs: gtest_main's InitGoogleTest keeps the listeners it finds.
[[maybe_unused]] const bool registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new fault_report);  // gtest owns it
  return true;
}();

}  // namespace
