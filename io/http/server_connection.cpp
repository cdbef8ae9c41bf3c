// io/http/server_connection.cpp — one connection of corio::http::server (server.hpp): the loop
// that reads, parses, runs the handlers and writes, and the timer that keeps slow clients out.
//
//   read into the connection's buffer ──> parse in place: complete requests join the batch
//        ^                                        │ (stops at a full batch, an error, a close)
//        │                                        v
//   write the batch's responses in one go <── run the handlers, serialize the responses in order
//
// One buffer, one parser, one output string per connection, all reused from request to request;
// the responses to every request of one read go out in one write_all.
//
// Slow clients: each connection is also a timer (a wheel node in its task's frame) holding the
// deadline of what it waits for now. The timer is lazy: moving the deadline later only stores
// it; when the timer fires early it re-arms itself for the stored deadline, so a busy
// keep-alive connection touches the wheel about once per timeout rather than once per request.
// When a deadline passes for real, the timer closes the socket: the parked read or write
// resumes with ECANCELED on a later turn and the connection ends. Deadlines count from the
// loop's turn_time(): at most a turn early, and one clock read for a whole turn's connections.
#include <algorithm>
#include <optional>
#include <cassert>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "../../runtime/errors.hpp"
#include "../../runtime/gather.hpp"
#include "../../runtime/log.hpp"
#include "../../runtime/sleep.hpp"
#include "server_detail.hpp"

