// tests/io/socket_cancel_test.cpp — cancelling, closing and destroying around parked socket
// operations (reliability.md T-16, T-18, T-19, T-22, T-23).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/counted.hpp"
#include "support/sockets.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;
namespace net = corio::net;

namespace {

// Yields until `h`, parked before, was woken and waits in the ready queue (at most 100 turns).
template <class T>
corio::task<> until_woken(const corio::join_handle<T>& h) {
  for (int i = 0; i < 100 && parked(h); ++i) co_await corio::yield();
}

corio::task<std::string> read_some_text(net::stream_socket& s) {
  std::array<char, 256> buf;
  const auto n = co_await s.read_some(buf);
  co_return n ? std::string(buf.data(), *n) : std::string("<eof>");
}

// While a test sets it, the program's next recv fails with this errno instead of reading (then
// it is 0 again): see recv below.
int recv_fails_with = 0;

// Parks a read on `client`, sends `data` from `server`, and cancels the read after the readiness
// woke it (its attempt at the wake-up has read, or failed with `attempt_fails_with`) but before
// its task ran, which must then end in corio::cancelled. Only FIFO order promises that
// interleaving. False (with a failure) when it did not happen, so that the test stops there.
corio::task<bool> cancel_a_read_after_its_wake_up(net::stream_socket& client, net::stream_socket& server,
                                                  std::string_view data, int attempt_fails_with = 0) {
  auto reading = corio::spawn(read_some_text(client));
  co_await until_parked(reading);
  if (!parked(reading)) {
    ADD_FAILURE() << "the read did not park";
    co_return false;
  }
  recv_fails_with = attempt_fails_with;  // the next recv of the program is the wake-up's attempt
  co_await server.write_all(data);
  co_await until_woken(reading);  // the readiness woke it; it waits in the ready queue
  const bool woken_not_run = !parked(reading) && !reading.done();
  EXPECT_TRUE(woken_not_run) << "the read was not woken, or already ran";
  EXPECT_EQ(std::exchange(recv_fails_with, 0), 0) << "the wake-up did not try to read";
  if (!woken_not_run) co_return false;
  reading.cancel();
  EXPECT_THROW(co_await reading, corio::cancelled);
  co_return true;
}

}  // namespace

// A test-only shim at the syscall boundary (reliability.md §7), as socket_accept_pause_test.cpp
// does for accept4: this file defines recv, so the linker binds the program's calls (io/sys.cpp's
// among them) here instead of to libc's. It fails once when a test asks, and otherwise passes the
// call on to the next definition (libc's, or a sanitizer's interceptor in front of it). An error
// other than a reset at a wake-up is hard to make for real on a TCP socket (an ICMP error with
// IP_RECVERR), which is why it is injected.
extern "C" ssize_t recv(int fd, void* data, std::size_t size, int flags) {
  if (recv_fails_with != 0) {
    errno = std::exchange(recv_fails_with, 0);
    return -1;
  }
  using recv_function = ssize_t (*)(int, void*, std::size_t, int);
  static const auto next = reinterpret_cast<recv_function>(::dlsym(RTLD_NEXT, "recv"));
  return next(fd, data, size, flags);
}

// --- T-19 -----------------------------------------------------------------------------------

CORIO_TEST(socket_cancel, a_read_cancelled_while_parked_consumes_nothing_and_the_next_read_gets_every_byte) {
  auto [client, server] = co_await connect_tcp_pair();
  auto reading = corio::spawn(read_some_text(client));
  co_await until_parked(reading);
  reading.cancel();
  EXPECT_THROW(co_await reading, corio::cancelled);
  co_await server.write_all("sent after the cancel");
  EXPECT_EQ(co_await read_some_text(client), "sent after the cancel");
}

// FIFO pinned: the body must look at the reader after its wake-up and before it resumes, an
// interleaving of one turn that only FIFO order guarantees. The read took its bytes at the
// wake-up (io/socket.hpp, read_some_op), so the cancellation puts them back, ahead of what
// arrives later, and the next reads hand them out in order, as much as each buffer holds.
CORIO_TEST_WITH(socket_cancel, a_read_cancelled_after_its_data_woke_it_leaves_the_data_for_the_next_read,
                corio::testing::fifo_order()) {
  auto [client, server] = co_await connect_tcp_pair();
  const bool cancelled_after_the_wake_up = co_await cancel_a_read_after_its_wake_up(client, server, "already here,");
  CORIO_ASSERT(cancelled_after_the_wake_up);
  co_await server.write_all("then more");
  std::array<char, 4> small;
  const std::optional<std::size_t> n = co_await client.read_some(small);
  CORIO_ASSERT(n.has_value());
  EXPECT_EQ(std::string(small.data(), *n), "alre");  // a piece of the kept bytes, nothing else
  std::string rest;
  while (rest.size() < std::string("ady here,then more").size()) rest += co_await read_some_text(client);
  EXPECT_EQ(rest, "ady here,then more");
}

