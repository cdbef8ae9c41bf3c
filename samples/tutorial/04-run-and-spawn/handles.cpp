// What happens to a spawned task whose join_handle is not awaited: dropped, detached, or still
// running when main returns.
#include <chrono>
#include <cstdio>
#include <corio.hpp>
using namespace std::chrono_literals;

corio::task<> background(const char* name, corio::duration work) {
  try {
    co_await corio::sleep(work);
    std::printf("%s: finished\n", name);
  } catch (const corio::cancelled&) {
    std::printf("%s: cancelled\n", name);
    throw;
  }
}

corio::task<> async_main() {
  {
    corio::join_handle<void> handle = corio::spawn(background("dropped", 50ms));
    co_await corio::yield();  // it starts, and parks in its sleep
  }  // the handle dies here unawaited: the task is cancelled (never silently left running)

  corio::spawn(background("detached", 50ms)).detach();  // runs on its own
  corio::spawn(background("left behind", 1h)).detach();  // still asleep when main returns

  co_await corio::sleep(200ms);  // long after "detached" is done
  std::puts("main: returning");
}  // corio::run now cancels what is left, and waits until it has unwound

int main() {
  corio::run(async_main());
  std::puts("run: returned");
}
