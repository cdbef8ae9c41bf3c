// tests/runtime/semaphore_test.cpp — corio::semaphore and corio::bounded_semaphore.
#include "runtime/semaphore.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"

using namespace std::chrono_literals;

namespace {

using names = std::vector<std::string>;
using handles = std::vector<corio::join_handle<void>>;

/// Acquires a permit, records `name`, and keeps the permit (the test releases it).
corio::task<> acquire_and_record(corio::semaphore& s, names& out, std::string name) {
  co_await s.acquire();
  out.push_back(std::move(name));
}

/// Spawns an acquire_and_record task for each name; all of them wait on `s` when this returns.
/// (Names are passed one by one: g++ 12 cannot keep a braced list alive across a co_await.)
template <class... Name>
corio::task<handles> queue_for_a_permit(corio::semaphore& s, names& out, Name... who) {
  handles tasks;
  for (const char* name : {who...}) tasks.push_back(corio::spawn(acquire_and_record(s, out, name)));
  co_await corio::sleep(1ms);
  co_return tasks;
}

/// Queues `who` on `s` (which has no permit free), releases one permit (handing it to the
/// first of them), cancels that first one before it resumes, and returns who got a permit.
template <class... Name>
corio::task<names> hand_a_permit_to_a_first_waiter_then_cancel_it(corio::semaphore& s, Name... who) {
  names out;
  auto waiters = co_await queue_for_a_permit(s, out, who...);
  s.release();          // hands the permit to the first waiter, which has not resumed yet
  waiters[0].cancel();  // ... and never will with it
  EXPECT_THROW(co_await waiters[0], corio::cancelled);
  for (std::size_t i = 1; i < waiters.size(); ++i) co_await waiters[i];
  co_return out;
}

}  // namespace

CORIO_TEST(semaphore, acquire_takes_permits_without_suspending_until_none_are_left) {
  corio::semaphore s(2);
  co_await s.acquire();
  co_await s.acquire();
  EXPECT_EQ(s.available(), 0u);
  EXPECT_FALSE(s.try_acquire());
  names out;
  auto waiter = corio::spawn(acquire_and_record(s, out, "waiter"));
  co_await corio::sleep(1ms);
  EXPECT_TRUE(out.empty()) << "with no permit left, acquire must park";
  s.release();
  co_await waiter;
  EXPECT_EQ(out, (names{"waiter"}));
  EXPECT_EQ(s.available(), 0u);
  s.release();
  s.release();
  EXPECT_EQ(s.available(), 2u);
}

// FIFO pinned: waiters are served in the order they began to wait (documented), and the test
// sees that order through the order the woken tasks run, which only a FIFO ready queue keeps.
CORIO_TEST_WITH(semaphore, waiters_get_permits_in_the_order_they_began_to_wait, corio::testing::fifo_order()) {
  corio::semaphore s(0);
  names out;
  auto waiters = co_await queue_for_a_permit(s, out, "a", "b", "c");
  s.release();
  co_await waiters[0];
  EXPECT_EQ(out, (names{"a"}));
  s.release();
  s.release();
  co_await waiters[1];
  co_await waiters[2];
  EXPECT_EQ(out, (names{"a", "b", "c"}));
}

CORIO_TEST(semaphore, release_hands_the_permit_to_the_first_waiter_so_nobody_can_barge) {
  corio::semaphore s(0);
  names out;
  auto waiters = co_await queue_for_a_permit(s, out, "waiter");
  s.release();
  EXPECT_TRUE(out.empty()) << "the waiter must not run inside release()";
  EXPECT_EQ(s.available(), 0u) << "the permit must go to the waiter, not to the count";
  EXPECT_FALSE(s.try_acquire());
  co_await waiters[0];
  EXPECT_EQ(out, (names{"waiter"}));
}

CORIO_TEST(semaphore, acquire_guard_gives_the_permit_back_when_destroyed_or_released) {
  corio::semaphore s(1);
  {
    auto permit = co_await s.acquire_guard();
    EXPECT_TRUE(permit.owns());
    EXPECT_EQ(s.available(), 0u);
  }
  EXPECT_EQ(s.available(), 1u);
  auto permit = co_await s.acquire_guard();
  permit.release();
  EXPECT_FALSE(permit.owns());
  EXPECT_EQ(s.available(), 1u);
}

