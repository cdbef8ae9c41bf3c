// tests/runtime/signal_test.cpp — corio::signal_set, wait_for_signal, and Ctrl-C in corio::run
// (T-41), with real signals sent to this process: raise() (the calling thread), kill() (any
// thread the kernel picks) and pthread_kill() (one thread).
#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include <corio.hpp>

#include "runtime/signal.hpp"
#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

/// Puts a signal's disposition back as it was when the test began, whatever the test did.
class disposition_restorer {
 public:
  explicit disposition_restorer(int signo) : signo_(signo) { ::sigaction(signo_, nullptr, &saved_); }
  disposition_restorer(const disposition_restorer&) = delete;
  disposition_restorer& operator=(const disposition_restorer&) = delete;
  ~disposition_restorer() { ::sigaction(signo_, &saved_, nullptr); }

 private:
  int signo_;
  struct sigaction saved_ {};
};

struct sigaction disposition_of(int signo) {
  struct sigaction now {};
  ::sigaction(signo, nullptr, &now);
  return now;
}

void set_disposition(int signo, void (*handler)(int), int flags = 0) {
  struct sigaction act {};
  act.sa_handler = handler;
  act.sa_flags = flags;
  sigemptyset(&act.sa_mask);
  sigaddset(&act.sa_mask, SIGUSR2);
  ::sigaction(signo, &act, nullptr);
}

std::atomic<int> own_handler_runs{0};
void own_handler(int) { own_handler_runs.fetch_add(1); }

corio::task<int> wait_on(corio::signal_set& set) { co_return co_await set.wait(); }

corio::task<> sleep_for(std::chrono::seconds d) { co_await corio::sleep(d); }

}  // namespace

CORIO_TEST(signal_set, a_waiting_task_receives_sigusr1_exactly_once) {
  corio::signal_set set{SIGUSR1};
  auto waiter = corio::spawn(wait_on(set));
  co_await corio::yield();  // the waiter parks
  EXPECT_EQ(::kill(::getpid(), SIGUSR1), 0);
  EXPECT_EQ(co_await waiter, SIGUSR1);
  EXPECT_THROW(co_await corio::timeout(50ms, wait_on(set)), corio::timeout_error) << "delivered twice";
}

CORIO_TEST(signal_set, a_wait_never_completes_inside_the_co_await_that_starts_it) {
  corio::signal_set set{SIGUSR1};
  ::raise(SIGUSR1);  // counted before the wait begins
  // Whether another ready task runs before this body resumes is not promised (the shuffle
  // changes it); that the body was suspended and resumed shows in the loop's resumption count.
  const std::uint64_t before = corio::event_loop::current()->resumptions();
  EXPECT_EQ(co_await set.wait(), SIGUSR1);
  EXPECT_GT(corio::event_loop::current()->resumptions(), before) << "the wait must go round the loop";
}

CORIO_TEST(signal_set, two_signals_raised_before_anyone_waits_are_both_delivered_in_order) {
  corio::signal_set set{SIGUSR1, SIGUSR2};
  ::raise(SIGUSR2);
  ::raise(SIGUSR1);
  EXPECT_EQ(co_await set.wait(), SIGUSR2);
  EXPECT_EQ(co_await set.wait(), SIGUSR1);
}

CORIO_TEST(signal_set, the_same_signal_raised_twice_before_a_wait_counts_twice) {
  corio::signal_set set{SIGUSR1};
  ::raise(SIGUSR1);
  ::raise(SIGUSR1);
  EXPECT_EQ(co_await set.wait(), SIGUSR1);
  EXPECT_EQ(co_await set.wait(), SIGUSR1);
  EXPECT_THROW(co_await corio::timeout(50ms, wait_on(set)), corio::timeout_error);
}

CORIO_TEST(signal_set, a_signal_raised_while_nobody_waits_is_counted_for_the_next_wait) {
  corio::signal_set set{SIGUSR1};
  auto first = corio::spawn(wait_on(set));
  co_await corio::yield();
  ::raise(SIGUSR1);
  EXPECT_EQ(co_await first, SIGUSR1);
  ::raise(SIGUSR1);  // between two waits
  for (int i = 0; i < 3; ++i) co_await corio::yield();  // the loop reads the pipe meanwhile
  EXPECT_EQ(co_await set.wait(), SIGUSR1);
}

// FIFO pinned: waiters are served in the order they began to wait (documented), and the test
// sees that order through the order the woken tasks run, which only a FIFO ready queue keeps.
CORIO_TEST_WITH(signal_set, waiters_are_served_in_the_order_they_began_to_wait, corio::testing::fifo_order()) {
  corio::signal_set set{SIGUSR1, SIGUSR2};
  auto first = corio::spawn(wait_on(set));
  auto second = corio::spawn(wait_on(set));
  co_await corio::yield();
  ::raise(SIGUSR2);
  ::raise(SIGUSR1);
  EXPECT_EQ(co_await first, SIGUSR2);
  EXPECT_EQ(co_await second, SIGUSR1);
}

