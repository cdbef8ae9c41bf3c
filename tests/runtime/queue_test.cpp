// tests/runtime/queue_test.cpp — corio::queue<T>.
#include "runtime/queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"

using namespace std::chrono_literals;

namespace {

using ints = std::vector<int>;

/// Gets one item and appends it to `out`.
corio::task<> get_into(corio::queue<int>& q, ints& out) { out.push_back(co_await q.get()); }

/// Puts `v`, then appends it to `done` (so the order in which puts completed shows).
corio::task<> put_and_note(corio::queue<int>& q, int v, ints& done) {
  co_await q.put(v);
  done.push_back(v);
}

/// Spawns `n` getters into `out`; all of them wait on `q` when this returns.
corio::task<std::vector<corio::join_handle<void>>> spawn_getters(corio::queue<int>& q, ints& out, int n) {
  std::vector<corio::join_handle<void>> getters;
  for (int i = 0; i < n; ++i) getters.push_back(corio::spawn(get_into(q, out)));
  co_await corio::sleep(1ms);
  co_return getters;
}

/// Swallows one cancellation, so that the task runs on while still cancelled, then awaits
/// `operation()` (which must throw corio::cancelled at once).
template <class Operation>
corio::task<> after_a_swallowed_cancel(Operation operation) {
  try {
    co_await corio::sleep(1h);
  } catch (const corio::cancelled&) {
  }
  (void)co_await operation();
}

/// Every item left in `q`, front first, taken without waiting.
ints drain(corio::queue<int>& q) {
  ints out;
  while (auto v = q.try_get()) out.push_back(*v);
  return out;
}

}  // namespace

