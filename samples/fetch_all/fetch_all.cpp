// samples/fetch_all — the seed's aiohttp example, made real: fetch N URLs one after the other,
// then all at once with corio::gather, and compare the wall times. Sequential costs N x the
// delay; concurrent costs about one delay.
//
//   fetch_all                               20 URLs, 100 ms each: ~2 s sequential, ~0.1 s concurrent
//   fetch_all --count 1000 --skip-sequential
//   fetch_all http://example.org/ http://127.0.0.1:8080/x     fetch these instead (status, size)
//
// The URLs point at an embedded http::server whose handler answers /delay/<ms>ms?i=<n> after
// that many milliseconds (httpbin's /delay/N, without the network). Flags:
//   --count N              how many URLs (default 20)
//   --delay-ms D           the server's delay per request (default 100)
//   --limit L              the client's connection pool limit (default: --count, so every
//                          request has its own connection; 0 means no limit). aiohttp's
//                          default is 100: with it, 1000 requests run in 10 waves of 100.
//   --sequential-count S   how many URLs the sequential half fetches (default: all of them;
//                          at 1000 x 100 ms it would take 100 s)
//   --skip-sequential      the same as --sequential-count 0
//   --trace FILE           record what the loop did (corio::trace_recorder) and write it to
//                          FILE as Chrome trace JSON: open it in ui.perfetto.dev or
//                          chrome://tracing, or draw it with scripts/plot_trace.py
// Descriptors: each concurrent request holds a client socket AND, the server being in this
// process, a server socket: 2 x limit descriptors. The program raises its soft RLIMIT_NOFILE
// to the hard limit when it needs more (see `ulimit -n`, `ulimit -Hn`).
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <corio.hpp>

#include "io/http/client.hpp"
#include "io/http/server.hpp"

using namespace std::chrono_literals;
namespace http = corio::http;

