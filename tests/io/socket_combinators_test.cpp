// tests/io/socket_combinators_test.cpp — read_some and write_all are operations, not tasks
// (io/socket_operations.hpp); every combinator takes them as they are, mixed with tasks, and runs
// each as its task: gather, gather_settled, when_any and task_group::spawn (as corio::timeout and
// corio::spawn do, tested with the sockets elsewhere).
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using namespace testing_support;
namespace net = corio::net;

namespace {

// What `s` still has to give after `got`, until `size` bytes in all: a read_some may return
// fewer bytes than were sent (fault injection makes such short reads on purpose).
corio::task<std::string> read_rest(net::stream_socket& s, std::string got, std::size_t size) {
  std::array<char, 256> buf;
  while (got.size() < size) {
    const std::optional<std::size_t> n = co_await s.read_some(buf);
    if (!n) break;
    got.append(buf.data(), *n);
  }
  co_return got;
}

corio::task<int> answer_later() {
  co_await corio::sleep(1ms);
  co_return 42;
}

}  // namespace

CORIO_TEST(socket_combinators, gather_takes_operations_and_tasks_mixed) {
  auto [client, server] = co_await connect_tcp_pair();
  std::array<char, 64> buf;
  const auto [n, nothing, answer] =
      co_await corio::gather(server.read_some(buf), client.write_all("through gather"), answer_later());
  CORIO_ASSERT(n.has_value());
  EXPECT_EQ(co_await read_rest(server, std::string(buf.data(), *n), 14), "through gather");
  EXPECT_TRUE((std::is_same_v<std::remove_cvref_t<decltype(nothing)>, std::monostate>));
  EXPECT_EQ(answer, 42);
}

CORIO_TEST(socket_combinators, gather_settled_reports_an_operation_that_failed_beside_one_that_did_not) {
  auto [client, server] = co_await connect_tcp_pair();
  auto [other_client, other_server] = co_await connect_tcp_pair();
  reset_connection(other_client);  // other_server's read meets ECONNRESET
  co_await client.write_all("fine");
  std::array<char, 64> a;
  std::array<char, 64> b;
  const auto [good, bad] = co_await corio::gather_settled(server.read_some(a), other_server.read_some(b));
  CORIO_ASSERT(good.has_value() && good.value().has_value());
  EXPECT_EQ(co_await read_rest(server, std::string(a.data(), *good.value()), 4), "fine");
  EXPECT_FALSE(bad.has_value());
}

// The loser is cancelled while parked, and a parked read is cancel-safe: what arrives for it
// afterwards is all there for the next read.
CORIO_TEST(socket_combinators, when_any_of_two_reads_lets_the_loser_consume_nothing) {
  auto [quiet_client, quiet_server] = co_await connect_tcp_pair();
  auto [busy_client, busy_server] = co_await connect_tcp_pair();
  co_await busy_client.write_all("first");
  std::array<char, 64> quiet_buf;
  std::array<char, 64> busy_buf;
  const auto r = co_await corio::when_any(quiet_server.read_some(quiet_buf), busy_server.read_some(busy_buf));
  EXPECT_EQ(r.index, 1u);
  const std::optional<std::size_t> n = std::get<1>(r.value);
  CORIO_ASSERT(n.has_value());
  EXPECT_EQ(co_await read_rest(busy_server, std::string(busy_buf.data(), *n), 5), "first");
  co_await quiet_client.write_all("later");
  EXPECT_EQ(co_await read_rest(quiet_server, "", 5), "later");
}

// (A named pair, not structured bindings: clang 14 cannot capture those in a lambda.)
CORIO_TEST(socket_combinators, a_task_group_spawns_operations_as_children) {
  tcp_pair pair = co_await connect_tcp_pair();
  std::array<char, 64> buf;
  std::optional<std::size_t> got;
  co_await corio::task_group::run([&](corio::task_group& group) -> corio::task<> {
    group.spawn(pair.client.write_all("from a child"));
    got = co_await pair.server.read_some(buf);
  });
  CORIO_ASSERT(got.has_value());
  EXPECT_EQ(co_await read_rest(pair.server, std::string(buf.data(), *got), 12), "from a child");
}
