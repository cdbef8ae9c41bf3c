// async def / await in corio: a task<T> is a coroutine that produces a T. Calling it runs
// nothing yet; co_await runs it and hands back its result.
#include <cstdio>
#include <string>
#include <utility>
#include <corio.hpp>

corio::task<int> add(int a, int b) {
  std::puts("  add runs");
  co_return a + b;
}

corio::task<std::string> greet(std::string name) {
  std::puts("greet starts");
  corio::task<int> pending = add(1, 2);      // the frame exists, but add has not started
  std::puts("add(1, 2) called, nothing ran yet");
  const int sum = co_await std::move(pending);  // runs add now, inside greet, and takes 3
  co_return "hello " + name + ", 1 + 2 = " + std::to_string(sum);
}

int main() {
  const std::string text = corio::run(greet("corio"));  // asyncio.run(greet("corio"))
  std::puts(text.c_str());
}
