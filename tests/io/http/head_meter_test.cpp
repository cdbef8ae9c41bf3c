// tests/io/http/head_meter_test.cpp — detail::head_meter and find_line_end (io/http/head_meter.hpp)
// on find_control_byte (io/http/control_bytes.hpp): the word-at-a-time search must find what a
// byte loop finds, and take() must count exactly as step() does byte by byte, wherever a line
// end or a broken limit falls in an eight-byte word.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "io/http/head_meter.hpp"

using corio::http::detail::find_control_byte;
using corio::http::detail::find_line_end;
using corio::http::detail::head_meter;
using corio::http::detail::parse_error;
using corio::http::detail::parse_limits;

namespace {

std::size_t line_end_by_bytes(std::string_view bytes, std::size_t from) {
  while (from < bytes.size() && bytes[from] != '\r' && bytes[from] != '\n') ++from;
  return from;
}

// The definition take() must match: step() over each byte, stopping at a broken limit or at the
// end of the head.
std::pair<std::size_t, parse_error> take_by_steps(head_meter& m, std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size() && !m.done(); ++i) {
    if (const parse_error e = m.step(bytes[i]); e != parse_error::none) return {i, e};
  }
  return {std::string_view::npos, parse_error::none};
}

// Bytes that look like line ends to a careless word trick: every control byte below 0x0E that
// is not CR or LF, bytes with the high bit set (0x8A and 0x8D differ from LF and CR by that bit
// only), and 0x0E itself, the first byte the trick does not flag.
constexpr std::string_view tricky_fillers("\t\0\x01\x0b\x0c\x0e\x80\x8a\x8d\xff\x7f x", 14);

// A small deterministic generator (xorshift), so that a failure replays.
struct xorshift {
  std::uint64_t state = 0x9e3779b97f4a7c15;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

}  // namespace

TEST(HttpHeadMeter, FindsALineEndAtEveryOffsetOfAWord) {
  for (const char end : {'\r', '\n'}) {
    for (const char filler : tricky_fillers) {
      for (std::size_t length = 0; length <= 26; ++length) {
        for (std::size_t at = 0; at <= length; ++at) {
          std::string bytes(length, filler);
          if (at < length) bytes[at] = end;
          for (std::size_t from = 0; from <= at; ++from) {
            ASSERT_EQ(find_line_end(bytes, from), line_end_by_bytes(bytes, from))
                << "length " << length << ", line end at " << at << ", from " << from << ", filler "
                << int(static_cast<unsigned char>(filler));
          }
        }
      }
    }
  }
}

TEST(HttpHeadMeter, FindsAWantedNulAtEveryOffsetOfAWord) {
  // The response writer's search: CR, LF or NUL (a NUL is a candidate the line-end search skips).
  const auto is_break = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
  for (std::size_t length = 1; length <= 26; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      std::string bytes(length, '\t');
      bytes[at] = '\0';
      ASSERT_EQ(find_control_byte(bytes, 0, is_break), at) << "length " << length;
      ASSERT_EQ(find_line_end(bytes, 0), length) << "length " << length;
    }
  }
}

TEST(HttpHeadMeter, FindsTheFirstOfSeveralCandidatesInOneWord) {
  // A tab before the CR, a NUL right after it: the CR is the answer, not a neighbour.
  EXPECT_EQ(find_line_end(std::string_view("ab\tc\r\0ef\n", 9), 0), 4U);
  EXPECT_EQ(find_line_end("\t\t\t\t\t\t\t\t\t\t\n", 0), 10U);
  EXPECT_EQ(find_line_end("\x0d\x0a", 0), 0U);
  EXPECT_EQ(find_line_end("abcdefgh", 0), 8U) << "none: the end";
  EXPECT_EQ(find_line_end("abcdefgh", 8), 8U) << "an empty search";
}

