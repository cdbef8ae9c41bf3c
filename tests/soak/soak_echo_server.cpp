// tests/soak/soak_echo_server.cpp — the echo server of the soak (scripts/soak.sh): the same
// server as samples/echo_server (one task per connection, read what is there, write it all
// back), with one difference that matters for the RSS figure.
//
//   soak_echo_server --port 0      (prints "listening on 127.0.0.1:PORT"; SIGTERM ends it, status 0)
//
// The sample takes its 64 KiB buffer with make_unique_for_overwrite: its pages become resident
// only as reads first write into them. Under the soak's churn that makes the RSS creep up for
// tens of seconds (freed buffers come back to later connections and get touched further by
// bigger reads) — growth that is not a leak, but would hide one. Here the buffer is zero-filled
// when the connection starts, so a connection costs the same from its first moment and the
// server's RSS is flat as soon as every connection is open: any growth after that is real.
#include <cstdint>
#include <cstdio>
#include <system_error>
#include <vector>

#include <corio.hpp>

#include "io/server.hpp"
#include "samples/common/server_main.hpp"

namespace net = corio::net;

namespace {

constexpr std::size_t buffer_size = 64 * 1024;

corio::task<> echo(net::stream_socket s) {
  std::vector<char> buffer(buffer_size);  // zero-filled: resident at once (see the top)
  try {
    while (auto n = co_await s.read_some(buffer)) co_await s.write_all({buffer.data(), *n});
  } catch (const std::system_error&) {
    // A reset from the client (the soak resets one connection in ten on purpose), or a write
    // to a client that is gone: the connection ends, nothing else.
  }
}

corio::task<> serve(std::uint16_t port) {
  net::server server(net::address::loopback(port), echo);
  std::printf("listening on %s\n", server.local_address().to_string().c_str());
  std::fflush(stdout);
  co_await server.serve_forever();  // until SIGINT/SIGTERM cancel this task
}

}  // namespace

int main(int argc, char** argv) { return samples::server_main(argc, argv, "soak_echo_server", serve); }
