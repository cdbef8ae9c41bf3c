// tests/runtime/loop_teardown_test.cpp — destroying a loop that is still busy (reliability.md
// T-24). ~event_loop destroys every live task without resuming it (event_loop.hpp). Here one loop
// holds a task in every state a task can be in — spawned but never started, woken and queued but
// not resumed, sleeping, parked on a socket, on an event, joining another task, deep inside a
// child — and is destroyed: each frame must be destroyed exactly once (lifetime counters), no
// code after any await may run, every descriptor must be closed, and a frame whose destructor
// tries to reach the dying loop must be refused cleanly (its callback destroyed, never run).
//
// corio has no separate loop.close() that could fail with "busy" (libuv's UV_EBUSY): destroying
// the loop is the only way to end it, and it always succeeds; see docs/reliability.md.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/counted.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using testing_support::counted;
using testing_support::lifetime_counter;

namespace {

// What the test learns about the tasks; outlives the loop.
struct witness {
  lifetime_counter frames;
  int resumed_after_a_wait = 0;  // must stay 0: no task body runs during or after ~event_loop
  int started = 0;
};

corio::task<> sleep_forever(counted, witness& w) {
  ++w.started;
  co_await corio::sleep(24h);
  ++w.resumed_after_a_wait;
}

corio::task<> read_a_socket_pair(counted, witness& w) {
  ++w.started;
  auto [ours, theirs] = corio::net::stream_socket::pair();
  std::array<char, 16> buf{};
  (void)co_await ours.read_some(buf);
  ++w.resumed_after_a_wait;
}

corio::task<> wait_for(counted, corio::event& e, witness& w) {
  ++w.started;
  co_await e.wait();
  ++w.resumed_after_a_wait;
}

corio::task<> join(counted, corio::join_handle<void> other, witness& w) {
  ++w.started;
  co_await other;
  ++w.resumed_after_a_wait;
}

corio::task<> parent_of_a_sleeper(counted, witness& w) {
  ++w.started;
  co_await sleep_forever(counted(w.frames), w);
  ++w.resumed_after_a_wait;
}

// Destroyed with its frame: tries to post to the loop that is destroying it.
class posts_when_destroyed {
 public:
  posts_when_destroyed(corio::loop_handle h, witness& w, std::optional<bool>& accepted)
      : handle_(std::move(h)), witness_(&w), accepted_(&accepted) {}
  posts_when_destroyed(posts_when_destroyed&& o) noexcept
      : handle_(std::move(o.handle_)), witness_(std::exchange(o.witness_, nullptr)), accepted_(o.accepted_) {}
  posts_when_destroyed(const posts_when_destroyed&) = delete;
  posts_when_destroyed& operator=(const posts_when_destroyed&) = delete;
  posts_when_destroyed& operator=(posts_when_destroyed&&) = delete;
  ~posts_when_destroyed() {
    if (witness_ == nullptr) return;  // moved from
    witness& w = *witness_;
    *accepted_ = handle_.call_soon_threadsafe([&w, token = counted(w.frames)] { ++w.resumed_after_a_wait; });
  }

 private:
  corio::loop_handle handle_;
  witness* witness_;
  std::optional<bool>* accepted_;
};

corio::task<> sleep_then_post_from_destructor([[maybe_unused]] posts_when_destroyed guard, counted c, witness& w) {
  co_await sleep_forever(std::move(c), w);
  ++w.resumed_after_a_wait;
}

}  // namespace

TEST(loop_teardown, a_busy_loop_destroys_every_task_once_resumes_none_and_closes_every_descriptor) {
  witness w;
  std::optional<bool> post_from_destructor_accepted;
  corio::event never_set;  // outlives the loop: its waiter unlinks itself when destroyed
  corio::event set_but_not_yet_seen;
  const std::size_t descriptors_before = testing_support::open_descriptors();
  {
    corio::event_loop loop({.clock = corio::clock::manual()});
    const corio::source_location here = corio::source_location::current();
    auto start = [&](corio::task<> t, const char* name) { corio::detail::spawn_on(loop, std::move(t), name, here).detach(); };
    start(sleep_forever(counted(w.frames), w), "sleeping");
    start(read_a_socket_pair(counted(w.frames), w), "parked on a socket");
    start(wait_for(counted(w.frames), never_set, w), "parked on an event");
    start(wait_for(counted(w.frames), set_but_not_yet_seen, w), "woken, not yet resumed");
    start(parent_of_a_sleeper(counted(w.frames), w), "inside a child");
    auto joined = corio::detail::spawn_on(loop, sleep_forever(counted(w.frames), w), "joined", here);
    start(join(counted(w.frames), std::move(joined), w), "joining");
    start(sleep_then_post_from_destructor(posts_when_destroyed(loop.remote(), w, post_from_destructor_accepted),
                                          counted(w.frames), w),
          "posts from its destructor");
    for (int i = 0; i < 3; ++i) {  // every task starts and parks
      loop.stop();                   // (a turn that does not wait: no clock jump, no blocking)
      loop.run_once();
    }
    ASSERT_EQ(w.started, 9);
    set_but_not_yet_seen.set();  // queues its waiter; the loop never turns again
    start(sleep_forever(counted(w.frames), w), "never started");
    EXPECT_EQ(loop.live_tasks(), 9u);
    EXPECT_EQ(loop.armed_timers(), 4u);  // sleeping, inside a child, joined, posts
    EXPECT_EQ(loop.registrations(), 2u);  // the socket pair
    // 11 frames (two of them children), plus the argument of each child's call, which lives as
    // long as the co_await expression that awaits the child.
    EXPECT_GE(w.frames.alive, 11);
  }
  EXPECT_EQ(w.frames.alive, 0) << "a frame (or the callback posted from a destructor) was never destroyed";
  EXPECT_EQ(w.resumed_after_a_wait, 0) << "a task body ran after its await while the loop was destroyed";
  EXPECT_EQ(w.started, 9) << "the task that never started must not start during teardown";
  ASSERT_TRUE(post_from_destructor_accepted.has_value());
  EXPECT_FALSE(*post_from_destructor_accepted) << "a post during ~event_loop must be refused";
  EXPECT_EQ(testing_support::open_descriptors(), descriptors_before);
}

TEST(loop_teardown, a_loop_destroyed_before_it_ever_turned_destroys_its_unstarted_tasks) {
  witness w;
  {
    corio::event_loop loop;
    for (int i = 0; i < 100; ++i)
      corio::detail::spawn_on(loop, sleep_forever(counted(w.frames), w), "unstarted", {}).detach();
    EXPECT_EQ(loop.live_tasks(), 100u);
  }
  EXPECT_EQ(w.frames.alive, 0);
  EXPECT_EQ(w.started, 0);
}