// T-41: the loop sleeps in the poller until a far timer; the signal, sent to the loop's own
// thread (so it interrupts that very wait), must end it at once, not when the timer is due.
TEST(signal_set, a_signal_reaches_a_loop_blocked_in_the_poller_with_a_long_timer_pending) {
  corio::testing::run_test([]() -> corio::task<> {
    corio::signal_set set{SIGUSR1};
    auto sleeper = corio::spawn(sleep_for(30s));
    std::thread sender([loop_thread = ::pthread_self()] {
      std::this_thread::sleep_for(50ms);
      ::pthread_kill(loop_thread, SIGUSR1);
    });
    const auto start = steady::now();
    const int signo = co_await set.wait();
    const auto waited = steady::now() - start;
    sender.join();
    EXPECT_EQ(signo, SIGUSR1);
    EXPECT_LT(waited, 1s);
    sleeper.cancel();
    EXPECT_THROW(co_await sleeper, corio::cancelled);
  }(), corio::testing::real_time());
}

// The handler runs on the sending thread here (raise), so its write reaches the loop's pipe
// from outside; and the main task waits on nothing else: hold_work keeps the loop blocked
// instead of reporting a deadlock.
TEST(signal_set, a_signal_raised_on_another_thread_wakes_a_main_task_that_waits_only_for_it) {
  const int signo = corio::run([]() -> corio::task<int> {
    corio::signal_set set{SIGUSR2};
    std::thread sender([] {
      std::this_thread::sleep_for(50ms);
      ::raise(SIGUSR2);
    });
    const int got = co_await set.wait();
    sender.join();
    co_return got;
  }());
  EXPECT_EQ(signo, SIGUSR2);
}

TEST(signal_set, a_signal_sent_with_kill_from_another_thread_reaches_the_loop) {
  corio::testing::run_test([]() -> corio::task<> {
    corio::signal_set set{SIGUSR1};
    std::thread sender([] {
      std::this_thread::sleep_for(20ms);
      ::kill(::getpid(), SIGUSR1);
    });
    EXPECT_EQ(co_await set.wait(), SIGUSR1);
    sender.join();
  }(), corio::testing::real_time());
}

CORIO_TEST(signal_set, cancelling_a_wait_consumes_nothing_and_a_later_wait_gets_the_next_signal) {
  corio::signal_set set{SIGUSR1};
  auto waiter = corio::spawn(wait_on(set));
  co_await corio::yield();
  waiter.cancel();
  EXPECT_THROW(co_await waiter, corio::cancelled);
  EXPECT_EQ(corio::event_loop::current()->live_tasks(), 1u);
  ::raise(SIGUSR1);
  EXPECT_EQ(co_await set.wait(), SIGUSR1);
  EXPECT_THROW(co_await corio::timeout(50ms, wait_on(set)), corio::timeout_error) << "a stale delivery";
}

// The signal is handed to the first waiter, which is cancelled before it resumes: the signal
// must move on to the next waiter, not vanish with the cancelled one.
// FIFO pinned: the test builds one interleaving (first parks, second's wait hands the signal to
// first, first is cancelled before it resumes) out of single yields, which only FIFO order gives.
CORIO_TEST_WITH(signal_set, a_signal_handed_to_a_wait_cancelled_before_it_resumed_goes_to_the_next_waiter,
                corio::testing::fifo_order()) {
  corio::signal_set set{SIGUSR1};
  auto first = corio::spawn(wait_on(set));
  co_await corio::yield();
  ::raise(SIGUSR1);
  auto second = corio::spawn(wait_on(set));  // its wait reads the pipe, handing SIGUSR1 to `first`
  co_await corio::yield();
  first.cancel();  // woken, not resumed yet
  EXPECT_THROW(co_await first, corio::cancelled);
  EXPECT_EQ(co_await second, SIGUSR1);
}

CORIO_TEST(signal_set, a_task_already_cancelled_throws_without_consuming_a_signal) {
  corio::signal_set set{SIGUSR1};
  ::raise(SIGUSR1);
  corio::cancel_scope scope;
  scope.cancel();
  const auto got = co_await scope.run(wait_on(set));
  EXPECT_FALSE(got.has_value());
  EXPECT_EQ(co_await set.wait(), SIGUSR1);
}

CORIO_TEST(signal_set, two_sets_for_the_same_signal_both_see_each_delivery) {
  corio::signal_set a{SIGUSR1};
  corio::signal_set b{SIGUSR1, SIGUSR2};
  ::raise(SIGUSR1);
  EXPECT_EQ(co_await a.wait(), SIGUSR1);
  EXPECT_EQ(co_await b.wait(), SIGUSR1);
}

