// samples/echo_client — N concurrent connections to an echo server, each sending M messages of
// S bytes and checking every echo byte for byte.
//
//   echo_client --host 127.0.0.1 --port 7000 --connections 10 --messages 1000 --size 64
//
// One task per connection, all started together with corio::gather: while one waits for its
// echo, the loop runs the others. Each message's bytes depend on the connection and the message
// number, so an echo delivered to the wrong connection, or out of order, is caught. Prints the
// round trips per second and a verification line; exits with status 1 on any mismatch or error.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <corio.hpp>

#include "io/resolve.hpp"

namespace net = corio::net;
using namespace std::chrono_literals;

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t connections = 10;
  std::size_t messages = 1000;
  std::size_t size = 64;
};

struct tally {
  std::uint64_t round_trips = 0;
  std::uint64_t mismatches = 0;
};

void fill(std::string& message, std::size_t connection, std::size_t number) {
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>('a' + (connection * 31 + number * 7 + i) % 26);
}

// Reads exactly out.size() bytes; false if the server closed the connection first.
corio::task<bool> read_exactly(net::stream_socket& s, std::string& out) {
  std::size_t got = 0;
  while (got < out.size()) {
    const auto n = co_await s.read_some({out.data() + got, out.size() - got});
    if (!n) co_return false;
    got += *n;
  }
  co_return true;
}

corio::task<tally> one_connection(const options& o, std::size_t id) {
  net::stream_socket s = co_await net::connect(o.host, o.port, 5s);
  std::string message(o.size, '\0');
  std::string echoed(o.size, '\0');
  tally t;
  for (std::size_t number = 0; number < o.messages; ++number) {
    fill(message, id, number);
    co_await s.write_all(message);
    const bool complete = co_await read_exactly(s, echoed);
    ++t.round_trips;
    if (!complete || echoed != message) ++t.mismatches;
    if (!complete) break;
  }
  co_return t;
}

corio::task<int> run_clients(options o) {
  std::printf("echo_client: %zu connections x %zu messages x %zu bytes to %s:%u\n", o.connections, o.messages, o.size,
              o.host.c_str(), static_cast<unsigned>(o.port));
  std::vector<corio::task<tally>> clients;
  for (std::size_t id = 0; id < o.connections; ++id) clients.push_back(one_connection(o, id));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<tally> tallies = co_await corio::gather(std::move(clients));
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  tally total;
  for (const tally& t : tallies) total.round_trips += t.round_trips, total.mismatches += t.mismatches;
  std::printf("round trips: %llu in %.3f s = %.0f round trips/s\n", static_cast<unsigned long long>(total.round_trips),
              elapsed.count(), static_cast<double>(total.round_trips) / elapsed.count());
  const auto expected = static_cast<unsigned long long>(o.connections * o.messages);
  const auto matched = static_cast<unsigned long long>(total.round_trips - total.mismatches);
  const bool ok = total.mismatches == 0 && total.round_trips == expected;
  std::printf("%s: %llu of %llu echoes matched\n", ok ? "verified" : "MISMATCH", matched, expected);
  co_return ok ? 0 : 1;
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

bool parse(int argc, char** argv, options& o) {
  bool have_port = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string_view value = argv[i + 1];
    bool ok = true;
    if (flag == "--host") o.host = value;
    else if (flag == "--port") ok = have_port = parse_number(value, o.port);
    else if (flag == "--connections") ok = parse_number(value, o.connections);
    else if (flag == "--messages") ok = parse_number(value, o.messages);
    else if (flag == "--size") ok = parse_number(value, o.size) && o.size > 0;
    else ok = false;
    if (!ok) return false;
  }
  return argc % 2 == 1 && have_port;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::fputs("usage: echo_client --port P [--host H] [--connections N] [--messages M] [--size S]\n", stderr);
    return 2;
  }
  try {
    return corio::run(run_clients(o));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_client: %s\n", e.what());
    return 1;
  } catch (const corio::cancelled&) {
    std::fputs("echo_client: interrupted\n", stderr);
    return 1;
  }
}
