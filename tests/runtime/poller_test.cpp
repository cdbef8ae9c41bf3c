// tests/runtime/poller_test.cpp — the poller interface, once per backend built on this platform
// (epoll and poll on Linux, kqueue and poll on macOS/BSD), through make_poller().
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/poller.hpp"

using namespace std::chrono_literals;
using corio::poller_backend;
using steady = std::chrono::steady_clock;

namespace {

// What CMake built here: it hands this test the same CORIO_HAVE_* definitions as the library.
std::vector<poller_backend> built_backends() {
  std::vector<poller_backend> backends;
#if defined(CORIO_HAVE_EPOLL)
  backends.push_back(poller_backend::epoll);
#endif
#if defined(CORIO_HAVE_KQUEUE)
  backends.push_back(poller_backend::kqueue);
#endif
  backends.push_back(poller_backend::poll);
  return backends;
}

std::string backend_name(poller_backend b) {
  switch (b) {
    case poller_backend::epoll: return "epoll";
    case poller_backend::kqueue: return "kqueue";
    case poller_backend::poll: return "poll";
    case poller_backend::automatic: break;
  }
  return "automatic";
}

// Two connected descriptors: a pipe (read end first) or a Unix stream socket pair.
class fd_pair {
 public:
  enum class kind { pipe, sockets };
  explicit fd_pair(kind k) {
    const int rc = k == kind::pipe ? ::pipe(fds_) : ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_);
    EXPECT_EQ(rc, 0) << "errno " << errno;
  }
  fd_pair(const fd_pair&) = delete;
  fd_pair& operator=(const fd_pair&) = delete;
  ~fd_pair() {
    ::close(fds_[0]);
    close_second();
  }
  int first() const { return fds_[0]; }
  int second() const { return fds_[1]; }
  void close_second() {
    if (fds_[1] >= 0) ::close(std::exchange(fds_[1], -1));
  }
  void send_byte() const { ASSERT_EQ(::write(fds_[1], "x", 1), 1); }

 private:
  int fds_[2] = {-1, -1};
};

// What one wait() said about `token`: a backend may report one descriptor as several events.
struct readiness {
  std::size_t events = 0;
  bool readable = false;
  bool writable = false;
};

readiness wait_for(corio::detail::poller& p, const void* token, std::optional<corio::duration> timeout) {
  std::array<corio::detail::poll_event, 16> events{};
  const std::size_t n = p.wait(events, timeout);
  readiness seen;
  for (std::size_t i = 0; i < n; ++i) {
    if (events[i].token != token) continue;
    ++seen.events;
    seen.readable = seen.readable || events[i].readable;
    seen.writable = seen.writable || events[i].writable;
  }
  return seen;
}

// Restores CORIO_POLLER when the test ends, whatever ctest set it to.
class scoped_env {
 public:
  explicit scoped_env(const char* value) {
    if (const char* old = std::getenv("CORIO_POLLER")) old_ = old;
    ::setenv("CORIO_POLLER", value, 1);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
  ~scoped_env() {
    if (old_) ::setenv("CORIO_POLLER", old_->c_str(), 1);
    else ::unsetenv("CORIO_POLLER");
  }

 private:
  std::optional<std::string> old_;
};

class poller_test : public ::testing::TestWithParam<poller_backend> {
 protected:
  void TearDown() override { EXPECT_EQ(p->registrations(), 0u) << "descriptors left registered"; }
  bool edge_triggered() const { return p->name() != "poll"; }

