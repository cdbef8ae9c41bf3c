// tests/fuzz/http_parser_harness.hpp — the property both HTTP parser fuzz targets check
// (http_request_parser.cpp, http_response_parser.cpp), over io/http/parser.hpp.
//
// Property: a message arrives in pieces of any size, so the parser must not care where the
// pieces end. The same bytes are fed three ways —
//   1. whole, in one feed();
//   2. split in two at a point the input chooses (the cut may fall inside a token, a CRLF,
//      a chunk-size line...);
//   3. one byte per feed();
// each followed by finish() (the peer closed) — and the three transcripts must be equal: the
// same events in the same order, the same heads (method, target, status, reason, version, every
// header, content_length, chunked, keep_alive, upgrade) at head_complete and at
// message_complete, the same decoded body bytes per message, and the same error kind. It also
// checks the parser's own contract on the way: feed() never consumes more than it was given,
// need_more means it consumed everything, it always makes progress, an error is sticky, and
// finish() between messages says need_more.
// Any difference prints the three transcripts and aborts, which libFuzzer reports as a crash.
// With CORIO_FUZZ_PRINT=1 in the environment, every input's transcript is printed (to see what a
// seed or a regression input exercises).
//
// Input layout (the first 4 bytes steer, the rest is the HTTP bytes):
//   byte 0-1  split point, big-endian, taken modulo (message length + 1)
//   byte 2    bit 0: small limits (64-byte start line, 256 header bytes, 8 fields), so the
//             limit checks (414 / 431) are exercised by short inputs too
//   byte 3    response parser only: bit i set -> the response i (mod 8) answers a HEAD
//             request (expect_no_body() is called before it is fed)
//   byte 4-   the bytes a peer sent
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/http/parser.hpp"
#include "quoted.hpp"

namespace corio::fuzz {

using http::detail::message_head;
using http::detail::parse_error;
using http::detail::parse_limits;
using http::detail::parser;

struct parser_input {
  std::size_t split = 0;
  parse_limits limits;
  std::uint8_t head_mask = 0;
  std::string_view bytes;
};

inline std::optional<parser_input> decode_parser_input(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t steering_bytes = 4;
  if (size < steering_bytes) return std::nullopt;
  parser_input in;
  in.bytes = std::string_view(reinterpret_cast<const char*>(data) + steering_bytes, size - steering_bytes);
  in.split = (std::size_t{data[0]} << 8 | data[1]) % (in.bytes.size() + 1);
  if ((data[2] & 1) != 0) in.limits = parse_limits{.max_start_line = 64, .max_header_bytes = 256, .max_header_fields = 8};
  in.head_mask = data[3];
  return in;
}

inline std::string describe(const message_head& h) {
  std::string out = "method=" + quoted(h.method) + " target=" + quoted(h.target) +
                    " status=" + std::to_string(h.status) + " reason=" + quoted(h.reason) +
                    " version=" + std::to_string(h.version_major) + "." + std::to_string(h.version_minor) +
                    " content_length=" + (h.content_length ? std::to_string(*h.content_length) : "none") +
                    " chunked=" + std::to_string(h.chunked) + " keep_alive=" + std::to_string(h.keep_alive) +
                    " upgrade=" + std::to_string(h.upgrade) + " headers={";
  for (const auto& field : h.headers) out += " " + quoted(field.name) + ": " + quoted(field.value);
  return out + " }";
}

inline const char* name_of(parse_error e) {
  switch (e) {
    case parse_error::none: return "none";
    case parse_error::start_line_too_long: return "start_line_too_long";
    case parse_error::headers_too_large: return "headers_too_large";
    case parse_error::too_many_headers: return "too_many_headers";
    case parse_error::malformed: return "malformed";
    case parse_error::incomplete: return "incomplete";
  }
  return "?";
}

[[noreturn]] inline void contract_broken(const char* what) {
  std::fprintf(stderr, "http parser fuzz: %s\n", what);
  std::abort();
}

/// Feeds one parser the pieces it is given and writes down everything it reports.
class transcript_recorder {
 public:
  transcript_recorder(parser::kind kind, const parser_input& in)
      : parser_(kind, in.limits), head_mask_(in.head_mask), response_(kind == parser::kind::response) {
    announce_head_request();
  }

