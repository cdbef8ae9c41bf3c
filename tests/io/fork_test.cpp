// tests/io/fork_test.cpp — fork() with a live loop (reliability.md T-42). The child of a fork()
// gets a copy of every loop, sharing the parent's epoll instance (epoll(7): the interest list
// belongs to the instance, and the child's descriptors are the same file descriptions under the
// same numbers). So a loop is bound to the process that made it (event_loop.hpp): in the child,
// run_once() throws std::logic_error, and closing an inherited socket does not remove the
// parent's registration from the shared instance. A fresh loop in the child works as usual.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/child_process.hpp"

using namespace std::chrono_literals;
namespace net = corio::net;

namespace {

struct socket_pair {
  std::optional<net::stream_socket> watched;  // a reader parks on this one
  std::optional<net::stream_socket> peer;
};

corio::task<> make_pair_into(socket_pair& p) {
  auto [a, b] = net::stream_socket::pair();
  p.watched.emplace(std::move(a));
  p.peer.emplace(std::move(b));
  co_return;
}

corio::task<std::string> read_some_text(net::stream_socket& s) {
  std::array<char, 64> buf{};
  const auto n = co_await s.read_some(buf);
  co_return n ? std::string(buf.data(), *n) : std::string("<eof>");
}

// Writes to the peer and gives the parked reader 2 s to wake: it cannot if its registration
// was lost.
corio::task<std::string> wake_reader(net::stream_socket& peer, corio::join_handle<std::string>& reader) {
  co_await peer.write_all("still here");
  auto join = [](corio::join_handle<std::string>& r) -> corio::task<std::string> { co_return co_await r; };
  co_return co_await corio::timeout(2s, join(reader));
}

}  // namespace

TEST(fork, the_child_cannot_run_an_inherited_loop_and_closing_its_copies_leaves_the_parents_registrations) {
  corio::event_loop loop;  // the steady clock: the last step waits for real I/O
  socket_pair p;
  corio::run_until_done(loop, corio::detail::spawn_on(loop, make_pair_into(p), "make a pair", {}));
  auto reader = corio::detail::spawn_on(loop, read_some_text(*p.watched), "reader", {});
  loop.stop();  // one turn without blocking: the reader runs and parks
  loop.run_once();
  ASSERT_FALSE(reader.done());
  ASSERT_EQ(loop.registrations(), 2u);

  testing_support::child_process child([&] {
    try {
      loop.run_once();
      ADD_FAILURE() << "run_once() ran an inherited loop in the child";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find("fork"), std::string::npos) << e.what();
    }
    // What a child that cleans up does: closes its copies of the sockets. Their descriptors
    // name the same file descriptions as the parent's: removing them from the shared epoll
    // instance would silence the parent's reader.
    p.watched.reset();
    p.peer.reset();
  });
  child.expect_clean_exit(5s);

  auto waker = corio::detail::spawn_on(loop, wake_reader(*p.peer, reader), "waker", {});
  corio::run_until_done(loop, waker);
  EXPECT_EQ(waker.result(), "still here");
  p.watched.reset();
  p.peer.reset();
  corio::testing::expect_loop_is_empty(loop);
}

TEST(fork, a_child_makes_a_fresh_loop_of_its_own_and_it_serves_io) {
  corio::event_loop parent_loop;  // exists, unused in the child
  testing_support::child_process child([] {
    const std::string echoed = corio::run([]() -> corio::task<std::string> {
      auto [a, b] = net::stream_socket::pair();
      co_await a.write_all("ping");
      co_return co_await read_some_text(b);
    }());
    EXPECT_EQ(echoed, "ping");
  });
  child.expect_clean_exit(5s);
  EXPECT_EQ(parent_loop.registrations(), 0u);
}
