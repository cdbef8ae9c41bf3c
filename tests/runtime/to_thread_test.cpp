// tests/runtime/to_thread_test.cpp — corio::to_thread and the loop's thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "runtime/thread_pool.hpp"
#include "runtime/to_thread.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using testing_support::current_loop;

namespace {

/// A gate a pool thread can block on until the test opens it.
class gate {
 public:
  void open() noexcept {
    open_.store(true, std::memory_order_release);
    open_.notify_all();
  }
  void wait() const noexcept { open_.wait(false, std::memory_order_acquire); }

 private:
  std::atomic<bool> open_{false};
};

/// Counts live instances across threads (results made on a pool thread, dropped anywhere).
struct live_count {
  std::atomic<int> alive{0};
  std::atomic<int> made{0};
};

class tracked {
 public:
  explicit tracked(live_count& c) : c_(&c) { ++c.alive, ++c.made; }
  tracked(const tracked& o) : c_(o.c_) { ++c_->alive, ++c_->made; }
  tracked& operator=(const tracked&) = delete;
  ~tracked() { --c_->alive; }

 private:
  live_count* c_;
};

/// A job that says it started, waits for `g`, then returns a tracked result.
auto blocked_job(std::atomic<bool>& started, const gate& g, live_count& results, std::atomic<bool>& finished) {
  return [&] {
    started.store(true);
    g.wait();
    finished.store(true);
    return tracked(results);
  };
}

/// Lets the loop turn until `flag` is set by another thread.
corio::task<> until_set(const std::atomic<bool>& flag) {
  while (!flag.load()) co_await corio::yield();
}

/// Lets the loop turn until every to_thread completion has reached it.
corio::task<> until_no_thread_jobs() {
  while (current_loop().thread_jobs_in_flight() > 0) co_await corio::yield();
}

}  // namespace

CORIO_TEST(to_thread, returns_the_value_of_the_function_called_with_its_arguments) {
  const int sum = co_await corio::to_thread([](int a, int b) { return a + b; }, 2, 3);
  EXPECT_EQ(sum, 5);
  auto owned = co_await corio::to_thread([](std::string s) { return std::make_unique<std::string>(s + "!"); },
                                         std::string("moved"));
  CORIO_ASSERT(owned != nullptr);
  EXPECT_EQ(*owned, "moved!");
  co_await corio::to_thread([] {});  // void works too
}

CORIO_TEST(to_thread, rethrows_the_exception_the_function_threw_at_the_co_await) {
  try {
    co_await corio::to_thread([]() -> int { throw std::runtime_error("disk on fire"); });
    ADD_FAILURE() << "to_thread did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk on fire");
  }
  EXPECT_EQ(current_loop().thread_jobs_in_flight(), 0u);
}

CORIO_TEST(to_thread, runs_the_function_on_another_thread_and_resumes_on_the_loops_thread) {
  const auto loop_thread = std::this_thread::get_id();
  const auto job_thread = co_await corio::to_thread([] { return std::this_thread::get_id(); });
  EXPECT_NE(job_thread, loop_thread);
  EXPECT_EQ(std::this_thread::get_id(), loop_thread);
}

CORIO_TEST(to_thread, a_thousand_concurrent_calls_complete_with_their_own_results_while_the_loop_keeps_turning) {
  constexpr int n = 1000;
  gate jobs_may_finish;
  std::vector<corio::join_handle<int>> calls;
  calls.reserve(n);
  for (int i = 0; i < n; ++i) {
    calls.push_back(corio::spawn([](int k, const gate& g) -> corio::task<int> {
      co_return co_await corio::to_thread([k, &g] {
        g.wait();
        return k * k;
      });
    }(i, jobs_may_finish)));
  }
  // Every job is stuck in (or queued for) the pool: the loop must still run other tasks.
  int turns = 0;
  for (; turns < 100; ++turns) co_await corio::yield();
  EXPECT_EQ(current_loop().thread_jobs_in_flight(), static_cast<std::size_t>(n));
  jobs_may_finish.open();
  for (int i = 0; i < n; ++i) EXPECT_EQ(co_await calls[static_cast<std::size_t>(i)], i * i);
  EXPECT_EQ(turns, 100);
  EXPECT_EQ(current_loop().thread_jobs_in_flight(), 0u);
}

CORIO_TEST(to_thread, cancelling_the_task_while_the_job_runs_resumes_it_at_once_and_drops_the_result_later) {
  std::atomic<bool> started{false}, finished{false};
  gate g;
  live_count results;
  auto h = corio::spawn([](auto job) -> corio::task<> { (void)co_await corio::to_thread(job); }(
      blocked_job(started, g, results, finished)));
  co_await until_set(started);
  h.cancel();
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_FALSE(finished.load()) << "the task must not wait for the thread";
  EXPECT_EQ(current_loop().thread_jobs_in_flight(), 1u);
  g.open();
  co_await until_no_thread_jobs();
  EXPECT_TRUE(finished.load());
  EXPECT_GE(results.made.load(), 1);
  EXPECT_EQ(results.alive.load(), 0) << "the abandoned result must be destroyed";
}

CORIO_TEST(to_thread, a_task_cancelled_before_the_co_await_submits_nothing) {
  std::atomic<bool> ran{false};
  auto h = corio::spawn([](std::atomic<bool>& r) -> corio::task<> {
    co_await corio::to_thread([&r] { r.store(true); });
  }(ran));
  h.cancel();  // before the task first runs
  EXPECT_THROW(co_await h, corio::cancelled);
  EXPECT_EQ(current_loop().thread_jobs_in_flight(), 0u);
  EXPECT_FALSE(ran.load());
}