namespace {

struct settings {
  std::size_t count = 20;
  int delay_ms = 100;
  std::optional<std::size_t> limit;       // default: count
  std::optional<std::size_t> sequential;  // default: count
  std::vector<std::string> urls;          // given on the command line
  std::string trace;                      // --trace FILE, or empty
};

/// The embedded server's handler: "/delay/250ms?i=3" answers after 250 ms.
corio::task<http::response> delayed_answer(http::request request) {
  http::response response;
  constexpr std::string_view prefix = "/delay/";
  int ms = -1;
  if (request.target.starts_with(prefix)) {
    const char* begin = request.target.data() + prefix.size();
    const char* end = request.target.data() + request.target.size();
    const auto [stop, error] = std::from_chars(begin, end, ms);
    if (error != std::errc{} || !std::string_view(stop, static_cast<std::size_t>(end - stop)).starts_with("ms")) ms = -1;
  }
  if (ms < 0) {
    response.status = 404;
    response.body = "try /delay/100ms\n";
    co_return response;
  }
  co_await corio::sleep(std::chrono::milliseconds(ms));
  response.headers.add("Content-Type", "text/plain");
  response.body = "answered " + request.target + " after " + std::to_string(ms) + " ms\n";
  co_return response;
}

corio::task<std::size_t> fetch(http::client_session& session, std::string url) {
  http::client_response r = co_await session.get(url);
  const std::string body = co_await r.text();
  if (r.status() != 200) throw std::runtime_error(url + " answered " + std::to_string(r.status()));
  co_return body.size();
}

corio::task<std::pair<int, std::size_t>> status_and_size(http::client_session& session, std::string url) {
  http::client_response r = co_await session.get(url);
  const std::string body = co_await r.text();
  co_return std::pair<int, std::size_t>(r.status(), body.size());
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Fetches the URLs given on the command line, all at once; prints status and size of each.
corio::task<int> fetch_given(const settings& s) {
  http::client_session session;
  std::vector<corio::task<std::pair<int, std::size_t>>> fetches;
  for (const std::string& url : s.urls) {
    fetches.push_back(status_and_size(session, url));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto results = co_await corio::gather_settled(std::move(fetches));
  int failures = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    try {
      const auto [status, size] = results[i].value();
      std::printf("%3d %9zu bytes  %s\n", status, size, s.urls[i].c_str());
    } catch (const std::exception& e) {
      ++failures;
      std::printf("ERR %s\n", e.what());
    }
  }
  std::printf("%zu URLs in %.3f s\n", s.urls.size(), seconds_since(start));
  co_return failures == 0 ? 0 : 1;
}

/// The demo: an embedded slow server, then the sequential and the concurrent half.
corio::task<int> demo(const settings& s) {
  http::server server(corio::net::address::loopback(0), delayed_answer);
  auto serving = corio::spawn(server.serve_forever(), "embedded server");
  const std::string base = "http://" + server.local_address().to_string() + "/delay/" + std::to_string(s.delay_ms) + "ms?i=";
  const std::size_t limit = s.limit.value_or(s.count);
  http::client_options options;
  options.limit = limit;
  http::client_session session(options);
  std::printf("%zu URLs like %s0, each answered after %d ms by an embedded server\n", s.count, base.c_str(), s.delay_ms);

  const std::size_t sequential = std::min(s.sequential.value_or(s.count), s.count);
  double sequential_s = 0;
  if (sequential > 0) {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < sequential; ++i) co_await fetch(session, base + std::to_string(i));
    sequential_s = seconds_since(start);
    std::printf("sequential: %zu fetches, one after the other: %.3f s\n", sequential, sequential_s);
  }

  std::vector<corio::task<std::size_t>> fetches;
  for (std::size_t i = 0; i < s.count; ++i) fetches.push_back(fetch(session, base + std::to_string(i)));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::size_t> sizes = co_await corio::gather(std::move(fetches));
  const double concurrent_s = seconds_since(start);
  std::printf("concurrent: %zu fetches with corio::gather (pool limit %s): %.3f s\n", sizes.size(),
              limit == 0 ? "none" : std::to_string(limit).c_str(), concurrent_s);
  if (sequential > 0) {
    // Scale the sequential time to the whole count when only part of it ran.
    const double sequential_all = sequential_s * static_cast<double>(s.count) / static_cast<double>(sequential);
    std::printf("speed-up: %.1fx%s\n", sequential_all / concurrent_s,
                sequential < s.count ? " (the sequential time scaled to the whole count)" : "");
  }
  session.close();
  server.close();
  co_await serving;
  co_return 0;
}

/// Runs `work` with a trace recorder attached to the loop, and saves the trace to `path` when
/// it ends (also when it fails: a trace of a failure is the one you want most).
corio::task<int> with_trace(corio::task<int> work, std::string path) {
  corio::trace_recorder trace;
  trace.attach(*corio::event_loop::current());
  int rc = 1;
  try {
    rc = co_await std::move(work);
  } catch (...) {
    trace.save(path);
    throw;
  }
  trace.save(path);
  std::printf("trace written to %s (open it in ui.perfetto.dev or chrome://tracing)\n", path.c_str());
  co_return rc;
}

/// Makes room for `needed` descriptors, up to the hard limit; says so when it cannot.
void raise_descriptor_limit(std::size_t needed) {
  rlimit limits{};
  if (::getrlimit(RLIMIT_NOFILE, &limits) != 0 || limits.rlim_cur >= needed) return;
  const rlim_t wanted = std::min<rlim_t>(limits.rlim_max, needed);
  limits.rlim_cur = wanted;
  ::setrlimit(RLIMIT_NOFILE, &limits);
  if (wanted < needed)
    std::fprintf(stderr, "note: about %zu descriptors are needed but the hard limit is %llu; lower --limit\n",
                 needed, static_cast<unsigned long long>(wanted));
}

bool parse_number(const char* text, std::size_t& out) {
  const char* end = text + std::strlen(text);
  const auto [stop, error] = std::from_chars(text, end, out);
  return error == std::errc{} && stop == end;
}

int usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--count N] [--delay-ms D] [--limit L] [--sequential-count S | --skip-sequential]\n"
               "          [--trace FILE]\n"
               "       %s [--trace FILE] URL...\n",
               program, program);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::size_t value = 0;
    const bool has_value = i + 1 < argc && parse_number(argv[i + 1], value);
    if (arg == "--skip-sequential") {
      s.sequential = 0;
    } else if (arg == "--count" && has_value && value > 0) {
      s.count = value, ++i;
    } else if (arg == "--delay-ms" && has_value && value <= 3'600'000) {
      s.delay_ms = static_cast<int>(value), ++i;
    } else if (arg == "--limit" && has_value) {
      s.limit = value, ++i;
    } else if (arg == "--sequential-count" && has_value) {
      s.sequential = value, ++i;
    } else if (arg == "--trace" && i + 1 < argc) {
      s.trace = argv[++i];
    } else if (!arg.starts_with("-")) {
      s.urls.emplace_back(arg);
    } else {
      return usage(argv[0]);
    }
  }
  try {
    corio::task<int> work;
    if (!s.urls.empty()) {
      work = fetch_given(s);
    } else {
      const std::size_t limit = s.limit.value_or(s.count);
      raise_descriptor_limit(2 * (limit == 0 ? s.count : limit) + 64);
      work = demo(s);
    }
    if (!s.trace.empty()) work = with_trace(std::move(work), s.trace);
    return corio::run(std::move(work));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fetch_all: %s\n", e.what());
    return 1;
  }
}
