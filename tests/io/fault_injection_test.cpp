// tests/io/fault_injection_test.cpp — the fault-injection mode of io/sys (sys.hpp): its syntax,
// its rates and determinism, EINTR that nobody above sys sees, short writes and reads that lose
// no byte, a reset that is a clear error, and the trap of edge-triggered readiness: a made-up
// "not ready" while the kernel has data must not strand the task (fd_watch.hpp,
// report_ready_later). Each test sets the mode itself and restores, at the end, whatever was in
// force before (CORIO_FAULTS from a fault run, or off).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "io/socket.hpp"
#include "io/sys.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"
#include "streams_support.hpp"

using namespace std::chrono_literals;
using namespace testing_support;
namespace net = corio::net;
namespace sys = corio::net::sys;

namespace {

// Switches the mode off for the test; on(config) turns it on; the destructor restores what was
// in force before the test.
class fault_mode {
 public:
  fault_mode() : saved_(sys::current_faults()) { sys::disable_faults(); }
  explicit fault_mode(const sys::fault_config& config) : fault_mode() { on(config); }
  fault_mode(const fault_mode&) = delete;
  fault_mode& operator=(const fault_mode&) = delete;
  ~fault_mode() {
    if (saved_) {
      sys::enable_faults(*saved_);
    } else {
      sys::disable_faults();
    }
  }
  void on(const sys::fault_config& config) { sys::enable_faults(config); }
  void off() { sys::disable_faults(); }

 private:
  std::optional<sys::fault_config> saved_;
};

// Two connected Unix stream sockets, raw (no loop): for calling sys directly.
struct raw_pair {
  raw_pair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) throw std::runtime_error("socketpair");
  }
  raw_pair(const raw_pair&) = delete;
  raw_pair& operator=(const raw_pair&) = delete;
  ~raw_pair() {
    sys::close(fds[0]);  // through sys: it forgets what the mode recorded about the numbers
    sys::close(fds[1]);
  }
  // Empties the receive queue of fds[1] with plain recv (not through sys: never faulted).
  void drain() const {
    std::array<char, 4096> buf;
    while (::recv(fds[1], buf.data(), buf.size(), 0) > 0) {
    }
  }
  int fds[2] = {-1, -1};
};

// What one call through sys came back with, as a number: bytes, or minus the errno.
long outcome(const sys::result& r) { return r.ok() ? r.value : -r.error; }

// `calls` sys::recv calls of up to 64 bytes, each with 64 bytes waiting: their outcomes.
std::vector<long> recv_outcomes(int calls) {
  raw_pair p;
  std::vector<long> seen;
  const std::string data(64, 'r');
  for (int i = 0; i < calls; ++i) {
    (void)!::send(p.fds[0], data.data(), data.size(), 0);
    std::array<char, 64> buf;
    seen.push_back(outcome(sys::recv(p.fds[1], buf.data(), buf.size())));
    std::array<char, 64> rest;
    while (::recv(p.fds[1], rest.data(), rest.size(), 0) > 0) {
    }
  }
  return seen;
}

// Writes all of `data` then shuts the write side, within a time limit: a stranded writer fails
// the test instead of hanging it (with no timer armed, a manual-clock loop would block forever).
corio::task<> write_then_shut_down(net::stream_socket& s, const std::string& data) {
  co_await corio::timeout(10s, s.write_all(data));
  s.shutdown_write();
}

// Lets the loop poll a few times, so that the peer's bytes (and their one edge) are reported.
corio::task<> let_events_arrive() {
  for (int i = 0; i < 3; ++i) co_await corio::yield();
}

}  // namespace

// --- the CORIO_FAULTS syntax ---------------------------------------------------------------

TEST(fault_config, every_key_is_read_in_any_order_and_the_ones_left_out_are_zero) {
  const sys::fault_config c = sys::parse_fault_config("eintr=0.1,seed=42,short=0.2,eagain=0.1,delay=0.05,reset=0.001");
  EXPECT_EQ(c.seed, 42u);
  EXPECT_DOUBLE_EQ(c.short_io, 0.2);
  EXPECT_DOUBLE_EQ(c.eagain, 0.1);
  EXPECT_DOUBLE_EQ(c.delay, 0.05);
  EXPECT_DOUBLE_EQ(c.reset, 0.001);
  EXPECT_DOUBLE_EQ(c.eintr, 0.1);
  const sys::fault_config only = sys::parse_fault_config("short=1");
  EXPECT_EQ(only.seed, 1u);
  EXPECT_DOUBLE_EQ(only.short_io, 1.0);
  EXPECT_DOUBLE_EQ(only.eagain + only.delay + only.reset + only.eintr, 0.0);
}

