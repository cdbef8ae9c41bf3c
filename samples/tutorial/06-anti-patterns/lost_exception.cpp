// A detached task that fails has nobody to rethrow its exception to. corio never drops it
// silently: it logs it when the task ends. Awaiting the handle is how you get it back.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <corio.hpp>
using namespace std::chrono_literals;

corio::task<> send_report() {
  co_await corio::sleep(10ms);
  throw std::runtime_error("mail server refused");
}

corio::task<> async_main() {
  corio::spawn(send_report(), "fire and forget").detach();  // the error has nowhere to go
  co_await corio::sleep(50ms);

  corio::join_handle<void> report = corio::spawn(send_report(), "awaited");
  try {
    co_await report;  // the error comes back here, and nothing is logged
  } catch (const std::runtime_error& e) {
    std::printf("main: caught '%s'\n", e.what());
  }
}

int main() { corio::run(async_main()); }