TEST(signal_set, sets_on_loops_of_two_threads_both_see_each_delivery) {
  std::atomic<bool> other_watches{false};
  int other_got = 0;
  std::thread other([&] {
    other_got = corio::run([](std::atomic<bool>& ready) -> corio::task<int> {
      corio::signal_set set{SIGUSR1};
      ready = true;
      co_return co_await set.wait();
    }(other_watches));
  });
  const int got = corio::run([](std::atomic<bool>& ready) -> corio::task<int> {
    corio::signal_set set{SIGUSR1};
    while (!ready) co_await corio::sleep(1ms);
    ::raise(SIGUSR1);
    co_return co_await set.wait();
  }(other_watches));
  other.join();
  EXPECT_EQ(got, SIGUSR1);
  EXPECT_EQ(other_got, SIGUSR1);
}

TEST(signal_set, destroying_the_last_set_restores_the_previous_disposition_exactly) {
  const disposition_restorer restore(SIGUSR1);
  set_disposition(SIGUSR1, &own_handler, SA_NODEFER);
  corio::event_loop loop;
  {
    corio::signal_set a(loop, {SIGUSR1});
    EXPECT_NE(disposition_of(SIGUSR1).sa_handler, &own_handler) << "corio's handler is installed";
    {
      corio::signal_set b(loop, {SIGUSR1});
    }
    EXPECT_NE(disposition_of(SIGUSR1).sa_handler, &own_handler) << "restored while a set still watches";
  }
  const struct sigaction now = disposition_of(SIGUSR1);
  EXPECT_EQ(now.sa_handler, &own_handler);
  EXPECT_TRUE(now.sa_flags & SA_NODEFER);
  EXPECT_FALSE(now.sa_flags & SA_RESTART);
  EXPECT_TRUE(sigismember(&now.sa_mask, SIGUSR2));

  set_disposition(SIGUSR1, SIG_IGN);
  { corio::signal_set c(loop, {SIGUSR1}); }
  EXPECT_EQ(disposition_of(SIGUSR1).sa_handler, SIG_IGN);
}

TEST(signal_set, destroying_a_set_while_another_thread_keeps_raising_its_signal_is_safe) {
  const disposition_restorer restore(SIGUSR2);
  set_disposition(SIGUSR2, SIG_IGN);  // what the storm meets once the set is gone
  std::atomic<bool> stop{false};
  std::atomic<int> raised{0};
  corio::testing::run_test([](std::atomic<bool>& halt, std::atomic<int>& count) -> corio::task<> {
    std::thread storm([&] {
      while (!halt) {
        ::raise(SIGUSR2);
        count.fetch_add(1);
      }
    });
    for (int round = 0; round < 20; ++round) {
      corio::signal_set set{SIGUSR2};
      while (count.load() < (round + 1) * 10) co_await corio::sleep(100us);
      EXPECT_EQ(co_await set.wait(), SIGUSR2);
    }  // each set is destroyed while the storm goes on
    halt = true;
    storm.join();
  }(stop, raised), corio::testing::real_time());
  EXPECT_GE(raised.load(), 200);
}

TEST(signal_set, bad_signal_lists_throw_invalid_argument) {
  const auto before = disposition_of(SIGUSR1).sa_handler;
  corio::event_loop loop;
  const std::vector<int> none;
  EXPECT_THROW(corio::signal_set(loop, none), std::invalid_argument);
  for (const int bad : {0, -1, NSIG, 1000, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGPIPE})
    EXPECT_THROW(corio::signal_set(loop, {SIGUSR1, bad}), std::invalid_argument) << "signal " << bad;
  EXPECT_EQ(disposition_of(SIGUSR1).sa_handler, before) << "a refused list installs nothing";
  EXPECT_THROW((void)corio::wait_for_signal({}), std::invalid_argument) << "checked at the call";
  EXPECT_THROW((void)corio::wait_for_signal({SIGKILL}), std::invalid_argument);
  EXPECT_THROW(corio::signal_set{SIGUSR1}, std::logic_error) << "no running loop, none given";
}

TEST(signal_set, duplicates_in_the_list_are_watched_once) {
  corio::event_loop loop;
  corio::signal_set set(loop, {SIGUSR1, SIGUSR2, SIGUSR1});
  EXPECT_EQ(std::vector<int>(set.signals().begin(), set.signals().end()), (std::vector<int>{SIGUSR1, SIGUSR2}));
}

