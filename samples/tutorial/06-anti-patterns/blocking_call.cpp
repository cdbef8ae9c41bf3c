// One task makes a blocking call, and every other task waits with it. Run it with CORIO_DEBUG=1
// and debug mode names the task that held the loop.
#include <chrono>
#include <cstdio>
#include <thread>
#include <corio.hpp>
using namespace std::chrono_literals;

corio::task<> worker(bool blocking) {
  co_await corio::sleep(10ms);
  if (blocking)
    std::this_thread::sleep_for(300ms);  // the mistake: the whole thread stops for 300 ms
  else
    co_await corio::sleep(300ms);  // the fix: only this task waits
}

corio::task<> beside(const char* label, bool blocking) {
  corio::event_loop& loop = *corio::event_loop::current();
  corio::join_handle<void> work = corio::spawn(worker(blocking), "worker");
  const corio::time_point start = loop.now();
  co_await corio::sleep(20ms);  // a task of our own that wants to wake up in 20 ms
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(loop.now() - start);
  std::printf("%s: a 20 ms sleep in another task took %lld ms\n", label, static_cast<long long>(took.count()));
  co_await work;
}

int main() {
  corio::run(beside("std::this_thread::sleep_for", true));
  corio::run(beside("co_await corio::sleep", false));
}
