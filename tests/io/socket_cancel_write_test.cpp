// tests/io/socket_cancel_write_test.cpp — stopping write_all half-way (reliability.md T-20).
// write_all is documented as NOT cancel-safe (io/socket.hpp, as Tokio documents its write_all):
// what it sent before being stopped stays sent. These tests pin down exactly what that means:
//   * cancelled: corio::cancelled reaches the writer; the peer has received an exact prefix of
//     the data (nothing reordered, repeated or invented); the socket is still usable, and what
//     is written next follows that prefix directly;
//   * the socket closed under it by another task: net::write_error(ECANCELED) whose
//     bytes_written is exactly what the peer receives.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <string>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
namespace net = corio::net;
using testing_support::connect_tcp_pair;

namespace {

// Bytes whose pattern repeats every 251 bytes (a prime), never in step with a buffer size, so a
// piece that was reordered, repeated or dropped shows up.
std::string patterned(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

// 32 MiB: far more than loopback's socket buffers hold, so write_all must park.
constexpr std::size_t big = 32u << 20;

// Everything `s` receives until end of stream.
corio::task<std::string> read_to_eof(net::stream_socket& s) {
  std::string got;
  std::array<char, 64 * 1024> buf;
  while (auto n = co_await s.read_some(buf)) got.append(buf.data(), *n);
  co_return got;
}

// How the write ended: cancelled, or write_error with its errno and count.
struct write_outcome {
  bool cancelled = false;
  int error = 0;
  std::size_t bytes_written = 0;
};

corio::task<write_outcome> write_all_reporting(net::stream_socket& s, const std::string& data) {
  write_outcome out;
  try {
    co_await s.write_all(data);
  } catch (const corio::cancelled&) {
    out.cancelled = true;
  } catch (const net::write_error& e) {
    out.error = e.code().value();
    out.bytes_written = e.bytes_written();
  }
  co_return out;
}

}  // namespace

CORIO_TEST(socket_cancel_write, a_cancelled_write_all_has_sent_an_exact_prefix_and_the_stream_goes_on_after_it) {
  auto [client, server] = co_await connect_tcp_pair();
  const std::string data = patterned(big);
  auto writer = corio::spawn(write_all_reporting(client, data), "writer");
  co_await testing_support::until_parked(writer);  // the socket buffers are full: write_all waits
  CORIO_ASSERT(testing_support::parked(writer));
  writer.cancel();
  const write_outcome out = co_await writer;
  EXPECT_TRUE(out.cancelled);
  EXPECT_EQ(out.error, 0);

  // The socket still works: the next write follows the prefix directly.
  auto reader = corio::spawn(read_to_eof(server), "reader");
  co_await client.write_all("<after the cancel>");
  client.shutdown_write();
  const std::string got = co_await reader;
  const std::size_t prefix = got.size() - std::string("<after the cancel>").size();
  EXPECT_GT(prefix, 0u);
  EXPECT_LT(prefix, data.size());
  EXPECT_TRUE(got.compare(0, prefix, data, 0, prefix) == 0) << "the bytes sent before the cancel are not a prefix";
  EXPECT_EQ(got.substr(prefix), "<after the cancel>");
}

CORIO_TEST(socket_cancel_write, closing_the_socket_under_a_parked_write_all_reports_ecanceled_and_the_bytes_sent) {
  auto [client, server] = co_await connect_tcp_pair();
  const std::string data = patterned(big);
  auto writer = corio::spawn(write_all_reporting(client, data), "writer");
  co_await testing_support::until_parked(writer);
  CORIO_ASSERT(testing_support::parked(writer));
  client.close();  // the writer resumes in a later turn, never inside close()
  EXPECT_FALSE(writer.done());
  const write_outcome out = co_await writer;
  EXPECT_FALSE(out.cancelled);
  EXPECT_EQ(out.error, ECANCELED);
  const std::string got = co_await read_to_eof(server);
  EXPECT_GT(out.bytes_written, 0u);
  EXPECT_EQ(got.size(), out.bytes_written) << "bytes_written must be what the peer received";
  EXPECT_TRUE(got.compare(0, got.size(), data, 0, got.size()) == 0);
}

// write_all parks with its last bytes unsent; when room comes, the watch's attempt sends them
// before the writer runs (io/socket.hpp, write_all_op). A cancellation that arrives between that
// wake-up and the writer's turn still wins, as for every corio wait: the writer sees
// corio::cancelled, and the peer has every byte, in order (a prefix that happens to be all).
// FIFO pinned: the body must act between the wake-up and the writer's turn.
CORIO_TEST_WITH(socket_cancel_write, a_write_all_cancelled_after_its_wake_up_sent_the_rest_still_sees_the_cancellation,
                corio::testing::fifo_order()) {
  auto [client, server] = co_await connect_tcp_pair();
  const std::string fill = patterned(big);
  std::size_t filled = 0;
  while (const std::size_t n = client.try_write(std::string_view(fill).substr(filled))) filled += n;
  CORIO_ASSERT(filled > 0 && filled < fill.size());  // the kernel's buffers are full now
  const std::string tail = "<tail>";  // outlives the writer, which keeps a reference
  auto writer = corio::spawn(write_all_reporting(client, tail), "writer");
  co_await testing_support::until_parked(writer);
  CORIO_ASSERT(testing_support::parked(writer));

  std::string got;
  std::array<char, 16 * 1024> buf;
  while (testing_support::parked(writer)) {  // drain a piece a turn, until room wakes the writer
    const auto n = co_await server.read_some(buf);
    CORIO_ASSERT(n.has_value());
    got.append(buf.data(), *n);
    co_await corio::yield();
  }
  CORIO_ASSERT(!writer.done());
  writer.cancel();
  const write_outcome out = co_await writer;
  EXPECT_TRUE(out.cancelled);
  client.shutdown_write();
  got += co_await read_to_eof(server);
  EXPECT_EQ(got.size(), filled + tail.size());
  EXPECT_TRUE(got.compare(0, filled, fill, 0, filled) == 0);
  EXPECT_EQ(got.substr(filled), tail);
}
