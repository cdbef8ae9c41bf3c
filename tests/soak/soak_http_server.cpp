// tests/soak/soak_http_server.cpp — the HTTP half of the soak's server (scripts/soak.sh):
// samples/http_hello's "Hello, World!" on corio::http::server, with a header timeout short
// enough that a soak of a few seconds sees slowloris connections reach it.
//
//   soak_http_server --port 0 [--header-timeout-ms 3000]
//
// Like the samples, the first line printed is exactly "listening on 127.0.0.1:PORT", and
// SIGINT / SIGTERM stop it (corio::run cancels serving; every connection is cancelled and
// awaited). Then it prints the server's counters as one line, for the script:
//
//   STATS connections=... requests=... timed_out=... error_responses=... ...
//
// and exits 0. A bad command line exits 2, any other error 1.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>

#include <corio.hpp>

#include "io/http/server.hpp"
#include "soak/soak_common.hpp"

namespace http = corio::http;
namespace net = corio::net;

namespace {

struct options {
  std::uint16_t port = 0;
  std::uint64_t header_timeout_ms = 3000;
};

corio::task<http::response> hello(http::request) {
  http::response res;
  res.headers.add("Content-Type", "text/plain");
  res.body = "Hello, World!";
  co_return res;
}

void print_stats(const http::server_stats& s) {
  soak::print_fields("STATS", {{"connections", s.connections},
                               {"refused", s.refused},
                               {"requests", s.requests},
                               {"error_responses", s.error_responses},
                               {"handler_failures", s.handler_failures},
                               {"timed_out", s.timed_out},
                               {"aborted_responses", s.aborted_responses}});
}

corio::task<> serve(options o) {
  http::server_options server_options;
  server_options.header_timeout = std::chrono::milliseconds(o.header_timeout_ms);
  http::server server(net::address::loopback(o.port), hello, server_options);
  std::printf("listening on %s\n", server.local_address().to_string().c_str());
  std::fflush(stdout);
  try {
    co_await server.serve_forever();  // until SIGINT/SIGTERM cancel this task
  } catch (const corio::cancelled&) {
    print_stats(server.stats());  // every connection has ended by now
    throw;
  }
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  const soak::flag flags[] = {{"--port", soak::number_into(o.port), true},
                              {"--header-timeout-ms", soak::number_into(o.header_timeout_ms, std::uint64_t{1})}};
  if (!soak::parse_flags(argc, argv, flags)) {
    std::fputs("usage: soak_http_server --port PORT [--header-timeout-ms MS]   (port 0: any free port)\n", stderr);
    return 2;
  }
  try {
    corio::run(serve(o));
  } catch (const corio::cancelled&) {
    return 0;  // SIGINT/SIGTERM
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak_http_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
