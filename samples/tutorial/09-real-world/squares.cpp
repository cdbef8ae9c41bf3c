// A small HTTP service and a client session that fetches from it concurrently. The service
// answers /square/<n> with n * n after 50 ms; the client asks for 1 to 20 through a connection
// pool of at most 5 connections.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>
#include <corio.hpp>
#include <io/http/client.hpp>
#include <io/http/server.hpp>
using namespace std::chrono_literals;
namespace http = corio::http;
using wall_clock = std::chrono::steady_clock;

corio::task<http::response> handle(http::request request) {
  http::response response;
  const std::string prefix = "/square/";
  if (!request.target.starts_with(prefix)) {
    response.status = 404;
    response.body = "try /square/12\n";
    co_return response;
  }
  const long n = std::stol(request.target.substr(prefix.size()));
  co_await corio::sleep(50ms);  // pretend to ask something slow, a database say
  response.headers.add("Content-Type", "text/plain");
  response.body = std::to_string(n * n);
  co_return response;
}

corio::task<long> fetch_square(http::client_session& session, std::string url) {
  http::client_response reply = co_await session.get(url);
  const std::string body = co_await reply.text();
  if (reply.status() != 200) throw std::runtime_error(url + " answered " + std::to_string(reply.status()));
  co_return std::stol(body);
}

corio::task<> async_main() {
  http::server server(corio::net::address::loopback(0), handle);  // port 0: the kernel picks one
  corio::join_handle<void> serving = corio::spawn(server.serve_forever(), "server");
  const std::string base = "http://" + server.local_address().to_string() + "/square/";

  http::client_options options;
  options.limit = 5;  // at most 5 connections open at once; the other requests wait their turn
  http::client_session session(options);
  std::vector<corio::task<long>> fetches;
  for (int n = 1; n <= 20; ++n) fetches.push_back(fetch_square(session, base + std::to_string(n)));

  const auto start = wall_clock::now();
  const std::vector<long> squares = co_await corio::gather(std::move(fetches));
  const double seconds = std::chrono::duration<double>(wall_clock::now() - start).count();
  long sum = 0;
  for (const long square : squares) sum += square;
  std::printf("first: %ld, last: %ld, sum: %ld\n", squares.front(), squares.back(), sum);
  std::printf("20 requests of 50 ms over 5 connections: %.3f s\n", seconds);

  session.close();
  server.close();  // graceful: stops accepting, lets open connections finish
  co_await serving;
  std::puts("server closed");
}

int main() { corio::run(async_main()); }
