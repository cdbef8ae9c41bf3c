// tests/io/unix_test.cpp — Unix-domain stream sockets (io/socket.hpp): echo, the socket file's
// life (a stale one replaced, ours removed at close), and socket pairs.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"

using namespace testing_support;
namespace net = corio::net;
namespace fs = std::filesystem;

namespace {

corio::task<> echo_once(net::listener& server) {
  auto s = co_await server.accept();
  std::array<char, 256> buf;
  while (auto n = co_await s.read_some(buf)) co_await s.write_all({buf.data(), *n});
}

// Leaves a socket file at `path` with nobody listening: what a crashed server leaves behind.
void leave_stale_socket_file(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  const net::address at = net::address::unix_path(path.string());
  EXPECT_EQ(::bind(fd, at.native(), at.native_size()), 0);
  ::close(fd);
}

}  // namespace

CORIO_TEST(unix_socket, a_stream_over_a_socket_file_echoes_and_the_file_goes_away_with_the_listener) {
  const temp_dir dir;
  const fs::path path = dir.path() / "echo.sock";
  auto server = net::listener::bind(net::address::unix_path(path.string()));
  EXPECT_TRUE(fs::is_socket(path));
  EXPECT_EQ(server.local_address(), net::address::unix_path(path.string()));

  auto echo = corio::spawn(echo_once(server));
  auto client = co_await net::stream_socket::connect(net::address::unix_path(path.string()));
  co_await client.write_all("over a file");
  client.shutdown_write();
  std::array<char, 64> buf;
  std::string back;
  while (auto n = co_await client.read_some(buf)) back.append(buf.data(), *n);
  EXPECT_EQ(back, "over a file");
  co_await echo;

  server.close();
  EXPECT_FALSE(fs::exists(path));
}

CORIO_TEST(unix_socket, a_stale_socket_file_is_replaced_by_a_new_listener) {
  const temp_dir dir;
  const fs::path path = dir.path() / "stale.sock";
  leave_stale_socket_file(path);
  CORIO_ASSERT(fs::is_socket(path));
  auto server = net::listener::bind(net::address::unix_path(path.string()));
  auto client = co_await net::stream_socket::connect(net::address::unix_path(path.string()));
  auto accepted = co_await server.accept();
  co_await client.write_all("x");
  std::array<char, 4> buf;
  EXPECT_EQ(co_await accepted.read_some(buf), std::optional<std::size_t>(1));
}

CORIO_TEST(unix_socket, a_second_listener_on_a_live_path_fails_and_the_first_stays_reachable) {
  const temp_dir dir;
  const net::address at = net::address::unix_path((dir.path() / "live.sock").string());
  auto first = net::listener::bind(at);
  try {
    auto second = net::listener::bind(at);
    ADD_FAILURE() << "a second listener took over a live socket file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
  }
  auto client = co_await net::stream_socket::connect(at);  // still the first one's file
  auto accepted = co_await first.accept();
  EXPECT_TRUE(accepted.is_open());
}

CORIO_TEST(unix_socket, a_file_that_is_not_a_socket_is_left_alone_and_bind_fails) {
  const temp_dir dir;
  const fs::path path = dir.path() / "precious.txt";
  std::ofstream(path) << "keep me";
  try {
    (void)net::listener::bind(net::address::unix_path(path.string()));
    ADD_FAILURE() << "bind replaced a regular file";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
  }
  EXPECT_TRUE(fs::is_regular_file(path));
  co_return;
}

CORIO_TEST(unix_socket, a_socket_pair_carries_bytes_both_ways_and_has_no_tcp_options) {
  auto [a, b] = net::stream_socket::pair();
  co_await a.write_all("ab");
  co_await b.write_all("ba");
  std::array<char, 4> buf;
  EXPECT_EQ(co_await b.read_some(buf), std::optional<std::size_t>(2));
  EXPECT_EQ(std::string_view(buf.data(), 2), "ab");
  EXPECT_EQ(co_await a.read_some(buf), std::optional<std::size_t>(2));
  EXPECT_EQ(std::string_view(buf.data(), 2), "ba");
  EXPECT_THROW(a.set_nodelay(true), std::system_error);
  EXPECT_EQ(a.local_address().family(), AF_UNIX);
}
