// tests/io/socket_address_test.cpp — net::address (io/address.hpp): parsing and printing.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stdexcept>
#include <string>

#include "io/address.hpp"

namespace net = corio::net;

TEST(address, an_ipv4_host_and_port_parse_and_print_back) {
  const net::address a = net::address::ip("10.1.2.3", 8080);
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_TRUE(a.is_ip());
  EXPECT_EQ(a.host(), "10.1.2.3");
  EXPECT_EQ(a.port(), 8080);
  EXPECT_EQ(a.to_string(), "10.1.2.3:8080");
  EXPECT_EQ(net::address::ip("127.0.0.1", 9), net::address::loopback(9));
}

TEST(address, an_ipv6_host_parses_with_or_without_brackets_and_prints_with_them) {
  const net::address plain = net::address::ip("::1", 443);
  const net::address bracketed = net::address::ip("[::1]", 443);
  EXPECT_EQ(plain, bracketed);
  EXPECT_EQ(plain.family(), AF_INET6);
  EXPECT_EQ(plain.host(), "::1");
  EXPECT_EQ(plain.port(), 443);
  EXPECT_EQ(plain.to_string(), "[::1]:443");
  EXPECT_EQ(net::address::ip("fe80::1:2", 0).to_string(), "[fe80::1:2]:0");
}

TEST(address, malformed_numeric_hosts_are_invalid_arguments) {
  for (const char* bad : {"", "localhost", "256.1.1.1", "1.2.3", "::1::2", "[::1", "::1]", "[]", "1.2.3.4 "})
    EXPECT_THROW((void)net::address::ip(bad, 80), std::invalid_argument) << "'" << bad << "'";
}

TEST(address, a_unix_path_fits_sun_path_or_is_an_invalid_argument) {
  const std::size_t longest = sizeof(sockaddr_un::sun_path) - 1;  // room for the terminating NUL
  const std::string fits(longest, 'p');
  const net::address a = net::address::unix_path(fits);
  EXPECT_EQ(a.family(), AF_UNIX);
  EXPECT_EQ(a.host(), fits);
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(net::address::unix_path("/run/x.sock").to_string(), "unix:/run/x.sock");
  EXPECT_THROW((void)net::address::unix_path(std::string(longest + 1, 'p')), std::invalid_argument);
  EXPECT_THROW((void)net::address::unix_path(""), std::invalid_argument);
}

TEST(address, a_default_address_is_empty) {
  const net::address none;
  EXPECT_EQ(none.family(), AF_UNSPEC);
  EXPECT_FALSE(none.is_ip());
  EXPECT_EQ(none.to_string(), "(none)");
  EXPECT_EQ(none, net::address());
}
