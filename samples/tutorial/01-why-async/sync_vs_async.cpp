// Three "requests" that each wait 100 ms: first one after the other with a blocking sleep, then
// all at once with corio::sleep. Prints how long each way took.
#include <chrono>
#include <cstdio>
#include <thread>
#include <corio.hpp>
using namespace std::chrono_literals;
using wall_clock = std::chrono::steady_clock;

void fetch_blocking(int id) {
  std::this_thread::sleep_for(100ms);  // the whole thread waits: nothing else can run
  std::printf("  blocking request %d done\n", id);
}

corio::task<> fetch_async(int id) {
  co_await corio::sleep(100ms);  // only this task waits: the loop runs the others meanwhile
  std::printf("  async request %d done\n", id);
}

double seconds_since(wall_clock::time_point start) {
  return std::chrono::duration<double>(wall_clock::now() - start).count();
}

int main() {
  auto start = wall_clock::now();
  for (int id = 1; id <= 3; ++id) fetch_blocking(id);
  const double blocking = seconds_since(start);
  std::printf("blocking: 3 requests in %.3f s\n", blocking);

  start = wall_clock::now();
  corio::run(corio::gather(fetch_async(1), fetch_async(2), fetch_async(3)));
  const double async = seconds_since(start);
  std::printf("corio:    3 requests in %.3f s\n", async);
  std::printf("speed-up: %.1fx\n", blocking / async);
}
