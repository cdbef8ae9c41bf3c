// tests/io/tcp_test.cpp — TCP stream_socket and listener (io/socket.hpp): the round trip,
// addresses and options, half-close and empty reads (reliability.md T-11, T-12), and connects
// that fail or time out (T-14, T-15).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;
namespace net = corio::net;

namespace {

// Reads until end of stream and returns everything.
corio::task<std::string> read_to_end(net::stream_socket& s) {
  std::string all;
  std::array<char, 16 * 1024> buf;
  while (auto n = co_await s.read_some(buf)) all.append(buf.data(), *n);
  co_return all;
}

// Echoes until end of stream, then closes. (Closing is explicit: a parameter lives as long as
// the frame, and a spawned task's frame lives until its join_handle lets go.)
corio::task<> echo_until_eof(net::stream_socket s) {
  std::array<char, 4096> buf;
  while (auto n = co_await s.read_some(buf)) co_await s.write_all({buf.data(), *n});
  s.close();
}

int tcp_nodelay_of(const net::stream_socket& s) {
  int value = -1;
  socklen_t size = sizeof value;
  EXPECT_EQ(::getsockopt(s.native_handle(), IPPROTO_TCP, TCP_NODELAY, &value, &size), 0);
  return value;
}

// A raw blocking socket, outside the loop.
class raw_socket {
 public:
  raw_socket() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) { EXPECT_GE(fd_, 0); }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;
  ~raw_socket() { ::close(fd_); }
  [[nodiscard]] int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

// A port on 127.0.0.1 that refuses connections, held for the test: bound but not listening, so
// the kernel answers a SYN with RST and no other process can take the port meanwhile.
class refusing_port {
 public:
  refusing_port() {
    const net::address any = net::address::loopback(0);
    EXPECT_EQ(::bind(socket_.fd(), any.native(), any.native_size()), 0);
    sockaddr_storage bound{};
    socklen_t size = sizeof bound;
    EXPECT_EQ(::getsockname(socket_.fd(), reinterpret_cast<sockaddr*>(&bound), &size), 0);
    address_ = net::address::from_native(reinterpret_cast<const sockaddr*>(&bound), size);
  }
  [[nodiscard]] const net::address& address() const noexcept { return address_; }

 private:
  raw_socket socket_;
  net::address address_;
};

// Starts a non-blocking connect of `fd` to `to` and says whether it completed within `wait`.
bool connects_within(int fd, const net::address& to, std::chrono::milliseconds wait) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, to.native(), to.native_size()) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{fd, POLLOUT, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) == 1;
}

}  // namespace

