// io/http/client.cpp — client_session: one request, in order (client.hpp has the contract;
// client_response.cpp reads responses, client_pool.cpp keeps the connections):
//   validate (method, headers, URL) -> acquire a pool grant -> connect if it is a slot ->
//   write the head and body with ONE write_all -> read until the parser reports head_complete
//   -> a client_response owning the connection -> (redirect? discard the body, go again)
#include <cstring>
#include <utility>

#include "../resolve.hpp"
#include "client_detail.hpp"

namespace corio::http {

namespace {

bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

void check_token(std::string_view token, const char* what) {
  bool ok = !token.empty();
  for (const char c : token) ok = ok && is_token_char(c);
  if (!ok) throw std::invalid_argument(std::string("http::client_session: invalid ") + what + " '" + std::string(token) + "'");
}

/// Refuses what could inject a header or a second request, and what the client sets itself.
void check_headers(const http::headers& fields) {
  for (const header_field& f : fields) {
    check_token(f.name, "header name");
    if (f.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      throw std::invalid_argument("http::client_session: the value of header '" + f.name +
                                  "' contains CR, LF or NUL (header injection)");
    if (iequals(f.name, "content-length") || iequals(f.name, "transfer-encoding"))
      throw std::invalid_argument("http::client_session: '" + f.name +
                                  "' is set by the client itself (the body's size gives Content-Length)");
  }
}

bool is_idempotent(std::string_view method) noexcept {
  for (const std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
    if (method == m) return true;
  return false;
}

bool is_redirect(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

/// The whole request, head and body, in one buffer (one write_all, one segment if it fits).
std::string build_request(const client_options& o, std::string_view method, const http::url& where,
                          const http::headers& fields, std::string_view body) {
  std::string out;
  out.reserve(256 + body.size());
  out.append(method).append(" ").append(where.target()).append(" HTTP/1.1\r\n");
  if (!fields.contains("host") && !o.default_headers.contains("host")) append_field(out, "Host", where.authority());
  for (const header_field& f : o.default_headers)
    if (!fields.contains(f.name)) append_field(out, f.name, f.value);
  for (const header_field& f : fields) append_field(out, f.name, f.value);
  if (!o.user_agent.empty() && !fields.contains("user-agent") && !o.default_headers.contains("user-agent"))
    append_field(out, "User-Agent", o.user_agent);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    append_field(out, "Content-Length", std::to_string(body.size()));
  out.append("\r\n").append(body);
  return out;
}

/// What one attempt sends.
struct outgoing {
  std::string method;
  http::url where;
  std::string text;          // build_request's
  bool asks_close = false;   // "Connection: close" among the request's fields: not reusable
};

/// Does a Connection field say "close" (RFC 9112 §9.6)?
bool asks_close(const http::headers& fields) {
  for (const std::string_view value : fields.get_all("connection"))
    for (std::size_t at = 0; at + 5 <= value.size(); ++at)
      if (iequals(value.substr(at, 5), "close")) return true;
  return false;
}

/// A new connection to `where`, in the slot the caller holds.
task<std::unique_ptr<detail::client_connection>> open_connection(const http::url& where, std::string key,
                                                                  const client_options& o,
                                                                  const detail::request_clock& clock) {
  net::stream_socket socket;
  try {
    socket = co_await detail::under_limits(net::connect(where.host(), where.port()), o.timeouts.connect,
                                           timeout_error::kind::connect, clock);
  } catch (const net::resolve_error& e) {
    throw dns_error(clock.description + ": " + e.what(), e.code());
  } catch (const std::system_error& e) {
    throw connection_error(clock.description + ": cannot connect to " + where.authority() + ": " + e.code().message(),
                           e.code().value());
  }
  co_return std::make_unique<detail::client_connection>(std::move(socket), std::move(key), o.limits);
}

/// Holds a pool grant (a connection or a slot) until it becomes a response's, or gives it back
/// closed: whatever happened to the connection, its state is unknown.
struct lease {
  std::shared_ptr<detail::pool> owner;
  std::string key;
  std::unique_ptr<detail::client_connection> connection;
  bool held = false;
  lease(std::shared_ptr<detail::pool> p, std::string k) noexcept : owner(std::move(p)), key(std::move(k)) {}
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  ~lease() {
    if (held) owner->release(key, std::move(connection), false);
  }
};

/// One attempt: a connection, the request written, the response head read. `retry` is set
/// when a reused connection turned out dead before any response byte.
task<std::unique_ptr<detail::response_state>> attempt(std::shared_ptr<detail::pool> owner,
                                                       std::shared_ptr<const client_options> o, const outgoing& out,
                                                       const detail::request_clock& clock, bool may_retry, bool& retry) {
  lease held(owner, out.where.host() + ":" + std::to_string(out.where.port()));
  detail::pool_grant grant =
      co_await detail::under_limits(owner->acquire(held.key), std::nullopt, timeout_error::kind::total, clock);
  held.held = true;
  held.connection = std::move(grant.connection);
  const bool reused = held.connection != nullptr;
  if (!reused) {
    held.connection = co_await open_connection(out.where, held.key, *o, clock);
    owner->count_made();
  }
  bool answered = false;
  try {
    try {
      co_await detail::under_limits(held.connection->socket.write_all(out.text).as_task(), std::nullopt,
                                    timeout_error::kind::total, clock);
    } catch (const std::system_error& e) {
      throw server_disconnected(clock.description + ": sending the request failed: " + e.code().message());
    }
    co_await detail::read_head(*held.connection, out.method == "HEAD", clock, answered);
  } catch (const server_disconnected&) {
    if (!(reused && !answered && may_retry)) throw;
    retry = true;  // the server had closed the idle connection: `held` closes it
  }
  if (retry) co_return nullptr;

  auto state = std::make_unique<detail::response_state>();
  const detail::message_head& head = held.connection->response_parser.head();
  state->status = head.status;
  state->reason = head.reason;
  state->fields = std::move(held.connection->response_parser.head().headers);
  state->content_length = head.content_length;
  state->keep_alive = head.keep_alive && !out.asks_close;
  state->method = out.method;
  state->where = out.where;
  state->clock = clock;
  state->options = std::move(o);
  state->owner = std::move(owner);
  held.held = false;
  state->connection = std::move(held.connection);
  co_return state;
}

/// Reads and drops a redirect's body so its connection can be reused; gives up (closing the
/// connection) beyond 64 KiB, which is not worth reading.
task<void> discard_body(client_response& r) {
  std::size_t dropped = 0;
  while (dropped <= 64 * 1024) {
    std::optional<std::string> piece = co_await r.read_chunk();
    if (!piece) break;
    dropped += piece->size();
  }
  r.release();
}

task<client_response> run_request(std::shared_ptr<detail::pool> owner, std::shared_ptr<const client_options> o,
                                  std::string method, std::string url_text, http::headers fields, std::string body) {
  check_token(method, "method");
  check_headers(fields);
  outgoing out{std::move(method), http::url::parse(url_text), {}, asks_close(fields) || asks_close(o->default_headers)};
  detail::request_clock clock;
  clock.timeouts = o->timeouts;
  clock.start = event_loop::current()->now();
  if (clock.timeouts.total) clock.total_deadline = corio::detail::saturating_add(clock.start, *clock.timeouts.total);
  for (int redirects = 0;; ++redirects) {
    clock.description = out.method + " " + out.where.to_string();
    out.text = build_request(*o, out.method, out.where, fields, body);
    std::unique_ptr<detail::response_state> state;
    for (int attempts = 0; state == nullptr; ++attempts) {
      bool retry = false;
      state = co_await attempt(owner, o, out, clock, attempts == 0 && is_idempotent(out.method), retry);
    }
    client_response response(std::move(state));
    const std::optional<std::string_view> location = response.headers().get("location");
    if (!is_redirect(response.status()) || !location) co_return response;
    http::url next = out.where.resolve(*location);
    const int status = response.status();
    co_await discard_body(response);  // first, so the connection can serve the next request
    if (redirects >= o->max_redirects)
      throw too_many_redirects(clock.description + ": more than " + std::to_string(o->max_redirects) + " redirects");
    if ((status == 303 && out.method != "HEAD") || ((status == 301 || status == 302) && out.method == "POST")) {
      out.method = "GET";
      body.clear();
    }
    if (!next.same_origin(out.where)) fields.erase("authorization");
    out.where = std::move(next);
  }
}

}  // namespace

client_session::client_session(client_options options) {
  check_headers(options.default_headers);
  if (options.user_agent.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
    throw std::invalid_argument("http::client_session: the user agent contains CR, LF or NUL");
  pool_ = std::make_shared<detail::pool>(options.limit, options.limit_per_host, options.idle_timeout);
  options_ = std::make_shared<const client_options>(std::move(options));
}

client_session::~client_session() { close(); }

task<client_response> client_session::request(std::string method, std::string_view url, http::headers headers,
                                              std::string body) {
  // Not a coroutine itself: the task gets copies, so neither the URL's characters nor the
  // session need to outlive the call (the pool and options are shared with the task).
  return run_request(pool_, options_, std::move(method), std::string(url), std::move(headers), std::move(body));
}

task<client_response> client_session::get(std::string_view url, http::headers headers) {
  return request("GET", url, std::move(headers));
}
task<client_response> client_session::head(std::string_view url, http::headers headers) {
  return request("HEAD", url, std::move(headers));
}
task<client_response> client_session::post(std::string_view url, std::string body, http::headers headers) {
  return request("POST", url, std::move(headers), std::move(body));
}
task<client_response> client_session::put(std::string_view url, std::string body, http::headers headers) {
  return request("PUT", url, std::move(headers), std::move(body));
}

void client_session::close() noexcept { pool_->close(); }
bool client_session::closed() const noexcept { return pool_->closed(); }
std::size_t client_session::open_connections() const noexcept { return pool_->open(); }
std::size_t client_session::idle_connections() const noexcept { return pool_->idle(); }
std::size_t client_session::waiting_requests() const noexcept { return pool_->waiting(); }
std::size_t client_session::connections_made() const noexcept { return pool_->made(); }

}  // namespace corio::http
