// tests/io/stream_writer_test.cpp — net::stream_writer and net::connection over real loopback
// TCP connections (our side wrapped in a net::connection, the peer a raw socket).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <corio.hpp>

#include "io/socket.hpp"
#include "io/streams.hpp"
#include "streams_support.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"
#include "support/tasks.hpp"

namespace net = corio::net;
using namespace streams_testing;
using testing_support::connect_tcp_pair;
using testing_support::current_loop;
using testing_support::reset_connection;
using testing_support::resident_bytes;

CORIO_TEST(stream_writer, a_write_the_kernel_takes_whole_needs_no_extra_task) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  conn.writer().write("ping\n");
  EXPECT_EQ(conn.writer().buffered(), 0u);
  EXPECT_EQ(current_loop().live_tasks(), 1u) << "only the test body: no flusher was spawned";
  co_await conn.writer().drain();
  std::array<char, 16> buf{};
  EXPECT_EQ(co_await peer.read_some(buf), 5u);
  EXPECT_EQ(std::string_view(buf.data(), 5), "ping\n");
}

CORIO_TEST(stream_writer, drain_is_a_cancellation_check_point_even_when_it_need_not_wait) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  corio::cancel_scope scope;
  scope.cancel();
  const auto drained = co_await scope.run(conn.writer().drain());
  EXPECT_FALSE(drained.has_value()) << "a cancelled task must not slip past drain()";
  co_await conn.writer().drain();
}

CORIO_TEST(stream_writer, drain_waits_above_high_water_until_the_queue_is_down_to_low_water) {
  auto [ours, peer] = co_await connect_tcp_pair();
  constexpr std::size_t high = 256 * 1024, low = 16 * 1024;
  shrink_send_buffer(ours);
  net::connection conn(std::move(ours), {.high_water = high, .low_water = low});
  net::stream_writer& w = conn.writer();
  const pattern p;
  std::size_t written = 0;
  while (w.buffered() <= high) {
    w.write(p.at(written, 32 * 1024));
    written += 32 * 1024;
  }
  auto drained = corio::spawn(w.drain());
  bool waited_between_marks = false;
  std::vector<char> buf(4096);
  std::size_t got = 0;
  while (!drained.done()) {
    const std::size_t queued = w.buffered();
    if (queued > low && queued < high) waited_between_marks = true;
    std::optional<std::size_t> n = co_await peer.read_some(buf);
    CORIO_ASSERT(n.has_value());
    got += *n;
    co_await corio::yield();
  }
  EXPECT_TRUE(waited_between_marks) << "drain kept waiting below high water (hysteresis)";
  EXPECT_LE(w.buffered(), low);
  co_await drained;
  w.close();
  got += co_await read_and_check(peer, p, 65536, got);
  EXPECT_EQ(got, written);
  co_await w.wait_closed();
  EXPECT_THROW(w.set_write_buffer_limits(10, 20), std::invalid_argument);
}

CORIO_TEST(stream_writer, drain_bounds_memory_when_a_tight_loop_writes_to_a_slow_reader) {
  // 256 MiB as the issue asks; ASan/TSan and unoptimised builds move 32 MiB (same code paths,
  // a fraction of the time).
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  constexpr std::size_t total = 256u << 20;
#else
  constexpr std::size_t total = 32u << 20;
#endif
  constexpr std::size_t chunk = 64 * 1024;
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  net::stream_writer& w = conn.writer();
  const pattern p;
  auto reader = corio::spawn(read_and_check(peer, p, 4096));  // 4 KiB reads: slower than the writer
  const std::size_t rss_before = resident_bytes();
  std::size_t most_queued = 0, most_rss = rss_before;
  for (std::size_t sent = 0; sent < total; sent += chunk) {
    w.write(p.at(sent, chunk));
    most_queued = std::max(most_queued, w.buffered());
    co_await w.drain();
    if (sent % (8u << 20) == 0) most_rss = std::max(most_rss, resident_bytes());
  }
  w.close();
  co_await w.wait_closed();
  EXPECT_EQ(co_await reader, total) << "every byte, in order (read_and_check verified each one)";
  EXPECT_GT(most_queued, net::default_stream_limit) << "the reader was slow enough for drain to wait";
  EXPECT_LE(most_queued, net::default_stream_limit + chunk);
  EXPECT_LT(most_rss - rss_before, std::size_t{16} << 20) << "resident memory grew with the data";
}

CORIO_TEST(stream_writer, close_sends_everything_then_the_peer_reads_eof) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  const pattern p;
  constexpr std::size_t total = 16u << 20;
  for (std::size_t sent = 0; sent < total; sent += 50000) conn.writer().write(p.at(sent, std::min<std::size_t>(50000, total - sent)));
  EXPECT_GT(conn.writer().buffered(), 0u) << "more than the kernel takes at once";
  conn.writer().close();
  EXPECT_TRUE(conn.writer().is_closing());
  EXPECT_THROW(conn.writer().write("late"), std::system_error);
  auto reader = corio::spawn(read_and_check(peer, p, 65536));
  co_await conn.writer().wait_closed();
  EXPECT_FALSE(conn.is_open());
  EXPECT_EQ(co_await reader, total);
}

