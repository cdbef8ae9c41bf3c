// tests/io/streams_test.cpp — net::stream_reader over real loopback TCP connections (our side
// wrapped in a net::connection, the peer a raw socket). The writer: stream_writer_test.cpp.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <string>
#include <system_error>

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
using testing_support::reset_connection;

CORIO_TEST(stream_reader, readline_returns_each_line_with_its_newline_then_nullopt_at_eof) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  co_await peer.write_all("one\ntwo\n\nthree");
  peer.shutdown_write();
  EXPECT_EQ(co_await conn.reader().readline(), "one\n");
  EXPECT_EQ(co_await conn.reader().readline(), "two\n");
  EXPECT_EQ(co_await conn.reader().readline(), "\n");
  EXPECT_EQ(co_await conn.reader().readline(), "three") << "the last line at EOF comes as it is";
  EXPECT_TRUE(conn.reader().at_eof());
  EXPECT_EQ(co_await conn.reader().readline(), std::nullopt);
  EXPECT_EQ(co_await conn.reader().readline(), std::nullopt) << "EOF stays EOF";
}

CORIO_TEST(stream_reader, a_line_written_one_byte_at_a_time_arrives_whole) {
  auto [ours, peer] = co_await connect_tcp_pair();
  auto conn = shared_connection(std::move(ours));
  auto line = corio::spawn(keeping(conn, conn->reader().readline()));
  const std::string text = "hello, world\n";
  for (std::size_t i = 0; i < text.size(); ++i) {
    co_await peer.write_all(text.substr(i, 1));
    if (i + 1 < text.size()) co_await until([&] { return conn->reader().buffered() == i + 1; });
  }
  EXPECT_EQ(co_await line, text);
}

CORIO_TEST(stream_reader, read_until_finds_a_delimiter_split_across_chunks) {
  auto [ours, peer] = co_await connect_tcp_pair();
  auto conn = shared_connection(std::move(ours));
  auto head = corio::spawn(keeping(conn, conn->reader().read_until("\r\n\r\n")));
  std::size_t sent = 0;
  for (const std::string_view chunk : {"GET / HTTP/1.1\r", "\n\r", "\nbody"}) {
    co_await until([&] { return conn->reader().buffered() == sent; });
    co_await peer.write_all(chunk);
    sent += chunk.size();
  }
  EXPECT_EQ(co_await head, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(co_await conn->reader().read_exactly(4), "body");
}

CORIO_TEST(stream_reader, read_until_at_eof_throws_incomplete_read_error_with_the_partial_data) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  co_await peer.write_all("abc\r");
  peer.shutdown_write();
  try {
    (void)co_await conn.reader().read_until("\r\n");
    ADD_FAILURE() << "no exception";
  } catch (const net::incomplete_read_error& e) {
    EXPECT_EQ(e.partial(), "abc\r");
    EXPECT_EQ(e.expected(), std::nullopt);
  }
  EXPECT_TRUE(conn.reader().at_eof()) << "the partial data was taken out of the buffer";
  EXPECT_THROW((void)co_await conn.reader().read_until(""), std::invalid_argument);
}

CORIO_TEST(stream_reader, read_exactly_gathers_many_chunks_and_reports_a_short_stream) {
  auto [ours, peer] = co_await connect_tcp_pair();
  auto conn = shared_connection(std::move(ours));
  const pattern p;
  auto whole = corio::spawn(keeping(conn, conn->reader().read_exactly(200000)));
  for (std::size_t at = 0; at < 200000; at += 5000) co_await peer.write_all(p.at(at, 5000));
  EXPECT_TRUE(co_await whole == p.range(0, 200000));
  co_await peer.write_all("1234");
  peer.shutdown_write();
  try {
    (void)co_await conn->reader().read_exactly(10);
    ADD_FAILURE() << "no exception";
  } catch (const net::incomplete_read_error& e) {
    EXPECT_EQ(e.partial(), "1234");
    EXPECT_EQ(e.expected(), 10u);
    EXPECT_NE(std::string(e.what()).find("end of stream"), std::string::npos) << e.what();
  }
  EXPECT_EQ(co_await conn->reader().read_exactly(0), "");
}

CORIO_TEST(stream_reader, read_returns_what_is_buffered_and_tells_eof_from_a_zero_byte_read) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours));
  EXPECT_EQ(co_await conn.reader().read(0), "") << "a 0-byte read completes at once, with nothing sent";
  co_await peer.write_all("abcdef");
  EXPECT_EQ(co_await conn.reader().read(4), "abcd");
  EXPECT_EQ(co_await conn.reader().read(100), "ef") << "only what is buffered, no waiting for more";
  peer.shutdown_write();
  EXPECT_EQ(co_await conn.reader().read(100), std::nullopt);
  EXPECT_EQ(co_await conn.reader().read(0), "") << "even at EOF, a 0-byte read is not EOF";
  EXPECT_EQ(co_await conn.reader().read_all(), "");
}

