// tests/soak/soak_echo_client.cpp — the echo half of the soak (scripts/soak.sh): keeps N
// connections busy against an echo server for S seconds, cancelling and resetting some of them
// on purpose, and counts every byte (echo_ledger.hpp says what counts as lost).
//
//   soak_echo_client --port P [--connections 1000] [--seconds 60] [--seed 1]
//                    [--cancel-percent 10] [--reset-percent 10] [--max-bytes 1048576]
//
// Each of the N slots runs one connection after another until the time is up. A connection:
//
//   connect ──> writer: random chunks of its own byte stream, ──> shutdown_write
//               with random short pauses                        │
//           └─> reader: reads the echo, checks every byte, ─────┴─> EOF: clean end
//               now and then stalls for a while
//
// The writer and the reader run concurrently (a gather), so the echo can never deadlock on full
// buffers. The reader's stalls back the echo up on purpose: the server's writes park, it stops
// reading, and our writes park too. Before it starts, each connection draws its fate:
//   * clean (the rest): it runs to the end; every byte it sent must come back, in order;
//   * cancelled (--cancel-percent): after a random delay the whole exchange is cancelled (a
//     corio::timeout around the gather), wherever its tasks are: mid-write, mid-read, both, or
//     between the two (pausing, or not started yet), and the counts say which; then the socket
//     is closed;
//   * reset (--reset-percent): the same, then closed with SO_LINGER {1, 0}, which sends the
//     server a RST instead of a FIN.
// A cut that comes after the exchange finished changes nothing: the connection counts as clean.
//
// The last line is for the script, "RESULT key=value ...". Exit status: 0 when no byte was
// lost or corrupt (echo_ledger.hpp) and no connection failed; 1 otherwise; 2 for a bad command
// line.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <random>
#include <system_error>
#include <utility>
#include <vector>

#include <corio.hpp>

#include "soak/echo_ledger.hpp"
#include "soak/soak_common.hpp"

namespace net = corio::net;
using namespace std::chrono_literals;

