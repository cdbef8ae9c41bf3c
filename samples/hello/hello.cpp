#include <chrono>
#include <cstdio>
#include <corio.hpp>
using namespace std::chrono_literals;

corio::task<> fetch_data() {
  std::puts("Fetching data...");
  co_await corio::sleep(2s);  // while this task waits, the loop runs the other one
  std::puts("Data fetched!");
}

corio::task<> process_data() {
  std::puts("Processing data...");
  co_await corio::sleep(1s);
  std::puts("Data processed!");
}

int main() { corio::run(corio::gather(fetch_data(), process_data())); }
