// Needless async, and its dangerous cousin: a coroutine called without co_await never runs.
// Run it with CORIO_DEBUG=1 and debug mode reports the task that was never awaited.
#include <cstdio>
#include <corio.hpp>

int add(int a, int b) { return a + b; }                               // all it needs to be
corio::task<int> add_async(int a, int b) { co_return a + b; }        // needless: it never awaits

corio::task<> async_main() {
  auto forgotten = add_async(1, 2);  // the mistake: no co_await, so the body never runs
  const int awaited = co_await add_async(1, 2);
  std::printf("plain: %d, awaited: %d\n", add(1, 2), awaited);
}  // `forgotten` is destroyed here, its body never run

int main() { corio::run(async_main()); }
