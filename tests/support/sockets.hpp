// tests/support/sockets.hpp — what the socket tests share: connected pairs, resets, descriptor
// and memory counts, a temporary directory, and tests that run on the real (steady) clock.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "tasks.hpp"

namespace testing_support {

/// Both ends of one loopback TCP connection.
struct tcp_pair {
  corio::net::stream_socket client;  // made by connect
  corio::net::stream_socket server;  // made by accept
};

/// Connects to a fresh listener on 127.0.0.1 and accepts; the listener is closed afterwards.
inline corio::task<tcp_pair> connect_tcp_pair() {
  auto server = corio::net::listener::bind(corio::net::address::loopback(0));
  auto accepting = corio::spawn(server.accept(), "accept");
  auto client = co_await corio::net::stream_socket::connect(server.local_address());
  auto accepted = co_await accepting;
  co_return tcp_pair{std::move(client), std::move(accepted)};
}

/// Closes `s` with SO_LINGER {on, 0 s}: the kernel sends RST instead of FIN (an abortive close).
inline void reset_connection(corio::net::stream_socket& s) {
  const linger abort_on_close{1, 0};
  EXPECT_EQ(::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close), 0);
  s.close();
}

/// The errno of the std::system_error `op` throws, or 0 when it succeeds. `op`: a task, or a
/// socket operation (read_some, write_all).
template <class Op>
corio::task<int> error_of(Op op) {
  try {
    (void)(co_await std::move(op));
  } catch (const std::system_error& e) {
    co_return e.code().value();
  }
  co_return 0;
}

/// How a parked operation ended, and whether the task that closed its socket had already
/// left close() by then (close() must never resume anybody from inside itself).
struct abort_report {
  int error = 0;
  bool after_close_returned = false;
};

template <class Op>
corio::task<abort_report> report_abort(Op op, const bool& close_returned) {
  abort_report r;
  r.error = co_await error_of(std::move(op));
  r.after_close_returned = close_returned;
  co_return r;
}

/// Descriptors this process has open now (entries of /proc/self/fd; the listing's own
/// descriptor is counted every time, so differences are exact).
inline std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// Resident memory now, in bytes (/proc/self/statm, second field). Unlike ru_maxrss it can be
/// sampled during a test, so a peak reached by an earlier test in the process does not hide growth.
inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total_pages = 0;
  std::size_t resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// Is SIGPIPE at its default disposition (terminate the process)? Only asks; changes nothing.
inline bool sigpipe_is_default() {
  struct sigaction current {};
  ::sigaction(SIGPIPE, nullptr, &current);
  return current.sa_handler == SIG_DFL;
}

/// A fresh, private directory under $TMPDIR (or /tmp), removed with everything in it.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/corio-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace testing_support
