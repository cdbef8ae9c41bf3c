// tests/io/reactor_reuse_test.cpp — descriptor numbers that come back (reliability.md T-08, T-09,
// T-21): a number closed and reused while events for it are in flight, a connect cancelled
// half-way, and a file description that outlives our descriptor because another process holds
// it. In every case an event meant for the old owner must never reach the new one. Sockets are
// closed the way io/ closes them (socket_handle::close), which frees their watch: in the ASan
// build a stale event becomes a heap-use-after-free report.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <corio.hpp>

#include "io/reactor_support.hpp"
#include "io/socket.hpp"
#include "runtime/poller.hpp"
#include "support/child_process.hpp"

using namespace std::chrono_literals;
using corio::detail::io_direction;
using reactor_support::fd_pair;
using reactor_support::socket_handle;

namespace {

// A new AF_UNIX pair whose near end has the descriptor number `number` (free right now). The
// near end is handed to a socket_handle, which closes it; the far end is closed here.
// POSIX hands out the lowest free numbers, so it usually lands there by itself; dup3 otherwise.
struct pair_at {
  int near = -1;
  int far = -1;
  explicit pair_at(int number) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    if (fds[1] == number) std::swap(fds[0], fds[1]);  // the two ends are alike
    if (fds[0] != number) {
      EXPECT_EQ(::dup3(fds[0], number, O_CLOEXEC), number);
      ::close(fds[0]);
      fds[0] = number;
    }
    near = fds[0];
    far = fds[1];
  }
  pair_at(const pair_at&) = delete;
  pair_at& operator=(const pair_at&) = delete;
  ~pair_at() { ::close(far); }
  void send_from_far() const { EXPECT_EQ(::send(far, "y", 1, MSG_NOSIGNAL), 1); }
};

// The new owner of descriptor `number`: parks a read on it, runs `stale` (which makes the old
// owner's side ready in some way), and must sleep through that until data arrives for itself.
corio::task<> new_owner_sleeps_through(int number, corio::task<> stale, const char* stale_what) {
  pair_at next(number);
  bool woken = false;
  socket_handle reborn(next.near);
  auto reader = [&]() -> corio::task<> {
    co_await reborn.ready(io_direction::read);
    woken = true;
  };
  auto parked = corio::spawn(reader(), "new owner");
  co_await corio::sleep(10ms);
  co_await std::move(stale);
  co_await corio::sleep(50ms);
  EXPECT_FALSE(woken) << stale_what << " reached the new owner of descriptor " << number;
  next.send_from_far();
  co_await std::move(parked);
  EXPECT_TRUE(woken);
}

// A child process that keeps every descriptor it inherited open until release(), and touches
// nothing else (not the loop it inherited either).
class descriptor_holder {
 public:
  descriptor_holder()
      : child_([this] {
          char go = 0;
          release_.close_write_end();
          (void)release_.receive(go);
        }) {
    release_.close_read_end();
  }
  void release() {
    EXPECT_TRUE(release_.send('x'));
    child_.expect_clean_exit(5s);
  }

 private:
  testing_support::pipe_channel release_;  // made before the fork (declared before child_)
  testing_support::child_process child_;
};

// --- T-08 ------------------------------------------------------------------------------------

struct reuse_race {
  fd_pair pairs[2];
  socket_handle socks[2];
  int first = -1;  // which racer the loop resumed first
  std::string second_outcome = "still parked";
  int reused_number = -1;
  std::unique_ptr<pair_at> replacement;
  bool new_owner_woken = false;
};

// Parks on its socket. The first racer resumed closes the other's socket (whose readiness is
// already in this batch), opens a new one on the same number and parks a read on it.
corio::task<> racer(reuse_race& r, int me) {
  try {
    co_await r.socks[me].ready(io_direction::read);
  } catch (const std::system_error& e) {
    // Woken by its own readiness in the same batch, then closed by the first racer before it
    // ran: the socket layer reports that as ECANCELED "... closed after it became ready".
    const bool woken_first = std::string_view(e.what()).find("after it became ready") != std::string_view::npos;
    r.second_outcome = woken_first ? "woken by its own readiness" : "aborted by close (" + std::string(e.what()) + ")";
    co_return;
  }
  if (r.first >= 0) {
    r.second_outcome = "woken by its own readiness";
    co_return;
  }
  r.first = me;
  const int other = 1 - me;
  r.reused_number = r.socks[other].fd();
  r.socks[other].close();  // deregister, close, free the watch
  r.replacement = std::make_unique<pair_at>(r.reused_number);
  socket_handle reborn(r.replacement->near);
  co_await reborn.ready(io_direction::read);
  r.new_owner_woken = true;
  char c = 0;
  EXPECT_EQ(::recv(reborn.fd(), &c, 1, 0), 1) << "woken with nothing to read: a stale event?";
}