namespace corio::http {

namespace {

constexpr std::size_t read_buffer_size = 16 * 1024;
// Lingering close (nginx's lingering_time): how long, and how much, to read and drop after the
// last response when closing, so that unread request bytes do not turn our FIN into a RST.
constexpr duration linger_time = std::chrono::seconds(2);
constexpr std::size_t linger_bytes = 1 << 20;

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

// RFC 9110 9.2.1: the methods a client may pipeline and a server may run concurrently.
bool is_safe_method(std::string_view m) noexcept {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE";
}

int status_for(detail::parse_error e) noexcept {
  switch (e) {
    case detail::parse_error::start_line_too_long: return 414;
    case detail::parse_error::headers_too_large:
    case detail::parse_error::too_many_headers: return 431;
    default: return 400;
  }
}

}  // namespace

server::connection::connection(server& owner, net::stream_socket socket)
    : server_(owner),
      loop_(*event_loop::current()),
      socket_(std::move(socket)),
      parser_(detail::parser::kind::request, owner.options_.limits),
      buffer_(std::make_unique_for_overwrite<char[]>(read_buffer_size)),
      accepted_at_(loop_.turn_time()) {
  next = server_.connections_;
  if (next != nullptr) next->prev = this;
  server_.connections_ = this;
}

server::connection::~connection() {
  if (armed()) loop_.disarm(*this);
  if (prev != nullptr) prev->next = next;
  if (next != nullptr) next->prev = prev;
  if (server_.connections_ == this) server_.connections_ = next;
}

void server::connection::on_server_close() noexcept {
  // Parked in the read between requests (phase head is only set there): nothing to finish.
  if (phase_ == phase::head && !head_started_) socket_.close();
}

// Moves to phase `p`, to wait at most until `deadline` (time_point::max(): no limit).
void server::connection::enter(phase p, time_point deadline) noexcept {
  phase_ = p;
  deadline_ = deadline;
  if (deadline == time_point::max()) return;  // an armed timer will find no deadline and stop
  if (armed()) {
    if (this->deadline() <= deadline) return;  // it fires early and re-arms: see on_fire()
    loop_.disarm(*this);
  }
  loop_.arm(*this, deadline);
}

void server::connection::on_fire() noexcept {
  if (deadline_ == time_point::max()) return;
  if (loop_.now() < deadline_) {
    loop_.arm(*this, deadline_);  // the deadline moved later meanwhile
    return;
  }
  timed_out_ = phase_ != phase::lingering;  // lingering is our own courtesy, not the client's fault
  socket_.close();  // the parked read or write resumes with ECANCELED on a later turn
}

task<> server::connection::run() {
  try {
    co_await serve();
  } catch (const net::write_error&) {
    ++server_.stats_.aborted_responses;  // the client went away (EPIPE, ECONNRESET) mid-response
  } catch (const std::system_error&) {
    // The client reset the connection, or we closed it (deadline, server close): it just ends.
  }
  if (timed_out_) ++server_.stats_.timed_out;
}

task<> server::connection::serve() {
  // The steps are written out here rather than as coroutines of their own: every co_await of a
  // task costs a frame, and this loop runs once per request.
  bool more = true;
  while (more) {
    parse_buffered();
    if (batch_used_ > 0) {
      enter(phase::handling, time_point::max());
      if (answers_concurrently()) {
        co_await answer_concurrently();
      } else {
        // One after the other, inline: the usual batch holds one request.
        for (std::size_t i = 0; i < batch_used_ && !closing_response_; ++i) {
          pending_request& p = batch_[i];
          ++server_.stats_.requests;
          bool handled = false;  // past the handler: what throws now is not its failure
          try {
            // Declared here, the handler's response is the one await_resume returns (no empty
            // response to move it into); appending inside the try is what that costs.
            const response res = co_await server_.handler_(std::move(p.req));
            handled = true;
            append_response(p, res);
          } catch (...) {
            if (handled || corio::detail::handling_cancellation()) throw;
            append_failure(p, "the request handler failed", std::current_exception());
          }
        }
      }
      batch_used_ = 0;
    }
    queue_interim_output();
    if (!out_.empty()) {
      enter(phase::sending, corio::detail::saturating_add(loop_.turn_time(), server_.options_.keep_alive_timeout));
      co_await socket_.write_all(out_);
      out_.clear();
    }
    if (close_after_) {
      co_await linger();
      more = false;
    } else if (server_.closing_ && in_head_ && !head_started_ && begin_ == end_) {
      more = false;  // graceful close, between requests
    } else if (begin_ == end_) {
      // (g++ 12 miscompiled `if (!co_await read_more()) co_return;` in this loop: the plain
      // assignments below it gets right.)
      enter_read_phase();
      const std::optional<std::size_t> n = co_await socket_.read_some({buffer_.get(), read_buffer_size});
      end_ = n.value_or(0);
      more = n.has_value();  // EOF, inside a request or not: nothing more to answer
    }
    // else: the batch was full: parse the rest before reading more.
  }
}

// After a batch: the error response, or the "100 Continue", that is due.
void server::connection::queue_interim_output() {
  if (error_status_ != 0 && !closing_response_) {
    detail::append_error_response(out_, error_status_, error_detail_, server_.date_field());
    ++server_.stats_.error_responses;
  } else if (expect_continue_ && !close_after_ && !closing_response_) {
    out_ += continue_response;
  }
  error_status_ = 0;
  expect_continue_ = false;
  close_after_ = close_after_ || closing_response_;
}

// Parses what is buffered, collecting complete requests into the batch. Stops when the buffer is
// used up, the batch is full, a request ends the connection, or the input is bad.
void server::connection::parse_buffered() {
  bool head_started_here = false;
  while (!close_after_) {
    const auto [consumed, what] = parser_.feed({buffer_.get() + begin_, end_ - begin_});
    if (consumed > 0 && in_head_ && !head_started_) {
      head_started_ = true;
      head_started_here = true;
    }
    begin_ += consumed;
    if (begin_ == end_) begin_ = end_ = 0;
    switch (what) {
      case detail::parser::event::need_more:
        // A head that started in this parse waits for more bytes: its slowloris clock starts now,
        // the same instant as its first byte (nothing suspends in a parse). Not read at that byte:
        // most heads complete in the read they start in, and then no clock read is needed.
        if (head_started_here && in_head_ && head_started_) head_started_at_ = loop_.turn_time();
        // A chunked body is checked as it grows (a Content-Length one was checked at its head).
        if (parser_.body().size() > server_.options_.max_body_size) fail(413, "the body is over the limit");
        return;
      case detail::parser::event::head_complete:
        in_head_ = false;
        if (!accept_head()) return;
        break;
      case detail::parser::event::message_complete:
        if (in_head_) {  // a request without a body: its head comes with its end (parser.hpp)
          in_head_ = false;
          if (!accept_head()) return;
        }
        if (parser_.body().size() > server_.options_.max_body_size) {
          fail(413, "the body is over the limit");
          return;
        }
        take_request();
        if (batch_used_ >= std::max<std::size_t>(server_.options_.max_pipeline_depth, 1)) return;
        if (begin_ == end_) return;  // nothing buffered: feeding nothing would only say need_more
        break;
      case detail::parser::event::error:
        fail(status_for(parser_.error()), parser_.error_reason());
        return;
    }
  }
}

// Checks a complete head before its body is read: Host, the announced body size, Expect.
bool server::connection::accept_head() {
  const detail::message_head& h = parser_.head();
  if (h.version_major != 1) {  // llhttp takes "HTTP/2.0" (and HTTP/0.9, which the parser refuses)
    fail(505, "this server speaks HTTP/1.0 and HTTP/1.1");
    return false;
  }
  if (h.version_minor >= 1) {
    // RFC 9112 3.2: an HTTP/1.1 request without Host, or with two, gets 400.
    const auto hosts = std::count_if(h.headers.begin(), h.headers.end(),
                                     [](const header_field& f) { return iequals(f.name, "Host"); });
    if (hosts != 1) {
      fail(400, hosts == 0 ? "no Host field" : "more than one Host field");
      return false;
    }
  }
  if (h.content_length.value_or(0) > server_.options_.max_body_size) {
    fail(413, "the announced body is over the limit");
    return false;
  }
  const bool has_body = h.chunked || h.content_length.value_or(0) > 0;
  // Only while the body has not started to arrive: a client that sent it anyway is not waiting.
  const bool may_wait = has_body && h.version_minor >= 1 && begin_ == end_;
  const auto expect = may_wait ? h.headers.get("Expect") : std::nullopt;
  expect_continue_ = expect && iequals(*expect, "100-continue");
  return true;
}

// Moves the complete request out of the parser into the batch.
void server::connection::take_request() {
  if (batch_used_ == batch_.size()) batch_.emplace_back();
  pending_request& p = batch_[batch_used_++];
  detail::message_head& h = parser_.head();
  // The head's storage stays for the next request (bounded by the head limits): method and
  // target are copied into the slot's strings, the field vector is swapped back to the parser
  // (next_message() clears it). A handler taking its request by reference leaves it all here.
  // Not the body, which may be up to max_body_size: the slot's previous one is freed first (a
  // string move-assigned from a short one would keep its buffer).
  p.req.method.assign(h.method);
  p.req.target.assign(h.target);
  std::swap(p.req.headers, h.headers);
  if (p.req.body.capacity() > std::string().capacity()) std::string().swap(p.req.body);
  p.req.body = std::move(parser_.body());
  p.req.version_minor = h.version_minor;
  p.version_minor = h.version_minor;
  p.head_method = p.req.method == "HEAD";
  p.request_line.assign(p.req.method).append(" ").append(p.req.target);  // reuses its capacity
  ++requests_;
  const std::size_t cap = server_.options_.max_requests_per_connection;
  p.keep_alive = h.keep_alive && (cap == 0 || requests_ < cap);
  if (!p.keep_alive) close_after_ = true;  // nothing after this request is read
  parser_.next_message();
  in_head_ = true;
  head_started_ = false;
  expect_continue_ = false;  // it was for this request, whose body has arrived
}

void server::connection::fail(int status, std::string_view detail) {
  error_status_ = status;
  error_detail_ = detail;
  close_after_ = true;
}

// Pipelined requests run their handlers at once when they are all safe; else, and for a lone
// request, one after the other.
bool server::connection::answers_concurrently() const noexcept {
  const auto batch_end = batch_.begin() + static_cast<std::ptrdiff_t>(batch_used_);
  return batch_used_ > 1 &&
         std::all_of(batch_.begin(), batch_end, [](const pending_request& p) { return is_safe_method(p.req.method); });
}

namespace {

// A handler's outcome, so that one failure does not cancel the other handlers of a gather.
struct handler_outcome {
  response res;
  std::exception_ptr error;
};

task<handler_outcome> run_guarded(const request_handler& handler, request req) {
  handler_outcome out;
  try {
    out.res = co_await handler(std::move(req));
  } catch (...) {
    if (corio::detail::handling_cancellation()) throw;
    out.error = std::current_exception();
  }
  co_return out;
}

}  // namespace

// Pipelined safe requests: their handlers run at once; the responses go out in request order.
task<> server::connection::answer_concurrently() {
  std::vector<task<handler_outcome>> handlers;
  handlers.reserve(batch_used_);
  for (std::size_t i = 0; i < batch_used_; ++i) handlers.push_back(run_guarded(server_.handler_, std::move(batch_[i].req)));
  server_.stats_.requests += batch_used_;
  std::vector<handler_outcome> outcomes = co_await gather(std::move(handlers));
  for (std::size_t i = 0; i < outcomes.size() && !closing_response_; ++i) {
    if (outcomes[i].error) {
      append_failure(batch_[i], "the request handler failed", outcomes[i].error);
    } else {
      append_response(batch_[i], outcomes[i].res);
    }
  }
}

// A handler that threw, or returned what cannot be sent: 500, and one log line.
void server::connection::append_failure(const pending_request& p, std::string_view what, const std::exception_ptr& error) {
  ++server_.stats_.handler_failures;
  corio::detail::log_suppressed_exception(
      "corio::http::server: " + std::string(what) + " (" + p.request_line + ")", error);
  response res;
  res.status = 500;
  res.headers.add("Content-Type", "text/plain; charset=utf-8");
  res.body = "Internal Server Error\n";
  append_response(p, res);
}

// Serializes `res` into out_; a response that cannot be sent becomes a 500.
void server::connection::append_response(const pending_request& p, const response& res) {
  const detail::response_context context{
      .head_method = p.head_method,
      .version_minor = p.version_minor,
      .closing = !p.keep_alive || server_.closing_,
      .date_field = server_.date_field(),
      .server_field = server_.server_field_,
  };
  bool closes = false;
  const std::string_view problem = detail::append_response(out_, res, context, closes);
  if (!problem.empty()) {
    append_failure(p, "the handler's response cannot be sent: " + std::string(problem),
                   std::make_exception_ptr(std::invalid_argument(std::string(problem))));
    return;
  }
  closing_response_ = closing_response_ || closes;
}

// Sets the deadline for the read that follows (see server.hpp for the timeouts).
void server::connection::enter_read_phase() noexcept {
  assert(begin_ == 0 && end_ == 0 && "reads only once every buffered byte is parsed");
  const server_options& o = server_.options_;
  using corio::detail::saturating_add;
  if (!in_head_) {
    enter(phase::body, saturating_add(loop_.turn_time(), o.keep_alive_timeout));  // a stalled body
  } else if (head_started_) {
    enter(phase::head, saturating_add(head_started_at_, o.header_timeout));  // slowloris
  } else if (requests_ == 0) {
    enter(phase::head, saturating_add(accepted_at_, o.header_timeout));  // the first head, from the accept
  } else {
    enter(phase::head, saturating_add(loop_.turn_time(), o.keep_alive_timeout));  // idle keep-alive
  }
}

// Closing after an error or "Connection: close": FIN first, then drop what the client still
// sends for a while, so that its unread bytes do not make our kernel answer with a RST that
// could destroy the response before the client reads it (nginx's lingering close).
task<> server::connection::linger() {
  socket_.shutdown_write();
  enter(phase::lingering, corio::detail::saturating_add(loop_.turn_time(), linger_time));
  std::size_t dropped = 0;
  while (dropped < linger_bytes) {
    const auto n = co_await socket_.read_some({buffer_.get(), read_buffer_size});
    if (!n) break;
    dropped += *n;
  }
}

}  // namespace corio::http