namespace {

struct options {
  std::uint16_t port = 0;
  std::size_t connections = 1000;
  std::uint64_t seconds = 60;
  std::uint64_t seed = 1;
  unsigned cancel_percent = 10;
  unsigned reset_percent = 10;
  std::uint64_t max_bytes = 1024 * 1024;  // per connection, drawn log-uniformly from 1 up to this
};

constexpr std::size_t max_chunk = 256 * 1024;
constexpr int socket_buffer = 16 * 1024;      // SO_SNDBUF / SO_RCVBUF: most chunks do not fit
// The writer pauses after one chunk in 8, for up to 2 ms; the reader stalls after one read in
// 16, for up to 20 ms: the server's echo, then our own writes, back up. Not more often: a cut
// should mostly find the tasks inside a read or a write, not asleep.
constexpr unsigned pause_one_write_in = 8;
constexpr auto max_pause = 2ms;
constexpr unsigned stall_one_read_in = 16;
constexpr auto max_stall = 20ms;
// A cancelled or reset connection is cut at a random moment within its first second: under the
// full load an exchange lasts a second or two, so most cuts land while its tasks run.
constexpr std::int64_t max_cut_us = 1'000'000;
constexpr auto connect_limit = 10s;
constexpr int errors_to_print = 5;

// Where a connection's tasks were when it was cut: flags set before each read or write and
// cleared after it, so that a cancelled one leaves its flag standing.
struct parked_at {
  bool write = false;
  bool read = false;
};

struct totals {
  std::uint64_t connections = 0, clean = 0, cancelled = 0;
  std::uint64_t cancelled_mid_read = 0, cancelled_mid_write = 0, cancelled_between = 0;
  std::uint64_t reset = 0, failed = 0, connect_errors = 0;
  std::uint64_t bytes_sent = 0, bytes_echoed = 0, bytes_lost = 0, bytes_corrupt = 0;
  std::size_t slots_open = 0;  // slots whose first connection is up (to announce the steady state)
  int errors_printed = 0;
};

// One connection's fate, drawn before it starts.
struct plan {
  soak::ending fate = soak::ending::clean;
  std::uint64_t bytes = 0;
  corio::duration cut_after{};
};

plan draw_plan(const options& o, std::mt19937_64& rng) {
  plan p;
  const unsigned roll = std::uniform_int_distribution<unsigned>(0, 99)(rng);
  if (roll < o.cancel_percent) {
    p.fate = soak::ending::cancelled;
  } else if (roll < o.cancel_percent + o.reset_percent) {
    p.fate = soak::ending::reset;
  }
  // Log-uniform: as many short connections as long ones, so both kinds of churn happen.
  const double exponent = std::uniform_real_distribution<double>(0.0, std::log2(static_cast<double>(o.max_bytes)))(rng);
  p.bytes = static_cast<std::uint64_t>(std::exp2(exponent));
  p.cut_after = std::chrono::microseconds(std::uniform_int_distribution<std::int64_t>(0, max_cut_us)(rng));
  return p;
}

// Once in `one_in` calls, sleeps for a random time up to `longest`.
corio::task<> sometimes_sleep(std::mt19937_64& rng, unsigned one_in, std::chrono::microseconds longest) {
  if (std::uniform_int_distribution<unsigned>(1, one_in)(rng) != 1) co_return;
  co_await corio::sleep(std::chrono::microseconds(std::uniform_int_distribution<std::int64_t>(0, longest.count())(rng)));
}

corio::task<> write_stream(net::stream_socket& s, soak::echo_ledger& ledger, std::uint64_t bytes, parked_at& parked,
                           std::mt19937_64& rng) {
  std::vector<char> chunk(max_chunk);
  std::uniform_int_distribution<std::size_t> chunk_size(1, max_chunk);
  while (ledger.attempted() < bytes) {
    const std::size_t size = std::min<std::uint64_t>(chunk_size(rng), bytes - ledger.attempted());
    soak::fill_pattern(ledger.seed(), ledger.attempted(), {chunk.data(), size});
    ledger.begin_write(size);
    parked.write = true;
    co_await s.write_all({chunk.data(), size});
    parked.write = false;
    ledger.end_write();
    co_await sometimes_sleep(rng, pause_one_write_in, max_pause);
  }
  s.shutdown_write();
}

corio::task<> read_echo(net::stream_socket& s, soak::echo_ledger& ledger, parked_at& parked, std::mt19937_64& rng) {
  std::vector<char> buffer(max_chunk);
  for (;;) {
    parked.read = true;
    const std::optional<std::size_t> n = co_await s.read_some(buffer);
    parked.read = false;
    if (!n) co_return;  // EOF: the server echoed everything and closed
    ledger.check_echo({buffer.data(), *n});
    co_await sometimes_sleep(rng, stall_one_read_in, max_stall);
  }
}

corio::task<> exchange(net::stream_socket& s, soak::echo_ledger& ledger, const plan& p, parked_at& parked,
                       std::mt19937_64& rng) {
  co_await corio::gather(write_stream(s, ledger, p.bytes, parked, rng), read_echo(s, ledger, parked, rng));
}

void set_option(net::stream_socket& s, int name, const void* value, socklen_t size, const char* what) {
  if (::setsockopt(s.native_handle(), SOL_SOCKET, name, value, size) != 0) {
    throw std::system_error(errno, std::generic_category(), what);
  }
}

// Loopback sockets grow buffers of megabytes: with those, even a 256 KiB write_all completes at
// once, and a cut would never find a write parked. With small buffers (the kernel doubles the
// value, socket(7)) a big chunk parks until the server has read it, and the reader's stalls back
// the server's own writes up.
void shrink_buffers(net::stream_socket& s) {
  set_option(s, SO_SNDBUF, &socket_buffer, sizeof socket_buffer, "setsockopt(SO_SNDBUF)");
  set_option(s, SO_RCVBUF, &socket_buffer, sizeof socket_buffer, "setsockopt(SO_RCVBUF)");
}

// Closes with SO_LINGER {1, 0}: the kernel drops what is unsent and answers with a RST.
void reset(net::stream_socket& s) {
  const ::linger abortive{1, 0};
  set_option(s, SO_LINGER, &abortive, sizeof abortive, "setsockopt(SO_LINGER)");
  s.close();
}

void report_error(totals& t, const char* what, const std::exception& e) {
  if (t.errors_printed++ < errors_to_print) std::fprintf(stderr, "soak_echo_client: %s: %s\n", what, e.what());
}

void count(totals& t, const soak::echo_ledger& ledger, const parked_at& parked) {
  ++t.connections;
  t.bytes_sent += ledger.sent();
  t.bytes_echoed += ledger.echoed();
  t.bytes_lost += ledger.lost();
  t.bytes_corrupt += ledger.corrupt();
  switch (ledger.ended_as()) {
    case soak::ending::clean: ++t.clean; break;
    case soak::ending::failed: ++t.failed; break;
    case soak::ending::reset: ++t.reset; break;
    case soak::ending::cancelled:
      ++t.cancelled;
      t.cancelled_mid_read += parked.read ? 1 : 0;
      t.cancelled_mid_write += parked.write ? 1 : 0;
      t.cancelled_between += !parked.read && !parked.write ? 1 : 0;
      break;
    case soak::ending::open: break;
  }
}

// Runs the connection's exchange under its plan; returns how it ended.
corio::task<soak::ending> run_plan(net::stream_socket& s, soak::echo_ledger& ledger, const plan& p, parked_at& parked,
                                   std::mt19937_64& rng) {
  if (p.fate == soak::ending::clean) {
    co_await exchange(s, ledger, p, parked, rng);
    co_return soak::ending::clean;
  }
  try {
    co_await corio::timeout(p.cut_after, exchange(s, ledger, p, parked, rng));
  } catch (const corio::timeout_error&) {
    co_return p.fate;  // cut as planned
  }
  co_return soak::ending::clean;  // it finished before the cut came
}

// One connection, start to end. Returns false if it could not even connect.
corio::task<bool> one_connection(const options& o, totals& t, std::mt19937_64& rng, bool& first) {
  const plan p = draw_plan(o, rng);
  soak::echo_ledger ledger(rng());
  net::stream_socket s;
  try {
    s = co_await net::stream_socket::connect(net::address::loopback(o.port), connect_limit);
  } catch (const std::exception& e) {  // std::system_error or corio::timeout_error
    ++t.connect_errors;
    report_error(t, "connect", e);
    co_return false;
  }
  if (std::exchange(first, false) && ++t.slots_open == o.connections) {
    std::printf("soak_echo_client: all %zu connections open\n", o.connections);
    std::fflush(stdout);
  }
  parked_at parked;
  try {
    shrink_buffers(s);
    const soak::ending how = co_await run_plan(s, ledger, p, parked, rng);
    ledger.finish(how);
    if (how == soak::ending::reset) reset(s);
  } catch (const std::system_error& e) {
    ledger.finish(soak::ending::failed);
    report_error(t, "connection failed", e);
  }
  count(t, ledger, parked);
  co_return true;
}

corio::task<> run_slot(const options& o, std::size_t slot, corio::time_point end, totals& t) {
  std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + slot);
  bool first = true;
  while (corio::event_loop::current()->now() < end) {
    const bool connected = co_await one_connection(o, t, rng, first);
    if (!connected) co_return;  // the soak has failed already: no point in hammering a dead server
  }
}