CORIO_TEST(stream_writer, write_eof_half_closes_and_reading_goes_on) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  const pattern p;
  std::size_t written = 0;
  for (; written < (4u << 20); written += 60000) conn.writer().write(p.at(written, 60000));
  conn.writer().write_eof();
  try {
    conn.writer().write("x");
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EPIPE);
  }
  EXPECT_EQ(co_await read_and_check(peer, p, 65536), written);
  co_await peer.write_all("bye\n");
  EXPECT_EQ(co_await conn.reader().readline(), "bye\n");
  conn.writer().close();
  co_await conn.writer().wait_closed();
}

CORIO_TEST(stream_writer, a_background_send_error_surfaces_on_the_next_write_and_close) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  net::stream_writer& w = conn.writer();
  const std::string block(1 << 20, 'z');
  for (int i = 0; i < 16; ++i) w.write(block);
  CORIO_ASSERT(w.buffered() > 0);
  reset_connection(peer);
  co_await until([&] { return w.buffered() == 0; });  // the flusher failed and dropped the queue
  try {
    w.write("more");
    ADD_FAILURE() << "the error was lost";
  } catch (const std::system_error& e) {
    EXPECT_TRUE(e.code().value() == ECONNRESET || e.code().value() == EPIPE) << e.what();
  }
  EXPECT_THROW(co_await w.drain(), std::system_error);
  EXPECT_THROW(w.close(), std::system_error);
  EXPECT_FALSE(conn.is_open()) << "close() closed the socket before rethrowing";
  EXPECT_THROW(co_await w.wait_closed(), std::system_error);
}

CORIO_TEST(stream_writer, a_drain_parked_when_the_peer_resets_rethrows_the_error) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  const std::string block(1 << 20, 'z');
  for (int i = 0; i < 16; ++i) conn.writer().write(block);
  auto drained = corio::spawn(conn.writer().drain());
  co_await testing_support::until_parked(drained);  // a single yield may not let it start
  reset_connection(peer);
  EXPECT_THROW(co_await drained, std::system_error);
}

// --- the connection ------------------------------------------------------------------------

CORIO_TEST(connection, close_aborts_a_parked_read_and_drain_with_ecanceled) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  for (int i = 0; i < 16; ++i) conn.writer().write(std::string(1 << 20, 'q'));
  auto read = corio::spawn(conn.reader().readline());
  auto drained = corio::spawn(conn.writer().drain());
  // Both must be parked when close() comes (one yield started them only in FIFO order; under a
  // shuffle seed the reader started after close() and met EBADF instead).
  co_await testing_support::until_parked(read);
  co_await testing_support::until_parked(drained);
  CORIO_ASSERT(testing_support::parked(read) && testing_support::parked(drained));
  conn.close();
  EXPECT_FALSE(read.done()) << "never inside close()";
  try {
    (void)co_await read;
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECANCELED) << e.what();
  }
  try {
    co_await drained;
    ADD_FAILURE() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECANCELED) << e.what();
  }
  EXPECT_EQ(conn.writer().buffered(), 0u) << "queued bytes are dropped";
  co_await corio::yield();  // the flusher ends (with ECANCELED) in this turn
}

CORIO_TEST(connection, moving_it_keeps_reader_and_writer_references_valid) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection first(std::move(ours));
  net::stream_reader& reader = first.reader();
  net::stream_writer& writer = first.writer();
  net::connection second = std::move(first);
  EXPECT_THROW((void)first.reader(), std::logic_error);  // NOLINT(bugprone-use-after-move): on purpose
  EXPECT_EQ(&second.reader(), &reader);
  writer.write("to peer\n");
  co_await peer.write_all("to us\n");
  EXPECT_EQ(co_await reader.readline(), "to us\n");
  std::array<char, 16> buf{};
  EXPECT_EQ(co_await peer.read_some(buf), 8u);
}

CORIO_TEST(connection, destroying_it_with_queued_bytes_cancels_the_flusher_and_leaks_nothing) {
  auto [ours, peer] = co_await connect_tcp_pair();
  {
    net::connection conn(std::move(ours));
    for (int i = 0; i < 16; ++i) conn.writer().write(std::string(1 << 20, 'd'));
    CORIO_ASSERT(conn.writer().buffered() > 0);
    EXPECT_EQ(current_loop().live_tasks(), 2u) << "the body and the flusher";
  }
  co_await until([] { return current_loop().live_tasks() == 1; });
  std::vector<char> buf(1 << 16);
  std::size_t got = 0;
  while (std::optional<std::size_t> n = co_await peer.read_some(buf)) got += *n;
  EXPECT_LT(got, std::size_t{16} << 20) << "unsent bytes were dropped, and the peer saw the end";
}