  std::unique_ptr<corio::detail::poller> p = corio::detail::make_poller(GetParam());
  std::array<corio::detail::poll_event, 8> events{};
  int token = 0;
};

std::string instance_name(const ::testing::TestParamInfo<poller_backend>& param) {
  return backend_name(param.param);
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(backends, poller_test, ::testing::ValuesIn(built_backends()), instance_name);

TEST_P(poller_test, is_the_backend_it_was_asked_for) { EXPECT_EQ(p->name(), backend_name(GetParam())); }

TEST_P(poller_test, reports_a_readable_pipe_with_the_token_it_was_given) {
  fd_pair pipe(fd_pair::kind::pipe);
  p->add(pipe.first(), &token);
  p->set_interest(pipe.first(), true, false);
  EXPECT_EQ(p->registrations(), 1u);
  pipe.send_byte();
  ASSERT_EQ(p->wait(events, 1s), 1u);
  EXPECT_EQ(events[0].token, &token);
  EXPECT_TRUE(events[0].readable);
  p->remove(pipe.first());
  EXPECT_EQ(p->registrations(), 0u);
}

TEST_P(poller_test, a_zero_timeout_returns_at_once_with_nothing) {
  const auto start = steady::now();
  EXPECT_EQ(p->wait(events, corio::duration::zero()), 0u);
  EXPECT_LT(steady::now() - start, 1s);
}

// The peer of a socket whose send buffer is full goes away: the parked reader and the parked
// writer must both wake, each to meet the hang-up in its own syscall.
TEST_P(poller_test, a_hang_up_wakes_the_reader_and_the_writer) {
  fd_pair sockets(fd_pair::kind::sockets);
  ASSERT_EQ(::fcntl(sockets.first(), F_SETFL, O_NONBLOCK), 0);
  std::vector<char> chunk(64 * 1024, 'x');
  while (::write(sockets.first(), chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  p->add(sockets.first(), &token);
  p->set_interest(sockets.first(), true, true);
  (void)wait_for(*p, &token, corio::duration::zero());  // neither readable nor writable yet
  sockets.close_second();
  readiness seen;
  for (int i = 0; i < 3 && !(seen.readable && seen.writable); ++i) {  // kqueue: one event per filter
    const readiness more = wait_for(*p, &token, 1s);
    seen.readable = seen.readable || more.readable;
    seen.writable = seen.writable || more.writable;
  }
  EXPECT_TRUE(seen.readable);
  EXPECT_TRUE(seen.writable);
  p->remove(sockets.first());
}

// Level-triggered poll(2) watches only what set_interest() asked for. epoll and kqueue are
// edge-triggered and always watch both ways (set_interest is a no-op there), so this is poll's.
TEST_P(poller_test, the_poll_backend_reports_only_the_directions_somebody_waits_for) {
  if (edge_triggered()) GTEST_SKIP() << p->name() << " is edge-triggered and ignores set_interest";
  fd_pair pipe(fd_pair::kind::pipe);
  p->add(pipe.first(), &token);
  pipe.send_byte();
  EXPECT_EQ(wait_for(*p, &token, 20ms).events, 0u) << "add() alone watches nothing";
  p->set_interest(pipe.first(), true, false);
  EXPECT_TRUE(wait_for(*p, &token, 1s).readable);
  EXPECT_TRUE(wait_for(*p, &token, 1s).readable) << "level-triggered: unread data is reported again";
  p->set_interest(pipe.first(), false, false);
  EXPECT_EQ(wait_for(*p, &token, 20ms).events, 0u) << "interest dropped";
  pipe.close_second();  // poll() reports POLLHUP even for events == 0
  EXPECT_EQ(wait_for(*p, &token, 20ms).events, 0u) << "a hang-up nobody waits for";
  p->remove(pipe.first());
}

TEST_P(poller_test, a_removed_descriptor_reports_nothing) {
  fd_pair pipe(fd_pair::kind::pipe);
  p->add(pipe.first(), &token);
  p->set_interest(pipe.first(), true, false);
  pipe.send_byte();
  p->remove(pipe.first());
  EXPECT_EQ(p->registrations(), 0u);
  EXPECT_EQ(p->wait(events, 20ms), 0u);
  p->remove(pipe.first());  // a second remove is ignored
  EXPECT_EQ(p->registrations(), 0u);
}

TEST_P(poller_test, removing_one_descriptor_leaves_the_others_reporting_their_own_tokens) {
  fd_pair a(fd_pair::kind::pipe), b(fd_pair::kind::pipe), c(fd_pair::kind::pipe);
  int token_a = 0, token_b = 0, token_c = 0;
  p->add(a.first(), &token_a);
  p->add(b.first(), &token_b);
  p->add(c.first(), &token_c);
  for (fd_pair* pair : {&a, &b, &c}) {
    p->set_interest(pair->first(), true, false);
    pair->send_byte();
  }
  p->remove(a.first());
  ASSERT_EQ(p->wait(events, 1s), 2u);
  const std::set<void*> tokens{events[0].token, events[1].token};
  EXPECT_EQ(tokens, (std::set<void*>{&token_b, &token_c}));
  p->remove(c.first());
  EXPECT_EQ(p->registrations(), 1u);
  p->remove(b.first());
}

TEST_P(poller_test, what_does_not_fit_in_the_output_comes_out_in_the_next_wait) {
  fd_pair a(fd_pair::kind::pipe), b(fd_pair::kind::pipe);
  int token_a = 0, token_b = 0;
  p->add(a.first(), &token_a);
  p->add(b.first(), &token_b);
  for (fd_pair* pair : {&a, &b}) {
    p->set_interest(pair->first(), true, false);
    pair->send_byte();
  }
  std::array<corio::detail::poll_event, 1> one{};
  ASSERT_EQ(p->wait(one, 1s), 1u);
  void* const first = one[0].token;
  ASSERT_EQ(p->wait(one, 1s), 1u);
  EXPECT_NE(one[0].token, first) << "the other descriptor must not starve";
  p->remove(a.first());
  p->remove(b.first());
}

TEST_P(poller_test, a_wake_from_another_thread_ends_a_wait_with_no_timeout) {
  std::thread waker([this] {
    std::this_thread::sleep_for(20ms);
    p->wake();
  });
  EXPECT_EQ(p->wait(events, std::nullopt), 0u) << "the wake-up must not reach the caller";
  waker.join();
}

TEST_P(poller_test, wake_ups_before_a_wait_end_that_wait_and_no_other) {
  p->wake();
  p->wake();
  p->wake();
  const auto start = steady::now();
  EXPECT_EQ(p->wait(events, 10s), 0u);
  EXPECT_LT(steady::now() - start, 5s) << "a wake() before the wait was lost";
  const auto again = steady::now();
  EXPECT_EQ(p->wait(events, 20ms), 0u);
  EXPECT_GE(steady::now() - again, 20ms) << "the wake-ups were not consumed";
}

TEST_P(poller_test, a_timeout_never_ends_early) {
  for (int i = 0; i < 10; ++i) {
    const auto start = steady::now();
    EXPECT_EQ(p->wait(events, 1500us), 0u);
    const auto elapsed = steady::now() - start;
    EXPECT_GE(elapsed, 1500us) << "woke after " << std::chrono::nanoseconds(elapsed).count() << " ns";
  }
}

TEST_P(poller_test, adding_a_bad_descriptor_throws_system_error) {
  EXPECT_THROW(p->add(-1, &token), std::system_error);
  fd_pair pipe(fd_pair::kind::pipe);
  const int closed = ::dup(pipe.first());
  ::close(closed);
  EXPECT_THROW(p->add(closed, &token), std::system_error);
  EXPECT_EQ(p->registrations(), 0u);
}

TEST(make_poller, corio_poller_in_the_environment_chooses_the_backend) {
  for (poller_backend b : built_backends()) {
    const scoped_env env(backend_name(b).c_str());
    EXPECT_EQ(corio::detail::make_poller(poller_backend::automatic)->name(), backend_name(b));
  }
}

TEST(make_poller, an_unknown_corio_poller_value_throws_invalid_argument) {
  const scoped_env env("select");
  EXPECT_THROW((void)corio::detail::make_poller(poller_backend::automatic), std::invalid_argument);
}

TEST(make_poller, a_backend_this_platform_lacks_throws_invalid_argument) {
  const std::vector<poller_backend> built = built_backends();
  int lacking = 0;
  for (poller_backend b : {poller_backend::epoll, poller_backend::kqueue}) {
    if (std::find(built.begin(), built.end(), b) != built.end()) continue;
    ++lacking;
    EXPECT_THROW((void)corio::detail::make_poller(b), std::invalid_argument) << backend_name(b);
  }
  EXPECT_GE(lacking, 1) << "no platform has both epoll and kqueue";
}
