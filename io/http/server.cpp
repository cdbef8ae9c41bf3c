// io/http/server.cpp — corio::http::server (server.hpp): net::server does the accepting, the
// task per connection, close and abort; each connection runs server::connection's loop
// (server_connection.cpp). What is here: the connection cap, graceful close with its grace
// timer, and the cached Date field.
#include <chrono>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "../../runtime/sleep.hpp"
#include "server_detail.hpp"

namespace corio::http {

namespace {

request_handler checked(request_handler handler) {
  if (!handler) throw std::invalid_argument("corio::http::server: the request handler is empty");
  return handler;
}

}  // namespace

server::server(net::address at, request_handler handler, server_options options)
    : handler_(checked(std::move(handler))),
      options_(std::move(options)),
      net_(at, [this](net::stream_socket s) { return serve_connection(std::move(s)); }, options_.listen) {
  if (options_.server_name.find_first_of("\r\n", 0) != std::string::npos) {
    throw std::invalid_argument("corio::http::server: the server name holds CR or LF");
  }
  if (!options_.server_name.empty()) server_field_ = "Server: " + options_.server_name + "\r\n";
}

server::~server() { disarm_grace(); }

net::address server::local_address() const { return net_.local_address(); }

task<> server::serve_forever() {
  try {
    co_await net_.serve_forever();
  } catch (...) {
    disarm_grace();
    throw;
  }
  disarm_grace();
}

void server::close(duration grace) {
  if (closing_) return;
  closing_ = true;
  net_.close();
  for (connection* c = connections_; c != nullptr; c = c->next) c->on_server_close();  // closes never destroy
  event_loop* loop = event_loop::current();
  if (loop != nullptr && connections_ != nullptr) {
    grace_loop_ = loop;
    loop->arm(grace_, corio::detail::saturating_add(loop->now(), grace));
  }
}

void server::abort() {
  closing_ = true;
  disarm_grace();
  net_.abort();
}

task<> server::wait_closed() { co_await net_.wait_closed(); }

void server::disarm_grace() noexcept {
  if (grace_loop_ != nullptr && grace_.armed()) grace_loop_->disarm(grace_);
  grace_loop_ = nullptr;
}

task<> server::serve_connection(net::stream_socket socket) {
  if (net_.connections() > options_.max_connections) {
    co_await refuse(std::move(socket));
    co_return;
  }
  ++stats_.connections;
  connection c(*this, std::move(socket));
  co_await c.run();
}

// Over max_connections: a short 503 and close (see server.hpp for why not wait).
task<> server::refuse(net::stream_socket socket) {
  ++stats_.refused;
  std::string out;
  detail::append_error_response(out, 503, "too many connections", date_field());
  try {
    co_await socket.write_all(out);  // a fresh socket's send buffer takes it at once
    socket.shutdown_write();
  } catch (const std::system_error&) {
    // Gone already: nothing to tell.
  }
}

std::string_view server::date_field() {
  const time_point now = event_loop::current()->turn_time();  // a second's precision is all it needs
  if (date_valid_ && now >= date_computed_at_ && now - date_computed_at_ < std::chrono::seconds(1)) return date_field_;
  date_field_ = detail::date_field_for(std::chrono::system_clock::now());
  date_computed_at_ = now;
  date_valid_ = true;
  return date_field_;
}

}  // namespace corio::http
