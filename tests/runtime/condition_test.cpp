// tests/runtime/condition_test.cpp — corio::condition.
#include "runtime/condition.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;

namespace {

using names = std::vector<std::string>;

/// Locks, waits once for a notification, records `name` with the lock held.
corio::task<> wait_once_and_record(corio::condition& cv, names& out, std::string name) {
  auto lock = co_await cv.get_mutex().lock();
  co_await cv.wait(lock);
  EXPECT_TRUE(lock.owns_lock());
  out.push_back(std::move(name));
}

/// Spawns a wait_once_and_record task for each name; all of them wait on `cv` when this returns.
template <class... Name>
corio::task<std::vector<corio::join_handle<void>>> spawn_waiters(corio::condition& cv, names& out, Name... who) {
  std::vector<corio::join_handle<void>> waiters;
  for (const char* name : {who...}) waiters.push_back(corio::spawn(wait_once_and_record(cv, out, name)));
  co_await corio::sleep(1ms);
  co_return waiters;
}

/// Locks and waits; on cancellation records whether the lock was held when it propagated.
corio::task<> wait_and_note_lock_on_cancel(corio::condition& cv, std::string& held_when_cancelled) {
  auto lock = co_await cv.get_mutex().lock();
  try {
    co_await cv.wait(lock);
  } catch (const corio::cancelled&) {
    held_when_cancelled = lock.owns_lock() && cv.get_mutex().is_locked() ? "held" : "not held";
    throw;
  }
}

/// Cancels a waiter while this task holds the lock — queued for notify, or already notified
/// and so queued for the lock: either way it must not run before it has the lock again.
corio::task<> cancel_a_waiter_while_holding_the_lock(bool notify_first) {
  corio::mutex m;
  corio::condition cv(m);
  std::string held;
  auto waiter = corio::spawn(wait_and_note_lock_on_cancel(cv, held));
  co_await corio::sleep(1ms);
  auto lock = co_await m.lock();
  if (notify_first) cv.notify();  // the waiter moves to the mutex's queue
  waiter.cancel();
  co_await corio::sleep(1ms);
  EXPECT_FALSE(waiter.done()) << "the cancelled waiter must not run without the lock";
  lock.unlock();
  EXPECT_THROW(co_await waiter, corio::cancelled);
  EXPECT_EQ(held, "held");
  EXPECT_FALSE(m.is_locked());
}

}  // namespace

CORIO_TEST(condition, wait_releases_the_lock_and_takes_it_again_before_returning) {
  corio::mutex m;
  corio::condition cv(m);
  names out;
  auto waiters = co_await spawn_waiters(cv, out, "waiter");
  auto lock = m.try_lock();
  CORIO_ASSERT(lock.owns_lock());  // free: the waiter released it
  cv.notify();
  co_await corio::sleep(1ms);
  EXPECT_TRUE(out.empty()) << "the waiter must not resume while the notifier holds the lock";
  lock.unlock();
  co_await waiters[0];
  EXPECT_EQ(out, (names{"waiter"}));
  EXPECT_FALSE(m.is_locked());
}

// FIFO pinned: waiters are served in the order they began to wait (documented), and the test
// sees that order through the order the woken tasks run, which only a FIFO ready queue keeps.
CORIO_TEST_WITH(condition, notify_wakes_the_oldest_waiters_and_notify_all_wakes_the_rest, corio::testing::fifo_order()) {
  corio::mutex m;
  corio::condition cv(m);
  names out;
  auto waiters = co_await spawn_waiters(cv, out, "a", "b", "c", "d");
  {
    auto lock = co_await m.lock();
    cv.notify(2);
  }
  co_await corio::sleep(1ms);
  EXPECT_EQ(out, (names{"a", "b"}));
  {
    auto lock = co_await m.lock();
    cv.notify_all();
  }
  for (auto& w : waiters) co_await w;
  EXPECT_EQ(out, (names{"a", "b", "c", "d"}));
}

CORIO_TEST(condition, wait_for_returns_once_the_predicate_holds_and_at_once_if_it_already_does) {
  corio::mutex m;
  corio::condition cv(m);
  int value = 0;
  auto waiter = corio::spawn([](corio::condition& c, int& v) -> corio::task<int> {
    auto lock = co_await c.get_mutex().lock();
    co_await c.wait_for(lock, [&] { return v >= 3; });
    co_return v;
  }(cv, value));
  for (int i = 0; i < 5; ++i) {
    co_await corio::sleep(1ms);
    auto lock = co_await m.lock();
    ++value;
    cv.notify_all();
  }
  EXPECT_EQ(co_await waiter, 3);
  auto lock = co_await m.lock();
  const auto start = testing_support::current_loop().now();
  co_await cv.wait_for(lock, [&] { return value == 5; });
  EXPECT_EQ(testing_support::current_loop().now(), start);
  EXPECT_TRUE(lock.owns_lock());
}

