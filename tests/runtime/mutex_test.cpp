// tests/runtime/mutex_test.cpp — corio::mutex.
#include "runtime/mutex.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"

using namespace std::chrono_literals;

namespace {

using names = std::vector<std::string>;
using handles = std::vector<corio::join_handle<void>>;

/// Locks `m`, records `name`, holds the lock across one suspension, unlocks.
corio::task<> lock_and_record(corio::mutex& m, names& out, std::string name) {
  auto lock = co_await m.lock();
  out.push_back(std::move(name));
  co_await corio::yield();
}

/// Spawns a lock_and_record task for each name; all of them wait on `m` when this returns.
/// (Names are passed one by one: g++ 12 cannot keep a braced list alive across a co_await.)
template <class... Name>
corio::task<handles> queue_for_the_lock(corio::mutex& m, names& out, Name... who) {
  handles tasks;
  for (const char* name : {who...}) tasks.push_back(corio::spawn(lock_and_record(m, out, name)));
  co_await corio::sleep(1ms);
  co_return tasks;
}

/// Queues `who` behind a held lock, unlocks (handing the lock to the first of them), cancels
/// that first one before it resumes, and returns who got the lock in the end.
template <class... Name>
corio::task<names> hand_the_lock_to_a_first_waiter_then_cancel_it(Name... who) {
  corio::mutex m;
  names out;
  auto held = co_await m.lock();
  auto waiters = co_await queue_for_the_lock(m, out, who...);
  held.unlock();        // hands the lock to the first waiter, which has not resumed yet
  waiters[0].cancel();  // ... and now never will with the lock
  EXPECT_THROW(co_await waiters[0], corio::cancelled);
  for (std::size_t i = 1; i < waiters.size(); ++i) co_await waiters[i];
  EXPECT_FALSE(m.is_locked());
  co_return out;
}

}  // namespace

CORIO_TEST(mutex, lock_on_a_free_mutex_completes_without_suspending) {
  corio::mutex m;
  bool other_ran = false;
  auto other = corio::spawn([](bool& ran) -> corio::task<> {  // runs on the next turn
    ran = true;
    co_return;
  }(other_ran));
  auto lock = co_await m.lock();
  EXPECT_FALSE(other_ran) << "a free lock must not go round the loop";
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_TRUE(m.is_locked());
  co_await other;
}

CORIO_TEST(mutex, the_guard_unlocks_when_destroyed_or_unlocked_early_and_moves_ownership) {
  corio::mutex m;
  {
    auto lock = co_await m.lock();
    auto moved = std::move(lock);
    EXPECT_FALSE(lock.owns_lock());
    EXPECT_TRUE(moved.owns_lock());
    EXPECT_TRUE(m.is_locked());
  }
  EXPECT_FALSE(m.is_locked());
  auto lock = co_await m.lock();
  lock.unlock();
  EXPECT_FALSE(m.is_locked());
  EXPECT_FALSE(lock.owns_lock());
  lock.unlock();  // a second unlock is a no-op
  EXPECT_FALSE(m.is_locked());
}

CORIO_TEST(mutex, try_lock_fails_while_held_and_succeeds_when_free) {
  corio::mutex m;
  auto first = m.try_lock();
  EXPECT_TRUE(first.owns_lock());
  EXPECT_FALSE(m.try_lock().owns_lock());
  first.unlock();
  EXPECT_TRUE(m.try_lock().owns_lock());
  co_return;
}

// FIFO pinned: waiters are served in the order they began to wait (documented), and the test
// sees that order through the order the woken tasks run, which only a FIFO ready queue keeps.
CORIO_TEST_WITH(mutex, waiters_get_the_lock_in_the_order_they_began_to_wait, corio::testing::fifo_order()) {
  corio::mutex m;
  names out;
  auto held = co_await m.lock();
  auto waiters = co_await queue_for_the_lock(m, out, "a", "b", "c");
  EXPECT_TRUE(out.empty());
  held.unlock();
  for (auto& w : waiters) co_await w;
  EXPECT_EQ(out, (names{"a", "b", "c"}));
  EXPECT_FALSE(m.is_locked());
}

