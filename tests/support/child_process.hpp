// tests/support/child_process.hpp — part of a test run in a forked child process, for what must
// not happen in the test process itself: a lowered RLIMIT_NOFILE, 10,000 client sockets that do
// not fit beside 10,000 server sockets under the per-process fd limit, or a process that still
// holds a descriptor after the test closed its own copy.
//
//   testing_support::child_process child([&] {       // runs in the child, right away
//     EXPECT_EQ(...);                                // GoogleTest assertions work as usual
//   });
//   ...                                              // the parent's side of the test
//   child.expect_clean_exit(5s);                     // waits; the child's failures fail the test
//
// How the child reports: it installs a GoogleTest event listener that writes every failed
// assertion ("file:line: message") into a pipe the parent reads, then leaves with _exit: 0 if
// nothing failed, 1 if an assertion failed, 2 if the body threw. _exit, because the child is a
// copy of the test process: it must never return into GoogleTest, run the parent's atexit
// handlers or static destructors, or flush stdio buffers the parent will flush too.
//
// Loops: the child gets copies of every event loop the parent has (and shares their epoll
// instance, reliability.md T-42). It must not use them: make a fresh loop in the child
// (corio::run, corio::testing::run_test), and fork from a plain TEST where possible.
//
// If the parent gives up waiting (or is destroyed first), the child is killed and reaped, so a
// failing test leaves no process behind.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>

namespace testing_support {

namespace detail {

inline bool write_fully(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes unless EOF or an error comes first; returns how many arrived.
inline std::size_t read_fully(int fd, void* data, std::size_t size) {
  char* p = static_cast<char*>(data);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd, p + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// In the child: every failed assertion goes down the pipe, one line each.
class failure_forwarder final : public ::testing::EmptyTestEventListener {
 public:
  explicit failure_forwarder(int fd) : fd_(fd) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    const std::string line = std::string(result.file_name() != nullptr ? result.file_name() : "?") + ":" +
                             std::to_string(result.line_number()) + ": (in the child) " + result.summary() + "\n";
    (void)write_fully(fd_, line.data(), line.size());
  }

 private:
  int fd_;
};

}  // namespace detail

/// A one-way pipe for small fixed-size messages between the parent and a child (a port number,
/// a result struct). Make it before forking; each side closes the end it does not use.
class pipe_channel {
 public:
  pipe_channel() { EXPECT_EQ(::pipe2(fds_, O_CLOEXEC), 0) << "pipe2: errno " << errno; }
  pipe_channel(const pipe_channel&) = delete;
  pipe_channel& operator=(const pipe_channel&) = delete;
  ~pipe_channel() {
    close_read_end();
    close_write_end();
  }

  template <class T>
  bool send(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return detail::write_fully(fds_[1], &value, sizeof value);
  }
  /// Blocks until a whole T arrived (true) or the other side closed its end first (false).
  template <class T>
  bool receive(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return detail::read_fully(fds_[0], &value, sizeof value) == sizeof value;
  }
  void close_read_end() {
    if (fds_[0] >= 0) ::close(std::exchange(fds_[0], -1));
  }
  void close_write_end() {
    if (fds_[1] >= 0) ::close(std::exchange(fds_[1], -1));
  }

 private:
  int fds_[2] = {-1, -1};
};

class child_process {
 public:
  /// Forks; the child runs `body` and exits (see the top). The parent returns at once.
  template <class F>
  explicit child_process(F&& body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: errno " << errno;
      return;
    }
    std::fflush(nullptr);  // or the child would print the parent's buffered output again
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      run_child(std::forward<F>(body), fds[1]);
    }
    ::close(fds[1]);
    if (pid_ < 0) {
      ADD_FAILURE() << "fork: errno " << errno;
      ::close(fds[0]);
      return;
    }
    messages_fd_ = fds[0];
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() { kill_and_reap(); }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// Waits up to `limit` for the child to exit; fails the test with the child's own failure
  /// messages unless it exited with status 0. On timeout the child is killed.
  void expect_clean_exit(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return;
    const std::string messages = collect_messages(limit);
    if (messages_fd_ >= 0) {  // still open: the child did not finish in time
      ADD_FAILURE() << "the child process did not exit within " << limit.count() << " ms; killed it\n" << messages;
      kill_and_reap();
      return;
    }
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    if (WIFSIGNALED(status))
      ADD_FAILURE() << "the child process was killed by signal " << WTERMSIG(status) << "\n" << messages;
    else
      ADD_FAILURE() << "the child process exited with status " << WEXITSTATUS(status) << "\n" << messages;
  }

 private:
  template <class F>
  [[noreturn]] static void run_child(F&& body, int messages_fd) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());  // the parent prints
    listeners.Append(new detail::failure_forwarder(messages_fd));
    int code = 0;
    try {
      body();
      if (::testing::Test::HasFailure()) code = 1;
    } catch (const std::exception& e) {
      const std::string line = std::string("the child's body threw: ") + e.what() + "\n";
      (void)detail::write_fully(messages_fd, line.data(), line.size());
      code = 2;
    } catch (...) {
      const std::string line = "the child's body threw something not derived from std::exception\n";
      (void)detail::write_fully(messages_fd, line.data(), line.size());
      code = 2;
    }
    ::_exit(code);
  }

  // Reads the child's messages until it closes the pipe (it exited) or `limit` passes.
  std::string collect_messages(std::chrono::milliseconds limit) {
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (messages_fd_ >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{messages_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(messages_fd_, buf, sizeof buf);
      if (n > 0) text.append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) ::close(std::exchange(messages_fd_, -1));
    }
    return text;
  }

  void kill_and_reap() noexcept {
    if (messages_fd_ >= 0) ::close(std::exchange(messages_fd_, -1));
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  pid_t pid_ = -1;
  int messages_fd_ = -1;
};

}  // namespace testing_support
