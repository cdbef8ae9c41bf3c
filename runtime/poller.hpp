// runtime/poller.hpp — the one interface between the loop and the kernel's readiness API.
//
// Each backend is one .cpp file (design.md; redis ae_epoll.c / ae_kqueue.c): this issue brings
// epoll (runtime/poller_epoll.cpp); poll(2) and kqueue come with the sockets work. CMake
// compiles exactly one. Backend quirks stay in the backend: events come out as portable
// `poll_event`s, and an error or hang-up is reported as both readable and writable, so that
// each side's waiter meets the error in its own read or write.
//
// A descriptor is registered once for its lifetime, edge-triggered, for read and write at once:
// an operation tries the syscall first and only parks on EAGAIN, so a ready socket costs no
// poller call at all.
//
// wake() is the one member another thread may call: it makes a wait() in progress (or the next
// one) return at once. epoll uses an eventfd registered beside the user's descriptors (libuv's
// uv_async_t, Asio's eventfd_select_interrupter); it is not a registration the loop counts, and
// its events never reach the caller of wait().
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "../timers/clock.hpp"

namespace corio::detail {

struct poll_event {
  void* token;     // what add() was given for this descriptor
  bool readable;   // includes "read side closed by the peer" and errors
  bool writable;   // includes errors
};

class poller {
 public:
  /// Creates the kernel objects (epoll_create1, and the wake eventfd). Throws std::system_error.
  poller();
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  /// Registers `fd` for edge-triggered read and write readiness. Throws std::system_error.
  void add(int fd, void* token);
  /// Deregisters `fd`; call before close(fd). Errors are ignored (the fd may already be gone).
  void remove(int fd) noexcept;

  /// Waits until at least one event or until `timeout` passes (nullopt: no limit; zero: just
  /// look). The timeout is never rounded down. Returns how many entries of `out` were filled;
  /// 0 on timeout, when a signal interrupted the wait, or when wake() was called (the caller
  /// recomputes its timeout and looks at what other threads left for it).
  /// Throws std::system_error on an unexpected kernel error.
  std::size_t wait(std::span<poll_event> out, std::optional<duration> timeout);

  /// Makes the current or next wait() return. Callable from any thread, any number of times
  /// (wake-ups before one wait() coalesce into one); async-signal-safe.
  void wake() noexcept;

  /// User descriptors added and not yet removed (the wake descriptor is not one of them).
  [[nodiscard]] std::size_t registrations() const noexcept { return registrations_; }

 private:
  int fd_ = -1;
  int wake_fd_ = -1;
  std::size_t registrations_ = 0;
};

}  // namespace corio::detail