TEST(to_thread_pool, a_job_still_queued_when_its_task_is_cancelled_never_runs) {
  std::atomic<bool> first_started{false}, first_finished{false}, second_ran{false};
  gate g;
  live_count results;
  corio::run(
      [](auto first, std::atomic<bool>& started, std::atomic<bool>& second, gate& open) -> corio::task<> {
        auto a = corio::spawn([](auto job) -> corio::task<> { (void)co_await corio::to_thread(job); }(first));
        co_await until_set(started);  // a's job holds the only pool thread (b is spawned after
                                      // that: which of two new tasks submits first is not promised)
        auto b = corio::spawn([](std::atomic<bool>& s) -> corio::task<> {
          co_await corio::to_thread([&s] { s.store(true); });
        }(second));
        co_await testing_support::until_parked(b);  // b's job waits in the pool's queue
        EXPECT_TRUE(testing_support::parked(b));
        b.cancel();
        EXPECT_THROW(co_await b, corio::cancelled);
        open.open();
        co_await a;
      }(blocked_job(first_started, g, results, first_finished), first_started, second_ran, g),
      {.thread_pool_size = 1});
  EXPECT_TRUE(first_finished.load());
  EXPECT_FALSE(second_ran.load());
  EXPECT_EQ(results.alive.load(), 0);
}

TEST(to_thread_pool, destroying_the_loop_waits_for_the_running_job_and_drops_the_queued_one) {
  std::atomic<bool> started{false}, finished{false}, queued_ran{false};
  gate g;
  live_count results;
  std::thread opener;
  {
    corio::event_loop loop({.thread_pool_size = 1});
    auto a = corio::detail::spawn_on(
        loop, [](auto job) -> corio::task<> { (void)co_await corio::to_thread(job); }(
                  blocked_job(started, g, results, finished)), "running", {});
    // A task that keeps yielding makes run_once() return instead of waiting for the jobs.
    auto spinner = corio::detail::spawn_on(loop, []() -> corio::task<> {
      for (;;) co_await corio::yield();
    }(), "spinner", {});
    loop.run_once();  // a submits its job
    while (!started.load()) std::this_thread::yield();
    // Only now b: had both started in one turn, which submits first would not be promised.
    auto b = corio::detail::spawn_on(loop, [](std::atomic<bool>& r) -> corio::task<> {
      co_await corio::to_thread([&r] { r.store(true); });
    }(queued_ran), "queued", {});
    loop.run_once();  // b submits its job, which waits behind a's
    opener = std::thread([&] {
      std::this_thread::sleep_for(20ms);
      g.open();
    });
    a.detach();
    b.detach();
    spinner.detach();
  }  // the destructor blocks until `opener` lets the running job finish
  opener.join();
  EXPECT_TRUE(finished.load()) << "the destructor must wait for the running job";
  EXPECT_FALSE(queued_ran.load()) << "a job that never started must be dropped";
  EXPECT_EQ(results.alive.load(), 0);
}

TEST(to_thread_pool, the_loop_can_finish_while_an_abandoned_job_still_runs) {
  std::atomic<bool> started{false}, finished{false};
  gate g;
  live_count results;
  std::thread opener;
  corio::run([](auto job, std::atomic<bool>& s, gate& open, std::thread& t) -> corio::task<> {
    auto h = corio::spawn([](auto j) -> corio::task<> { (void)co_await corio::to_thread(j); }(job));
    co_await until_set(s);
    h.cancel();
    EXPECT_THROW(co_await h, corio::cancelled);
    t = std::thread([&open] {
      std::this_thread::sleep_for(20ms);
      open.open();
    });
  }(blocked_job(started, g, results, finished), started, g, opener));
  opener.join();
  EXPECT_TRUE(finished.load());
  EXPECT_EQ(results.alive.load(), 0) << "the result must be dropped, not leaked";
}

TEST(to_thread_pool, a_loop_waiting_only_for_a_thread_job_blocks_for_it_instead_of_reporting_idle) {
  corio::event_loop loop;  // steady clock: the poller blocks with no timeout
  auto h = corio::detail::spawn_on(loop, []() -> corio::task<int> {
    co_return co_await corio::to_thread([] {
      std::this_thread::sleep_for(20ms);
      return 7;
    });
  }(), "waiter", {});
  // run_once() may say "idle" in the turn the task finishes, never before.
  while (!h.done()) ASSERT_TRUE(loop.run_once() || h.done()) << "the loop reported idle while a job was in flight";
  EXPECT_EQ(h.result(), 7);
  EXPECT_FALSE(loop.run_once());
  corio::testing::expect_loop_is_empty(loop);
}

CORIO_TEST(to_thread, the_manual_clock_does_not_jump_while_only_a_thread_job_is_pending) {
  const auto start = current_loop().now();
  co_await corio::to_thread([] { std::this_thread::sleep_for(10ms); });
  EXPECT_EQ(current_loop().now(), start);
}

TEST(thread_pool, the_default_size_is_at_least_four_threads) {
  EXPECT_GE(corio::thread_pool::default_size(), 4u);
  EXPECT_GE(corio::thread_pool::default_size(), std::thread::hardware_concurrency());
  const corio::thread_pool pool(2);
  EXPECT_EQ(pool.size(), 2u);
}