CORIO_TEST(semaphore, a_task_cancelled_while_waiting_leaves_the_queue_at_once) {
  corio::semaphore s(0);
  names out;
  auto waiters = co_await queue_for_a_permit(s, out, "cancelled");
  waiters[0].cancel();
  s.release();  // the cancelled task has not even resumed yet, but no longer waits
  EXPECT_EQ(s.available(), 1u) << "release must not hand the permit to a cancelled waiter";
  EXPECT_THROW(co_await waiters[0], corio::cancelled);
  EXPECT_TRUE(out.empty());
}

CORIO_TEST(semaphore, an_already_cancelled_task_throws_at_once_instead_of_waiting_for_a_permit) {
  corio::semaphore s(0);
  auto stubborn = corio::spawn([](corio::semaphore& sem) -> corio::task<> {
    try {
      co_await corio::sleep(1h);
    } catch (const corio::cancelled&) {
    }
    co_await sem.acquire();  // must throw: the task is still cancelled
  }(s));
  co_await corio::yield();
  stubborn.cancel();
  EXPECT_THROW(co_await stubborn, corio::cancelled);  // no permit was ever released
  s.release();
  EXPECT_EQ(s.available(), 1u);
}

CORIO_TEST(semaphore, a_permit_handed_to_a_task_cancelled_before_it_resumes_goes_to_the_next_waiter) {
  corio::semaphore s(0);
  const names got_a_permit = co_await hand_a_permit_to_a_first_waiter_then_cancel_it(s, "first", "second");
  EXPECT_EQ(got_a_permit, (names{"second"}));
  EXPECT_EQ(s.available(), 0u) << "`second` keeps its permit";
}

CORIO_TEST(semaphore, a_permit_handed_to_a_task_cancelled_before_it_resumes_returns_to_the_count) {
  corio::bounded_semaphore s(1);
  co_await s.acquire();
  const names got_a_permit = co_await hand_a_permit_to_a_first_waiter_then_cancel_it(s, "only");
  EXPECT_EQ(got_a_permit, (names{}));
  EXPECT_EQ(s.available(), 1u);
  EXPECT_THROW(s.release(), std::logic_error) << "the returned permit must not count twice";
}

CORIO_TEST(semaphore, a_bounded_semaphore_refuses_a_release_beyond_its_initial_value) {
  corio::bounded_semaphore bounded(2);
  EXPECT_THROW(bounded.release(), std::logic_error);
  co_await bounded.acquire();
  bounded.release();
  EXPECT_THROW(bounded.release(), std::logic_error);
  EXPECT_EQ(bounded.available(), 2u);
  corio::semaphore plain(2);
  plain.release();
  EXPECT_EQ(plain.available(), 3u) << "a plain semaphore has no bound";
}

CORIO_TEST(semaphore, at_most_n_tasks_hold_a_permit_at_once) {
  corio::semaphore s(3);
  int holding = 0;
  int most = 0;
  std::vector<corio::join_handle<void>> tasks;
  for (int t = 0; t < 10; ++t) {
    tasks.push_back(corio::spawn([](corio::semaphore& sem, int& now, int& peak) -> corio::task<> {
      for (int i = 0; i < 20; ++i) {
        auto permit = co_await sem.acquire_guard();
        peak = std::max(peak, ++now);
        co_await corio::yield();
        --now;
      }
    }(s, holding, most)));
  }
  for (auto& t : tasks) co_await t;
  EXPECT_EQ(most, 3);
  EXPECT_EQ(s.available(), 3u);
}

TEST(semaphore, a_permit_handed_to_a_frame_destroyed_before_it_resumes_returns_to_the_count) {
  corio::semaphore s(0);
  {
    corio::event_loop loop;
    auto waiter = corio::detail::spawn_on(loop, [](corio::semaphore& sem) -> corio::task<> {
      co_await sem.acquire();
    }(s), "waiter", corio::source_location::current());
    loop.run_once();  // the waiter parks
    ASSERT_FALSE(waiter.done());
    s.release();  // hands the permit over; the waiter is queued but never resumes
    EXPECT_EQ(s.available(), 0u);
    waiter.detach();
  }
  EXPECT_EQ(s.available(), 1u);
}
