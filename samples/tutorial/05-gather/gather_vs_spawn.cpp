// Three ways to wait for two 100 ms jobs: one after the other, spawned (create_task) and then
// awaited, or together with gather.
#include <chrono>
#include <cstdio>
#include <string>
#include <corio.hpp>
using namespace std::chrono_literals;

corio::task<std::string> fetch_user(int id) {
  co_await corio::sleep(100ms);
  co_return "user" + std::to_string(id);
}

corio::task<int> fetch_order_count(int id) {
  co_await corio::sleep(100ms);
  co_return id * 3;
}

corio::task<> async_main() {
  corio::event_loop& loop = *corio::event_loop::current();
  corio::time_point start = loop.now();
  auto elapsed_ms = [&] {  // since `start`, which each part resets
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(loop.now() - start).count());
  };

  const std::string a = co_await fetch_user(1);  // one after the other: 200 ms
  const int b = co_await fetch_order_count(1);
  std::printf("sequential: %s, %d orders, in %lld ms\n", a.c_str(), b, elapsed_ms());

  start = loop.now();
  auto user = corio::spawn(fetch_user(2));  // both start on the next turn: 100 ms
  auto orders = corio::spawn(fetch_order_count(2));
  const std::string c = co_await user;
  const int d = co_await orders;
  std::printf("spawned:    %s, %d orders, in %lld ms\n", c.c_str(), d, elapsed_ms());

  start = loop.now();
  auto [e, f] = co_await corio::gather(fetch_user(3), fetch_order_count(3));  // also 100 ms
  std::printf("gather:     %s, %d orders, in %lld ms\n", e.c_str(), f, elapsed_ms());
}

int main() { corio::run(async_main()); }