void print_totals(const totals& t) {
  soak::print_fields("RESULT", {{"connections", t.connections},
                                {"clean", t.clean},
                                {"cancels", t.cancelled},
                                {"cancels_mid_read", t.cancelled_mid_read},
                                {"cancels_mid_write", t.cancelled_mid_write},
                                {"cancels_between", t.cancelled_between},
                                {"resets", t.reset},
                                {"failed", t.failed},
                                {"connect_errors", t.connect_errors},
                                {"bytes_sent", t.bytes_sent},
                                {"bytes_echoed", t.bytes_echoed},
                                {"bytes_lost", t.bytes_lost},
                                {"bytes_corrupt", t.bytes_corrupt}});
}

corio::task<int> run_soak(options o) {
  std::printf("soak_echo_client: %zu connections for %llu s to 127.0.0.1:%u, seed %llu (cancel %u%%, reset %u%%)\n",
              o.connections, static_cast<unsigned long long>(o.seconds), static_cast<unsigned>(o.port),
              static_cast<unsigned long long>(o.seed), o.cancel_percent, o.reset_percent);
  std::fflush(stdout);
  totals t;
  const corio::time_point end = corio::event_loop::current()->now() + std::chrono::seconds(o.seconds);
  std::vector<corio::task<>> slots;
  for (std::size_t slot = 0; slot < o.connections; ++slot) slots.push_back(run_slot(o, slot, end, t));
  co_await corio::gather(std::move(slots));
  print_totals(t);
  const bool ok = t.bytes_lost == 0 && t.bytes_corrupt == 0 && t.failed == 0 && t.connect_errors == 0 && t.connections > 0;
  co_return ok ? 0 : 1;
}

bool parse(int argc, char** argv, options& o) {
  const soak::flag flags[] = {{"--port", soak::number_into(o.port), true},
                              {"--connections", soak::number_into(o.connections, std::size_t{1})},
                              {"--seconds", soak::number_into(o.seconds)},
                              {"--seed", soak::number_into(o.seed)},
                              {"--cancel-percent", soak::number_into(o.cancel_percent)},
                              {"--reset-percent", soak::number_into(o.reset_percent)},
                              {"--max-bytes", soak::number_into(o.max_bytes, std::uint64_t{1})}};
  return soak::parse_flags(argc, argv, flags) && o.cancel_percent + o.reset_percent <= 100;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::fputs("usage: soak_echo_client --port P [--connections N] [--seconds S] [--seed X]\n"
               "                        [--cancel-percent C] [--reset-percent R] [--max-bytes B]\n",
               stderr);
    return 2;
  }
  try {
    return corio::run(run_soak(o));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak_echo_client: %s\n", e.what());
    return 1;
  } catch (const corio::cancelled&) {
    std::fputs("soak_echo_client: interrupted\n", stderr);
    return 1;
  }
}
