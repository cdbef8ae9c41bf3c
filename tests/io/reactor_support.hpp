// tests/io/reactor_support.hpp — what the reactor fault tests (reliability.md section A) share:
// tests on the real steady clock, raw descriptor pairs, and the measurements behind "no spin":
// task resumptions and this thread's CPU time.
//
// The tests hold their sockets in net::detail::socket_handle, the registration every io/ socket
// is built on: it adopts a descriptor, parks through ready() (which shows the test every wake-up,
// including the spurious ones a stream_socket hides by parking again), and closes the real way
// (deregister, close the number, free the watch, so that a stale token points at freed memory
// and the ASan build reports it).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <utility>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/fd_watch.hpp"
#include "runtime/testing.hpp"

namespace reactor_support {

using socket_handle = corio::net::detail::socket_handle;
using steady = std::chrono::steady_clock;

/// CPU time (user + system) this thread has used so far.
inline std::chrono::microseconds thread_cpu_time() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  const auto us = [](const timeval& tv) { return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec); };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

/// Descriptors this process has open now (entries of /proc/self/fd, minus the directory's own).
inline int open_fd_count() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir)) n += e->d_name[0] != '.';
  ::closedir(dir);
  return n - 1;
}

/// The number the next socket() or open() will get: POSIX gives the lowest free one.
inline int lowest_free_fd() {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ::close(fd);
  return fd;
}

/// A connected AF_UNIX stream pair, both ends non-blocking: `near` is watched, `far` is the peer.
class fd_pair {
 public:
  fd_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0) << "errno " << errno;
    near_ = fds[0];
    far_ = fds[1];
  }
  fd_pair(const fd_pair&) = delete;
  fd_pair& operator=(const fd_pair&) = delete;
  ~fd_pair() {
    close_near();
    close_far();
  }
  [[nodiscard]] int near() const noexcept { return near_; }
  [[nodiscard]] int far() const noexcept { return far_; }
  /// Hands the near end to the caller (who closes it from now on).
  [[nodiscard]] int release_near() noexcept { return std::exchange(near_, -1); }
  [[nodiscard]] int release_far() noexcept { return std::exchange(far_, -1); }
  void close_near() {
    if (near_ >= 0) ::close(std::exchange(near_, -1));
  }
  void close_far() {
    if (far_ >= 0) ::close(std::exchange(far_, -1));
  }
  /// Makes the near end readable.
  void send_from_far(char byte = 'x') const { EXPECT_EQ(::send(far_, &byte, 1, MSG_NOSIGNAL), 1) << "errno " << errno; }

 private:
  int near_ = -1;
  int far_ = -1;
};

/// What the loop did while this thread sat in a sleep of `length`: task resumptions (the sleep's
/// own wake-up is one) and the CPU this thread burnt, as a fraction of the wall time.
struct idle_report {
  std::uint64_t resumptions;
  double cpu_fraction;
};

inline corio::task<idle_report> measure_idle(std::chrono::milliseconds length) {
  corio::event_loop& loop = *corio::event_loop::current();
  const std::uint64_t resumed_before = loop.resumptions();
  const auto cpu_before = thread_cpu_time();
  const auto wall_before = steady::now();
  co_await corio::sleep(length);
  const double wall = std::chrono::duration<double>(steady::now() - wall_before).count();
  const double cpu = std::chrono::duration<double>(thread_cpu_time() - cpu_before).count();
  co_return idle_report{loop.resumptions() - resumed_before, cpu / wall};
}

}  // namespace reactor_support
