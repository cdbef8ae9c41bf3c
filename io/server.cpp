// io/server.cpp — see server.hpp. The shape: serve_forever() is a task_group whose body is the
// accept loop and whose children are the handlers, each wrapped so that its failure is logged
// instead of reaching the group (a task_group cancels everything on the first failure, which
// is right for one job split in parts and wrong for independent connections).
#include "server.hpp"

#include <cassert>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "../runtime/errors.hpp"
#include "../runtime/log.hpp"

namespace corio::net {
namespace {

std::string describe_server(const listener& l) { return "corio::net::server on " + l.local_address().to_string(); }

// The peer of a fresh connection, for log lines; "(none)" if it is already gone.
address peer_of(const stream_socket& s) noexcept {
  try {
    return s.peer_address();
  } catch (const std::exception&) {
    return address();
  }
}

// A stream handler as a connection handler. A coroutine lambda: its captures live in the
// server's handler_, which outlives every handler task.
connection_handler wrap(stream_handler handler, stream_options streams) {
  if (!handler) return {};
  return [handler = std::move(handler), streams](stream_socket s) -> task<void> {
    co_await handler(connection(std::move(s), streams));
  };
}

}  // namespace

// Counts a handler in connections() for as long as it runs.
class server::handler_scope {
 public:
  explicit handler_scope(server& s) noexcept : server_(s) { ++server_.connections_; }
  handler_scope(const handler_scope&) = delete;
  handler_scope& operator=(const handler_scope&) = delete;
  ~handler_scope() { --server_.connections_; }

 private:
  server& server_;
};

server::server(listener bound, connection_handler handler)
    : listener_(std::move(bound)), handler_(std::move(handler)), name_(describe_server(listener_)) {
  if (!handler_) throw std::invalid_argument(name_ + ": the connection handler is empty");
}

server::server(const address& at, connection_handler handler, listen_options options)
    : server(listener::bind(at, options), std::move(handler)) {}

server::server(const address& at, stream_handler handler, stream_options streams, listen_options options)
    : server(listener::bind(at, options), wrap(std::move(handler), streams)) {}

server::~server() {
  assert(!serving_ && "corio::net::server destroyed while serve_forever() runs");
  listener_.close();
}

task<void> server::serve_forever() {
  if (serving_) throw std::logic_error(name_ + ": serve_forever() is already running");
  if (closing_) co_return;  // closed before it started (e.g. spawned, then closed at once)
  serving_ = true;
  auto body = [this](task_group& group) { return accept_loop(group); };
  try {
    co_await task_group::run(body);
  } catch (...) {
    finish();  // cancelled or accept failed: the group has already awaited every handler
    throw;
  }
  finish();
}

task<void> server::accept_loop(task_group& group) {
  group_ = &group;
  while (!closing_) {
    try {
      stream_socket s = co_await listener_.accept();
      group.spawn(run_handler(std::move(s)), "connection handler");
    } catch (const std::system_error&) {
      if (closing_) break;  // close() closed the listener under the parked accept (ECANCELED)
      throw;
    }
  }
}

task<void> server::run_handler(stream_socket socket) {
  const handler_scope counted(*this);
  const address peer = peer_of(socket);
  try {
    co_await handler_(std::move(socket));
  } catch (...) {
    if (corio::detail::handling_cancellation()) throw;  // abort() or shutdown: nothing to report
    corio::detail::log_suppressed_exception(name_ + ": the handler for " + peer.to_string() + " failed", std::current_exception());
  }
}

void server::finish() noexcept {
  group_ = nullptr;
  serving_ = false;
  closing_ = true;
  listener_.close();
  closed_.set();
}

void server::close() noexcept {
  if (closing_) return;
  closing_ = true;
  listener_.close();  // a parked accept resumes with ECANCELED on a later turn
  if (!serving_) closed_.set();
}

void server::abort() noexcept {
  close();
  if (group_ != nullptr) group_->cancel();
}

task<void> server::wait_closed() { co_await closed_.wait(); }

task<void> serve(address at, connection_handler handler, listen_options options) {
  server s(at, std::move(handler), options);
  co_await s.serve_forever();
}

}  // namespace corio::net
