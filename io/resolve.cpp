// io/resolve.cpp — see resolve.hpp. getaddrinfo is a C library call, not a syscall, so it lives
// here rather than in sys.cpp; it is MT-safe (glibc manual, "POSIX Safety Concepts"), which is
// what lets several pool threads run it at once.
#include "resolve.hpp"

#include <netdb.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "../runtime/timeout.hpp"
#include "../runtime/to_thread.hpp"

namespace corio::net {
namespace {

std::string describe(const std::string& host, int code, int system_error) {
  std::string text = "corio::net::resolve: cannot resolve '" + host + "': " + ::gai_strerror(code);
  if (code == EAI_SYSTEM && system_error != 0) text += " (" + std::generic_category().message(system_error) + ")";
  return text;
}

// "[::1]" -> "::1": the form URLs use, which getaddrinfo does not accept.
std::string_view strip_brackets(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

struct addrinfo_deleter {
  void operator()(addrinfo* list) const noexcept { ::freeaddrinfo(list); }
};

// getaddrinfo for a stream socket at `port`; `extra_flags` adds AI_NUMERICHOST. Returns the
// EAI_* code (0 on success) and fills `out`. Runs on a pool thread for names: it touches
// nothing but its arguments.
int lookup(const std::string& host, std::uint16_t port, int extra_flags, std::vector<address>& out, int& system_error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | extra_flags;
  const std::string service = std::to_string(port);
  addrinfo* raw = nullptr;
  const int code = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
  system_error = code == EAI_SYSTEM ? errno : 0;
  if (code != 0) return code;
  const std::unique_ptr<addrinfo, addrinfo_deleter> list(raw);
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next)
    out.push_back(address::from_native(ai->ai_addr, ai->ai_addrlen));
  return out.empty() ? EAI_NONAME : 0;
}

// The pool's half: a lookup that may block. Throws resolve_error on the pool thread;
// to_thread carries it back to the awaiting task.
std::vector<address> blocking_lookup(const std::string& host, std::uint16_t port) {
  std::vector<address> found;
  int system_error = 0;
  if (const int code = lookup(host, port, 0, found, system_error); code != 0) throw resolve_error(host, code, system_error);
  return found;
}

}  // namespace

resolve_error::resolve_error(std::string host, int code, int system_error)
    : std::runtime_error(describe(host, code, system_error)), host_(std::move(host)), code_(code) {}

task<std::vector<address>> resolve(std::string host, std::uint16_t port) {
  const std::string bare(strip_brackets(host));
  std::vector<address> found;
  int system_error = 0;
  // A numeric host needs no lookup (AI_NUMERICHOST makes getaddrinfo refuse anything else with
  // EAI_NONAME instead of asking a resolver), so it never costs a thread hand-off.
  const int numeric = lookup(bare, port, AI_NUMERICHOST, found, system_error);
  if (numeric == 0) co_return found;
  if (numeric != EAI_NONAME) throw resolve_error(std::move(host), numeric, system_error);
  // The job copies `bare`: if this task is cancelled, the lookup may outlive the frame.
  std::vector<address> named = co_await corio::to_thread(blocking_lookup, bare, port);
  co_return named;
}

task<stream_socket> connect(std::string host, std::uint16_t port, std::optional<duration> timeout) {
  if (timeout) co_return co_await corio::timeout(*timeout, connect(std::move(host), port, std::nullopt));
  const std::vector<address> candidates = co_await resolve(std::move(host), port);
  std::exception_ptr last_error;
  for (const address& to : candidates) {
    try {
      co_return co_await stream_socket::connect(to);
    } catch (const std::system_error&) {  // corio::cancelled is no std::exception: it passes
      last_error = std::current_exception();
    }
  }
  std::rethrow_exception(last_error);  // resolve() never returns an empty list
}

task<connection> open_connection(std::string host, std::uint16_t port, std::optional<duration> timeout,
                                 stream_options options) {
  co_return connection(co_await connect(std::move(host), port, timeout), options);
}

}  // namespace corio::net
