// tests/io/reactor_faults_test.cpp — readiness that misleads (reliability.md T-03: a wake-up
// with nothing to read) and readiness that never stops (T-17: a socket that is always readable,
// next to a timer and another connection). Each runs on every poller backend
// (corio_add_io_test) and on the steady clock, since real elapsed time is the point.
#include <fcntl.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <corio.hpp>

#include "io/reactor_support.hpp"
#include "io/socket.hpp"

using namespace std::chrono_literals;
using corio::detail::io_direction;
using reactor_support::fd_pair;
using reactor_support::steady;
using reactor_support::socket_handle;

namespace {

// --- T-03 ------------------------------------------------------------------------------------

// Waits for one byte on `fd`, counting the wake-ups that found nothing to read.
corio::task<> read_one_byte(socket_handle& h, int& empty_wakeups, bool& got_it) {
  for (;;) {
    char c = 0;
    if (::recv(h.fd(), &c, 1, 0) == 1) break;
    EXPECT_EQ(errno, EAGAIN);
    co_await h.ready(io_direction::read);
    if (::recv(h.fd(), &c, 1, MSG_PEEK) != 1) ++empty_wakeups;
  }
  got_it = true;
}

CORIO_REAL_TIME_TEST(reactor_spurious_readiness, a_reader_woken_for_a_byte_another_took_parks_again_without_spinning) {
  fd_pair pair;
  socket_handle sock(pair.release_near());
  int empty[2] = {0, 0};
  bool got[2] = {false, false};
  auto first = corio::spawn(read_one_byte(sock, empty[0], got[0]), "first reader");
  auto second = corio::spawn(read_one_byte(sock, empty[1], got[1]), "second reader");
  co_await corio::sleep(10ms);  // both parked on the same side
  pair.send_from_far();         // one byte: both wake, the first in line takes it
  co_await corio::sleep(20ms);
  CORIO_ASSERT(got[0] != got[1]);
  EXPECT_EQ(empty[0] + empty[1], 1) << "exactly one reader met the spurious readiness";

  const reactor_support::idle_report idle = co_await reactor_support::measure_idle(300ms);
  EXPECT_LE(idle.resumptions, 1u) << "something kept waking while the reader left behind was parked";
  EXPECT_LT(idle.cpu_fraction, 0.05);
  EXPECT_EQ(empty[0] + empty[1], 1) << "the reader left behind woke again with nothing to read";

  pair.send_from_far();  // the reader that parked again still gets the next byte
  co_await std::move(first);
  co_await std::move(second);
  EXPECT_TRUE(got[0] && got[1]);
}

CORIO_REAL_TIME_TEST(reactor_spurious_readiness, two_read_some_calls_on_one_stream_share_a_byte_and_the_loop_then_stays_idle) {
  fd_pair pair;
  corio::net::stream_socket sock{corio::net::detail::socket_handle(pair.release_near())};
  auto read_one = [&sock]() -> corio::task<std::size_t> {
    char buf[16];
    co_return (co_await sock.read_some(buf)).value_or(0);
  };
  auto first = corio::spawn(read_one(), "first reader");
  auto second = corio::spawn(read_one(), "second reader");
  co_await corio::sleep(10ms);
  pair.send_from_far();
  co_await corio::sleep(20ms);
  CORIO_ASSERT(first.done() != second.done());

  const reactor_support::idle_report idle = co_await reactor_support::measure_idle(300ms);
  EXPECT_LE(idle.resumptions, 1u);
  EXPECT_LT(idle.cpu_fraction, 0.05);

  pair.send_from_far();
  EXPECT_EQ(co_await std::move(first), 1u);
  EXPECT_EQ(co_await std::move(second), 1u);
}

// --- T-17 ------------------------------------------------------------------------------------

// Keeps the far end of a socket full from a thread of its own, so the near end is readable at
// every moment: a reader taking a few bytes at a time never finds it empty. Stops when told, when
// the reader closes (EPIPE), or after `limit` (so a starved loop still ends the test).
class firehose {
 public:
  firehose(int fd, std::chrono::milliseconds limit)
      : thread_([this, fd, limit] {
          const std::string chunk(64 * 1024, 'f');
          const auto end = steady::now() + limit;
          const int blocking = ::fcntl(fd, F_GETFL) & ~O_NONBLOCK;
          ::fcntl(fd, F_SETFL, blocking);
          while (!stop_.load() && steady::now() < end)
            if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0 && errno != EINTR) break;
        }) {}
  firehose(const firehose&) = delete;
  firehose& operator=(const firehose&) = delete;
  ~firehose() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

corio::task<> echo_once(corio::net::stream_socket& server_side) {
  char buf[64];
  while (auto n = co_await server_side.read_some(buf)) co_await server_side.write_all({buf, *n});
}

// The time a short request/response takes on `client`, whose peer runs echo_once.
corio::task<steady::duration> ping(corio::net::stream_socket& client) {
  const auto start = steady::now();
  co_await client.write_all("ping");
  char buf[4];
  std::size_t got = 0;
  while (got < 4) got += (co_await client.read_some({buf + got, 4 - got})).value_or(4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  co_return steady::now() - start;
}

// A read_some that finds data does not suspend, so without a limit a task reading a socket that
// is always readable would never return to the loop (measured before the fix: the 10 ms timer
// fired 2 s late). event_interval cannot help, as it only bounds how many tasks one turn resumes;
// the loop's cooperative budget (event_loop::consume_budget, Tokio's coop) makes read_some & co.
// yield once a resumption has completed io_budget_per_resumption operations.
CORIO_REAL_TIME_TEST(reactor_starvation, a_socket_that_is_always_readable_does_not_hold_up_a_timer_or_another_connection) {
  fd_pair flood_pair;
  corio::net::stream_socket flood{corio::net::detail::socket_handle(flood_pair.release_near())};
  std::uint64_t flood_bytes = 0;
  auto drink = [&]() -> corio::task<> {
    char sip[16];  // small reads: the firehose refills faster than this drains
    for (;;) flood_bytes += (co_await flood.read_some(sip)).value_or(0);
  };
  fd_pair echo_pair;
  corio::net::stream_socket echo_server{corio::net::detail::socket_handle(echo_pair.release_near())};
  corio::net::stream_socket echo_client{corio::net::detail::socket_handle(echo_pair.release_far())};

  firehose hose(flood_pair.far(), 2s);
  co_await corio::sleep(20ms);  // the socket's buffer is full before the drinker starts
  auto drinker = corio::spawn(drink(), "drinker");
  auto echo = corio::spawn(echo_once(echo_server), "echo");

  const auto start = steady::now();
  co_await corio::sleep(10ms);
  const auto timer_late = steady::now() - start - 10ms;
  const steady::duration ping_time = co_await ping(echo_client);
  const std::uint64_t drunk = flood_bytes;

  drinker.cancel();
  flood.close();  // the firehose's next send fails with EPIPE
  hose.stop();
  echo_client.close();
  co_await std::move(echo);
  EXPECT_LT(timer_late, 100ms) << "the 10 ms timer fired " << std::chrono::duration<double, std::milli>(timer_late).count()
                              << " ms late";
  EXPECT_LT(ping_time, 100ms) << "the other connection's echo took " << std::chrono::duration<double, std::milli>(ping_time).count() << " ms";
  EXPECT_GT(drunk, 0u) << "the always-readable socket was never read";
  std::printf("[ info ] timer late by %.2f ms, ping took %.2f ms, %llu bytes drunk meanwhile\n",
              std::chrono::duration<double, std::milli>(timer_late).count(),
              std::chrono::duration<double, std::milli>(ping_time).count(), static_cast<unsigned long long>(drunk));
  try {
    co_await std::move(drinker);
  } catch (const corio::cancelled&) {
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECANCELED) << e.what();
  }
}

}  // namespace
