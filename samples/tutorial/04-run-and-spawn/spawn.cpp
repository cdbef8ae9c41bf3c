// corio::spawn (asyncio.create_task) starts a task that runs while its spawner goes on; the
// join_handle it returns is how you get the result, or cancel the task.
#include <chrono>
#include <cstdio>
#include <corio.hpp>
using namespace std::chrono_literals;

corio::task<int> slow_square(int x) {
  co_await corio::sleep(100ms);
  co_return x * x;
}

corio::task<> ticker() {
  const corio::time_point start = corio::event_loop::current()->now();
  for (int tick = 1;; ++tick) {  // forever: it stops only when cancelled
    co_await corio::sleep_until(start + tick * 40ms);  // fixed deadlines: a late tick is not carried over
    std::printf("tick %d\n", tick);
  }
}

corio::task<int> async_main() {
  corio::join_handle<int> square = corio::spawn(slow_square(7), "square");
  corio::join_handle<void> ticks = corio::spawn(ticker(), "ticker");
  std::puts("both spawned, neither has started yet");
  const int value = co_await square;  // main waits here; the ticker runs meanwhile
  std::printf("square = %d\n", value);
  ticks.cancel();  // its sleep throws corio::cancelled inside ticker()
  try {
    co_await ticks;
  } catch (const corio::cancelled&) {
    std::puts("ticker cancelled");
  }
  co_return value;
}

int main() { return corio::run(async_main()) == 49 ? 0 : 1; }
