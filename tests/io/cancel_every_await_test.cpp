// tests/io/cancel_every_await_test.cpp — an echo over TCP and a stream reader's readline,
// cancelled at each of their suspension points in turn (runtime/testing_cancel.hpp): no byte
// may be invented, reordered or duplicated, no line may arrive cut, and nothing may leak.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <corio.hpp>

#include "io/socket.hpp"
#include "io/streams.hpp"
#include "runtime/testing_cancel.hpp"

using corio::testing::cancel_at_every_await;
using corio::testing::cancel_run;
namespace net = corio::net;

namespace {

constexpr int messages = 4;

std::string message(int i) { return "message " + std::to_string(i) + "\n"; }

bool is_prefix(std::string_view prefix, std::string_view of) { return of.substr(0, prefix.size()) == prefix; }

// What each side saw. `attempted` grows before each write_all, `sent` after it returned.
struct echo_state {
  std::string attempted;
  std::string sent;
  std::string server_received;
  std::string client_received;
};

corio::task<> echo_one_connection(net::listener& listener, echo_state& s) {
  net::stream_socket peer = co_await listener.accept();
  std::array<char, 256> buffer{};
  for (;;) {
    const std::optional<std::size_t> n = co_await peer.read_some(buffer);
    if (!n) co_return;  // the client closed
    const std::string_view got(buffer.data(), *n);
    s.server_received += got;
    co_await peer.write_all(got);
  }
}

corio::task<> echo_client(const net::address& to, echo_state& s) {
  net::stream_socket client = co_await net::stream_socket::connect(to);
  std::array<char, 256> buffer{};
  for (int i = 0; i < messages; ++i) {
    const std::string text = message(i);
    s.attempted += text;
    co_await client.write_all(text);
    s.sent += text;
    for (std::size_t got = 0; got < text.size();) {
      const std::optional<std::size_t> n = co_await client.read_some(buffer);
      if (!n) throw std::runtime_error("the echo server closed early");
      s.client_received.append(buffer.data(), *n);
      got += *n;
    }
  }
}

corio::task<> echo_scenario(echo_state& s) {
  net::listener listener = net::listener::bind(net::address::loopback(0));
  const net::address to = listener.local_address();
  const auto body = [&](corio::task_group& group) -> corio::task<> {
    group.spawn(echo_one_connection(listener, s));
    co_await echo_client(to, s);  // closing the client ends the server's loop
  };
  co_await corio::task_group::run(body);
}

}  // namespace

TEST(cancel_every_await, an_echo_over_tcp_never_invents_or_loses_bytes) {
  const auto report = cancel_at_every_await<echo_state>(echo_scenario, [](echo_state& s, const cancel_run& run) {
    // Bytes flow client -> server -> client: each stage saw a prefix of what the one before
    // it produced, whatever point the cancellation struck.
    EXPECT_TRUE(is_prefix(s.sent, s.attempted));
    EXPECT_TRUE(is_prefix(s.server_received, s.attempted)) << s.server_received;
    EXPECT_TRUE(is_prefix(s.client_received, s.server_received)) << s.client_received;
    if (!run.cancelled()) {
      std::string all;
      for (int i = 0; i < messages; ++i) all += message(i);
      EXPECT_EQ(s.client_received, all);
    }
  });
  EXPECT_GT(report.suspension_points, 2u * messages);
  EXPECT_GT(report.surfaced, report.suspension_points / 2);
  EXPECT_EQ(report.surfaced + report.finished_first + report.not_reached, report.suspension_points);
}

namespace {

constexpr int lines = 4;

std::string line(int i) { return "line number " + std::to_string(i) + "\n"; }

struct readline_state {
  std::vector<std::string> received;
};

// Writes each line in two halves with a turn between them, so the reader parks mid-line.
corio::task<> write_lines_in_halves(net::stream_socket socket) {
  for (int i = 0; i < lines; ++i) {
    const std::string text = line(i);
    co_await socket.write_all(std::string_view(text).substr(0, text.size() / 2));
    co_await corio::yield();
    co_await socket.write_all(std::string_view(text).substr(text.size() / 2));
    co_await corio::yield();
  }
  socket.close();  // now: the frame (and the socket in it) lives until gather returns
}

corio::task<> read_lines(net::stream_socket socket, readline_state& s) {
  net::connection conn(std::move(socket));
  while (std::optional<std::string> got = co_await conn.reader().readline()) s.received.push_back(std::move(*got));
}

corio::task<> readline_scenario(readline_state& s) {
  auto [writer, reader] = net::stream_socket::pair();
  co_await corio::gather(write_lines_in_halves(std::move(writer)), read_lines(std::move(reader), s));
}

}  // namespace

TEST(cancel_every_await, readline_returns_only_whole_lines_in_order_wherever_it_is_cancelled) {
  const auto report = cancel_at_every_await<readline_state>(readline_scenario, [](readline_state& s, const cancel_run& run) {
    const std::size_t n = s.received.size();
    EXPECT_LE(n, static_cast<std::size_t>(lines));
    for (std::size_t i = 0; i < n && i < static_cast<std::size_t>(lines); ++i) {
      EXPECT_EQ(s.received[i], line(static_cast<int>(i)));
    }
    if (!run.cancelled()) {
      EXPECT_EQ(n, static_cast<std::size_t>(lines));
    }
  });
  EXPECT_GT(report.suspension_points, 2u * lines);
  EXPECT_GT(report.surfaced, report.suspension_points / 2);
  EXPECT_EQ(report.surfaced + report.finished_first + report.not_reached, report.suspension_points);
}