// The same interleaving, but the attempt at the wake-up fails: recv reports an error other than
// a reset (EHOSTUNREACH here), which the kernel says once. Cancellation still wins, and the error
// is not lost: the next read throws it, and the read after that gets the bytes that were waiting.
CORIO_TEST_WITH(socket_cancel, a_read_cancelled_after_its_wake_up_met_an_error_leaves_it_for_the_next_read,
                corio::testing::fifo_order()) {
  auto [client, server] = co_await connect_tcp_pair();
  const bool cancelled_after_the_wake_up =
      co_await cancel_a_read_after_its_wake_up(client, server, "waiting", EHOSTUNREACH);
  CORIO_ASSERT(cancelled_after_the_wake_up);
  std::optional<int> error_of_the_next_read;
  try {
    (void)co_await read_some_text(client);
  } catch (const std::system_error& e) {
    error_of_the_next_read = e.code().value();
  }
  CORIO_ASSERT(error_of_the_next_read.has_value());  // else the cancelled read's error was lost
  EXPECT_EQ(*error_of_the_next_read, EHOSTUNREACH);
  EXPECT_EQ(co_await read_some_text(client), "waiting");
}

// --- T-22, T-16 -----------------------------------------------------------------------------

CORIO_TEST(socket_cancel, closing_a_socket_aborts_a_parked_read_with_ecanceled_after_close_returns) {
  auto [client, server] = co_await connect_tcp_pair();
  bool close_returned = false;
  auto reading = corio::spawn(report_abort(read_some_text(client), close_returned));
  co_await until_parked(reading);
  CORIO_ASSERT(parked(reading));
  client.close();
  close_returned = true;
  EXPECT_FALSE(reading.done());
  const abort_report r = co_await reading;
  EXPECT_EQ(r.error, ECANCELED);
  EXPECT_TRUE(r.after_close_returned);
}

CORIO_TEST(socket_cancel, closing_a_listener_aborts_a_parked_accept_with_ecanceled_after_close_returns) {
  auto server = net::listener::bind(net::address::loopback(0));
  bool close_returned = false;
  auto accepting = corio::spawn(report_abort(server.accept(), close_returned));
  co_await until_parked(accepting);
  CORIO_ASSERT(parked(accepting));
  const std::size_t before = open_descriptors();
  server.close();
  close_returned = true;
  const abort_report r = co_await accepting;
  EXPECT_EQ(r.error, ECANCELED);
  EXPECT_TRUE(r.after_close_returned);
  EXPECT_EQ(open_descriptors(), before - 1);  // the listener's own, nothing else
  EXPECT_EQ(current_loop().registrations(), 0u);
}

CORIO_TEST(socket_cancel, every_task_parked_on_a_closed_socket_is_aborted_both_readers_and_writers) {
  auto [client, server] = co_await connect_tcp_pair();
  bool close_returned = false;
  auto r1 = corio::spawn(report_abort(read_some_text(client), close_returned));
  auto r2 = corio::spawn(report_abort(read_some_text(client), close_returned));
  const std::string big(64u << 20, 'w');
  auto w = corio::spawn(report_abort(client.write_all(big), close_returned));
  co_await until_parked(r1);
  co_await until_parked(r2);
  co_await until_parked(w);
  CORIO_ASSERT(parked(r1) && parked(r2) && parked(w));
  client.close();
  close_returned = true;
  for (auto* h : {&r1, &r2, &w}) {
    const abort_report r = co_await *h;
    EXPECT_EQ(r.error, ECANCELED);
    EXPECT_TRUE(r.after_close_returned);
  }
}

// --- T-23 -----------------------------------------------------------------------------------

namespace {

corio::task<> hold_and_read(net::stream_socket& s, lifetime_counter& counter) {
  const counted alive(counter);
  std::array<char, 16> buf;
  (void)co_await s.read_some(buf);
  ADD_FAILURE() << "the read completed";
}

corio::task<> fail_soon() {
  co_await corio::yield();
  throw std::runtime_error("sibling failed");
}

}  // namespace

