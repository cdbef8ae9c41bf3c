// tests/io/http/server_interop_echo.cpp — the server that server_interop_test.py drives with real
// clients (curl, wrk, Python's http.client). It answers every request with what it received:
//
//   X-Method, X-Target, X-Body-Length     the request line and the decoded body's size
//   X-Header-Count                         how many header fields came
//   body                                   the request's body, echoed ("Hello, World!" if empty)
//
//   server_interop_echo --port 0 [--max-body BYTES]
//
// The first line printed is "listening on 127.0.0.1:PORT"; SIGINT/SIGTERM stop it (status 0).
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include <corio.hpp>

#include "io/http/server.hpp"

namespace http = corio::http;
namespace net = corio::net;

namespace {

corio::task<http::response> describe(http::request req) {
  http::response res;
  res.headers.add("Content-Type", "application/octet-stream");
  res.headers.add("X-Method", req.method);
  res.headers.add("X-Target", req.target);
  res.headers.add("X-Body-Length", std::to_string(req.body.size()));
  res.headers.add("X-Header-Count", std::to_string(req.headers.size()));
  res.body = req.body.empty() ? std::string("Hello, World!") : std::move(req.body);
  co_return res;
}

corio::task<> serve(std::uint16_t port, std::size_t max_body) {
  http::server_options options;
  options.max_body_size = max_body;
  http::server server(net::address::loopback(port), describe, options);
  std::printf("listening on %s\n", server.local_address().to_string().c_str());
  std::fflush(stdout);
  co_await server.serve_forever();
}

bool parse_number(const char* text, std::uint64_t& out) {
  const std::string_view s = text;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), out);
  return error == std::errc() && end == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t port = 0;
  std::uint64_t max_body = 1 << 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const bool ok = (std::strcmp(argv[i], "--port") == 0 && parse_number(argv[i + 1], port) && port <= 65535) ||
                    (std::strcmp(argv[i], "--max-body") == 0 && parse_number(argv[i + 1], max_body));
    if (!ok) {
      std::fputs("usage: server_interop_echo --port PORT [--max-body BYTES]\n", stderr);
      return 2;
    }
  }
  try {
    corio::run(serve(static_cast<std::uint16_t>(port), max_body));
  } catch (const corio::cancelled&) {
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "server_interop_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