CORIO_TEST(stream_reader, read_all_reads_to_eof) {
  auto [ours, peer] = co_await connect_tcp_pair();
  auto conn = shared_connection(std::move(ours));
  const pattern p;
  co_await peer.write_all("x");
  EXPECT_EQ(co_await conn->reader().read_exactly(1), "x");
  auto all = corio::spawn(keeping(conn, conn->reader().read_all()));
  for (std::size_t at = 0; at < 3 * pattern::period; at += pattern::period) co_await peer.write_all(p.at(at, pattern::period));
  peer.shutdown_write();
  const std::string got = co_await all;
  EXPECT_EQ(got.size(), 3 * pattern::period);
  EXPECT_TRUE(got == p.range(0, 3 * pattern::period));
}

CORIO_TEST(stream_reader, a_line_over_the_limit_throws_limit_overrun_and_consumes_nothing) {
  auto [ours, peer] = co_await connect_tcp_pair();
  net::connection conn(std::move(ours), {.limit = 16});
  co_await peer.write_all(std::string(16, 'a') + "\n");  // exactly the limit: fine
  EXPECT_EQ(co_await conn.reader().readline(), std::string(16, 'a') + "\n");
  co_await peer.write_all(std::string(40, 'b'));
  try {
    (void)co_await conn.reader().readline();
    ADD_FAILURE() << "no exception";
  } catch (const net::limit_overrun_error& e) {
    EXPECT_GT(e.consumed(), 16u);
    EXPECT_LE(e.consumed(), conn.reader().buffered());
  }
  EXPECT_EQ(conn.reader().buffered(), 40u) << "nothing consumed";
  EXPECT_EQ(co_await conn.reader().read_exactly(40), std::string(40, 'b'));
  co_await peer.write_all(std::string(20, 'c') + "\nok\n");  // found at once, but past the limit
  try {
    (void)co_await conn.reader().read_until("\n");
    ADD_FAILURE() << "no exception";
  } catch (const net::limit_overrun_error& e) {
    EXPECT_EQ(e.consumed(), 20u) << "the delimiter's offset: skip that many to reach it";
  }
  EXPECT_EQ(co_await conn.reader().read_exactly(20), std::string(20, 'c'));
  EXPECT_EQ(co_await conn.reader().readline(), "\n");
  EXPECT_EQ(co_await conn.reader().readline(), "ok\n");
}

CORIO_TEST(stream_reader, a_readline_cancelled_half_way_leaves_the_half_line_for_the_next_one) {
  auto [ours, peer] = co_await connect_tcp_pair();
  auto conn = shared_connection(std::move(ours));
  auto first = corio::spawn(keeping(conn, conn->reader().readline()));
  co_await peer.write_all("hel");
  co_await until([&] { return conn->reader().buffered() == 3; });
  first.cancel();
  EXPECT_THROW(co_await first, corio::cancelled);
  co_await peer.write_all("lo\nworld");
  EXPECT_EQ(co_await conn->reader().readline(), "hello\n");
  auto exact = corio::spawn(keeping(conn, conn->reader().read_exactly(10)));
  co_await testing_support::until_parked(exact);  // a single yield may not let it start
  exact.cancel();
  EXPECT_THROW(co_await exact, corio::cancelled);
  co_await peer.write_all("!!!!!");
  EXPECT_EQ(co_await conn->reader().read_exactly(10), "world!!!!!");
}

CORIO_TEST(stream_reader, two_tasks_reading_at_once_is_a_logic_error) {
  auto [ours, peer] = co_await connect_tcp_pair();
  auto conn = shared_connection(std::move(ours));
  auto first = corio::spawn(keeping(conn, conn->reader().readline()));
  co_await testing_support::until_parked(first);  // a single yield may not let it start
  EXPECT_THROW((void)co_await conn->reader().read(1), std::logic_error);
  co_await peer.write_all("line\n");
  EXPECT_EQ(co_await first, "line\n");
}

CORIO_TEST(stream_reader, a_reset_is_an_error_every_time_never_an_eof) {
  auto [ours, peer] = co_await connect_tcp_pair();
  auto conn = shared_connection(std::move(ours));
  auto line = corio::spawn(keeping(conn, conn->reader().readline()));
  co_await testing_support::until_parked(line);  // a single yield may not let it start
  reset_connection(peer);
  EXPECT_THROW((void)co_await line, std::system_error);
  try {
    (void)co_await conn->reader().readline();
    ADD_FAILURE() << "a second read after a reset must fail too";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ECONNRESET) << e.what();
  }
}

CORIO_TEST(stream_reader, a_unix_socketpair_adopted_into_a_connection_reads_lines) {
  int fds[2];
  CORIO_ASSERT(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  net::connection conn{net::stream_socket{net::detail::socket_handle(fds[0])}};
  net::stream_socket peer{net::detail::socket_handle(fds[1])};
  co_await peer.write_all("unix\n");
  EXPECT_EQ(co_await conn.reader().readline(), "unix\n");
}
