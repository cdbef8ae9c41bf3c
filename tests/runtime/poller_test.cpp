// tests/runtime/poller_test.cpp — the poller interface, on the backend compiled in (epoll).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <chrono>

#include "runtime/poller.hpp"

using namespace std::chrono_literals;

namespace {

class pipe_pair {
 public:
  pipe_pair() { EXPECT_EQ(::pipe(fds_), 0); }
  pipe_pair(const pipe_pair&) = delete;
  pipe_pair& operator=(const pipe_pair&) = delete;
  ~pipe_pair() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

}  // namespace

TEST(poller, reports_a_readable_pipe_with_the_token_it_was_given) {
  corio::detail::poller p;
  pipe_pair pipe;
  int token = 0;
  p.add(pipe.read_end(), &token);
  EXPECT_EQ(p.registrations(), 1u);
  ASSERT_EQ(::write(pipe.write_end(), "x", 1), 1);
  std::array<corio::detail::poll_event, 8> events{};
  ASSERT_EQ(p.wait(events, 1s), 1u);
  EXPECT_EQ(events[0].token, &token);
  EXPECT_TRUE(events[0].readable);
  p.remove(pipe.read_end());
  EXPECT_EQ(p.registrations(), 0u);
}

TEST(poller, a_zero_timeout_returns_at_once_with_nothing) {
  corio::detail::poller p;
  std::array<corio::detail::poll_event, 8> events{};
  EXPECT_EQ(p.wait(events, corio::duration::zero()), 0u);
}

TEST(poller, a_hang_up_wakes_the_reader_and_the_writer) {
  corio::detail::poller p;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int token = 0;
  p.add(fds[0], &token);
  ::close(fds[1]);  // the writer goes away: EPOLLHUP on the read end
  std::array<corio::detail::poll_event, 8> events{};
  ASSERT_EQ(p.wait(events, 1s), 1u);
  EXPECT_TRUE(events[0].readable);
  EXPECT_TRUE(events[0].writable);
  p.remove(fds[0]);
  ::close(fds[0]);
}

TEST(poller, adding_a_bad_descriptor_throws_system_error) {
  corio::detail::poller p;
  int token = 0;
  EXPECT_THROW(p.add(-1, &token), std::system_error);
  EXPECT_EQ(p.registrations(), 0u);
}
