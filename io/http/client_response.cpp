// io/http/client_response.cpp — reading a response: its head (for the session), then its
// body piece by piece (client_response). The connection goes back to the pool the moment the
// body ends, or is closed when anything goes wrong on the way (client.hpp has the contract).
#include <cstdio>
#include <utility>

#include "client_detail.hpp"

namespace corio::http {

namespace {

const char* kind_name(timeout_error::kind k) noexcept {
  switch (k) {
    case timeout_error::kind::connect: return "connect";
    case timeout_error::kind::read: return "read";
    case timeout_error::kind::total: return "total";
  }
  return "?";
}

}  // namespace

timeout_error::timeout_error(kind which, duration limit, duration elapsed, const std::string& request)
    : corio::timeout_error(corio::source_location::current(), limit, elapsed), which_(which) {
  char text[128];
  std::snprintf(text, sizeof text, "http: the %s timeout (%.3f s) expired after %.3f s: ", kind_name(which),
                std::chrono::duration<double>(limit).count(), std::chrono::duration<double>(elapsed).count());
  message_ = text + request;
}


namespace detail {

/// Reads what the server sends next into the connection's buffer; false at end of stream.
task<bool> fill(client_connection& c, const request_clock& clock) {
  c.begin = c.end = 0;  // the parser consumed everything before asking for more
  std::optional<std::size_t> got;
  try {
    got = co_await under_limits(c.socket.read_some({c.buffer.get(), client_connection::buffer_size}).as_task(),
                                clock.timeouts.read, timeout_error::kind::read, clock);
  } catch (const std::system_error& e) {
    throw server_disconnected(clock.description + ": the connection failed: " + e.code().message());
  }
  if (!got) co_return false;
  c.end = *got;
  co_return true;
}

[[noreturn]] void throw_parse_error(const parser& p, const request_clock& clock) {
  const std::string what =
      clock.description + ": the server's response is not valid HTTP/1.1: " + std::string(p.error_reason());
  switch (p.error()) {
    case parse_error::start_line_too_long:
    case parse_error::headers_too_large:
    case parse_error::too_many_headers: throw headers_too_large(what, p.error());
    default: throw protocol_error(what, p.error());
  }
}

/// Reads until the response head is whole, skipping 1xx interim responses. Sets `answered`
/// once any byte of a response arrived (a reused connection that gets none was dead).
task<void> read_head(client_connection& c, bool head_request, const request_clock& clock, bool& answered) {
  parser& p = c.response_parser;
  p.next_message();
  if (head_request) p.expect_no_body();
  for (;;) {
    const auto [consumed, what] = p.feed(c.unread());
    c.begin += consumed;
    if (what == parser::event::head_complete && (p.head().status >= 200 || p.head().status == 101)) co_return;
    if (what == parser::event::message_complete) {  // a 1xx ended: the real response follows
      p.next_message();
      if (head_request) p.expect_no_body();
    }
    if (what == parser::event::error) throw_parse_error(p, clock);
    if (what != parser::event::need_more) continue;
    if (!co_await fill(c, clock)) {
      throw server_disconnected(clock.description + (answered ? ": the server closed the connection in the middle of the response head"
                                                              : ": the server closed the connection without answering"));
    }
    answered = true;
  }
}

/// The next piece of the body (read_chunk's work; any exception leaves the state failed).
task<std::optional<std::string>> next_piece(response_state& s) {
  client_connection& c = *s.connection;
  parser& p = c.response_parser;
  for (;;) {
    if (!s.finished) {
      const auto [consumed, what] = p.feed(c.unread());
      c.begin += consumed;
      if (what == parser::event::error) throw_parse_error(p, s.clock);
      if (what == parser::event::head_complete) throw protocol_error(s.clock.description + ": a second response head inside a body", parse_error::malformed);
      s.finished = what == parser::event::message_complete;
    }
    if (!p.body().empty()) {
      std::string piece = std::move(p.body());
      p.body().clear();
      co_return piece;
    }
    if (s.finished) co_return std::nullopt;
    if (co_await fill(c, s.clock)) continue;
    if (p.finish() != parser::event::message_complete)
      throw server_disconnected(s.clock.description + ": the server closed the connection before the body was complete");
    s.finished = true;  // a close-delimited body ended (the connection cannot be kept)
    s.keep_alive = false;
  }
}


}  // namespace detail

// ---- client_response ----

client_response::client_response() noexcept = default;
client_response::client_response(std::unique_ptr<detail::response_state> state) noexcept : state_(std::move(state)) {}
client_response::client_response(client_response&&) noexcept = default;
client_response& client_response::operator=(client_response&&) noexcept = default;
client_response::~client_response() = default;

namespace {
const std::string empty_string;
const http::headers empty_headers;
const http::url& empty_url() {
  static const http::url u = http::url::parse("http://unset/");
  return u;
}
}  // namespace

int client_response::status() const noexcept { return state_ ? state_->status : 0; }
const std::string& client_response::reason() const noexcept { return state_ ? state_->reason : empty_string; }
const http::headers& client_response::headers() const noexcept { return state_ ? state_->fields : empty_headers; }
const http::url& client_response::url() const noexcept { return state_ ? state_->where : empty_url(); }
const std::string& client_response::method() const noexcept { return state_ ? state_->method : empty_string; }
std::optional<std::uint64_t> client_response::content_length() const noexcept {
  return state_ ? state_->content_length : std::nullopt;
}
bool client_response::finished() const noexcept { return state_ && state_->finished; }

void client_response::release() noexcept {
  if (state_) state_->release();
}

task<std::optional<std::string>> client_response::read_chunk() {
  if (!state_) throw client_error("http::client_response: an empty response has no body");
  detail::response_state& s = *state_;
  if (s.finished && s.connection == nullptr) co_return std::nullopt;
  if (s.connection == nullptr)
    throw client_error(s.clock.description + ": the body cannot be read any more (the response was released, "
                                             "or an earlier read failed or was cancelled)");
  std::optional<std::string> piece;
  try {
    piece = co_await detail::next_piece(s);
  } catch (...) {  // corio::cancelled included: the connection's state is unknown now
    s.fail();
    throw;
  }
  if (s.finished) s.release();  // read to the end: back to the pool at once
  co_return piece;
}

task<std::string> client_response::body() {
  if (!state_) throw client_error("http::client_response: an empty response has no body");
  const std::size_t limit = state_->options->max_body_size;
  const auto too_large = [this, limit] {
    state_->fail();
    return body_too_large(state_->clock.description + ": the body is larger than max_body_size (" +
                          std::to_string(limit) + " bytes)");
  };
  if (state_->content_length && *state_->content_length > limit) throw too_large();
  std::string all;
  while (std::optional<std::string> piece = co_await read_chunk()) {
    if (all.size() + piece->size() > limit) throw too_large();
    all += *piece;
  }
  co_return all;
}
}  // namespace corio::http
