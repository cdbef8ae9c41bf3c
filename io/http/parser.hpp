// io/http/parser.hpp — the one door to llhttp (Node.js's HTTP/1.1 parser, built from Debian's
// node-llhttp sources). Only parser.cpp includes llhttp.h; the client and the server see this
// small, incremental interface instead:
//
//   detail::parser p(detail::parser::kind::request);
//   for (;;) {
//     auto [consumed, what] = p.feed(bytes);        // bytes: whatever the socket gave
//     bytes.remove_prefix(consumed);
//     if (what == event::head_complete)    ... p.head() is whole; the body is still to come
//     if (what == event::message_complete) ... p.body() holds the decoded body; p.next_message()
//     if (what == event::error)            ... p.error() says why (400 / 414 / 431)
//     if (what == event::need_more)        ... read more, feed again
//   }
//
// Why incremental: a message arrives in pieces of any size; the parser keeps its state between
// feeds, so a head split at any byte gives the same result as the whole head at once (the fuzz
// test checks that). Why stop at head_complete: a server decides on limits (413) and a client
// on streaming before the body is read; why stop at message_complete: pipelined messages that
// follow in the same bytes belong to the next round.
//
// Contract:
//   * feed() consumes a prefix of `data` and stops after the event it returns; the caller feeds
//     the rest again. need_more means everything was consumed.
//   * head_complete comes before the body of every response, and of every request that has one
//     (Content-Length above 0, or chunked), and before an upgrade request's end. A request
//     without a body (most GETs) has nothing to decide on before it ends: its head comes whole
//     with message_complete alone, from the same feed (which saves a parse step per request).
//   * Body bytes (Content-Length, chunked — decoded — or close-delimited) are appended to body();
//     the caller may move or clear it between feeds (a streaming reader does).
//   * Every verdict is a function of the bytes alone, never of how they were split into feeds:
//     the same events, heads, bodies and error kind whole, in two pieces or byte by byte.
//   * Limits are checked byte by byte while the head arrives, so a head is refused as soon as
//     it is too long, not once it is whole. What they count, exactly (CR and LF being the bytes
//     that end a line):
//       - max_start_line: the request or status line's bytes without the CR LF that ends it,
//         plus any empty lines before it (RFC 9112 2.2 lets us skip them, not read them for
//         ever). Over it: start_line_too_long (a server answers 414).
//       - max_header_bytes: the sum of the field lines' bytes, each without its CR LF (an
//         obsolete folded continuation line counts as a line of its own); the empty line that
//         ends the head is not counted. Over it: headers_too_large (431).
//       - max_header_fields: the number of fields (a folded continuation is not one). The
//         (max + 1)th field's colon gives too_many_headers (431).
//     So a start line of exactly max_start_line bytes, or field lines of exactly
//     max_header_bytes bytes in all, are accepted.
//   * Limit or malformed: a limit is broken by one byte (the one that takes a count past its
//     maximum). If llhttp accepts that byte, the error is the limit's; if llhttp refuses it or
//     an earlier byte, the message is malformed. Our own checks (field names, folding, field
//     count, HTTP/0.9) see only the bytes up to that byte, so they win when they refuse one of
//     those. Either way the head holds at most one byte past a limit.
//   * Smuggling shapes (Content-Length with Transfer-Encoding, two Content-Lengths, an invalid
//     Content-Length or chunk size, a Transfer-Encoding in a request that does not end in
//     chunked, bare LF or CR, NUL, a field name that is not a token, obsolete line folding in a
//     request) give malformed: llhttp with no lenient flag, plus our own name and fold checks.
//     In a response, obsolete line folding is unfolded into one space (RFC 9112 5.2).
//   * HTTP/0.9 requests (a request line without a version, which llhttp would accept, or
//     "HTTP/0.9") are malformed: we speak HTTP/1.x only, and a 0.9 client could not read a 1.x
//     answer anyway.
//   * A response to HEAD (expect_no_body()), and any 1xx, 204 or 304 response, has no body
//     whatever its Content-Length says (RFC 9110 6.4.1). A 1xx response is a message of its own
//     (message_complete); expect_no_body() then still applies to the final response after it.
//   * An upgrade (CONNECT, or Upgrade with Connection: upgrade) ends the HTTP conversation: the
//     head says upgrade, keep_alive is false, and feeding more bytes afterwards is an error
//     (malformed): corio::http speaks no other protocol, so bytes after an upgrade request
//     cannot be read as HTTP, and the caller answers (without upgrading) and closes. Feeding
//     nothing, or finish(), after the upgrade says need_more.
//   * After error the parser stays in error; the connection cannot be trusted any more.
//   * No exceptions except std::bad_alloc. Not thread-safe (one per connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "message.hpp"

namespace corio::http::detail {

struct parse_limits {
  std::size_t max_start_line = 8 * 1024;      ///< request / status line without CRLF, bytes
  std::size_t max_header_bytes = 16 * 1024;   ///< all field lines together, without CRLFs
  std::size_t max_header_fields = 100;        ///< fields
  // (What each counts exactly: the contract above.)
};

enum class parse_error : unsigned char {
  none,
  start_line_too_long,  ///< a server answers 414
  headers_too_large,    ///< 431
  too_many_headers,     ///< 431
  malformed,            ///< 400; llhttp refused the bytes
  incomplete,           ///< finish(): the input ended inside a message
};

/// What the parser knows once the head is complete.
struct message_head {
  // A request's:
  std::string method;
  std::string target;
  // A response's:
  int status = 0;
  std::string reason;
  // Both:
  int version_major = 1;
  int version_minor = 1;
  http::headers headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;  ///< the connection may carry another message after this one
  bool upgrade = false;
};

class parser {
 public:
  enum class kind : unsigned char { request, response };
  enum class event : unsigned char { need_more, head_complete, message_complete, error };
  struct result {
    std::size_t consumed;
    event what;
  };

  explicit parser(kind k, parse_limits limits = {});
  ~parser();
  parser(parser&&) noexcept;
  parser& operator=(parser&&) noexcept;

  /// Parses a prefix of `data` (the contract above).
  [[nodiscard]] result feed(std::string_view data);
  /// The input ended (EOF): completes a close-delimited body (message_complete), or reports
  /// error (incomplete) when a message was cut short; need_more when between messages. Once
  /// it completed a body, every later finish() says need_more (nothing follows EOF).
  [[nodiscard]] event finish();
  /// Response parser only: the next response answers a HEAD request (no body follows,
  /// whatever Content-Length says). Call before feeding that response.
  void expect_no_body() noexcept;
  /// Clears head() and body() for the next message on the same connection.
  void next_message() noexcept;

  [[nodiscard]] const message_head& head() const noexcept;
  [[nodiscard]] message_head& head() noexcept;
  [[nodiscard]] std::string& body() noexcept;
  [[nodiscard]] parse_error error() const noexcept;
  /// A short human-readable reason for error() (llhttp's, or ours for a limit).
  [[nodiscard]] std::string_view error_reason() const noexcept;

 private:
  struct state;  // llhttp_t and its settings live in parser.cpp
  std::unique_ptr<state> state_;
};

}  // namespace corio::http::detail
