// tests/io/udp_test.cpp — udp_socket (io/socket.hpp): datagrams and the sender's address.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"

using namespace testing_support;
namespace net = corio::net;

CORIO_TEST(udp, a_datagram_arrives_whole_with_its_senders_address_and_the_reply_goes_back) {
  auto a = net::udp_socket::bind(net::address::loopback(0));
  auto b = net::udp_socket::bind(net::address::loopback(0));
  EXPECT_NE(a.local_address().port(), 0);
  EXPECT_EQ(co_await a.send_to("ping", b.local_address()), 4u);

  std::array<char, 64> buf;
  const net::datagram got = co_await b.recv_from(buf);
  EXPECT_EQ(std::string_view(buf.data(), got.size), "ping");
  EXPECT_EQ(got.from, a.local_address());

  EXPECT_EQ(co_await b.send_to("pong", got.from), 4u);
  const net::datagram reply = co_await a.recv_from(buf);
  EXPECT_EQ(std::string_view(buf.data(), reply.size), "pong");
  EXPECT_EQ(reply.from, b.local_address());
}

CORIO_TEST(udp, a_receiver_parked_before_the_datagram_is_sent_wakes_with_it) {
  auto a = net::udp_socket::bind(net::address::loopback(0));
  auto b = net::udp_socket::bind(net::address::loopback(0));
  std::array<char, 64> buf;
  auto receiving = corio::spawn(b.recv_from(buf));
  co_await testing_support::until_parked(receiving);  // a single yield may not let it start
  co_await a.send_to("late", b.local_address());
  const net::datagram got = co_await receiving;
  EXPECT_EQ(std::string_view(buf.data(), got.size), "late");
}

CORIO_TEST(udp, datagrams_keep_their_boundaries_and_a_short_buffer_truncates_one) {
  auto a = net::udp_socket::bind(net::address::loopback(0));
  auto b = net::udp_socket::bind(net::address::loopback(0));
  co_await a.send_to("first", b.local_address());
  co_await a.send_to("second-and-longer", b.local_address());
  std::array<char, 64> buf;
  const net::datagram one = co_await b.recv_from(buf);
  EXPECT_EQ(std::string_view(buf.data(), one.size), "first");
  std::array<char, 6> small;
  const net::datagram two = co_await b.recv_from(small);
  EXPECT_EQ(std::string_view(small.data(), two.size), "second");  // the rest is dropped
}

// reliability.md T-07: an error with nothing to read. A connected UDP socket learns of the ICMP
// "port unreachable" its datagram provoked as a pending error — EPOLLERR (POLLERR), with no
// EPOLLIN. Only the backends' rule "an error wakes both sides" gets the parked receiver going.
CORIO_TEST(udp, an_icmp_error_wakes_a_parked_receiver_of_a_connected_socket_with_econnrefused) {
  auto a = net::udp_socket::bind(net::address::loopback(0));
  net::address closed_port;
  {
    auto gone = net::udp_socket::bind(net::address::loopback(0));
    closed_port = gone.local_address();
  }  // now nothing listens there
  CORIO_ASSERT(::connect(a.native_handle(), closed_port.native(), closed_port.native_size()) == 0);
  std::array<char, 16> buf;
  // Without the wake-up it would wait forever: the time limit makes that a timeout_error.
  auto receiving = corio::spawn(corio::timeout(std::chrono::seconds(1), error_of(a.recv_from(buf))));
  co_await until_parked(receiving);
  CORIO_ASSERT(parked(receiving));
  co_await a.send_to("anyone?", closed_port);
  EXPECT_EQ(co_await receiving, ECONNREFUSED);
}

TEST(udp, binding_outside_a_running_loop_is_a_logic_error_and_leaks_no_descriptor) {
  const std::size_t before = open_descriptors();
  EXPECT_THROW((void)net::udp_socket::bind(net::address::loopback(0)), std::logic_error);
  EXPECT_EQ(open_descriptors(), before);
}