CORIO_TEST(condition, a_waiter_cancelled_while_waiting_throws_with_the_lock_held) {
  corio::mutex m;
  corio::condition cv(m);
  std::string held;
  auto waiter = corio::spawn(wait_and_note_lock_on_cancel(cv, held));
  co_await corio::sleep(1ms);
  waiter.cancel();  // the lock is free: the waiter takes it at once
  EXPECT_THROW(co_await waiter, corio::cancelled);
  EXPECT_EQ(held, "held");
  EXPECT_FALSE(m.is_locked()) << "the waiter's guard released the lock as it unwound";
}

CORIO_TEST(condition, a_waiter_cancelled_while_another_task_holds_the_lock_waits_for_it_before_throwing) {
  co_await cancel_a_waiter_while_holding_the_lock(/*notify_first=*/false);
}

CORIO_TEST(condition, an_already_cancelled_task_throws_from_wait_without_releasing_the_lock) {
  corio::mutex m;
  corio::condition cv(m);
  names out;
  std::string held;
  auto stubborn = corio::spawn([](corio::condition& c, std::string& note) -> corio::task<> {
    auto lock = co_await c.get_mutex().lock();
    try {
      co_await corio::sleep(1h);
    } catch (const corio::cancelled&) {
    }
    try {
      co_await c.wait(lock);
    } catch (const corio::cancelled&) {
      note = lock.owns_lock() ? "held" : "not held";
      throw;
    }
  }(cv, held));
  co_await corio::sleep(1ms);
  stubborn.cancel();
  EXPECT_THROW(co_await stubborn, corio::cancelled);
  EXPECT_EQ(held, "held");
  EXPECT_FALSE(m.is_locked());
}

CORIO_TEST(condition, a_cancelled_waiter_consumes_no_notification) {
  corio::mutex m;
  corio::condition cv(m);
  names out;
  auto waiters = co_await spawn_waiters(cv, out, "cancelled", "other");
  waiters[0].cancel();
  EXPECT_THROW(co_await waiters[0], corio::cancelled);
  {
    auto lock = co_await m.lock();
    cv.notify(1);
  }
  co_await waiters[1];
  EXPECT_EQ(out, (names{"other"}));
}

CORIO_TEST(condition, a_waiter_notified_then_cancelled_before_it_resumes_still_gets_the_lock_and_gives_it_back) {
  corio::mutex m;
  corio::condition cv(m);
  std::string held;
  names out;
  auto waiter = corio::spawn(wait_and_note_lock_on_cancel(cv, held));
  co_await corio::sleep(1ms);
  auto lock = co_await m.lock();
  cv.notify();
  lock.unlock();    // hands the lock to the notified waiter, which has not resumed yet
  waiter.cancel();  // ... and is now cancelled
  auto next = corio::spawn([](corio::mutex& mx, names& o) -> corio::task<> {
    auto l = co_await mx.lock();
    o.push_back("next");
  }(m, out));
  EXPECT_THROW(co_await waiter, corio::cancelled);
  EXPECT_EQ(held, "held");
  co_await next;
  EXPECT_EQ(out, (names{"next"}));
  EXPECT_FALSE(m.is_locked());
}

CORIO_TEST(condition, a_waiter_notified_then_cancelled_while_the_notifier_holds_the_lock_throws_only_once_it_has_it) {
  co_await cancel_a_waiter_while_holding_the_lock(/*notify_first=*/true);
}

CORIO_TEST(condition, notify_without_the_lock_and_wait_with_a_foreign_guard_are_refused) {
  corio::mutex m;
  corio::mutex other;
  corio::condition cv(m);
  EXPECT_THROW(cv.notify(), std::logic_error);
  auto foreign = co_await other.lock();
  EXPECT_THROW((void)cv.wait(foreign), std::logic_error);
  corio::mutex::guard empty;
  EXPECT_THROW((void)cv.wait(empty), std::logic_error);
}

TEST(condition, a_waiter_destroyed_after_being_handed_the_lock_releases_it_exactly_once) {
  corio::mutex m;
  corio::condition cv(m);
  {
    corio::event_loop loop;
    auto waiter = corio::detail::spawn_on(loop, [](corio::condition& c) -> corio::task<> {
      auto lock = co_await c.get_mutex().lock();
      co_await c.wait(lock);
    }(cv), "waiter", corio::source_location::current());
    loop.run_once();  // the waiter locks and waits
    auto lock = m.try_lock();
    ASSERT_TRUE(lock.owns_lock());
    cv.notify();
    lock.unlock();  // hands the lock to the waiter, which never resumes
    EXPECT_TRUE(m.is_locked());
    waiter.detach();
  }
  EXPECT_FALSE(m.is_locked());
  EXPECT_TRUE(m.try_lock().owns_lock()) << "one release, not two: the mutex must still work";
}
