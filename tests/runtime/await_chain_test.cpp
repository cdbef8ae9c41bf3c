// tests/runtime/await_chain_test.cpp — await chains and corio::dump_tasks (await_chain.hpp).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <sstream>
#include <string>

#include <corio.hpp>

#include "runtime/fd_watch.hpp"
#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

// Lines of the await sites below, for the expected dumps.
constexpr unsigned sleeper_line = __LINE__ + 2;
corio::task<> sleeper(corio::duration d) {
  co_await corio::sleep(d);
}

constexpr unsigned gather_line = __LINE__ + 2;
corio::task<> three_sleepers() {
  co_await corio::gather(sleeper(1s), sleeper(2s), sleeper(3s));
}

constexpr unsigned readable_line = __LINE__ + 4;
corio::task<> wait_readable(int fd) {
  corio::detail::fd_watch watch(current_loop(), fd);
  for (;;) {
    co_await watch.ready(corio::detail::io_direction::read);
  }
}

std::string site(unsigned line) { return "await_chain_test.cpp:" + std::to_string(line); }

// The line numbers inside corio's own headers change whenever they are edited: a test of the
// format replaces them (and only them) by "N".
std::string without_header_lines(const std::string& dump) {
  return std::regex_replace(dump, std::regex(R"((\w+\.hpp):\d+)"), "$1:N");
}

// A connected pair of non-blocking Unix stream sockets, closed at the end of the scope.
struct socket_pair {
  int fd[2] = {-1, -1};
  socket_pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0); }
  ~socket_pair() {
    for (int f : fd) ::close(f);
  }
};

}  // namespace

constexpr unsigned body_spawn_line = __LINE__ + 1;
CORIO_TEST(await_chain, the_dump_of_a_gather_of_sleeps_and_a_task_on_a_socket_is_an_exact_tree) {
  socket_pair sockets;
  constexpr unsigned reader_spawn = __LINE__ + 1;
  auto reader = corio::spawn(wait_readable(sockets.fd[0]), "reader");
  constexpr unsigned sleepers_spawn = __LINE__ + 1;
  auto sleepers = corio::spawn(three_sleepers(), "sleepers");
  constexpr unsigned body_sleep = __LINE__ + 1;
  co_await corio::sleep(500ms);

  std::ostringstream out;
  corio::dump_tasks(out);
  const std::string fd = std::to_string(sockets.fd[0]);
  const std::string expected =
      "task #1 'test body' (spawned at " + site(body_spawn_line) + ")\n"
      "  in corio_test_body_await_chain_the_dump_of_a_gather_of_sleeps_and_a_task_on_a_socket_is_an_exact_tree: "
      "running, last co_await at " + site(body_sleep) + "\n"
      "  ├─ task #2 'reader' (spawned at " + site(reader_spawn) + ")\n"
      "  │    in wait_readable at " + site(readable_line) + ": waiting for fd " + fd + " readable\n"
      "  └─ task #3 'sleepers' (spawned at " + site(sleepers_spawn) + ")\n"
      "       in three_sleepers at " + site(gather_line) + "\n"
      "       in gather at gather.hpp:N: waiting for gather of 3 tasks, 3 running\n"
      "       ├─ task #4 (spawned at " + site(gather_line) + ")\n"
      "       │    in sleeper at " + site(sleeper_line) + ": waiting for sleep, due in 0.500 s\n"
      "       ├─ task #5 (spawned at " + site(gather_line) + ")\n"
      "       │    in sleeper at " + site(sleeper_line) + ": waiting for sleep, due in 1.500 s\n"
      "       └─ task #6 (spawned at " + site(gather_line) + ")\n"
      "            in sleeper at " + site(sleeper_line) + ": waiting for sleep, due in 2.500 s\n";
  EXPECT_EQ(without_header_lines(out.str()), expected);

  reader.cancel();
  sleepers.cancel();
  EXPECT_THROW(co_await reader, corio::cancelled);
  EXPECT_THROW(co_await sleepers, corio::cancelled);
}

CORIO_TEST(await_chain, a_task_that_has_not_run_yet_says_not_started_yet) {
  auto idle = corio::spawn(sleeper(1ms), "idle");
  std::ostringstream before;
  corio::dump_tasks(before);
  EXPECT_NE(before.str().find("task #2 'idle' (spawned at await_chain_test.cpp:"), std::string::npos) << before.str();
  EXPECT_NE(before.str().find("\n       not started yet\n"), std::string::npos) << before.str();
  co_await idle;
}

CORIO_TEST(await_chain, every_primitive_says_what_it_waits_for) {
  corio::event ev;
  corio::mutex m;
  corio::semaphore slots(0);
  corio::queue<int> empty_queue;
  corio::queue<int> full_queue(1);
  full_queue.try_put(1);
  auto lock = m.try_lock();
  auto on_event = [&]() -> corio::task<> { co_await ev.wait(); };
  auto on_mutex = [&]() -> corio::task<> { auto g = co_await m.lock(); };
  auto on_semaphore = [&]() -> corio::task<> { co_await slots.acquire(); };
  auto on_get = [&]() -> corio::task<> { (void)co_await empty_queue.get(); };
  auto on_put = [&]() -> corio::task<> { co_await full_queue.put(2); };
  auto a = corio::spawn(on_event(), "a");
  auto b = corio::spawn(on_mutex(), "b");
  auto c = corio::spawn(on_semaphore(), "c");
  auto d = corio::spawn(on_get(), "d");
  auto e = corio::spawn(on_put(), "e");
  auto joiner = [&]() -> corio::task<> { co_await a; };
  auto f = corio::spawn(joiner(), "f");
  // One yield is not enough: which of the tasks spawned this turn runs first is not promised.
  auto all_parked = [&] { return parked(a) && parked(b) && parked(c) && parked(d) && parked(e) && parked(f); };
  co_await within_100_turns(all_parked);
  CORIO_ASSERT(all_parked());

  std::ostringstream out;
  corio::dump_tasks(out);
  for (const char* wait : {"waiting for event\n", "waiting for mutex lock\n", "waiting for semaphore permit\n",
                           "waiting for queue get (the queue is empty)\n",
                           "waiting for queue put (the queue is full: 1 items)\n", "waiting for join of task #2 'a'\n"})
    EXPECT_NE(out.str().find(wait), std::string::npos) << wait << " not in:\n" << out.str();

  ev.set();
  lock.unlock();
  slots.release();
  empty_queue.try_put(7);
  (void)full_queue.try_get();
  co_await f;  // f took a's result: a's handle has nothing left to give
  co_await b;
  co_await c;
  co_await d;
  co_await e;
}