CORIO_TEST(mutex, unlock_hands_the_lock_to_the_first_waiter_so_nobody_can_barge) {
  corio::mutex m;
  names out;
  auto held = co_await m.lock();
  auto waiters = co_await queue_for_the_lock(m, out, "waiter");
  held.unlock();
  EXPECT_TRUE(out.empty()) << "the new owner must not run inside unlock()";
  EXPECT_TRUE(m.is_locked()) << "the lock must stay taken on its way to the waiter";
  EXPECT_FALSE(m.try_lock().owns_lock());
  auto late = co_await m.lock();  // queues behind the waiter
  out.push_back("late");
  co_await waiters[0];
  EXPECT_EQ(out, (names{"waiter", "late"}));
}

CORIO_TEST(mutex, a_task_cancelled_while_waiting_leaves_the_queue_at_once) {
  corio::mutex m;
  names out;
  auto held = co_await m.lock();
  auto waiters = co_await queue_for_the_lock(m, out, "cancelled");
  waiters[0].cancel();
  held.unlock();  // the cancelled task has not even resumed yet, but no longer waits
  EXPECT_FALSE(m.is_locked()) << "unlock must not hand the lock to a cancelled waiter";
  EXPECT_THROW(co_await waiters[0], corio::cancelled);
  EXPECT_TRUE(out.empty());
}

CORIO_TEST(mutex, an_already_cancelled_task_throws_at_once_instead_of_waiting_for_the_lock) {
  corio::mutex m;
  auto held = co_await m.lock();
  auto stubborn = corio::spawn([](corio::mutex& mx) -> corio::task<> {
    try {
      co_await corio::sleep(1h);
    } catch (const corio::cancelled&) {
    }
    auto lock = co_await mx.lock();  // must throw: the task is still cancelled
    ADD_FAILURE() << "a cancelled task took the lock";
  }(m));
  co_await corio::yield();
  stubborn.cancel();
  EXPECT_THROW(co_await stubborn, corio::cancelled);  // while `held` still holds the lock
  held.unlock();
  EXPECT_FALSE(m.is_locked());
}

CORIO_TEST(mutex, a_lock_handed_to_a_task_cancelled_before_it_resumes_passes_to_the_next_waiter) {
  const names got_the_lock = co_await hand_the_lock_to_a_first_waiter_then_cancel_it("first", "second");
  EXPECT_EQ(got_the_lock, (names{"second"}));
}

CORIO_TEST(mutex, a_lock_handed_to_a_task_cancelled_before_it_resumes_is_released_if_nobody_waits) {
  const names got_the_lock = co_await hand_the_lock_to_a_first_waiter_then_cancel_it("only");
  EXPECT_EQ(got_the_lock, (names{}));
}

CORIO_TEST(mutex, contending_tasks_are_never_inside_the_critical_section_together) {
  corio::mutex m;
  int inside = 0;
  int max_inside = 0;
  int entries = 0;
  std::vector<corio::join_handle<void>> tasks;
  for (int t = 0; t < 8; ++t) {
    tasks.push_back(corio::spawn([](corio::mutex& mx, int& in, int& most, int& n) -> corio::task<> {
      for (int i = 0; i < 50; ++i) {
        auto lock = co_await mx.lock();
        most = std::max(most, ++in);
        co_await corio::yield();  // others run, and queue for the lock
        --in;
        ++n;
      }
    }(m, inside, max_inside, entries)));
  }
  for (auto& t : tasks) co_await t;
  EXPECT_EQ(max_inside, 1);
  EXPECT_EQ(entries, 8 * 50);
  EXPECT_FALSE(m.is_locked());
}

// A frame destroyed between the hand-off and its resumption (the loop torn down) must not take
// the lock with it.
TEST(mutex, a_lock_handed_to_a_frame_destroyed_before_it_resumes_is_released) {
  corio::mutex m;
  auto held = m.try_lock();
  ASSERT_TRUE(held.owns_lock());
  {
    corio::event_loop loop;
    auto waiter = corio::detail::spawn_on(loop, [](corio::mutex& mx) -> corio::task<> {
      auto lock = co_await mx.lock();
    }(m), "waiter", corio::source_location::current());
    loop.run_once();  // the waiter parks on the lock
    ASSERT_FALSE(waiter.done());
    held.unlock();  // hands it over; the waiter is queued but never resumes
    EXPECT_TRUE(m.is_locked());
    waiter.detach();
  }
  EXPECT_FALSE(m.is_locked());
}
