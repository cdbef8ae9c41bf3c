// When one task in a gather fails, gather cancels the others, waits until they have unwound,
// and then rethrows the first error. gather_settled instead lets every task finish.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <corio.hpp>
using namespace std::chrono_literals;

corio::task<int> slow_ok() {
  try {
    co_await corio::sleep(1s);
  } catch (const corio::cancelled&) {
    std::puts("  slow_ok: cancelled, cleaning up");
    throw;  // a cancelled task must let corio::cancelled go on
  }
  std::puts("  slow_ok: finished");
  co_return 1;
}

corio::task<int> fails_soon() {
  co_await corio::sleep(10ms);
  throw std::runtime_error("fails_soon broke");
}

corio::task<> async_main() {
  std::puts("gather:");
  try {
    co_await corio::gather(slow_ok(), fails_soon());
  } catch (const std::runtime_error& e) {
    std::printf("  caught: %s\n", e.what());
  }

  std::puts("gather_settled:");
  auto [ok, failed] = co_await corio::gather_settled(slow_ok(), fails_soon());
  std::printf("  first: %d, second failed: %s\n", ok.value(), failed.has_value() ? "no" : "yes");
}

int main() { corio::run(async_main()); }
