// io/http/head_meter.hpp — measures one message's head against parse_limits, byte by byte in
// meaning but eight bytes at a time in practice. Only parser.cpp uses it (parser.hpp states what
// is counted); it is a header of its own so that its test can reach it.
//
// It knows nothing of HTTP beyond "a line ends at CR or LF, and an empty line after the start
// line ends the head": whether the lines are valid is llhttp's business. A CR is taken as a line
// end; if no LF follows it, llhttp refuses the message anyway (bare CR).
//
//   head_meter m(limits);
//   auto [at, broken] = m.take(bytes);   // at: index of the byte that breaks a limit, or npos
//
// Where the time goes: a head is mostly line content, so take() looks for the next CR or LF a
// word at a time (find_line_end, on control_bytes.hpp), counts the run between line ends in one
// addition, and takes the CR LF after it as one. Other line ends (a bare one, the empty line that
// ends the head, a CR LF split between two feeds) go through step(), the one-byte definition of
// what is counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "control_bytes.hpp"
#include "parser.hpp"

namespace corio::http::detail {

/// Index of the first CR or LF in `bytes` at or after `from`; bytes.size() if there is none.
[[nodiscard]] inline std::size_t find_line_end(std::string_view bytes, std::size_t from) noexcept {
  return find_control_byte(bytes, from, [](char c) { return c == '\r' || c == '\n'; });
}

class head_meter {
 public:
  explicit head_meter(const parse_limits& limits) noexcept : limits_(limits) {}

  /// Takes the next byte of the message; returns the limit this byte breaks, or none.
  parse_error step(char byte) noexcept {
    const bool line_end = byte == '\r' || byte == '\n';
    if (lf_may_follow_) {  // the LF of a CRLF belongs to the line end the CR began
      lf_may_follow_ = false;
      if (byte == '\n') return parse_error::none;
    }
    switch (phase_) {
      case phase::start_line:
        if (line_end && line_has_content_) return end_line(byte, phase::field_lines);
        // Empty lines before the start line (RFC 9112 2.2 lets us skip them) count as its bytes,
        // so that a peer cannot keep us reading them for ever.
        line_has_content_ = line_has_content_ || !line_end;
        return ++start_line_bytes_ > limits_.max_start_line ? parse_error::start_line_too_long : parse_error::none;
      case phase::field_lines:
        if (line_end) return end_line(byte, line_has_content_ ? phase::field_lines : phase::done);
        line_has_content_ = true;
        return ++field_line_bytes_ > limits_.max_header_bytes ? parse_error::headers_too_large : parse_error::none;
      case phase::done:
        return parse_error::none;
    }
    return parse_error::none;
  }

  /// Takes the next bytes until one breaks a limit: returns that byte's index and the limit,
  /// or npos and none. Runs of line content are counted in one go (the same count as step()).
  [[nodiscard]] std::pair<std::size_t, parse_error> take(std::string_view bytes) noexcept {
    std::size_t i = 0;
    while (i < bytes.size() && !done()) {
      const char byte = bytes[i];
      if (lf_may_follow_ || byte == '\r' || byte == '\n') {
        if (const parse_error e = step(byte); e != parse_error::none) return {i, e};
        ++i;
        continue;
      }
      const std::size_t run = find_line_end(bytes, i) - i;
      const bool start = phase_ == phase::start_line;
      std::uint64_t& count = start ? start_line_bytes_ : field_line_bytes_;
      const std::uint64_t room = (start ? limits_.max_start_line : limits_.max_header_bytes) - count;
      if (run > room) return {i + room, start ? parse_error::start_line_too_long : parse_error::headers_too_large};
      count += run;
      line_has_content_ = true;
      i += run;
      // The usual end of a line with content, CR LF, in one go: what step() does with the two.
      if (bytes.size() - i >= 2 && bytes[i] == '\r' && bytes[i + 1] == '\n') {
        end_line('\n', phase::field_lines);
        i += 2;
      }
    }
    return {std::string_view::npos, parse_error::none};
  }

  /// True when no `n` bytes, whatever they are, can break a limit from here: then the parser
  /// lets llhttp go first and the meter catches up afterwards (parser.cpp, feed()).
  [[nodiscard]] bool cannot_break_within(std::size_t n) const noexcept {
    return done() || (start_line_bytes_ <= limits_.max_start_line && n <= limits_.max_start_line - start_line_bytes_ &&
                      field_line_bytes_ <= limits_.max_header_bytes && n <= limits_.max_header_bytes - field_line_bytes_);
  }

  [[nodiscard]] bool done() const noexcept { return phase_ == phase::done; }
  void head_done() noexcept { phase_ = phase::done; }  // llhttp said so (its word is final)
  void next_message() noexcept { *this = head_meter(limits_); }

 private:
  enum class phase : unsigned char { start_line, field_lines, done };

  parse_error end_line(char byte, phase next) noexcept {
    phase_ = next;
    line_has_content_ = false;
    lf_may_follow_ = byte == '\r';
    return parse_error::none;
  }

  parse_limits limits_;
  phase phase_ = phase::start_line;
  bool line_has_content_ = false;  // the current line has a byte that is not CR or LF
  bool lf_may_follow_ = false;     // the previous byte was a CR that ended a line
  std::uint64_t start_line_bytes_ = 0;
  std::uint64_t field_line_bytes_ = 0;
};

}  // namespace corio::http::detail
