// tests/soak/soak_echo_server.cpp — the echo server of the soak (scripts/soak.sh): the server of
// samples/echo_server (one task per connection: read what is there, write it all back), plus
// counters, and with its buffers resident from the start.
//
//   soak_echo_server --port 0      (prints "listening on 127.0.0.1:PORT"; SIGTERM ends it, status 0)
//
// When SIGINT or SIGTERM stops it (corio::run cancels serving; every connection is cancelled
// and awaited), it prints one line for the script before it exits 0:
//
//   STATS connections=... ended_by_eof=... ended_by_error=...
//
// so the script can check that it accepted every connection the client opened, and that each
// one ended: by the client's FIN, or by an error (the client's resets).
//
// The buffer: the sample takes its 64 KiB with make_unique_for_overwrite, whose pages become
// resident only as reads first write into them. Under the soak's churn that makes the RSS creep
// up for tens of seconds (freed buffers come back to later connections and get touched further
// by bigger reads): growth that is not a leak, but would hide one. Here the buffer is
// zero-filled when the connection starts, so a connection costs the same from its first moment
// and the RSS is flat as soon as every connection is open: any growth after that is real.
#include <cstdint>
#include <cstdio>
#include <system_error>
#include <utility>
#include <vector>

#include <corio.hpp>

#include "io/server.hpp"
#include "samples/common/server_main.hpp"
#include "soak/soak_common.hpp"

namespace net = corio::net;

namespace {

constexpr std::size_t buffer_size = 64 * 1024;

struct echo_stats {
  std::uint64_t connections = 0;
  std::uint64_t ended_by_eof = 0;
  std::uint64_t ended_by_error = 0;
};

corio::task<> echo(net::stream_socket s, echo_stats& stats) {
  ++stats.connections;
  std::vector<char> buffer(buffer_size);  // zero-filled: resident at once (see the top)
  try {
    while (auto n = co_await s.read_some(buffer)) co_await s.write_all({buffer.data(), *n});
    ++stats.ended_by_eof;
  } catch (const std::system_error&) {
    ++stats.ended_by_error;  // a reset from the client, or a write to a client that is gone
  }
}

corio::task<> serve(std::uint16_t port) {
  echo_stats stats;  // outlives the server, and so every handler
  net::server server(net::address::loopback(port), [&stats](net::stream_socket s) { return echo(std::move(s), stats); });
  std::printf("listening on %s\n", server.local_address().to_string().c_str());
  std::fflush(stdout);
  try {
    co_await server.serve_forever();  // until SIGINT/SIGTERM cancel this task
  } catch (const corio::cancelled&) {
    soak::print_fields("STATS", {{"connections", stats.connections},
                                 {"ended_by_eof", stats.ended_by_eof},
                                 {"ended_by_error", stats.ended_by_error}});
    throw;
  }
}

}  // namespace

int main(int argc, char** argv) { return samples::server_main(argc, argv, "soak_echo_server", serve); }
