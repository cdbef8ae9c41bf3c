// tests/runtime/cancel_every_await_test.cpp — gather, task_group and a queue's producer and
// consumer, cancelled at each of their suspension points in turn (runtime/testing_cancel.hpp);
// and the helper itself, shown to catch a swallowed cancellation, a leaked task and a leaked fd.
#include <gtest/gtest.h>
#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing_cancel.hpp"

using namespace std::chrono_literals;
using corio::testing::cancel_at_every_await;
using corio::testing::cancel_run;

namespace {

// Children of gather and task_group count how they end, so a check can tell that every child
// that started also ended, one way or the other.
struct worker_counts {
  int started = 0;
  int finished = 0;
  int unwound = 0;  // left with corio::cancelled
};

corio::task<int> worker(worker_counts& counts, int id) {
  ++counts.started;
  try {
    for (int step = 0; step < 2; ++step) {
      co_await corio::sleep(std::chrono::milliseconds(id + 1));
      co_await corio::yield();
    }
  } catch (const corio::cancelled&) {
    ++counts.unwound;
    throw;
  }
  ++counts.finished;
  co_return id * 10;
}

void expect_every_started_worker_ended(const worker_counts& counts) {
  EXPECT_EQ(counts.started, counts.finished + counts.unwound) << "a worker neither finished nor unwound";
}

struct gather_state {
  worker_counts counts;
  std::vector<int> results;
};

}  // namespace

TEST(cancel_every_await, gather_cancels_and_awaits_every_child_at_each_point) {
  const auto report = cancel_at_every_await<gather_state>(
      [](gather_state& s) -> corio::task<> {
        auto values = co_await corio::gather(worker(s.counts, 0), worker(s.counts, 1), worker(s.counts, 2));
        s.results = {std::get<0>(values), std::get<1>(values), std::get<2>(values)};
      },
      [](gather_state& s, const cancel_run& run) {
        expect_every_started_worker_ended(s.counts);
        if (run.cancelled()) {
          EXPECT_TRUE(s.results.empty()) << "gather returned although cancelled";
        } else {
          EXPECT_EQ(s.results, (std::vector<int>{0, 10, 20}));
          EXPECT_EQ(s.counts.finished, 3);
        }
      });
  EXPECT_GT(report.suspension_points, 10u);
  // The manual clock makes runs repeat exactly, and every point is one where the root waits.
  EXPECT_EQ(report.surfaced, report.suspension_points);
}

namespace {

struct group_state {
  worker_counts counts;
  bool body_finished = false;
};

}  // namespace

TEST(cancel_every_await, task_group_cancels_the_body_and_every_child_at_each_point) {
  const auto report = cancel_at_every_await<group_state>(
      [](group_state& s) -> corio::task<> {
        const auto body = [&s](corio::task_group& group) -> corio::task<> {
          for (int id = 0; id < 3; ++id) {
            group.spawn(worker(s.counts, id));
            co_await corio::yield();
          }
          co_await corio::sleep(2ms);
          s.body_finished = true;
        };
        co_await corio::task_group::run(body);
      },
      [](group_state& s, const cancel_run& run) {
        expect_every_started_worker_ended(s.counts);
        if (!run.cancelled()) {
          EXPECT_TRUE(s.body_finished);
          EXPECT_EQ(s.counts.finished, 3);
        }
      });
  EXPECT_GT(report.suspension_points, 10u);
  EXPECT_EQ(report.surfaced, report.suspension_points);
}

namespace {

constexpr int items_to_produce = 8;

// A bounded queue between a producer and a consumer: both park (on a full and on an empty
// queue), so every kind of queue wait is a suspension point somewhere in the runs.
struct queue_state {
  corio::queue<int> items{2};
  std::vector<int> produced;  // put() returned: the item is in the queue (or was consumed)
  std::vector<int> consumed;
};

corio::task<> produce(queue_state& s) {
  for (int item = 0; item < items_to_produce; ++item) {
    co_await s.items.put(item);
    s.produced.push_back(item);
    if (item % 3 == 0) co_await corio::sleep(1ms);
  }
  s.items.shutdown();
}

corio::task<> consume(queue_state& s) {
  for (;;) {
    try {
      const int item = co_await s.items.get();
      s.consumed.push_back(item);
    } catch (const corio::queue_shut_down&) {
      co_return;
    }
    co_await corio::yield();
  }
}

}  // namespace

TEST(cancel_every_await, a_queue_loses_no_item_when_its_producer_and_consumer_are_cancelled_anywhere) {
  const auto report = cancel_at_every_await<queue_state>(
      [](queue_state& s) -> corio::task<> { co_await corio::gather(produce(s), consume(s)); },
      [](queue_state& s, const cancel_run& run) {
        // No item lost or duplicated, and FIFO kept: what was consumed, then what is still
        // queued, is exactly what the producer put, in order.
        std::vector<int> accounted = s.consumed;
        while (!s.items.empty()) accounted.push_back(*s.items.try_get());
        EXPECT_EQ(accounted, s.produced);
        if (!run.cancelled()) {
      EXPECT_EQ(s.consumed.size(), static_cast<std::size_t>(items_to_produce));
    }
      });
  EXPECT_GT(report.suspension_points, 2u * items_to_produce);
  EXPECT_EQ(report.surfaced, report.suspension_points);
}

// --- the helper catches what it is for (each of these runs must fail) ---

namespace {

struct no_state {};

void check_nothing(no_state&, const cancel_run&) {}

void run_a_scenario_that_swallows_its_cancellation() {
  (void)cancel_at_every_await<no_state>(
      [](no_state&) -> corio::task<> {
        try {
          co_await corio::sleep(1ms);
        } catch (const corio::cancelled&) {
          // swallowed: the bug the helper must find
        }
      },
      check_nothing);
}

corio::task<> sleep_for_an_hour() { co_await corio::sleep(1h); }

void run_a_scenario_that_leaves_a_task_behind() {
  (void)cancel_at_every_await<no_state>(
      [](no_state&) -> corio::task<> {
        corio::spawn(sleep_for_an_hour(), "left behind").detach();
        co_await corio::yield();
      },
      check_nothing);
}

void run_a_scenario_that_leaks_a_descriptor() {
  (void)cancel_at_every_await<no_state>(
      [](no_state&) -> corio::task<> {
        co_await corio::yield();
        (void)::dup(STDERR_FILENO);  // never closed
      },
      check_nothing);
}

}  // namespace

// Every failure `run` reports, intercepted (they do not fail this test), as text.
template <class F>
std::string failures_of(F run) {
  ::testing::TestPartResultArray results;
  {
    const ::testing::ScopedFakeTestPartResultReporter intercept(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    run();
  }
  std::string text;
  for (int i = 0; i < results.size(); ++i) text += std::string(results.GetTestPartResult(i).message()) + "\n";
  return text;
}

TEST(cancel_every_await, reports_a_swallowed_cancellation) {
  EXPECT_THAT(failures_of(run_a_scenario_that_swallows_its_cancellation), ::testing::HasSubstr("cancellation swallowed"));
}

TEST(cancel_every_await, reports_a_task_left_running) {
  EXPECT_THAT(failures_of(run_a_scenario_that_leaves_a_task_behind), ::testing::HasSubstr("left tasks running"));
}

TEST(cancel_every_await, reports_a_leaked_descriptor) {
  EXPECT_THAT(failures_of(run_a_scenario_that_leaks_a_descriptor), ::testing::HasSubstr("descriptors leaked"));
}
