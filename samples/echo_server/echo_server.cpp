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
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include <corio.hpp>

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

std::optional<std::uint16_t> parse_port(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) return std::nullopt;
  const std::string_view text = argv[2];
  std::uint16_t port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return port;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<std::uint16_t> port = parse_port(argc, argv);
  if (!port) {
    std::fputs("usage: echo_server --port PORT   (0: any free port)\n", stderr);
    return 2;
  }
  try {
    corio::run(serve(*port));
  } catch (const corio::cancelled&) {
    return 0;  // SIGINT/SIGTERM: the way this server is meant to stop
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
