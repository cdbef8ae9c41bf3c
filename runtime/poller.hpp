// runtime/poller.hpp — the one interface between the loop and the kernel's readiness API.
//
// Each backend is one .cpp file (design.md; redis ae_epoll.c / ae_kqueue.c), a subclass of
// `poller` that nothing outside its file sees:
//
//   backend   file                      where                 how readiness is reported
//   epoll     runtime/poller_epoll.cpp  Linux (the default)   edge-triggered, read+write+rdhup
//   kqueue    runtime/poller_kqueue.cpp BSD, macOS (default)  EV_CLEAR on EVFILT_READ/WRITE
//   poll      runtime/poller_poll.cpp   every POSIX system    level-triggered, on interest only
//
// make_poller() picks one at run time: the loop option, else the CORIO_POLLER environment
// variable ("epoll", "poll", "kqueue"), else the platform's default. poll(2) exists so that every
// I/O test runs on two backends on Linux and this interface is proven twice (Asio reruns its
// suite with -DASIO_DISABLE_EPOLL for the same reason).
//
// Backend quirks stay in the backend: events come out as portable `poll_event`s, and an error or
// hang-up is reported as both readable and writable, so that each side's waiter meets the error
// in its own read or write.
//
// A descriptor is registered once for its lifetime. An operation tries the syscall first and
// parks only on EAGAIN, so a ready socket costs no poller call at all. set_interest() says which
// directions somebody is parked on: the edge-triggered backends ignore it (they always watch
// both), the level-triggered poll backend watches only those, or an idle writable socket would
// wake it on every turn.
//
// Stale events: the loop dispatches a whole batch (handlers only queue tasks) before any task
// runs, and remove() happens before close(); so an event can never reach a descriptor that was
// closed, or the new owner of a reused number (libuv's uv__platform_invalidate_fd solves the
// same problem for callbacks that run inside the batch).
//
// wake() is the one member another thread may call: it makes a wait() in progress (or the next
// one) return at once (libuv's uv_async_t, Asio's interrupter). Its descriptor is not a
// registration the loop counts, and its events never reach the caller of wait().
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "../timers/clock.hpp"

namespace corio {

/// Which readiness API a loop uses (event_loop::options::backend).
enum class poller_backend {
  automatic,  ///< CORIO_POLLER from the environment if set, else the platform's best
  epoll,      ///< Linux only
  kqueue,     ///< BSD and macOS only
  poll,       ///< everywhere; O(registered descriptors) per wait
};

}  // namespace corio

namespace corio::detail {

struct poll_event {
  void* token;       // what add() was given for this descriptor
  bool readable;     // includes "read side closed by the peer" and errors
  bool writable;     // includes errors
  // The peer shut down its side, or the connection failed: reads will never block again, and
  // no further edge will come. Readiness tracking (fd_watch.hpp) must not forget readability
  // after this, or a task that read the last bytes before the EOF would park forever.
  bool read_closed;
};

class poller {
 public:
  virtual ~poller() = default;
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  /// Registers `fd` (not yet watched for anything on level-triggered backends). `token` comes
  /// back in every poll_event for it. Throws std::system_error.
  virtual void add(int fd, void* token) = 0;
  /// Which directions somebody waits for now. Cheap, never fails; ignored by edge-triggered backends.
  virtual void set_interest(int fd, bool read, bool write) noexcept = 0;
  /// Deregisters `fd`; call before close(fd). Errors are ignored (the fd may already be gone).
  virtual void remove(int fd) noexcept = 0;

  /// Waits until at least one event or until `timeout` passes (nullopt: no limit; zero: just
  /// look). The timeout is never rounded down. Returns how many entries of `out` were filled;
  /// 0 on timeout, when a signal interrupted the wait, or when wake() was called (the caller
  /// recomputes its timeout and looks at what other threads left for it).
  /// Throws std::system_error on an unexpected kernel error.
  virtual std::size_t wait(std::span<poll_event> out, std::optional<duration> timeout) = 0;

  /// Makes the current or next wait() return. Callable from any thread, any number of times
  /// (wake-ups before one wait() coalesce into one); async-signal-safe.
  virtual void wake() noexcept = 0;

  /// "epoll", "poll" or "kqueue".
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;

  /// User descriptors added and not yet removed (the wake descriptor is not one of them).
  [[nodiscard]] std::size_t registrations() const noexcept { return registrations_; }

 protected:
  poller() = default;
  std::size_t registrations_ = 0;
};

/// A wait timeout for APIs that count in milliseconds (poll, epoll_wait): -1 for none, rounded
/// UP, never down (or a timer due in 300 µs would spin through zero timeouts until it is due;
/// ae_epoll.c does the same), and clamped to what an int can say.
[[nodiscard]] inline int timeout_ms_rounded_up(std::optional<duration> timeout) noexcept {
  if (!timeout) return -1;
  if (*timeout <= duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*timeout).count();
  return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

/// Makes the backend asked for (see the table above). Throws std::invalid_argument for a backend
/// this platform lacks or an unknown CORIO_POLLER value, std::system_error if the kernel refuses.
[[nodiscard]] std::unique_ptr<poller> make_poller(poller_backend backend);

// One factory per backend file; only those built on this platform are defined.
[[nodiscard]] std::unique_ptr<poller> make_epoll_poller();
[[nodiscard]] std::unique_ptr<poller> make_kqueue_poller();
[[nodiscard]] std::unique_ptr<poller> make_poll_poller();

}  // namespace corio::detail