TEST(fault_config, a_malformed_setting_is_refused_with_a_message_that_names_it) {
  const char* const malformed[] = {
      "short=2",    "eintr=1",  "bogus=0.1",   "short",     "short=abc",    "seed=-1",     "seed=1x",
      "short=0.1,", "eagain=",  "short=nan",   "reset=-0.1", "seed=1,seed=2", "short=0.6,eagain=0.5", ",",
  };
  for (const char* text : malformed) {
    try {
      (void)sys::parse_fault_config(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("CORIO_FAULTS"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(sys::enable_faults(sys::fault_config{.seed = 1, .short_io = 0.5, .eagain = 0.5, .delay = 0.5}), std::invalid_argument);
}

// The child of the next test: makes one socket and says what happened (it passes either way).
TEST(fault_environment_probe, makes_one_socket_and_reports_how_it_went) {
  corio::run([]() -> corio::task<> {
    try {
      auto ends = net::stream_socket::pair();
      std::puts("probe: socket made");
    } catch (const std::invalid_argument& e) {
      std::printf("probe: socket refused: %s\n", e.what());
    }
    co_return;
  }());
}

TEST(fault_environment, a_malformed_corio_faults_is_reported_at_startup_and_fails_every_socket) {
  // This test program, run again (in the shell, /proc/self/exe would be the shell).
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string command = "CORIO_FAULTS='short=2,eagain=0.1' '" + self +
                              "' --gtest_filter=fault_environment_probe.makes_one_socket_and_reports_how_it_went 2>&1";
  FILE* child = ::popen(command.c_str(), "r");
  ASSERT_NE(child, nullptr);
  std::string output;
  std::array<char, 512> buf;
  while (std::fgets(buf.data(), buf.size(), child) != nullptr) output += buf.data();
  EXPECT_EQ(::pclose(child), 0) << output;  // the probe passes: it reports instead of throwing
  EXPECT_NE(output.find("corio: CORIO_FAULTS: 'short=2'"), std::string::npos) << output;  // at startup
  EXPECT_NE(output.find("probe: socket refused: CORIO_FAULTS: 'short=2'"), std::string::npos) << output;
}

// --- the draws ------------------------------------------------------------------------------

TEST(fault_injection, the_rates_are_honoured_roughly) {
  const fault_mode mode(sys::fault_config{.seed = 7, .short_io = 0.2, .eagain = 0.1, .delay = 0.05});
  raw_pair p;
  const std::string data(64, 's');
  constexpr int calls = 20000;
  int would_block = 0;
  int shortened = 0;
  for (int i = 0; i < calls; ++i) {
    const sys::result r = sys::send(p.fds[0], data.data(), data.size());
    ASSERT_TRUE(r.ok() || r.would_block()) << r.error;
    if (r.would_block()) ++would_block;
    if (r.ok() && r.value < 64) ++shortened;
    p.drain();  // never full: every EAGAIN and short write is an injected one
  }
  // Binomial standard deviations at 20,000 calls are about 0.003; allow 5 of them.
  EXPECT_NEAR(would_block / double(calls), 0.15, 0.015);
  EXPECT_NEAR(shortened / double(calls), 0.2, 0.015);
  const sys::fault_counts n = sys::fault_stats();
  EXPECT_EQ(n.calls, static_cast<std::uint64_t>(calls));
  EXPECT_EQ(n.eagain + n.delayed, static_cast<std::uint64_t>(would_block));
  EXPECT_EQ(n.shortened, static_cast<std::uint64_t>(shortened));
  EXPECT_NEAR(n.delayed / double(calls), 0.05, 0.01);
}

TEST(fault_injection, the_same_seed_gives_the_same_faults_and_another_seed_others) {
  const fault_mode mode;
  const sys::fault_config c{.seed = 42, .short_io = 0.3, .eagain = 0.1, .delay = 0.1, .eintr = 0.2};
  sys::enable_faults(c);
  const std::vector<long> first = recv_outcomes(2000);
  sys::enable_faults(c);
  const std::vector<long> again = recv_outcomes(2000);
  sys::fault_config other = c;
  other.seed = 43;
  sys::enable_faults(other);
  const std::vector<long> different = recv_outcomes(2000);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, different);
}

TEST(fault_injection, injected_eintr_is_retried_inside_sys_and_never_seen) {
  const fault_mode mode(sys::fault_config{.seed = 3, .eintr = 0.9});
  const std::vector<long> seen = recv_outcomes(1000);
  for (const long r : seen) ASSERT_EQ(r, 64) << "a recv came back with " << r;
  EXPECT_GT(sys::fault_stats().eintr, 5000u);  // about 9 per call
}

// --- through the sockets, on a loop -----------------------------------------------------------

CORIO_TEST(fault_injection, write_all_delivers_every_byte_in_order_when_every_send_is_short) {
  fault_mode mode;
  auto [client, server] = co_await connect_tcp_pair();
  mode.on(sys::fault_config{.seed = 11, .short_io = 1.0});
  const streams_testing::pattern bytes;
  const std::string sent = bytes.range(0, 256 * 1024);
  auto writer = corio::spawn(write_then_shut_down(client, sent));
  std::string received;
  std::array<char, 64 * 1024> buf;
  for (;;) {
    const std::optional<std::size_t> n = co_await corio::timeout(10s, server.read_some(buf));
    if (!n) break;
    received.append(buf.data(), *n);
  }
  co_await writer;
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_TRUE(received == sent) << "the bytes arrived changed or out of order";
  EXPECT_GT(sys::fault_stats().shortened, 20u);
}

CORIO_TEST(fault_injection, readline_gets_every_line_when_every_read_and_write_is_short) {
  fault_mode mode;
  auto [client, server] = co_await connect_tcp_pair();
  mode.on(sys::fault_config{.seed = 5, .short_io = 1.0, .eintr = 0.2});
  std::string text;
  for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + " " + std::string(static_cast<std::size_t>(i % 37), 'x') + "\n";
  auto writer = corio::spawn(write_then_shut_down(client, text));
  net::stream_reader reader(server);
  std::string lines;
  int count = 0;
  for (;;) {
    const std::optional<std::string> line = co_await corio::timeout(10s, reader.readline());
    if (!line) break;
    EXPECT_EQ(line->back(), '\n');
    lines += *line;
    ++count;
  }
  co_await writer;
  EXPECT_EQ(count, 200);
  EXPECT_TRUE(lines == text);
}

CORIO_TEST(fault_injection, an_injected_reset_is_econnreset_for_us_and_for_the_peer) {
  fault_mode mode;
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("before the reset");
  co_await let_events_arrive();
  mode.on(sys::fault_config{.seed = 9, .reset = 1.0});
  std::array<char, 64> buf;
  try {
    (void)co_await server.read_some(buf);
    ADD_FAILURE() << "a read went on after an injected reset";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECONNRESET) << e.what();
  }
  try {
    co_await server.write_all("after");
    ADD_FAILURE() << "a write went on after an injected reset";
  } catch (const net::write_error& e) {
    EXPECT_EQ(e.code().value(), ECONNRESET) << e.what();
    EXPECT_EQ(e.bytes_written(), 0u);
  }
  mode.off();
  // The connection was really reset (RST): the peer meets the reset too.
  EXPECT_EQ(co_await error_of(corio::timeout(5s, client.read_some(buf))), ECONNRESET);
  EXPECT_EQ(sys::fault_stats().resets, 2u);
}

CORIO_TEST(fault_injection, datagrams_are_never_cut_short) {
  fault_mode mode;
  auto a = net::udp_socket::bind(net::address::loopback(0));
  auto b = net::udp_socket::bind(net::address::loopback(0));
  mode.on(sys::fault_config{.seed = 2, .short_io = 1.0, .eintr = 0.3});
  const std::string message(1000, 'd');
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(co_await a.send_to(message, b.local_address()), message.size());
    std::array<char, 2048> buf;
    const net::datagram got = co_await corio::timeout(5s, b.recv_from(buf));
    EXPECT_EQ(got.size, message.size());
  }
}

// --- the readiness trap: each of these parks forever on epoll without the synthetic event -----
// While the mode is on, the task meets one made-up "not ready" after another and is woken by a
// synthetic event each time; once it is off, only the last synthetic event can wake it, since
// the kernel's one edge for what waits was consumed before.

namespace {

// Seven bytes wait in `server`'s kernel buffer and their one edge was consumed; a reader meets
// `faults` for a few turns, then the mode is switched off. What does the reader get?
corio::task<std::optional<std::size_t>> read_after_faults(const sys::fault_config& faults) {
  fault_mode mode;
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("waiting");
  co_await let_events_arrive();  // the only edge for these bytes is consumed now
  mode.on(faults);
  std::array<char, 64> buf;
  auto reading = corio::spawn(corio::timeout(5s, server.read_some(buf)));
  co_await let_events_arrive();
  mode.off();  // from here only a synthetic event can wake the reader
  co_return co_await reading;
}

}  // namespace

CORIO_TEST(fault_injection, a_made_up_eagain_while_data_waits_does_not_strand_the_reader) {
  const sys::fault_config faults{.seed = 1, .eagain = 1.0};
  EXPECT_EQ(co_await read_after_faults(faults), std::optional<std::size_t>(7));
}

CORIO_TEST(fault_injection, a_delayed_readiness_does_not_strand_the_reader) {
  const sys::fault_config faults{.seed = 6, .delay = 1.0};
  EXPECT_EQ(co_await read_after_faults(faults), std::optional<std::size_t>(7));
}

CORIO_TEST(fault_injection, a_made_up_short_read_does_not_strand_the_next_read) {
  fault_mode mode;
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all(std::string(1000, 'b'));
  co_await let_events_arrive();
  mode.on(sys::fault_config{.seed = 4, .short_io = 1.0});
  std::array<char, 1000> buf;  // a short read asks for less than is there
  const std::optional<std::size_t> first = co_await server.read_some(buf);
  CORIO_ASSERT(first.has_value());
  EXPECT_LT(*first, 1000u);
  mode.off();  // the rest is in the kernel, and no new edge will come for it
  std::size_t total = *first;
  while (total < 1000) {
    const std::optional<std::size_t> n = co_await corio::timeout(5s, server.read_some(buf));
    CORIO_ASSERT(n.has_value());
    total += *n;
  }
  EXPECT_EQ(total, 1000u);
}

CORIO_TEST(fault_injection, a_made_up_eagain_on_accept_does_not_strand_the_pending_connection) {
  fault_mode mode;
  auto listener = net::listener::bind(net::address::loopback(0));
  auto client = co_await net::stream_socket::connect(listener.local_address());
  co_await let_events_arrive();  // the listener's edge for this connection is consumed
  mode.on(sys::fault_config{.seed = 8, .eagain = 1.0});
  auto accepting = corio::spawn(corio::timeout(5s, listener.accept()));
  co_await let_events_arrive();
  mode.off();
  auto accepted = co_await accepting;
  EXPECT_TRUE(accepted.is_open());
}

CORIO_TEST(fault_injection, closing_a_socket_with_a_synthetic_event_pending_leaves_no_timer) {
  fault_mode mode;
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("x");  // readiness to hide: without it, no synthetic event is needed
  co_await let_events_arrive();
  mode.on(sys::fault_config{.seed = 10, .delay = 1.0});
  std::array<char, 64> buf;
  auto reading = corio::spawn(error_of(server.read_some(buf)));
  co_await until_parked(reading);
  CORIO_ASSERT(parked(reading));
  EXPECT_GE(corio::event_loop::current()->armed_timers(), 1u);  // its synthetic event
  server.close();
  EXPECT_EQ(co_await reading, ECANCELED);
  EXPECT_EQ(corio::event_loop::current()->armed_timers(), 0u);
}

// The seam itself (runtime/fd_watch.hpp): a synthetic event comes exactly `turns` turns later.
namespace {

// Turns between report_ready_later(read, turns) and the parked reader's wake-up.
corio::task<int> turns_until_woken(unsigned turns) {
  raw_pair p;
  corio::detail::fd_watch watch(*corio::event_loop::current(), p.fds[1]);
  bool woken = false;
  auto waiting = corio::spawn([](corio::detail::fd_watch& w, bool& flag) -> corio::task<> {
    co_await w.ready(corio::detail::io_direction::read);
    flag = true;
  }(watch, woken));
  co_await until_parked(waiting);
  watch.report_ready_later(corio::detail::io_direction::read, turns);
  // Counts until the wake-up (the reader leaves its waiter), not until the reader has run: in
  // the turn after the wake, it may run before or after this body (the order is not promised).
  int count = 0;
  while (parked(waiting)) {
    co_await corio::yield();
    ++count;
  }
  co_await waiting;
  EXPECT_TRUE(woken);
  watch.close();
  co_return count;
}

}  // namespace

CORIO_TEST(fault_injection, a_synthetic_event_wakes_the_watch_exactly_that_many_turns_later) {
  const int one = co_await turns_until_woken(1);
  EXPECT_EQ(co_await turns_until_woken(3), one + 2);
  EXPECT_EQ(co_await turns_until_woken(8), one + 7);
}
