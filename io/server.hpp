// io/server.hpp — net::server: accept connections and run a handler task for each
// (asyncio.start_server and its Server object: serve_forever, close, wait_closed).
//
//   net::server srv(net::address::loopback(8080), [](net::stream_socket s) -> corio::task<> {
//     std::array<char, 4096> buf;
//     while (auto n = co_await s.read_some(buf)) co_await s.write_all({buf.data(), *n});
//   });
//   std::printf("listening on %s\n", srv.local_address().to_string().c_str());
//   co_await srv.serve_forever();            // until srv.close() / srv.abort(), or cancelled
//
//   co_await net::serve(net::address::loopback(8080), handler);   // the same, in one call
//
// Lifecycle:
//
//   constructed ──serve_forever()──> serving ──close()──> draining ──last handler done──> closed
//   (bound, listening:               accepts; each       listener closed;     serve_forever()
//    the kernel queues               connection's        handlers in flight   returns;
//    connections in the              handler runs as     run on               wait_closed()
//    backlog)                        a task of its own                        returns
//                                        └──abort() or cancellation: close() + cancel handlers ──┘
//
// Contract:
//   * The constructor binds and listens at once (no await; port 0 picks a free port, see
//     local_address()). Nothing is accepted until serve_forever() runs. The server is pinned
//     (neither copied nor moved): handler tasks refer to it.
//   * serve_forever() accepts in a loop and starts each connection's handler as a child task,
//     which first runs on a later turn. The children live in a task_group inside
//     serve_forever(): none outlives it. It returns once the server was closed and every
//     handler finished. It runs once: called while it runs, it throws std::logic_error;
//     called after close(), it returns at once.
//   * A handler that throws does not stop the server: its exception is logged once (spdlog,
//     error level, naming the server and the peer) and dropped; other connections go on. A
//     handler that ends with corio::cancelled (after abort()) is not logged.
//   * close() stops accepting at once (the listener is closed; connections not yet accepted
//     are refused by the kernel) and lets the handlers in flight finish: graceful shutdown.
//     abort() does the same and cancels every handler (their current or next suspension throws
//     corio::cancelled). Both are idempotent, never wait, and may be called from any task of
//     the loop or before serve_forever() starts.
//   * wait_closed() returns once close() (or abort()) was called and serve_forever(), if it
//     ran, has returned. Cancel-safe. Any number of tasks may wait.
//   * Cancelling the task in serve_forever() is abort() plus a wait: the handlers are
//     cancelled and awaited, the listener is closed, then corio::cancelled is rethrown. Nothing
//     is left behind: no task, no descriptor, no timer.
//   * Errors: the constructor throws std::system_error (EADDRINUSE...), or
//     std::invalid_argument for an empty handler. serve_forever() throws
//     what accept() throws that it does not handle itself (listener::accept already rides out
//     EMFILE/ENFILE and skips ECONNABORTED), after cancelling and awaiting the handlers.
//   * The handler object is kept for the server's life and called once per connection; a
//     lambda coroutine's captures therefore stay valid while its tasks run.
//   * Destroying a server while serve_forever() or wait_closed() is in progress is a bug
//     (asserted); otherwise it closes the listener.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "../runtime/event.hpp"
#include "../runtime/task.hpp"
#include "../runtime/task_group.hpp"
#include "address.hpp"
#include "socket.hpp"
#include "streams.hpp"

namespace corio::net {

/// What a server runs for each accepted connection, as a task of its own.
using connection_handler = std::function<task<void>(stream_socket)>;
/// The same over a buffered connection (streams.hpp): asyncio.start_server's
/// client_connected_cb(reader, writer).
using stream_handler = std::function<task<void>(connection)>;

class server {
 public:
  /// Binds and listens on `at` (see the contract). Throws std::system_error.
  server(const address& at, connection_handler handler, listen_options options = {});
  /// Serves on a listener that is already bound.
  server(listener bound, connection_handler handler);
  /// Each connection wrapped in a net::connection made with `streams`.
  server(const address& at, stream_handler handler, stream_options streams = {}, listen_options options = {});

  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server();

  /// Accepts until closed, then waits for the handlers (see the contract).
  [[nodiscard]] task<void> serve_forever();
  /// Stops accepting; handlers in flight run on. Idempotent.
  void close() noexcept;
  /// close() and cancel every handler in flight. Idempotent.
  void abort() noexcept;
  /// Waits until closed and serve_forever() returned.
  [[nodiscard]] task<void> wait_closed();

  /// Where it listens (asyncio: server.sockets[0].getsockname()). Throws std::system_error
  /// (EBADF) once closed.
  [[nodiscard]] address local_address() const { return listener_.local_address(); }
  /// serve_forever() is accepting (asyncio's is_serving()).
  [[nodiscard]] bool is_serving() const noexcept { return serving_ && !closing_; }
  /// Handlers running now.
  [[nodiscard]] std::size_t connections() const noexcept { return connections_; }

 private:
  class handler_scope;
  task<void> accept_loop(task_group& group);
  task<void> run_handler(stream_socket socket);
  void finish() noexcept;

  listener listener_;
  connection_handler handler_;
  std::string name_;                // "corio::net::server on 127.0.0.1:8080", for log lines
  task_group* group_ = nullptr;     // while serve_forever() runs
  std::size_t connections_ = 0;
  bool serving_ = false;
  bool closing_ = false;
  corio::event closed_;             // set when closed and not serving
};

/// Binds `at` and serves until cancelled (or an accept error): server + serve_forever().
[[nodiscard]] task<void> serve(address at, connection_handler handler, listen_options options = {});

}  // namespace corio::net
