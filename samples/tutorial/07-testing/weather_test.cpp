// Testing async code: CORIO_TEST runs a coroutine test body on a loop with a manual clock, and
// corio::testing's actions let a gmock mock return tasks (Python's AsyncMock).
#include <chrono>
#include <stdexcept>
#include <string>
#include <corio.hpp>
#include <gmock/gmock.h>
#include <runtime/testing.hpp>
#include <runtime/testing_mock.hpp>
using namespace std::chrono_literals;

// The code under test talks to a weather service through this interface.
struct weather_service {
  virtual ~weather_service() = default;
  virtual corio::task<int> temperature(std::string city) = 0;
};

// Asks the service, but gives up after 2 seconds.
corio::task<std::string> describe(weather_service& service, std::string city) {
  try {
    const int celsius = co_await corio::timeout(2s, service.temperature(city));
    co_return city + ": " + std::to_string(celsius) + " C";
  } catch (const corio::timeout_error&) {
    co_return city + ": no answer";
  }
}

struct mock_weather_service : weather_service {
  MOCK_METHOD(corio::task<int>, temperature, (std::string city), (override));
};

using corio::testing::returns_after;
using corio::testing::returns_async;
using corio::testing::throws_async;

CORIO_TEST(describe, reports_the_temperature) {
  mock_weather_service service;
  EXPECT_CALL(service, temperature("Oslo")).WillOnce(returns_async(-3));
  EXPECT_EQ(co_await describe(service, "Oslo"), "Oslo: -3 C");
}

CORIO_TEST(describe, gives_up_after_exactly_two_seconds) {
  mock_weather_service service;
  EXPECT_CALL(service, temperature("Lima")).WillOnce(returns_after(1h, 19));  // a hung service
  const corio::time_point start = corio::event_loop::current()->now();
  EXPECT_EQ(co_await describe(service, "Lima"), "Lima: no answer");
  EXPECT_EQ(corio::event_loop::current()->now() - start, 2s);  // virtual time: no real wait
}

CORIO_TEST(describe, lets_other_failures_through) {
  mock_weather_service service;
  EXPECT_CALL(service, temperature("Rome")).WillOnce(throws_async(std::runtime_error("503")));
  bool failed = false;
  try {
    (void)co_await describe(service, "Rome");
  } catch (const std::runtime_error&) {
    failed = true;
  }
  EXPECT_TRUE(failed);
}