CORIO_REAL_TIME_TEST(reactor_fd_reuse, a_number_closed_and_reused_within_one_poller_batch_never_gets_the_old_event) {
  reuse_race r;
  for (int i = 0; i < 2; ++i) r.socks[i] = socket_handle(r.pairs[i].release_near());
  auto a = corio::spawn(racer(r, 0), "racer 0");
  auto b = corio::spawn(racer(r, 1), "racer 1");
  co_await corio::sleep(10ms);  // both parked
  r.pairs[0].send_from_far();   // both readable before the loop polls again: one batch
  r.pairs[1].send_from_far();
  co_await corio::sleep(50ms);

  CORIO_ASSERT(r.first >= 0);
  EXPECT_EQ(r.second_outcome, "woken by its own readiness") << "the two events were not in one batch";
  EXPECT_EQ(r.replacement->near, r.reused_number);
  EXPECT_FALSE(r.new_owner_woken) << "the closed socket's readiness reached the new owner of its number";

  r.replacement->send_from_far();  // real data for the new owner
  co_await std::move(a);
  co_await std::move(b);
  EXPECT_TRUE(r.new_owner_woken);
}

// --- T-21 ------------------------------------------------------------------------------------

CORIO_REAL_TIME_TEST(reactor_fd_reuse, a_connect_cancelled_half_way_leaves_nothing_for_the_next_owner_of_its_number) {
  corio::event_loop& loop = *corio::event_loop::current();
  // Backlog 0 holds one connection; with it taken, SYNs are dropped and a connect stays pending.
  auto server = corio::net::listener::bind(corio::net::address::loopback(0), {.backlog = 0});
  const corio::net::address at = server.local_address();
  auto filler = co_await corio::net::stream_socket::connect(at);
  const std::size_t registered_before = loop.registrations();
  const int expected_number = reactor_support::lowest_free_fd();

  auto connecting = corio::spawn(corio::net::stream_socket::connect(at), "connect to a full backlog");
  co_await corio::sleep(30ms);
  CORIO_ASSERT(!connecting.done());
  EXPECT_EQ(loop.registrations(), registered_before + 1);
  connecting.cancel();
  bool cancelled = false;
  try {
    (void)co_await std::move(connecting);
  } catch (const corio::cancelled&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(loop.registrations(), registered_before) << "the cancelled connect left its socket registered";
  EXPECT_EQ(reactor_support::lowest_free_fd(), expected_number) << "the cancelled connect's descriptor is still open";

  // Accepting frees the backlog: a connect still alive in the kernel would complete now.
  auto free_the_backlog = [&server]() -> corio::task<> { (void)co_await server.accept(); };
  co_await new_owner_sleeps_through(expected_number, free_the_backlog(), "an event of the cancelled connect");
}

// --- T-09 ------------------------------------------------------------------------------------

// The poller itself: remove() before close() leaves nothing behind even while another process
// keeps the file description open (epoll watches descriptions, not numbers: without
// EPOLL_CTL_DEL it would go on reporting it — libuv's "repeated junk epoll events").
TEST(reactor_shared_description, the_poller_reports_nothing_for_a_removed_fd_whose_description_lives_on_in_a_child) {
  auto poller = corio::detail::make_poller(corio::poller_backend::automatic);
  fd_pair pair;
  int token = 0;
  poller->add(pair.near(), &token);
  poller->set_interest(pair.near(), true, true);
  descriptor_holder holder;
  poller->remove(pair.near());
  pair.close_near();
  pair.send_from_far();  // the shared description becomes readable

  std::array<corio::detail::poll_event, 8> events{};
  const std::size_t n = poller->wait(events, std::chrono::milliseconds(50));
  EXPECT_EQ(n, 0u) << "an event for a removed descriptor (token " << events[0].token << ", ours is " << &token << ")";
  EXPECT_EQ(poller->registrations(), 0u);
  holder.release();
}

CORIO_REAL_TIME_TEST(reactor_shared_description, closing_our_copy_of_a_description_a_child_still_holds_leaves_the_loop_quiet) {
  corio::event_loop& loop = *corio::event_loop::current();
  fd_pair old_pair;
  const int number = old_pair.near();
  socket_handle old_sock(old_pair.release_near());
  auto old_reader = [&]() -> corio::task<> { co_await old_sock.ready(io_direction::read); };
  auto parked = corio::spawn(old_reader(), "old reader");
  co_await corio::sleep(10ms);

  descriptor_holder holder;
  old_sock.close();  // aborts the old reader; a stale token would now point at freed memory
  bool aborted = false;
  try {
    co_await std::move(parked);
  } catch (const std::system_error& e) {
    aborted = e.code().value() == ECANCELED;
  }
  EXPECT_TRUE(aborted);
  EXPECT_EQ(loop.registrations(), 0u);

  old_pair.send_from_far();  // the description the child holds becomes readable
  // 300 ms, as the other idle checks (reactor_faults_test): in 100 ms, one stretch of the
  // thread's time taken by a busy host (5.2 ms, CI under ASan) read as 5% CPU; a loop that spins
  // on the stale description would burn all of it either way.
  const reactor_support::idle_report idle = co_await reactor_support::measure_idle(300ms);
  EXPECT_LE(idle.resumptions, 1u);
  EXPECT_LT(idle.cpu_fraction, 0.05);

  auto poke_old = [&old_pair]() -> corio::task<> {
    old_pair.send_from_far();  // another edge on the old description
    co_return;
  };
  co_await new_owner_sleeps_through(number, poke_old(), "the description the child holds");
  holder.release();
}

}  // namespace
