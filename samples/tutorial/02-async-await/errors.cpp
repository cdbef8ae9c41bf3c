// An exception that escapes a task is rethrown where the task is awaited, as in asyncio.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <corio.hpp>

corio::task<int> parse_port(const char* text) {
  const int port = std::atoi(text);
  if (port <= 0 || port > 65535) throw std::invalid_argument(std::string("bad port: ") + text);
  co_return port;
}

corio::task<> configure() {
  std::printf("port %d\n", co_await parse_port("8080"));
  try {
    std::printf("port %d\n", co_await parse_port("http"));
  } catch (const std::invalid_argument& e) {
    std::printf("caught: %s\n", e.what());
  }
}

int main() { corio::run(configure()); }
