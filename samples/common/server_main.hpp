// samples/common/server_main.hpp — the command line and exit status shared by the benchmark
// servers (samples/echo_server, samples/http_hello), which the peer harness starts as
// `NAME --port P`:
//
//   int main(int argc, char** argv) { return samples::server_main(argc, argv, "http_hello", serve); }
//
// `serve(port)` binds, prints "listening on 127.0.0.1:PORT" and serves until cancelled.
// corio::run turns SIGINT / SIGTERM into that cancellation: the way these servers are meant to
// stop, so it exits 0. A bad command line exits 2, any other error 1 (with a message).
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string_view>

#include <corio.hpp>

namespace samples {

/// The port of `--port P` (0: any free port), or nullopt for anything else.
inline std::optional<std::uint16_t> parse_port(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) return std::nullopt;
  const std::string_view text = argv[2];
  std::uint16_t port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return port;
}

inline int server_main(int argc, char** argv, const char* name, corio::task<> (*serve)(std::uint16_t port)) {
  const std::optional<std::uint16_t> port = parse_port(argc, argv);
  if (!port) {
    std::fprintf(stderr, "usage: %s --port PORT   (0: any free port)\n", name);
    return 2;
  }
  try {
    corio::run(serve(*port));
  } catch (const corio::cancelled&) {
    return 0;  // SIGINT/SIGTERM
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
  return 0;
}

}  // namespace samples