CORIO_TEST(queue, items_come_out_in_the_order_they_were_put) {
  corio::queue<int> q;
  for (int i = 0; i < 100; ++i) co_await q.put(i);  // unbounded: never parks
  EXPECT_EQ(q.size(), 100u);
  EXPECT_FALSE(q.full());
  ints out;
  for (int i = 0; i < 100; ++i) out.push_back(co_await q.get());
  ints expected(100);
  for (int i = 0; i < 100; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(out, expected);
  EXPECT_TRUE(q.empty());
}

// FIFO pinned: waiters are served in the order they began to wait (documented), and the test
// sees that order through the order the woken tasks run, which only a FIFO ready queue keeps.
CORIO_TEST_WITH(queue, put_hands_its_item_straight_to_the_oldest_waiting_getter, corio::testing::fifo_order()) {
  corio::queue<int> q;
  ints out;
  auto getters = co_await spawn_getters(q, out, 2);
  EXPECT_TRUE(out.empty());
  co_await q.put(1);
  EXPECT_TRUE(q.empty()) << "the item goes to the getter, not into the queue";
  EXPECT_EQ(q.try_get(), std::nullopt) << "nobody can take it from under the getter";
  EXPECT_TRUE(out.empty()) << "the getter must not run inside put()";
  co_await q.put(2);
  co_await getters[0];
  co_await getters[1];
  EXPECT_EQ(out, (ints{1, 2}));
}

// FIFO pinned: waiters are served in the order they began to wait (documented), and the test
// sees that order through the order the woken tasks run, which only a FIFO ready queue keeps.
CORIO_TEST_WITH(queue, a_bounded_queue_parks_putters_while_full_and_lets_them_in_in_order, corio::testing::fifo_order()) {
  corio::queue<int> q(2);
  EXPECT_TRUE(q.try_put(1));
  EXPECT_TRUE(q.try_put(2));
  EXPECT_TRUE(q.full());
  int kept = 3;
  EXPECT_FALSE(q.try_put(kept));
  ints done;
  auto p3 = corio::spawn(put_and_note(q, 3, done));
  auto p4 = corio::spawn(put_and_note(q, 4, done));
  co_await corio::sleep(1ms);
  EXPECT_TRUE(done.empty()) << "a full queue must hold putters back";
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(q.size(), 2u) << "the slot freed by get goes to the oldest putter at once";
  EXPECT_FALSE(q.try_put(kept)) << "nobody can barge into that slot";
  co_await p3;
  EXPECT_EQ(done, (ints{3}));
  EXPECT_EQ(co_await q.get(), 2);
  co_await p4;
  EXPECT_EQ(drain(q), (ints{3, 4}));
}

CORIO_TEST(queue, try_put_and_try_get_never_wait) {
  corio::queue<std::unique_ptr<int>> q(1);
  EXPECT_EQ(q.try_get(), std::nullopt);
  EXPECT_TRUE(q.try_put(std::make_unique<int>(7)));
  auto spare = std::make_unique<int>(8);
  EXPECT_FALSE(q.try_put(std::move(spare)));
  EXPECT_NE(spare, nullptr) << "a refused try_put leaves the value with the caller";
  auto got = q.try_get();
  CORIO_ASSERT(got.has_value());
  EXPECT_EQ(**got, 7);
  co_return;
}

CORIO_TEST(queue, a_capacity_of_zero_is_refused) {
  EXPECT_THROW(corio::queue<int>(0), std::invalid_argument);
  co_return;
}

CORIO_TEST(queue, a_getter_cancelled_while_waiting_leaves_the_queue_at_once) {
  corio::queue<int> q;
  ints out;
  auto getters = co_await spawn_getters(q, out, 1);
  getters[0].cancel();
  EXPECT_TRUE(q.try_put(1));  // the cancelled getter has not resumed yet, but no longer waits
  EXPECT_EQ(q.size(), 1u) << "put must not hand its item to a cancelled getter";
  EXPECT_THROW(co_await getters[0], corio::cancelled);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(drain(q), (ints{1}));
}

CORIO_TEST(queue, an_already_cancelled_getter_throws_at_once_and_takes_no_item) {
  corio::queue<int> q;
  auto stubborn = corio::spawn(after_a_swallowed_cancel([&q] { return q.get(); }));
  co_await corio::yield();
  stubborn.cancel();
  EXPECT_THROW(co_await stubborn, corio::cancelled);
  co_await q.put(1);
  auto late = corio::spawn(after_a_swallowed_cancel([&q] { return q.get(); }));
  co_await corio::yield();
  late.cancel();
  EXPECT_THROW(co_await late, corio::cancelled);
  EXPECT_EQ(drain(q), (ints{1}));
}

CORIO_TEST(queue, an_item_handed_to_a_getter_cancelled_before_it_resumes_goes_to_the_next_getter) {
  corio::queue<int> q;
  ints out;
  auto getters = co_await spawn_getters(q, out, 2);
  co_await q.put(1);  // handed to `first`, which has not resumed yet
  getters[0].cancel();
  EXPECT_THROW(co_await getters[0], corio::cancelled);
  co_await getters[1];
  EXPECT_EQ(out, (ints{1}));
}

CORIO_TEST(queue, an_item_handed_to_a_getter_cancelled_before_it_resumes_returns_to_the_front) {
  corio::queue<int> q(2);
  ints out;
  auto getters = co_await spawn_getters(q, out, 1);
  co_await q.put(1);  // handed to the getter
  co_await q.put(2);  // these two fill the queue
  co_await q.put(3);
  getters[0].cancel();
  EXPECT_THROW(co_await getters[0], corio::cancelled);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(q.size(), 3u) << "the item returned goes in even though that exceeds the capacity";
  EXPECT_EQ(drain(q), (ints{1, 2, 3}));
}

CORIO_TEST(queue, a_putter_cancelled_while_waiting_leaves_the_queue_and_never_inserts_its_item) {
  corio::queue<int> q(1);
  co_await q.put(1);
  ints done;
  auto cancelled_one = corio::spawn(put_and_note(q, 2, done));
  auto other = corio::spawn(put_and_note(q, 3, done));
  co_await corio::sleep(1ms);
  cancelled_one.cancel();
  EXPECT_EQ(co_await q.get(), 1);  // the cancelled putter has not resumed yet, but no longer waits
  EXPECT_EQ(drain(q), (ints{3})) << "the freed slot goes to the next live putter";
  EXPECT_THROW(co_await cancelled_one, corio::cancelled);
  co_await other;
  EXPECT_EQ(done, (ints{3}));
  EXPECT_TRUE(q.empty());
}

CORIO_TEST(queue, an_already_cancelled_putter_inserts_nothing_even_with_room) {
  corio::queue<int> q;
  auto stubborn = corio::spawn(after_a_swallowed_cancel([&q] { return q.put(1); }));
  co_await corio::yield();
  stubborn.cancel();
  EXPECT_THROW(co_await stubborn, corio::cancelled);
  EXPECT_TRUE(q.empty());
}

CORIO_TEST(queue, a_put_accepted_before_its_task_was_cancelled_completes_and_the_next_wait_throws) {
  corio::queue<int> q(1);
  co_await q.put(1);
  ints done;
  auto putter = corio::spawn([](corio::queue<int>& qu, ints& d) -> corio::task<> {
    co_await qu.put(2);
    d.push_back(2);         // reached: the item went in, so put reports success
    co_await corio::yield();  // the cancellation surfaces here
    d.push_back(-1);
  }(q, done));
  co_await corio::sleep(1ms);
  EXPECT_EQ(co_await q.get(), 1);  // moves the putter's item in
  putter.cancel();
  EXPECT_THROW(co_await putter, corio::cancelled);
  EXPECT_EQ(done, (ints{2}));
  EXPECT_EQ(drain(q), (ints{2})) << "the accepted item is neither lost nor duplicated";
}

CORIO_TEST(queue, shutdown_refuses_puts_wakes_putters_and_lets_getters_drain_the_rest) {
  corio::queue<int> q(2);
  co_await q.put(1);
  co_await q.put(2);
  auto putter = corio::spawn([](corio::queue<int>& qu) -> corio::task<> { co_await qu.put(3); }(q));
  co_await corio::sleep(1ms);
  q.shutdown();
  EXPECT_TRUE(q.is_shut_down());
  EXPECT_THROW(co_await putter, corio::queue_shut_down);
  EXPECT_THROW(co_await q.put(4), corio::queue_shut_down);
  EXPECT_THROW((void)q.try_put(4), corio::queue_shut_down);
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(q.try_get(), 2);
  EXPECT_THROW((void)co_await q.get(), corio::queue_shut_down);
  EXPECT_THROW((void)q.try_get(), corio::queue_shut_down);
}

CORIO_TEST(queue, shutdown_wakes_every_waiting_getter_with_queue_shut_down) {
  corio::queue<int> q;
  ints out;
  auto getters = co_await spawn_getters(q, out, 2);
  q.shutdown();
  EXPECT_THROW(co_await getters[0], corio::queue_shut_down);
  EXPECT_THROW(co_await getters[1], corio::queue_shut_down);
  EXPECT_TRUE(out.empty());
}

CORIO_TEST(queue, an_immediate_shutdown_drops_the_items_so_every_get_throws) {
  corio::queue<int> q;
  co_await q.put(1);
  co_await q.put(2);
  q.shutdown(/*immediate=*/true);
  EXPECT_TRUE(q.empty());
  EXPECT_THROW((void)co_await q.get(), corio::queue_shut_down);
  try {
    (void)q.try_get();
    ADD_FAILURE() << "try_get on a drained, shut-down queue must throw";
  } catch (const std::exception& e) {  // catchable as std::exception, with a clear message
    EXPECT_NE(std::string(e.what()).find("shut down"), std::string::npos) << e.what();
  }
}

TEST(queue, an_item_handed_to_a_frame_destroyed_before_it_resumes_returns_to_the_queue) {
  corio::queue<std::string> q;
  {
    corio::event_loop loop;
    auto getter = corio::detail::spawn_on(loop, [](corio::queue<std::string>& qu) -> corio::task<> {
      (void)co_await qu.get();
    }(q), "getter", corio::source_location::current());
    loop.run_once();  // the getter parks
    ASSERT_TRUE(q.try_put("precious"));  // handed to the getter, which never resumes
    EXPECT_TRUE(q.empty());
    getter.detach();
  }
  EXPECT_EQ(q.try_get(), "precious");
}

CORIO_TEST(queue, every_item_from_several_producers_reaches_exactly_one_consumer) {
  constexpr int producers = 4;
  constexpr int consumers = 3;
  constexpr int per_producer = 500;
  corio::queue<int> q(8);
  std::vector<int> seen(producers * per_producer, 0);
  std::vector<corio::join_handle<void>> consumer_tasks;
  for (int c = 0; c < consumers; ++c) {
    consumer_tasks.push_back(corio::spawn([](corio::queue<int>& qu, std::vector<int>& s) -> corio::task<> {
      try {
        for (;;) ++s[static_cast<std::size_t>(co_await qu.get())];
      } catch (const corio::queue_shut_down&) {
      }
    }(q, seen)));
  }
  std::vector<corio::join_handle<void>> producer_tasks;
  for (int p = 0; p < producers; ++p) {
    producer_tasks.push_back(corio::spawn([](corio::queue<int>& qu, int first) -> corio::task<> {
      for (int i = 0; i < per_producer; ++i) {
        co_await qu.put(first + i);
        if (i % 7 == 0) co_await corio::yield();  // vary the interleaving
      }
    }(q, p * per_producer)));
  }
  for (auto& t : producer_tasks) co_await t;
  q.shutdown();  // consumers take what is left, then stop
  for (auto& t : consumer_tasks) co_await t;
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), producers * per_producer);
}