CORIO_TEST(socket_cancel, dropping_the_handle_of_a_parked_reader_unregisters_it_and_later_data_reaches_nobody) {
  auto [client, server] = co_await connect_tcp_pair();
  lifetime_counter counter;
  {
    auto reading = corio::spawn(hold_and_read(client, counter));
    co_await until_parked(reading);
    CORIO_ASSERT(parked(reading));
  }  // dropped: cancelled
  co_await within_100_turns([&] { return counter.alive == 0; });  // it unwinds on a later turn
  EXPECT_EQ(counter.alive, 0);
  co_await server.write_all("nobody waits");  // readiness for a waiter that is gone
  co_await corio::sleep(1ms);
  EXPECT_EQ(co_await read_some_text(client), "nobody waits");
}

CORIO_TEST(socket_cancel, a_parked_reader_cancelled_by_a_failing_gather_sibling_unregisters) {
  auto [client, server] = co_await connect_tcp_pair();
  lifetime_counter counter;
  EXPECT_THROW(co_await corio::gather(hold_and_read(client, counter), fail_soon()), std::runtime_error);
  EXPECT_EQ(counter.alive, 0);
  co_await server.write_all("still there");
  co_await corio::sleep(1ms);
  EXPECT_EQ(co_await read_some_text(client), "still there");
}

namespace {

corio::task<> ticking() {
  for (;;) co_await corio::sleep(1ms);
}

corio::task<> own_a_connection_and_read(lifetime_counter& counter) {
  auto [client, server] = co_await connect_tcp_pair();
  co_await hold_and_read(client, counter);
}

}  // namespace

TEST(socket_cancel, destroying_the_loop_destroys_tasks_parked_on_sockets_and_closes_their_descriptors) {
  lifetime_counter counter;
  const std::size_t before = open_descriptors();
  {
    corio::event_loop loop;
    const auto here = corio::source_location::current();
    auto a = corio::detail::spawn_on(loop, own_a_connection_and_read(counter), "a", here);
    auto b = corio::detail::spawn_on(loop, own_a_connection_and_read(counter), "b", here);
    // A ticking task, so that run_once returns even when nothing else happens.
    auto ticker = corio::detail::spawn_on(loop, ticking(), "ticker", here);
    for (int i = 0; i < 1000 && counter.alive < 2; ++i) loop.run_once();
    ASSERT_EQ(counter.alive, 2);
    EXPECT_EQ(loop.registrations(), 4u);
    for (auto* h : {&a, &b, &ticker}) h->detach();
  }  // ~event_loop destroys the parked frames: their sockets close and unregister
  EXPECT_EQ(counter.alive, 0);
  EXPECT_EQ(counter.constructed, 2);
  EXPECT_EQ(open_descriptors(), before);
}

// --- T-18 -----------------------------------------------------------------------------------

namespace {

enum class outcome { read_a_byte, cancelled };

// Waits for one byte; on waking, cancels the reads of its two neighbours, which may be parked
// still, woken in the same batch and queued, or finished.
corio::task<outcome> read_then_cancel_neighbours(net::stream_socket& s, std::vector<corio::join_handle<outcome>>& all,
                                                 std::size_t me) {
  std::array<char, 1> buf;
  try {
    const auto n = co_await s.read_some(buf);
    if (n != std::optional<std::size_t>(1)) ADD_FAILURE() << "reader " << me << " got no byte";
  } catch (const corio::cancelled&) {
    co_return outcome::cancelled;
  }
  all[(me + 1) % all.size()].cancel();
  all[(me + all.size() / 2) % all.size()].cancel();
  co_return outcome::read_a_byte;
}

}  // namespace

CORIO_TEST(socket_cancel, readers_woken_together_that_cancel_each_other_resume_once_and_lose_no_byte) {
  constexpr std::size_t n = 500;
  std::vector<std::pair<net::stream_socket, net::stream_socket>> pairs;
  for (std::size_t i = 0; i < n; ++i) pairs.push_back(net::stream_socket::pair());
  std::vector<corio::join_handle<outcome>> readers;
  readers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) readers.push_back(corio::spawn(read_then_cancel_neighbours(pairs[i].first, readers, i)));
  co_await corio::yield();
  co_await corio::yield();
  for (auto& h : readers) CORIO_ASSERT(parked(h));
  for (auto& p : pairs) co_await p.second.write_all("!");  // every reader becomes ready at once

  std::size_t read = 0;
  std::size_t cancelled = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const outcome o = co_await readers[i];
    if (o == outcome::read_a_byte) {
      ++read;
    } else {
      ++cancelled;
      std::array<char, 4> buf;  // the byte a cancelled reader did not take is still there
      EXPECT_EQ(co_await pairs[i].first.read_some(buf), std::optional<std::size_t>(1)) << "reader " << i;
    }
  }
  EXPECT_EQ(read + cancelled, n);
  EXPECT_GT(read, 0u);
  EXPECT_GT(cancelled, 0u);
}
