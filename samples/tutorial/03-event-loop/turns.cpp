// Two tasks that each give the loop back after every step: the ready queue is first in, first
// out, so they take turns. Nothing runs in parallel; they interleave at each co_await.
#include <cstdio>
#include <corio.hpp>

corio::task<> worker(const char* name, int steps) {
  for (int step = 1; step <= steps; ++step) {
    std::printf("%s: step %d\n", name, step);
    co_await corio::yield();  // asyncio.sleep(0): to the back of the ready queue
  }
}

int main() { corio::run(corio::gather(worker("A", 3), worker("B", 3))); }