TEST(HttpHeadMeter, TakeMatchesStepOnRandomHeads) {
  // Heads made of the bytes that matter (CR, LF, the tricky fillers, plain text), against small
  // limits so that limits break inside words, fed whole and in two pieces.
  constexpr std::string_view alphabet("\r\n\r\n\t\0\x0b\x80\x8d aAbBcCdD:", 19);
  const parse_limits limits{.max_start_line = 13, .max_header_bytes = 21, .max_header_fields = 100};
  xorshift random;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(random.next() % 48, ' ');
    for (char& c : bytes) c = alphabet[random.next() % alphabet.size()];
    const std::size_t split = random.next() % (bytes.size() + 1);
    const std::string_view first = std::string_view(bytes).substr(0, split);
    const std::string_view second = std::string_view(bytes).substr(split);

    head_meter by_steps(limits);
    head_meter by_take(limits);
    auto expected = take_by_steps(by_steps, first);
    auto got = by_take.take(first);
    ASSERT_EQ(got, expected) << "round " << round << ", first piece of a split at " << split;
    if (expected.second != parse_error::none) continue;
    expected = take_by_steps(by_steps, second);
    got = by_take.take(second);
    ASSERT_EQ(got, expected) << "round " << round << ", second piece of a split at " << split;
    ASSERT_EQ(by_take.done(), by_steps.done()) << "round " << round;
  }
}

TEST(HttpHeadMeter, ALimitBrokenAtEveryOffsetOfAWordIsFoundAtItsByte) {
  // A start line of 30 bytes against every limit below it: the byte at index `limit` breaks it,
  // wherever that falls in a word (with empty lines before it shifting the start, too).
  for (std::size_t blank_lines = 0; blank_lines < 3; ++blank_lines) {
    std::string head;
    for (std::size_t i = 0; i < blank_lines; ++i) head += "\r\n";
    head.append(30, 'a').append("\r\n\r\n");
    for (std::size_t limit = 0; limit < 30 + blank_lines * 2; ++limit) {
      head_meter m(parse_limits{.max_start_line = limit, .max_header_bytes = 64, .max_header_fields = 100});
      EXPECT_EQ(m.take(head), std::make_pair(limit, parse_error::start_line_too_long))
          << "limit " << limit << ", blank lines " << blank_lines;
    }
  }
  // The same for the field lines, with a tab and a byte above 0x7F inside the value.
  const std::string fields = "GET / HTTP/1.1\r\nName:\tvalue \xc3\xa9 and more of it\r\n\r\n";
  const std::size_t field_line = fields.find('\n') + 1;
  const std::size_t field_bytes = fields.find('\r', field_line) - field_line;
  for (std::size_t limit = 0; limit < field_bytes; ++limit) {
    head_meter m(parse_limits{.max_start_line = 64, .max_header_bytes = limit, .max_header_fields = 100});
    EXPECT_EQ(m.take(fields), std::make_pair(field_line + limit, parse_error::headers_too_large)) << "limit " << limit;
  }
  head_meter exact(parse_limits{.max_start_line = 14, .max_header_bytes = field_bytes, .max_header_fields = 100});
  EXPECT_EQ(exact.take(fields), std::make_pair(std::string_view::npos, parse_error::none));
  EXPECT_TRUE(exact.done());
}

TEST(HttpHeadMeter, CannotBreakWithinIsExactlyTheRoomLeftUnderBothLimits) {
  // The parser skips the meter's look ahead when this says yes, so a yes must never hide a
  // broken limit: n bytes of line content fill the smaller room exactly, n + 1 break it.
  const parse_limits limits{.max_start_line = 20, .max_header_bytes = 30, .max_header_fields = 100};
  head_meter m(limits);
  EXPECT_TRUE(m.cannot_break_within(20));
  EXPECT_FALSE(m.cannot_break_within(21));
  EXPECT_EQ(head_meter(limits).take(std::string(21, 'a')), std::make_pair(std::size_t{20}, parse_error::start_line_too_long));
  // After a start line of 12 bytes and its CR LF: 8 more start line bytes are spent, field
  // lines have all 30 left; the smaller room (now the start line's, 8) still bounds the answer,
  // since the meter does not know where the next bytes go.
  EXPECT_EQ(m.take("GET / HTTP/1\r\n"), std::make_pair(std::string_view::npos, parse_error::none));
  EXPECT_TRUE(m.cannot_break_within(8));
  EXPECT_FALSE(m.cannot_break_within(9));
  // A finished head cannot break anything.
  EXPECT_EQ(m.take("\r\n"), std::make_pair(std::string_view::npos, parse_error::none));
  EXPECT_TRUE(m.done());
  EXPECT_TRUE(m.cannot_break_within(1 << 20));
}
