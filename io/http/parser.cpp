// io/http/parser.cpp — parser.hpp on top of llhttp 8 (the only file that includes llhttp.h).
//
// How the incremental contract maps onto llhttp:
//   * feed() runs llhttp_execute over the bytes. Two callbacks return HPE_PAUSED, which makes
//     llhttp stop right there: on_headers_complete (event head_complete; not for a request
//     without a body) and on_message_complete (event message_complete). llhttp_get_error_pos()
//     then says how far it got (consumed), and llhttp_resume() lets the next feed carry on from
//     that byte.
//   * Pausing in on_headers_complete resumes in llhttp's after_headers_complete step, which reads
//     F_SKIPBODY: that is how expect_no_body() makes a HEAD response bodiless.
//   * Limits: llhttp has none, so we count, with our own small meter (head_meter.hpp) that
//     knows only where lines end and counts as if byte by byte. Counting every byte ourselves,
//     instead of at llhttp's callbacks, makes the count a function of the bytes alone: a
//     callback fires where a feed happens to end, so counts taken there depend on the split
//     (the fuzz test found that).
//     Before llhttp runs, feed() asks a copy of the meter at which byte of this feed a limit
//     would be broken (the "tripping byte"), and gives llhttp the bytes only up to and
//     including that one. Then one rule decides, whatever the split:
//       - if one of our callbacks refused something (too many fields, a bad name, folding,
//         HTTP/0.9), that error: callbacks only ever saw bytes up to the tripping byte, and fed
//         byte by byte they would have refused it at the same byte or earlier;
//       - else if llhttp accepted the tripping byte, the limit error (414 / 431);
//       - else if llhttp refused a byte (the tripping one or an earlier one), malformed (400).
//     "Accepted" means llhttp's position (llhttp_get_error_pos, or the end of what it was
//     offered) is past the tripping byte; llhttp computes that position the same way whatever
//     the split, so the rule gives the same answer for every split.
//     So llhttp never sees, and the head never stores, more than one byte past a limit.
//     When the feed is too short to reach any limit from where the meter stands (a whole
//     request far below the limits, the usual case), there is no tripping byte to look for:
//     llhttp runs first, and the meter counts those bytes after it only if the head goes on.
//   * Strictness: no llhttp_set_lenient_* call, so Content-Length with Transfer-Encoding, two
//     Content-Lengths, bad chunk sizes, bare LF and friends are llhttp errors (malformed).
#include "parser.hpp"

#include <llhttp.h>

#include <algorithm>
#include <utility>

#include "head_meter.hpp"

namespace corio::http::detail {

// The parser's state; a plain struct here so that llhttp's C callbacks below can reach it
// (parser::state, which the header names, is private: it derives from this).
struct llhttp_state {
  llhttp_t llhttp{};
  llhttp_settings_t settings{};
  parser::kind which;
  parse_limits limits;

  message_head head;
  std::string body;
  // The field being parsed, built in place at the end of head.headers (a name or a value may
  // arrive in several pieces, cut where a feed ended); null between fields. It stays valid:
  // nothing else adds to head.headers until the field's value is complete.
  header_field* field = nullptr;

  parse_error error = parse_error::none;
  std::string_view error_reason;

  // Positions, for the limits. stream_pos: bytes consumed by earlier feeds.
  const char* feed_begin = nullptr;
  std::uint64_t stream_pos = 0;
  std::uint64_t message_start = 0;        // stream position of this message's first byte
  std::uint64_t value_end = 0;            // where the last piece of the current value ended; 0: none yet
  // Between a field's name and its value (see find_fold_before_value): the name's end, and how
  // far the bytes after it were searched for a LF.
  bool value_pending = false;
  std::uint64_t gap_checked_until = 0;
  bool gap_has_lf = false;
  bool in_fold_whitespace = false;        // unfolding a response's folded value (see on_header_value)
  std::size_t field_count = 0;
  bool in_head = true;
  bool skip_next_body = false;  // expect_no_body()
  bool upgraded = false;        // after a CONNECT / Upgrade message: the bytes are not HTTP
  bool finished_message = false;  // finish() completed a close-delimited body
  bool ended = false;             // finish() completed a message: nothing more can follow EOF
  head_meter meter;               // the current head against the limits

  llhttp_state(parser::kind k, parse_limits l) : which(k), limits(l), meter(l) {}

  static llhttp_state& of(llhttp_t* p) noexcept { return *static_cast<llhttp_state*>(p->data); }

  // Bytes of the current message up to `end` (a pointer into the current feed).
  [[nodiscard]] std::uint64_t message_bytes_until(const char* end) const noexcept {
    return stream_pos + static_cast<std::uint64_t>(end - feed_begin) - message_start;
  }

