// io/sys_faults.hpp — internal to io/sys.cpp: the decisions of the fault-injection mode (the
// contract and the CORIO_FAULTS syntax are in sys.hpp). sys.cpp asks, for each data call,
// which fault (if any) to inject; sys_faults.cpp draws it from the seeded sequence, counts it,
// and remembers the readiness it hides.
#pragma once

#include <cstddef>

namespace corio::net::sys::faults {

/// The calls that can be faulted.
enum class call : unsigned char { recv, send, recv_from, send_to, accept };

struct fault {
  enum class kind : unsigned char { none, would_block, reset };
  kind what = kind::none;
  std::size_t size = 0;  // the length to give the kernel: the caller's, or a shorter one
  unsigned turns = 0;    // a made-up EAGAIN or short length: when to report readiness again
};

/// Draws the fault for one `c` of `size` bytes. Only while the mode is on.
[[nodiscard]] fault draw(call c, std::size_t size) noexcept;
/// A fault drawn for `c` on `fd` hid readiness that is really there: report it `turns` turns
/// after the next park on that side (take_hidden_readiness in sys.hpp).
void hide_readiness(call c, int fd, unsigned turns) noexcept;
/// Should this attempt be an (injected) EINTR? Drawn once per attempt, only while the mode is on.
[[nodiscard]] bool interrupt_now() noexcept;
/// `fd` is being closed: what was recorded about it no longer applies to its number.
void forget(int fd) noexcept;
/// A reset was injected into `c` on `fd`: one stderr line, for whoever reads the output (fault-run.sh
/// counts resets per test from fault_stats() instead: tests/support/fault_report.cpp).
void report_reset(call c, int fd) noexcept;

}  // namespace corio::net::sys::faults