CORIO_TEST(tcp, bytes_sent_by_the_client_come_back_from_an_echo_server) {
  auto server = net::listener::bind(net::address::loopback(0));
  auto client = co_await net::stream_socket::connect(server.local_address());
  auto echo = corio::spawn(echo_until_eof(co_await server.accept()));
  const std::string message(100'000, 'e');
  co_await client.write_all(message);
  client.shutdown_write();
  EXPECT_EQ(co_await read_to_end(client), message);
  co_await echo;
}

CORIO_TEST(tcp, a_listener_bound_to_port_zero_reports_the_port_the_kernel_chose) {
  auto server = net::listener::bind(net::address::loopback(0));
  const net::address where = server.local_address();
  EXPECT_NE(where.port(), 0);
  EXPECT_EQ(where.host(), "127.0.0.1");
  // ...and it is the port that accepts connections.
  auto client = co_await net::stream_socket::connect(net::address::loopback(where.port()));
  auto accepted = co_await server.accept();
  EXPECT_EQ(accepted.local_address().port(), where.port());
}

CORIO_TEST(tcp, each_end_reports_the_other_ends_local_address_as_its_peer) {
  auto server = net::listener::bind(net::address::loopback(0));
  auto client = co_await net::stream_socket::connect(server.local_address());
  auto accepted = co_await server.accept();
  EXPECT_EQ(client.peer_address(), server.local_address());
  EXPECT_EQ(accepted.local_address(), server.local_address());
  EXPECT_EQ(accepted.peer_address(), client.local_address());
  EXPECT_NE(client.local_address().port(), server.local_address().port());
}

CORIO_TEST(tcp, nodelay_is_on_for_connected_and_accepted_sockets_and_can_be_switched) {
  auto [client, server] = co_await connect_tcp_pair();
  EXPECT_NE(tcp_nodelay_of(client), 0);
  EXPECT_NE(tcp_nodelay_of(server), 0);
  client.set_nodelay(false);
  EXPECT_EQ(tcp_nodelay_of(client), 0);
  client.set_nodelay(true);
  EXPECT_NE(tcp_nodelay_of(client), 0);
}

TEST(tcp, making_a_listener_outside_a_running_loop_is_a_logic_error_and_leaks_no_descriptor) {
  const std::size_t before = open_descriptors();
  EXPECT_THROW((void)net::listener::bind(net::address::loopback(0)), std::logic_error);
  EXPECT_THROW((void)net::stream_socket::pair(), std::logic_error);
  EXPECT_EQ(open_descriptors(), before);
}

corio::task<net::listener> make_listener() { co_return net::listener::bind(net::address::loopback(0)); }

TEST(tcp, a_socket_that_outlives_its_loop_closes_its_descriptor_without_touching_the_dead_loop) {
  const std::size_t before = open_descriptors();
  {
    net::listener survivor = corio::run(make_listener());
    EXPECT_TRUE(survivor.is_open());
    EXPECT_EQ(open_descriptors(), before + 1);
  }  // destroyed here, after its loop: UBSan/ASan would catch a call into the gone poller
  EXPECT_EQ(open_descriptors(), before);
}

CORIO_TEST(tcp, a_closed_socket_throws_ebadf_when_used) {
  auto [client, server] = co_await connect_tcp_pair();
  client.close();
  client.close();  // idempotent
  EXPECT_FALSE(client.is_open());
  std::array<char, 8> buf;
  EXPECT_EQ(co_await error_of(client.read_some(buf)), EBADF);
  EXPECT_EQ(co_await error_of(client.write_some("x")), EBADF);
}

// --- T-11: half-close -----------------------------------------------------------------------

CORIO_TEST(tcp, after_the_peer_shuts_down_writing_we_read_eof_and_our_whole_reply_still_arrives) {
  auto [client, server] = co_await connect_tcp_pair();
  co_await client.write_all("request");
  client.shutdown_write();
  // The server reads the request up to EOF — an engaged optional for data, nullopt for EOF.
  EXPECT_EQ(co_await read_to_end(server), "request");
  std::array<char, 8> buf;
  EXPECT_EQ(co_await server.read_some(buf), std::nullopt);  // EOF again, still not an error
  const std::string reply(1 << 20, 'r');
  co_await server.write_all(reply);
  server.close();
  EXPECT_EQ(co_await read_to_end(client), reply);
}

CORIO_TEST(tcp, shutting_down_twice_is_a_no_op_and_writing_afterwards_fails_with_epipe) {
  auto [client, server] = co_await connect_tcp_pair();
  client.shutdown_write();
  EXPECT_NO_THROW(client.shutdown_write());
  EXPECT_EQ(co_await error_of(client.write_some("late")), EPIPE);
  try {
    co_await client.write_all("late");
    ADD_FAILURE() << "write_all after shutdown_write succeeded";
  } catch (const net::write_error& e) {
    EXPECT_EQ(e.code().value(), EPIPE);
    EXPECT_EQ(e.bytes_written(), 0u);
  }
  EXPECT_TRUE(sigpipe_is_default());
}

// --- T-12: empty reads ----------------------------------------------------------------------

CORIO_TEST(tcp, reading_into_an_empty_buffer_gives_zero_at_once_not_end_of_stream) {
  auto [client, server] = co_await connect_tcp_pair();
  std::span<char> empty;
  // Nothing was sent: a read_some that treated this as a normal read would wait forever, so
  // the time limit turns that failure into a timeout_error (virtual time; it costs nothing).
  const std::optional<std::size_t> n = co_await corio::timeout(1s, client.read_some(empty));
  EXPECT_EQ(n, std::optional<std::size_t>(0));
  server.close();
  std::array<char, 8> buf;
  EXPECT_EQ(co_await client.read_some(buf), std::nullopt);  // real EOF looks different
  EXPECT_EQ(co_await client.read_some(empty), std::optional<std::size_t>(0));
}

// --- T-14, T-15: connects that fail ---------------------------------------------------------

CORIO_TEST(tcp, a_refused_connect_throws_econnrefused_and_leaves_no_descriptor_or_registration) {
  const refusing_port port;
  const std::size_t before = open_descriptors();
  EXPECT_EQ(co_await error_of(net::stream_socket::connect(port.address())), ECONNREFUSED);
  EXPECT_EQ(open_descriptors(), before);
  EXPECT_EQ(current_loop().registrations(), 0u);
}

// The real clock on purpose: the point is that the kernel really leaves the connect pending for
// the whole 200 ms and no completion arrives in that time; on the manual clock the timer would
// fire after the loop's 5 ms grace for real I/O, which proves less.
CORIO_REAL_TIME_TEST(tcp, a_connect_to_a_full_backlog_gives_up_after_its_timeout_and_leaves_nothing_behind) {
  auto server = net::listener::bind(net::address::loopback(0), {.backlog = 0});
  // Fill the accept queue (Linux holds backlog + 1) until a connect no longer completes: from
  // then on the kernel drops our SYNs and a connect waits (retrying after 1 s, 3 s, ...).
  std::vector<std::unique_ptr<raw_socket>> fillers;
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    fillers.push_back(std::make_unique<raw_socket>());
    full = !connects_within(fillers.back()->fd(), server.local_address(), 100ms);
  }
  CORIO_ASSERT(full);
  const std::size_t before = open_descriptors();
  const auto start = std::chrono::steady_clock::now();
  try {
    (void)co_await net::stream_socket::connect(server.local_address(), 200ms);
    ADD_FAILURE() << "the connect completed";
  } catch (const corio::timeout_error&) {
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  EXPECT_EQ(open_descriptors(), before);
  EXPECT_EQ(current_loop().registrations(), 1u);  // the listener's own
  EXPECT_EQ(current_loop().armed_timers(), 0u);
}