  // Looks for a LF in the bytes of the current feed between gap_checked_until and `until`: a
  // value that starts after one was folded onto the next line ("Name:\r\n value").
  void scan_gap(const char* until) noexcept {
    const std::uint64_t feed_start = stream_pos - message_start;  // the feed's first byte, in the message
    const std::uint64_t from = std::max(gap_checked_until, feed_start);
    const char* first = feed_begin + (from - feed_start);
    if (first < until && std::string_view(first, static_cast<std::size_t>(until - first)).find('\n') != std::string_view::npos) {
      gap_has_lf = true;
    }
    gap_checked_until = std::max(from, message_bytes_until(until));
  }

  // Fails the parse with one of our own errors; the callback returns what this returns.
  int fail(parse_error e, std::string_view why) noexcept {
    error = e;
    error_reason = why;
    return HPE_USER;
  }

  void reset_message() noexcept {
    head.method.clear();
    head.target.clear();
    head.status = 0;
    head.reason.clear();
    head.version_major = 1;
    head.version_minor = 1;
    head.headers.clear();
    head.content_length.reset();
    head.chunked = false;
    head.keep_alive = true;
    head.upgrade = false;
    body.clear();
    field = nullptr;
    value_end = 0;
    value_pending = false;
    gap_has_lf = false;
    in_fold_whitespace = false;
    field_count = 0;
    in_head = true;
  }
};

struct parser::state : llhttp_state {
  using llhttp_state::llhttp_state;
};

namespace {

using state = llhttp_state;

// (No callback checks a limit: feed() does, with the head_meter; see the top of this file.)

int on_url(llhttp_t* p, const char* at, std::size_t length) {
  state::of(p).head.target.append(at, length);
  return 0;
}

// A request line without a version ("GET /") is HTTP/0.9 to llhttp, which then reads header
// fields after it as if it were 1.x. We speak HTTP/1.x only, and a 0.9 client could not read
// our answer anyway: refuse it (400), whether the version is missing or says "HTTP/0.9".
// llhttp sets 0.9 just before on_url_complete when the line ended without a version; before a
// version is read, the numbers are the previous message's (1.x) or zero.
int on_url_complete(llhttp_t* p) noexcept {
  if (p->type == HTTP_REQUEST && p->http_major == 0 && p->http_minor == 9) {
    return state::of(p).fail(parse_error::malformed, "HTTP/0.9 request (no HTTP version)");
  }
  return 0;
}

int on_version_complete(llhttp_t* p) noexcept {
  if (p->type == HTTP_REQUEST && p->http_major == 0) {
    return state::of(p).fail(parse_error::malformed, "HTTP/0.9 request");
  }
  return 0;
}

int on_status(llhttp_t* p, const char* at, std::size_t length) {
  state::of(p).head.reason.append(at, length);
  return 0;
}

int on_header_field(llhttp_t* p, const char* at, std::size_t length) {
  state& s = state::of(p);
  if (s.field == nullptr) {
    // One allocation for a typical request's fields (a browser sends about ten), not five.
    if (s.head.headers.empty()) s.head.headers.reserve(16);
    s.field = &s.head.headers.add_empty();
  }
  s.field->name.append(at, length);
  s.gap_checked_until = s.message_bytes_until(at + length);  // the name's end so far
  return 0;
}

// A field name must be a token (RFC 9110 5.6.2). llhttp built without LLHTTP_STRICT_MODE lets a
// space or other separators in ("Bad Name: x"); a proxy in front of us might read that
// differently, so we refuse it whatever mode llhttp was built in.
int on_header_field_complete(llhttp_t* p) noexcept {
  state& s = state::of(p);
  if (!http::is_token(s.field->name)) return s.fail(parse_error::malformed, "invalid character in a header field name");
  if (++s.field_count > s.limits.max_header_fields) {
    return s.fail(parse_error::too_many_headers, "too many header fields");
  }
  s.value_pending = true;
  s.gap_has_lf = false;
  return 0;
}

int on_header_value(llhttp_t* p, const char* at, std::size_t length) {
  state& s = state::of(p);
  // A value arrives in one span, cut only where a feed ended. A piece that does not start where
  // the previous one stopped skipped a CRLF: obsolete line folding (RFC 9112 5.2), which llhttp
  // accepts. A server must refuse it or unfold it; we refuse it in a request and unfold it
  // (one space) in a response, as the RFC asks of each.
  // The same after an empty first line ("Name:\r\n value"): a LF between the name and the value.
  // (llhttp reports an empty value as an empty piece after the line's CRLF: not a start.)
  if (length == 0) return 0;
  const std::uint64_t begin = s.message_bytes_until(at);
  if (s.value_pending) {
    s.scan_gap(at);
    s.value_pending = false;
    if (s.gap_has_lf && s.which == parser::kind::request) return s.fail(parse_error::malformed, "obsolete line folding in a header");
  }
  if (s.value_end != 0 && begin != s.value_end) {
    if (s.which == parser::kind::request) return s.fail(parse_error::malformed, "obsolete line folding in a header");
    s.field->value.push_back(' ');
    s.in_fold_whitespace = true;
  }
  s.value_end = s.message_bytes_until(at + length);
  std::string_view piece(at, length);
  if (s.in_fold_whitespace) {  // the fold's own whitespace became that one space
    piece.remove_prefix(std::min(piece.size(), piece.find_first_not_of(" \t")));
    s.in_fold_whitespace = piece.empty();
  }
  s.field->value.append(piece);
  return 0;
}

int on_header_value_complete(llhttp_t* p) noexcept {
  state& s = state::of(p);
  // llhttp skips the whitespace before a value but hands over the whitespace after it.
  std::string& value = s.field->value;
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  s.field = nullptr;
  s.value_end = 0;
  s.value_pending = false;
  s.in_fold_whitespace = false;
  return 0;
}

int on_headers_complete(llhttp_t* p) {
  state& s = state::of(p);
  message_head& h = s.head;
  if (s.which == parser::kind::request) {
    h.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  } else {
    h.status = p->status_code;
    // No body for a response to HEAD (the caller said so), nor for 1xx, 204 and 304 whatever
    // their Content-Length says (RFC 9110 6.4.1); llhttp itself skips only the latter's EOF wait.
    const bool bodiless_status = h.status / 100 == 1 || h.status == 204 || h.status == 304;
    if (s.skip_next_body || bodiless_status) p->flags |= F_SKIPBODY;  // read on resume
    if (h.status / 100 != 1) s.skip_next_body = false;  // a 100 Continue comes before the answer
  }
  h.version_major = p->http_major;
  h.version_minor = p->http_minor;
  if (p->flags & F_CONTENT_LENGTH) h.content_length = p->content_length;
  h.chunked = (p->flags & F_CHUNKED) != 0;
  h.upgrade = p->upgrade != 0;
  // For a response this already knows whether the body runs to EOF (then: not keep-alive).
  h.keep_alive = llhttp_should_keep_alive(p) != 0 && !h.upgrade;
  s.in_head = false;
  // A request with no body has nothing to decide on before its end: llhttp goes straight on to
  // on_message_complete, in the same llhttp_execute (one call per GET instead of two).
  const bool bodiless_request =
      s.which == parser::kind::request && !h.chunked && h.content_length.value_or(0) == 0 && !h.upgrade;
  return bodiless_request ? 0 : HPE_PAUSED;
}

int on_body(llhttp_t* p, const char* at, std::size_t length) {
  state::of(p).body.append(at, length);
  return 0;
}

int on_message_complete(llhttp_t* p) {
  state& s = state::of(p);
  s.finished_message = true;
  // An upgrade ends in llhttp's own pause (HPE_PAUSED_UPGRADE) right after this callback.
  return p->upgrade ? 0 : HPE_PAUSED;
}

// A message completed: the next one starts at the current stream position.
void start_next_message(state& s) noexcept {
  s.message_start = s.stream_pos;
  s.meter.next_message();
}

llhttp_settings_t make_settings() noexcept {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  // No on_method: llhttp takes only the methods it knows, and feed() counts every byte anyway.
  settings.on_url = on_url;
  settings.on_url_complete = on_url_complete;
  settings.on_version_complete = on_version_complete;
  settings.on_status = on_status;
  settings.on_header_field = on_header_field;
  settings.on_header_field_complete = on_header_field_complete;
  settings.on_header_value = on_header_value;
  settings.on_header_value_complete = on_header_value_complete;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;
  return settings;
}

// llhttp's message for its own errors (static strings), or a generic one.
std::string_view llhttp_reason(const llhttp_t& p) noexcept {
  const char* reason = llhttp_get_error_reason(&p);
  return reason != nullptr ? std::string_view(reason) : std::string_view("malformed message");
}

}  // namespace

parser::parser(kind k, parse_limits limits) : state_(std::make_unique<state>(k, limits)) {
  state_->settings = make_settings();
  llhttp_init(&state_->llhttp, k == kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &state_->settings);
  state_->llhttp.data = static_cast<llhttp_state*>(state_.get());
}

parser::~parser() = default;
parser::parser(parser&&) noexcept = default;
parser& parser::operator=(parser&&) noexcept = default;
// (llhttp_t holds pointers to its settings and to the state, both inside the heap-allocated
// state, so moving the unique_ptr moves nothing llhttp points at.)

parser::result parser::feed(std::string_view data) {
  state& s = *state_;
  if (s.error != parse_error::none) return {0, event::error};
  if (s.upgraded) {
    if (data.empty()) return {0, event::need_more};
    s.fail(parse_error::malformed, "bytes after a protocol upgrade (not supported)");
    return {0, event::error};
  }
  if (s.finished_message && !s.in_head) {
    // The previous message completed; the caller moved on without next_message().
    s.reset_message();
  }
  s.finished_message = false;
  s.feed_begin = data.data();
  // llhttp gets the bytes up to and including the first one that breaks a limit, if any (the
  // rule at the top of this file). The meter moves only if llhttp takes all it was offered:
  // otherwise the head is complete, or failed, and the meter's count no longer matters.
  // Usually no limit can break in these bytes (a whole head far below the limits): then the
  // meter need not look first, and looks only if llhttp took them all, the head still going on.
  head_meter probe = s.meter;
  const bool metered = !s.meter.cannot_break_within(data.size());
  const auto [limit_break, limit_error] =
      metered ? probe.take(data) : std::pair{std::string_view::npos, parse_error::none};
  const std::size_t offered = limit_break == std::string_view::npos ? data.size() : limit_break + 1;
  const llhttp_errno_t rc = llhttp_execute(&s.llhttp, data.data(), offered);
  // How far llhttp got: all it was offered, or up to its pause, or up to the byte it refused.
  const std::size_t accepted =
      rc == HPE_OK ? offered : static_cast<std::size_t>(llhttp_get_error_pos(&s.llhttp) - data.data());

  if (s.error == parse_error::none && limit_break != std::string_view::npos && limit_break < accepted) {
    s.stream_pos += limit_break + 1;
    s.fail(limit_error, limit_error == parse_error::start_line_too_long ? "start line too long" : "header block too large");
    return {limit_break + 1, event::error};
  }
  if (rc == HPE_OK) {
    if (!metered) (void)probe.take(data);  // cannot break: it only counts
    s.meter = probe;
  }
  if ((rc == HPE_OK || rc == HPE_PAUSED) && s.value_pending) {
    s.scan_gap(data.data() + accepted);  // the gap may go on in the next feed
  }
  s.stream_pos += accepted;
  if (s.error != parse_error::none) return {accepted, event::error};  // one of our callbacks

  switch (rc) {
    case HPE_OK:
      return {accepted, event::need_more};
    case HPE_PAUSED:
      llhttp_resume(&s.llhttp);
      if (!s.finished_message) {
        s.meter.head_done();
        return {accepted, event::head_complete};
      }
      start_next_message(s);
      return {accepted, event::message_complete};
    case HPE_PAUSED_UPGRADE:
      s.upgraded = true;
      start_next_message(s);
      return {accepted, event::message_complete};
    default:
      s.error = parse_error::malformed;
      s.error_reason = llhttp_reason(s.llhttp);
      return {accepted, event::error};
  }
}

parser::event parser::finish() {
  state& s = *state_;
  if (s.error != parse_error::none) return event::error;
  // After an upgrade, or once finish() completed a close-delimited body, we are between
  // messages for good: llhttp_finish would complete that body a second time (an empty message).
  if (s.upgraded || s.ended) return event::need_more;
  s.finished_message = false;
  const llhttp_errno_t rc = llhttp_finish(&s.llhttp);
  if (s.finished_message) {
    // A close-delimited body ended. on_message_complete asked for a pause, which finish does
    // not do: nothing follows EOF, so the parser simply stays done.
    s.ended = true;
    start_next_message(s);
    return event::message_complete;
  }
  if (rc == HPE_OK) return event::need_more;
  s.error = parse_error::incomplete;
  s.error_reason = "the input ended inside a message";
  return event::error;
}

void parser::expect_no_body() noexcept { state_->skip_next_body = true; }

void parser::next_message() noexcept {
  state_->reset_message();
  state_->finished_message = false;
}

const message_head& parser::head() const noexcept { return state_->head; }
message_head& parser::head() noexcept { return state_->head; }
std::string& parser::body() noexcept { return state_->body; }
parse_error parser::error() const noexcept { return state_->error; }
std::string_view parser::error_reason() const noexcept { return state_->error_reason; }

}  // namespace corio::http::detail
