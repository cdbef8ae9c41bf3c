// samples/echo_server — a TCP echo server: one loop, one task per connection.
//
//   echo_server --port 7000      (--port 0: the kernel picks a free port)
//
// The first line printed is exactly "listening on 127.0.0.1:PORT" (flushed at once), so a
// script can start it with port 0 and read the port back. It serves until SIGINT or SIGTERM:
// corio::run turns either into a cancellation of the main task, which closes the listener and
// cancels every connection's handler before the process exits with status 0.
//
// It is also the subject of the peer benchmarks (/work/shared/peers, README "Adding a new
// runtime"), so the handler is the fast path: the raw socket, one 64 KiB buffer per connection,
// read what is there, write it all back. TCP_NODELAY is already set by accept.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>
#include <system_error>

#include <corio.hpp>

#include "../common/server_main.hpp"
#include "io/server.hpp"

namespace net = corio::net;

namespace {

constexpr std::size_t buffer_size = 64 * 1024;

corio::task<> echo(net::stream_socket s) {
  const auto buffer = std::make_unique_for_overwrite<char[]>(buffer_size);
  try {
    while (auto n = co_await s.read_some({buffer.get(), buffer_size})) co_await s.write_all({buffer.get(), *n});
  } catch (const std::system_error&) {
    // A client that resets or vanishes mid-stream ends its connection, nothing more: for an
    // echo server that is ordinary, not an error worth a log line per connection.
  }
}

corio::task<> serve(std::uint16_t port) {
  net::server server(net::address::loopback(port), echo);
  std::printf("listening on %s\n", server.local_address().to_string().c_str());
  std::fflush(stdout);
  co_await server.serve_forever();  // until SIGINT/SIGTERM cancel this task
}

}  // namespace

int main(int argc, char** argv) { return samples::server_main(argc, argv, "echo_server", serve); }
