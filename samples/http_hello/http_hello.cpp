// samples/http_hello — the TechEmpower "plaintext" server: every request gets "Hello, World!".
//
//   http_hello --port 8080      (--port 0: the kernel picks a free port)
//   curl -i http://127.0.0.1:8080/
//
// The first line printed is exactly "listening on 127.0.0.1:PORT" (flushed at once), so a
// script can start it with port 0 and read the port back. It serves until SIGINT or SIGTERM:
// corio::run turns either into a cancellation of the main task, which closes the listener and
// cancels every connection before the process exits with status 0.
//
// Keep-alive and pipelining come from corio::http::server; this file is only the handler. It is
// also the subject of the HTTP peer benchmark (/work/shared/peers, workload "http"), so the
// handler allocates as little as it can: it takes the request by reference (the server keeps it
// alive until the handler completes, and then reuses its storage for the next request), and the
// body is short enough for the string's own buffer.
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <system_error>

#include <corio.hpp>

#include "../common/server_main.hpp"
#include "io/http/server.hpp"

namespace http = corio::http;
namespace net = corio::net;

namespace {

corio::task<http::response> hello(const http::request&) {
  http::response res;
  res.headers.add("Content-Type", "text/plain");
  res.body = "Hello, World!";
  co_return res;
}

corio::task<> serve(std::uint16_t port) {
  http::server server(net::address::loopback(port), hello);
  std::printf("listening on %s\n", server.local_address().to_string().c_str());
  std::fflush(stdout);
  co_await server.serve_forever();  // until SIGINT/SIGTERM cancel this task
}

}  // namespace

int main(int argc, char** argv) { return samples::server_main(argc, argv, "http_hello", serve); }