  /// One piece of the input: feed it until the parser wants more (or fails).
  void feed(std::string_view piece) {
    int stalls = 0;  // events in a row that consumed nothing
    while (!failed_) {
      const auto [consumed, what] = parser_.feed(piece);
      if (consumed > piece.size()) contract_broken("feed() consumed more than it was given");
      piece.remove_prefix(consumed);
      stalls = consumed == 0 ? stalls + 1 : 0;
      if (stalls > 8) contract_broken("feed() keeps returning events without consuming anything");
      body_ += parser_.body();
      parser_.body().clear();  // allowed by the contract; a streaming reader does the same
      if (what == parser::event::need_more) {
        if (!piece.empty()) contract_broken("feed() said need_more but left bytes unconsumed");
        return;
      }
      on_event(what);
    }
  }

  /// The peer closed: what does finish() make of the end?
  void finish() {
    if (failed_) return;
    lines_.push_back("finish");
    const parser::event what = parser_.finish();
    body_ += parser_.body();
    parser_.body().clear();
    if (what == parser::event::need_more) return;
    on_event(what);
    if (what != parser::event::message_complete) return;
    // A close-delimited body ended; the parser is between messages now, and nothing can
    // follow the end of the input (the contract: finish() says need_more there).
    if (parser_.finish() != parser::event::need_more) {
      contract_broken("finish() after the last message completed did not say need_more");
    }
  }

  [[nodiscard]] const std::vector<std::string>& lines() const noexcept { return lines_; }

 private:
  void on_event(parser::event what) {
    switch (what) {
      case parser::event::head_complete:
        lines_.push_back("head_complete " + describe(parser_.head()));
        return;
      case parser::event::message_complete:
        lines_.push_back("message_complete " + describe(parser_.head()) + " body=" + quoted(body_));
        body_.clear();
        parser_.next_message();
        ++messages_;
        announce_head_request();
        return;
      case parser::event::error:
        on_error();
        return;
      case parser::event::need_more:
        return;
    }
  }

  void on_error() {
    const parse_error kind = parser_.error();
    if (kind == parse_error::none) contract_broken("event::error with error() == none");
    if (parser_.error_reason().empty()) contract_broken("an error without a reason");
    lines_.push_back(std::string("error ") + name_of(kind));
    // The contract: after an error the parser stays in error, whatever comes next.
    if (parser_.feed("GET / HTTP/1.1\r\n\r\n").what != parser::event::error || parser_.error() != kind) {
      contract_broken("the parser left the error state");
    }
    failed_ = true;
  }

  void announce_head_request() {
    if (response_ && ((head_mask_ >> (messages_ % 8)) & 1) != 0) parser_.expect_no_body();
  }

  parser parser_;
  std::uint8_t head_mask_;
  bool response_;
  bool failed_ = false;
  unsigned messages_ = 0;
  std::string body_;  // the current message's body so far
  std::vector<std::string> lines_;
};

inline void print_transcript(const char* title, const std::vector<std::string>& lines) {
  std::fprintf(stderr, "--- %s (%zu lines)\n", title, lines.size());
  for (const auto& line : lines) std::fprintf(stderr, "  %s\n", line.c_str());
}

/// The whole check, for one fuzz input.
inline int check_split_invariance(parser::kind kind, const std::uint8_t* data, std::size_t size) {
  const std::optional<parser_input> in = decode_parser_input(data, size);
  if (!in) return 0;

  transcript_recorder whole(kind, *in);
  whole.feed(in->bytes);
  whole.finish();

  transcript_recorder split(kind, *in);
  split.feed(in->bytes.substr(0, in->split));
  split.feed(in->bytes.substr(in->split));
  split.finish();

  transcript_recorder bytewise(kind, *in);
  for (std::size_t i = 0; i < in->bytes.size(); ++i) bytewise.feed(in->bytes.substr(i, 1));
  bytewise.finish();

  if (std::getenv("CORIO_FUZZ_PRINT") != nullptr) print_transcript("whole", whole.lines());
  if (whole.lines() != split.lines() || whole.lines() != bytewise.lines()) {
    std::fprintf(stderr, "http parser fuzz: the transcripts differ (split at %zu of %zu bytes)\n", in->split,
                 in->bytes.size());
    print_transcript("whole", whole.lines());
    print_transcript("split", split.lines());
    print_transcript("byte by byte", bytewise.lines());
    std::abort();
  }
  return 0;
}

}  // namespace corio::fuzz
