// tests/io/reactor_eintr_test.cpp — EINTR (reliability.md T-01, T-02).
//
// T-01: a thread interrupts the loop's poller wait with a signal every millisecond; a pending
// sleep must still fire once, on time, the wait being recomputed from the time left.
// T-02: EINTR from recv/send/accept4 is retried inside io/sys and never seen. Sockets are
// non-blocking, so a real EINTR there is rare; reactor_inject.sh runs the echo test below under
// strace, which fails every other one of those calls (and of the poller's waits) with EINTR. It
// runs it once more with the first three accept4 calls failing with EMFILE (T-04 in the ASan
// build, see reactor_emfile_test.cpp). On its own the echo test is an ordinary echo test.
//
// connect is left out of the injection on purpose: strace fails an injected call without running
// it, but a real EINTR from connect leaves the connection going on in the background (io/sys.cpp
// treats it as EINPROGRESS), so an injected one would test a socket that was never asked to
// connect.
#include <pthread.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

#include <corio.hpp>

#include "io/reactor_support.hpp"
#include "io/socket.hpp"

using namespace std::chrono_literals;
using reactor_support::steady;

namespace {

// --- T-01 ------------------------------------------------------------------------------------

// Sends SIGUSR1 to one thread every `period` from a thread of its own, with a handler installed
// WITHOUT SA_RESTART, so that the target's blocking poller wait fails with EINTR each time
// (epoll_wait and poll are never restarted anyway; signal(7)). The old action is restored after.
class signal_storm {
 public:
  signal_storm(pthread_t target, std::chrono::microseconds period) {
    delivered().store(0);
    struct sigaction action {};
    action.sa_handler = [](int) { delivered().fetch_add(1, std::memory_order_relaxed); };
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART
    EXPECT_EQ(::sigaction(SIGUSR1, &action, &previous_), 0);
    sender_ = std::thread([this, target, period] {
      const auto give_up = steady::now() + 1s;  // a loop that never wakes up still ends the test
      while (!stop_.load() && steady::now() < give_up) {
        ::pthread_kill(target, SIGUSR1);
        std::this_thread::sleep_for(period);
      }
    });
  }
  signal_storm(const signal_storm&) = delete;
  signal_storm& operator=(const signal_storm&) = delete;
  ~signal_storm() {
    stop();
    ::sigaction(SIGUSR1, &previous_, nullptr);
  }
  void stop() {
    stop_.store(true);
    if (sender_.joinable()) sender_.join();
  }
  /// Handler runs so far.
  static int count() { return delivered().load(); }

 private:
  // A signal handler cannot capture anything: the one counter it updates has to be static.
  static std::atomic<int>& delivered() {
    static std::atomic<int> n{0};
    return n;
  }

  struct sigaction previous_ {};
  std::atomic<bool> stop_{false};
  std::thread sender_;
};

TEST(reactor_eintr, a_200ms_sleep_fires_once_on_time_while_a_signal_interrupts_the_poller_every_ms) {
  corio::event_loop loop;  // steady clock
  signal_storm storm(::pthread_self(), 1ms);
  const auto start = steady::now();
  std::optional<steady::duration> fired_after;
  auto sleeper = [&]() -> corio::task<> {
    co_await corio::sleep(200ms);
    fired_after = steady::now() - start;
  };
  corio::join_handle<void> h = corio::detail::spawn_on(loop, sleeper(), "sleeper", corio::source_location::current());
  std::size_t turns = 0;
  while (!h.done() && steady::now() - start < 2s) {
    ++turns;
    if (!loop.run_once()) break;
  }
  const int signals_during_sleep = signal_storm::count();
  storm.stop();

  ASSERT_TRUE(fired_after.has_value()) << "the sleep never fired";
  EXPECT_GE(*fired_after, 200ms) << "fired early";
  EXPECT_LT(*fired_after, 260ms) << "fired late: the wait restarted with the full timeout after an EINTR?";
  EXPECT_EQ(loop.resumptions(), 2u) << "the sleeper started once and woke once";
  EXPECT_GE(signals_during_sleep, 50) << "the storm did not interrupt the wait often enough to test anything";
  // Each EINTR may end one turn, but nothing should loop on its own: turns stay near the signals.
  EXPECT_LE(turns, static_cast<std::size_t>(signals_during_sleep) + 10) << "the loop spun";
  std::printf("[ info ] %d signals during the sleep, %zu turns, fired after %.1f ms\n", signals_during_sleep, turns,
              std::chrono::duration<double, std::milli>(*fired_after).count());
  h.result();
}


// --- T-02 ------------------------------------------------------------------------------------

constexpr int echo_connections = 4;
constexpr std::size_t echo_bytes = 64 * 1024;  // per connection, written 1 KiB at a time

std::string pattern(int connection) {
  std::string s(echo_bytes, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + (i * 7 + static_cast<std::size_t>(connection)) % 26);
  return s;
}

corio::task<> echo_back(corio::net::stream_socket conn) {
  char buf[700];  // an odd size: reads and writes do not line up with the client's
  while (auto n = co_await conn.read_some(buf)) co_await conn.write_all({buf, *n});
}

corio::task<> serve(corio::net::listener& server) {
  co_await corio::task_group::run([&server](corio::task_group& group) -> corio::task<> {
    for (int i = 0; i < echo_connections; ++i) group.spawn(echo_back(co_await server.accept()), "echo");
  });
}

// Echoes one pattern through the server and adds what came back intact to `total`.
corio::task<> client(corio::net::address at, int id, std::size_t& total) {
  corio::net::stream_socket conn = co_await corio::net::stream_socket::connect(at);
  const std::string sent = pattern(id);
  auto send_all = [&]() -> corio::task<> {
    for (std::size_t at_byte = 0; at_byte < sent.size(); at_byte += 1024)
      co_await conn.write_all(std::string_view(sent).substr(at_byte, 1024));
    conn.shutdown_write();
  };
  auto sender = corio::spawn(send_all(), "sender");
  std::string echoed;
  char buf[1500];
  while (auto n = co_await conn.read_some(buf)) echoed.append(buf, *n);
  co_await std::move(sender);
  EXPECT_EQ(echoed.size(), sent.size()) << "connection " << id;
  EXPECT_TRUE(echoed == sent) << "connection " << id << ": the echo differs from what was sent";
  if (echoed == sent) total += echoed.size();
}

CORIO_REAL_TIME_TEST(reactor_eintr, an_echo_over_several_connections_arrives_intact_whatever_syscalls_are_interrupted) {
  auto server = corio::net::listener::bind(corio::net::address::loopback(0));
  auto serving = corio::spawn(serve(server), "server");
  std::size_t total = 0;
  co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
    for (int i = 0; i < echo_connections; ++i) group.spawn(client(server.local_address(), i, total), "client");
    co_return;
  });
  co_await std::move(serving);
  EXPECT_EQ(total, echo_connections * echo_bytes);
}

}  // namespace
