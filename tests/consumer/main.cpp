// Exits 0 only if corio's headers, library and dependencies all resolve and work.
#include <chrono>
#include <cstdio>

#include <corio.hpp>

corio::task<int> answer() {
  co_await corio::sleep(std::chrono::milliseconds(1));
  co_return 42;
}

int main() {
  auto [a, b] = corio::run(corio::gather(answer(), answer()));
  std::printf("consumer: corio works (%d)\n", a + b - 42);
  return a + b == 84 ? 0 : 1;
}