TEST(signal_set, a_loop_with_only_a_set_that_nobody_waits_on_is_idle) {
  corio::event_loop loop;
  corio::signal_set set(loop, {SIGUSR1});
  EXPECT_FALSE(loop.run_once());
  EXPECT_EQ(loop.registrations(), 0u) << "the pipe is a background descriptor";
}

CORIO_TEST(wait_for_signal, returns_the_first_signal_delivered_after_it_starts) {
  auto waiter = corio::spawn(corio::wait_for_signal({SIGUSR1, SIGUSR2}));
  // Until it parks, its handler may not be installed yet, and SIGUSR2 would end the process: one
  // yield is not enough when the order of ready tasks is not FIFO (it killed the run, seed 1).
  co_await testing_support::until_parked(waiter);
  CORIO_ASSERT(testing_support::parked(waiter));
  ::raise(SIGUSR2);
  EXPECT_EQ(co_await waiter, SIGUSR2);
}

// --- corio::run and Ctrl-C ---

namespace {

/// Sends `signo` to the process from another thread after `delay` (the handler runs there).
std::thread raise_later(int signo, std::chrono::milliseconds delay) {
  return std::thread([=] {
    std::this_thread::sleep_for(delay);
    ::raise(signo);
  });
}

}  // namespace

TEST(run, sigint_cancels_a_sleeping_main_task_and_run_rethrows_cancelled) {
  const disposition_restorer restore(SIGINT);
  set_disposition(SIGINT, SIG_DFL);  // a shell may start tests with SIGINT ignored
  std::thread sender = raise_later(SIGINT, 50ms);
  const auto start = steady::now();
  EXPECT_THROW(corio::run(sleep_for(30s)), corio::cancelled);
  sender.join();
  EXPECT_LT(steady::now() - start, 5s);
  EXPECT_EQ(disposition_of(SIGINT).sa_handler, SIG_DFL) << "restored when run returns";
}

TEST(run, sigterm_cancels_main_which_may_catch_it_and_return_a_value) {
  const disposition_restorer restore(SIGTERM);
  set_disposition(SIGTERM, SIG_DFL);
  std::thread sender = raise_later(SIGTERM, 50ms);
  const int result = corio::run([]() -> corio::task<int> {
    try {
      co_await corio::sleep(30s);
    } catch (const corio::cancelled&) {
      co_return 130;
    }
    co_return 0;
  }());
  sender.join();
  EXPECT_EQ(result, 130);
  EXPECT_EQ(disposition_of(SIGTERM).sa_handler, SIG_DFL);
}

TEST(run, leaves_a_signal_alone_whose_disposition_is_not_the_default) {
  const disposition_restorer restore(SIGINT);
  set_disposition(SIGINT, &own_handler);
  own_handler_runs = 0;
  const bool finished = corio::run([]() -> corio::task<bool> {
    EXPECT_EQ(disposition_of(SIGINT).sa_handler, &own_handler) << "run must not replace it";
    ::raise(SIGINT);
    co_await corio::sleep(10ms);
    co_return true;
  }());
  EXPECT_TRUE(finished) << "main was not cancelled";
  EXPECT_EQ(own_handler_runs.load(), 1);
  EXPECT_EQ(disposition_of(SIGINT).sa_handler, &own_handler);
}

TEST(run, stands_aside_while_a_signal_set_watches_sigint) {
  const disposition_restorer restore(SIGINT);
  set_disposition(SIGINT, SIG_DFL);
  const int got = corio::run([]() -> corio::task<int> {
    corio::signal_set ctrl_c{SIGINT};
    ::raise(SIGINT);
    const int signo = co_await ctrl_c.wait();
    co_await corio::sleep(1ms);  // not cancelled: the program handles Ctrl-C itself
    co_return signo;
  }());
  EXPECT_EQ(got, SIGINT);
  EXPECT_EQ(disposition_of(SIGINT).sa_handler, SIG_DFL);
}

TEST(run, can_be_told_not_to_handle_interrupts) {
  const disposition_restorer restore(SIGINT);
  set_disposition(SIGINT, SIG_DFL);
  corio::run([]() -> corio::task<> {
    EXPECT_EQ(disposition_of(SIGINT).sa_handler, SIG_DFL);
    co_return;
  }(), corio::run_options{.cancel_on_interrupt = false});
}

// A main task stuck in code that never suspends cannot be cancelled; the second Ctrl-C must
// still end the process, by SIGINT, the way it would end without corio.
TEST(run_death_test, a_second_sigint_restores_the_default_and_ends_the_process) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        set_disposition(SIGINT, SIG_DFL);
        corio::run([]() -> corio::task<> {
          ::raise(SIGINT);  // the first: cancels main, which does not suspend to notice
          ::raise(SIGINT);  // the second: the default action
          std::this_thread::sleep_for(5s);
          co_return;
        }());
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGINT), "");
}
