// tests/io/socket_faults_test.cpp — what a peer's reset or close does to us (reliability.md
// T-05, T-06, T-07, T-40). The tests that write also check that SIGPIPE stays at its default:
// the process would die if a send raised it, and corio must never change it (design.md, "I/O").
#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <system_error>

#include <corio.hpp>

#include "io/socket.hpp"
#include "io/streams.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"

using namespace testing_support;
namespace net = corio::net;

namespace {

bool is_reset_or_broken_pipe(int error) { return error == ECONNRESET || error == EPIPE; }

// Blocks (up to 5 s) until the kernel says `s` has an error or a hang-up pending: the peer's RST
// has arrived. Asks poll(2) directly, so that no corio call consumes the error first.
bool wait_for_error_or_hangup(net::stream_socket& s) {
  pollfd p{s.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 5000) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
}

// Reads `at_least` bytes, then resets the connection (RST) while the other side still writes.
corio::task<> read_a_little_then_reset(net::stream_socket& s, std::size_t at_least) {
  std::array<char, 16 * 1024> buf;
  std::size_t got = 0;
  while (got < at_least) {
    const auto n = co_await s.read_some(buf);
    if (!n) co_return;
    got += *n;
  }
  reset_connection(s);
}

}  // namespace

// T-05
CORIO_TEST(socket_faults, a_reset_during_a_large_write_reports_the_error_and_how_much_was_sent) {
  EXPECT_TRUE(sigpipe_is_default());
  auto [client, server] = co_await connect_tcp_pair();
  const std::string big(64u << 20, 'w');
  auto peer = corio::spawn(read_a_little_then_reset(server, 64 * 1024));
  try {
    co_await client.write_all(big);
    ADD_FAILURE() << "64 MiB went into a connection that was reset";
  } catch (const net::write_error& e) {
    EXPECT_TRUE(is_reset_or_broken_pipe(e.code().value())) << e.what();
    EXPECT_GT(e.bytes_written(), 64u * 1024);
    EXPECT_LT(e.bytes_written(), big.size());
  }
  co_await peer;
  EXPECT_TRUE(sigpipe_is_default());
}

// T-06
CORIO_TEST(socket_faults, a_reset_while_we_wait_in_read_is_econnreset_never_end_of_stream) {
  auto [client, server] = co_await connect_tcp_pair();
  std::array<char, 64> buf;
  std::optional<std::size_t> read_result = 123;
  auto reader = [](net::stream_socket& s, std::span<char> into, std::optional<std::size_t>& out) -> corio::task<int> {
    try {
      out = co_await s.read_some(into);
    } catch (const std::system_error& e) {
      co_return e.code().value();
    }
    co_return 0;
  };
  auto reading = corio::spawn(reader(client, buf, read_result));
  co_await until_parked(reading);
  CORIO_ASSERT(parked(reading));
  reset_connection(server);
  EXPECT_EQ(co_await reading, ECONNRESET);
  EXPECT_EQ(read_result, std::optional<std::size_t>(123)) << "read_some returned instead of throwing";
}

// T-40
CORIO_TEST(socket_faults, writing_to_a_peer_that_closed_fails_with_epipe_or_econnreset_and_the_process_lives) {
  EXPECT_TRUE(sigpipe_is_default());
  auto [client, server] = co_await connect_tcp_pair();
  server.close();
  // The first writes may still be accepted (the peer answers them with RST); a later one fails.
  int error = 0;
  for (int i = 0; i < 100 && error == 0; ++i) {
    error = co_await error_of(client.write_some("after close"));
    co_await corio::yield();  // lets the RST come back
  }
  EXPECT_TRUE(is_reset_or_broken_pipe(error)) << "errno " << error;
  EXPECT_TRUE(is_reset_or_broken_pipe(co_await error_of(client.write_all(std::string(1 << 20, 'x')))));
  EXPECT_TRUE(sigpipe_is_default());
}

// T-07: an error or hang-up counts as both readable and writable, on both backends.
// FIFO pinned: which of the two woken tasks meets the reset's errno first is decided by the
// order they run, which only a FIFO ready queue keeps in wake order (reader first).
CORIO_TEST_WITH(socket_faults, a_reset_wakes_both_a_parked_reader_and_a_parked_writer_once_each,
                corio::testing::fifo_order()) {
  auto [client, server] = co_await connect_tcp_pair();
  std::array<char, 64> buf;
  auto reading = corio::spawn(error_of(client.read_some(buf)), "reader");
  const std::string big(64u << 20, 'w');  // more than the socket buffers hold: the writer parks
  auto writing = corio::spawn(error_of(client.write_all(big)), "writer");
  co_await until_parked(reading);
  co_await until_parked(writing);
  CORIO_ASSERT(parked(reading) && parked(writing));
  reset_connection(server);
  // The kernel hands the reset's errno to the first call that asks; the reader was parked
  // first, so it is woken first (on_ready wakes the read side before the write side) and
  // gets ECONNRESET; the writer then meets the connection torn down (EPIPE).
  EXPECT_EQ(co_await reading, ECONNRESET);
  EXPECT_TRUE(is_reset_or_broken_pipe(co_await writing));
}


// The kernel hands a reset's errno to one call only, then answers reads with 0 ("end of
// stream"). Here a write takes it; the read after it must still fail, not look like a clean close.
CORIO_TEST(socket_faults, a_read_after_a_write_met_the_reset_is_econnreset_not_end_of_stream) {
  auto [client, server] = co_await connect_tcp_pair();
  reset_connection(server);
  CORIO_ASSERT(wait_for_error_or_hangup(client));
  EXPECT_EQ(co_await error_of(client.write_some("after the reset")), ECONNRESET);
  std::array<char, 64> buf;
  EXPECT_EQ(co_await error_of(client.read_some(buf)), ECONNRESET);
  EXPECT_EQ(co_await error_of(client.read_some(buf)), ECONNRESET) << "every later read, not just the next one";
}

// The same through a stream_writer, whose write() tries the kernel itself before it queues.
CORIO_TEST(socket_faults, a_read_after_a_buffered_writer_met_the_reset_is_econnreset_not_end_of_stream) {
  auto [client, server] = co_await connect_tcp_pair();
  reset_connection(server);
  CORIO_ASSERT(wait_for_error_or_hangup(client));
  int error = 0;
  {
    net::stream_writer writer(client);
    try {
      writer.write("after the reset");  // sent at once (the usual case) or queued for its flusher
      while (writer.buffered() > 0) co_await corio::yield();
      writer.write("again");  // throws what the flusher kept, if it met the reset
    } catch (const std::system_error& e) {
      error = e.code().value();
    }
  }
  EXPECT_EQ(error, ECONNRESET);
  std::array<char, 64> buf;
  EXPECT_EQ(co_await error_of(client.read_some(buf)), ECONNRESET);
}
