// tests/io/http/parser_test.cpp — detail::parser (io/http/parser.hpp): requests and responses,
// whole and split at every byte, bodies of each kind, pipelining, every limit and the smuggling
// shapes that must be refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "io/http/parser.hpp"

using corio::http::detail::message_head;
using corio::http::detail::parse_error;
using corio::http::detail::parse_limits;
using corio::http::detail::parser;
using event = parser::event;
using kind = parser::kind;

namespace {

struct parsed_message {
  message_head head;
  std::string body;
};

/// Everything one run of the parser produced: the messages, and how it ended.
struct outcome {
  std::vector<parsed_message> messages;
  parse_error error = parse_error::none;
  int heads_seen = 0;

  [[nodiscard]] bool operator==(const outcome& o) const {
    if (messages.size() != o.messages.size() || error != o.error || heads_seen != o.heads_seen) return false;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const message_head& a = messages[i].head;
      const message_head& b = o.messages[i].head;
      if (a.method != b.method || a.target != b.target || a.status != b.status || a.reason != b.reason ||
          a.version_major != b.version_major || a.version_minor != b.version_minor ||
          a.content_length != b.content_length || a.chunked != b.chunked || a.keep_alive != b.keep_alive ||
          a.upgrade != b.upgrade || messages[i].body != o.messages[i].body || a.headers.size() != b.headers.size()) {
        return false;
      }
      auto ai = a.headers.begin();
      for (auto bi = b.headers.begin(); bi != b.headers.end(); ++ai, ++bi) {
        if (ai->name != bi->name || ai->value != bi->value) return false;
      }
    }
    return true;
  }
};

struct run_options {
  parse_limits limits{};
  bool finish = false;          // signal EOF after the last piece
  int no_body_responses = 0;    // how many leading responses answer HEAD requests
  std::size_t split_stride = 1; // run_every_split: cut at every n-th byte (big inputs: n > 1)
};

/// Feeds `pieces` in order, the way a connection would, and records what came out.
outcome run(kind k, const std::vector<std::string_view>& pieces, run_options opt = {}) {
  parser p(k, opt.limits);
  outcome out;
  int no_body = opt.no_body_responses;
  if (no_body > 0) {
    p.expect_no_body();
    --no_body;
  }
  auto on_message = [&] {
    out.messages.push_back({p.head(), p.body()});
    p.next_message();
    if (no_body > 0) {
      p.expect_no_body();
      --no_body;
    }
  };
  for (std::string_view piece : pieces) {
    for (;;) {
      const auto [consumed, what] = p.feed(piece);
      EXPECT_LE(consumed, piece.size());
      piece.remove_prefix(consumed);
      if (what == event::head_complete) {
        ++out.heads_seen;
        continue;
      }
      if (what == event::message_complete) {
        on_message();
        continue;
      }
      if (what == event::error) {
        out.error = p.error();
        EXPECT_FALSE(p.error_reason().empty());
        return out;
      }
      EXPECT_TRUE(piece.empty()) << "need_more must mean everything was consumed";
      break;
    }
  }
  if (opt.finish) {
    const event last = p.finish();
    if (last == event::message_complete) on_message();
    if (last == event::error) out.error = p.error();
  }
  return out;
}

outcome run_whole(kind k, std::string_view input, run_options opt = {}) { return run(k, {input}, opt); }

/// Parses `input` whole, then split in two at every byte (every opt.split_stride-th byte, and
/// the last one), then byte by byte, and checks that every way gives the same outcome; returns it.
outcome run_every_split(kind k, std::string_view input, run_options opt = {}) {
  const outcome whole = run_whole(k, input, opt);
  for (std::size_t cut = 0; cut <= input.size(); cut = cut == input.size() ? cut + 1 : std::min(cut + opt.split_stride, input.size())) {
    const outcome split = run(k, {input.substr(0, cut), input.substr(cut)}, opt);
    EXPECT_TRUE(split == whole) << "split at byte " << cut << " of:\n" << input;
    if (!(split == whole)) break;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  EXPECT_TRUE(run(k, bytes, opt) == whole) << "byte by byte:\n" << input;
  return whole;
}

std::string header_value(const message_head& h, std::string_view name) {
  auto v = h.headers.get(name);
  return v ? std::string(*v) : std::string("<missing>");
}

}  // namespace

// ---- requests ---------------------------------------------------------------------------------

TEST(HttpParser, ParsesASimpleGetWhateverTheSplits) {
  const auto out = run_every_split(kind::request,
                                   "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \r\nX-Empty:\r\n\r\n");
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 1u);
  const message_head& h = out.messages[0].head;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/a/b?x=1");
  EXPECT_EQ(h.version_major, 1);
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(header_value(h, "host"), "example.com");
  EXPECT_EQ(header_value(h, "ACCEPT"), "*/*") << "whitespace around a value is not part of it";
  EXPECT_EQ(header_value(h, "x-empty"), "");
  EXPECT_FALSE(h.content_length.has_value());
  EXPECT_FALSE(h.chunked);
  EXPECT_TRUE(h.keep_alive) << "HTTP/1.1 is keep-alive by default";
  EXPECT_TRUE(out.messages[0].body.empty());
}

TEST(HttpParser, StopsAtTheHeadBeforeReadingTheBody) {
  parser p(kind::request);
  const std::string_view input = "POST /upload HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  auto r = p.feed(input);
  ASSERT_EQ(r.what, event::head_complete);
  EXPECT_EQ(input.substr(r.consumed), "hello") << "the body is left for the next feed";
  EXPECT_EQ(p.head().content_length, 5u);
  EXPECT_TRUE(p.body().empty());
  r = p.feed(input.substr(r.consumed));
  EXPECT_EQ(r.what, event::message_complete);
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_EQ(p.body(), "hello");
}

TEST(HttpParser, ReadsAContentLengthBody) {
  const auto out = run_every_split(kind::request, "POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world");
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].head.method, "POST");
  EXPECT_EQ(out.messages[0].head.content_length, 11u);
  EXPECT_EQ(out.messages[0].body, "hello world");
}

TEST(HttpParser, DecodesAChunkedBodyWithExtensionsAndTrailers) {
  const auto out = run_every_split(kind::request,
                                   "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n");
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(out.messages[0].head.chunked);
  EXPECT_FALSE(out.messages[0].head.content_length.has_value());
  EXPECT_EQ(out.messages[0].body, "hello world");
}

TEST(HttpParser, Http10IsKeepAliveOnlyWhenItAsks) {
  auto out = run_whole(kind::request, "GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].head.version_minor, 0);
  EXPECT_FALSE(out.messages[0].head.keep_alive);
  out = run_whole(kind::request, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(out.messages[0].head.keep_alive);
}

TEST(HttpParser, ConnectionCloseEndsKeepAlive) {
  const auto out = run_whole(kind::request, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_FALSE(out.messages[0].head.keep_alive);
}

TEST(HttpParser, AnswersPipelinedRequestsOneAtATimeInOrder) {
  const auto out = run_every_split(kind::request,
                                   "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                                   "POST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                                   "PUT /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
                                   "DELETE /4 HTTP/1.1\r\n\r\n");
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 4u);
  EXPECT_EQ(out.heads_seen, 2) << "a head of its own only for the two requests with a body";
  EXPECT_EQ(out.messages[0].head.target, "/1");
  EXPECT_EQ(out.messages[1].head.method, "POST");
  EXPECT_EQ(out.messages[1].body, "abc");
  EXPECT_EQ(out.messages[2].head.method, "PUT");
  EXPECT_EQ(out.messages[2].body, "xy");
  EXPECT_EQ(out.messages[3].head.method, "DELETE");
  EXPECT_EQ(out.messages[3].head.headers.size(), 0u) << "the previous message's fields are gone";
  EXPECT_TRUE(out.messages[3].body.empty());
}

TEST(HttpParser, StopsAfterEachMessageSoThatTheNextIsLeftUnread) {
  parser p(kind::request);
  const std::string_view input = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n";
  const auto r = p.feed(input);
  ASSERT_EQ(r.what, event::message_complete);
  EXPECT_EQ(input.substr(r.consumed), "GET /2 HTTP/1.1\r\n\r\n");
  EXPECT_EQ(p.head().target, "/1");
}

TEST(HttpParser, ARequestWithoutABodyEndsWithItsHeadInOneEvent) {
  // No body, nothing to decide on before it: message_complete alone, the head whole with it.
  for (const std::string_view input : {"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
                                       "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                                       "HEAD /a HTTP/1.0\r\n\r\n"}) {
    parser p(kind::request);
    const auto r = p.feed(input);
    EXPECT_EQ(r.what, event::message_complete) << input;
    EXPECT_EQ(r.consumed, input.size()) << input;
    EXPECT_EQ(p.head().target, "/a") << input;
  }
  // A body to come (announced or chunked), or an upgrade: the head first, on its own.
  for (const std::string_view input : {"POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
                                       "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                                       "GET /a HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"}) {
    parser p(kind::request);
    const auto r = p.feed(input);
    EXPECT_EQ(r.what, event::head_complete) << input;
    EXPECT_EQ(p.feed(input.substr(r.consumed)).what, event::message_complete) << input;
  }
  // A response's head always comes first: a client decides how to read the body.
  parser p(kind::response);
  EXPECT_EQ(p.feed("HTTP/1.1 204 No Content\r\n\r\n").what, event::head_complete);
}

TEST(HttpParser, FinishBetweenRequestsIsCleanButInsideOneIsIncomplete) {
  parser p(kind::request);
  EXPECT_EQ(p.finish(), event::need_more);
  auto out = run_whole(kind::request, "GET / HTTP/1.1\r\nHost: a\r\n", {.finish = true});
  EXPECT_EQ(out.error, parse_error::incomplete);
  out = run_whole(kind::request, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", {.finish = true});
  EXPECT_EQ(out.error, parse_error::incomplete);
  out = run_whole(kind::request, "GET / HTTP/1.1\r\n\r\n", {.finish = true});
  EXPECT_EQ(out.error, parse_error::none);
  EXPECT_EQ(out.messages.size(), 1u);
}

TEST(HttpParser, ReportsAnUpgradeAndRefusesTheBytesAfterIt) {
  parser p(kind::request);
  const std::string_view input = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello";
  auto r = p.feed(input);
  ASSERT_EQ(r.what, event::head_complete);
  EXPECT_TRUE(p.head().upgrade);
  EXPECT_FALSE(p.head().keep_alive) << "the connection will not carry another HTTP message";
  std::string_view rest = input.substr(r.consumed);
  r = p.feed(rest);
  ASSERT_EQ(r.what, event::message_complete);
  rest.remove_prefix(r.consumed);
  EXPECT_EQ(rest.size(), 7u);
  EXPECT_EQ(p.feed(rest).what, event::error);
  EXPECT_EQ(p.error(), parse_error::malformed);
}

// ---- responses --------------------------------------------------------------------------------

TEST(HttpParser, ParsesAResponseWithAContentLength) {
  const auto out = run_every_split(kind::response,
                                   "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nContent-Type: text/plain\r\n\r\nnope");
  ASSERT_EQ(out.messages.size(), 1u);
  const message_head& h = out.messages[0].head;
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(h.reason, "Not Found");
  EXPECT_EQ(header_value(h, "content-type"), "text/plain");
  EXPECT_TRUE(h.keep_alive);
  EXPECT_EQ(out.messages[0].body, "nope");
}

TEST(HttpParser, DecodesAChunkedResponse) {
  const auto out = run_every_split(kind::response,
                                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "a\r\n0123456789\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(out.messages[0].head.chunked);
  EXPECT_EQ(out.messages[0].body, "0123456789abc");
}

TEST(HttpParser, ReadsACloseDelimitedResponseUntilFinish) {
  const auto out = run_every_split(kind::response, "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this until EOF",
                                   {.finish = true});
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_FALSE(out.messages[0].head.keep_alive) << "the body runs to EOF";
  EXPECT_EQ(out.messages[0].body, "all of this until EOF");
  // Without the EOF there is no complete message yet.
  EXPECT_TRUE(run_whole(kind::response, "HTTP/1.1 200 OK\r\n\r\nabc").messages.empty());
}

TEST(HttpParser, AResponseToHeadHasNoBodyWhateverItsContentLength) {
  const auto out = run_every_split(kind::response,
                                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                                   {.no_body_responses = 1});
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 2u);
  EXPECT_EQ(out.messages[0].head.content_length, 5u) << "the length the GET would have had";
  EXPECT_TRUE(out.messages[0].body.empty());
  EXPECT_TRUE(out.messages[0].head.keep_alive);
  EXPECT_EQ(out.messages[1].body, "hello") << "the next response is a normal one";
}

TEST(HttpParser, NoContentAndNotModifiedHaveNoBody) {
  const auto out = run_every_split(kind::response,
                                   "HTTP/1.1 204 No Content\r\n\r\n"
                                   "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
                                   "HTTP/1.1 100 Continue\r\n\r\n"
                                   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 4u);
  EXPECT_EQ(out.messages[0].head.status, 204);
  EXPECT_EQ(out.messages[1].head.status, 304);
  EXPECT_TRUE(out.messages[1].body.empty());
  EXPECT_EQ(out.messages[2].head.status, 100);
  EXPECT_EQ(out.messages[3].body, "ok");
}

TEST(HttpParser, AHeadRequestsResponseMayFollowAContinue) {
  const auto out = run_every_split(kind::response,
                                   "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                                   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                                   {.no_body_responses = 1});
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 3u);
  EXPECT_TRUE(out.messages[1].body.empty()) << "the HEAD answer is the 200, not the 100";
  EXPECT_EQ(out.messages[2].body, "ok");
}

TEST(HttpParser, APipelinedResponseSequenceComesApartInOrder) {
  const auto out = run_every_split(kind::response,
                                   "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
                                   "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"
                                   "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nc");
  ASSERT_EQ(out.messages.size(), 3u);
  EXPECT_EQ(out.messages[0].body, "a");
  EXPECT_EQ(out.messages[1].head.status, 201);
  EXPECT_EQ(out.messages[1].body, "b");
  EXPECT_FALSE(out.messages[2].head.keep_alive) << "HTTP/1.0 without keep-alive";
}

TEST(HttpParser, AResponseCutShortIsIncomplete) {
  const auto out = run_whole(kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", {.finish = true});
  EXPECT_EQ(out.error, parse_error::incomplete);
}

TEST(HttpParser, MovedParserKeepsWorking) {
  parser a(kind::request);
  ASSERT_EQ(a.feed("GET /moved HTTP/1.1\r\n").what, event::need_more);
  parser b = std::move(a);
  const auto r = b.feed("Host: x\r\n\r\n");
  ASSERT_EQ(r.what, event::message_complete);
  EXPECT_EQ(b.head().target, "/moved");
  EXPECT_EQ(header_value(b.head(), "host"), "x");
}

// ---- limits -----------------------------------------------------------------------------------

namespace {

std::string request_line_of_length(std::size_t length) {
  // "GET " + target + " HTTP/1.1" is `length` bytes.
  const std::size_t fixed = std::string_view("GET  HTTP/1.1").size();
  return "GET /" + std::string(length - fixed - 1, 'a') + " HTTP/1.1";
}

std::string fields_of(std::size_t count, std::size_t value_length = 1) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += "X-F" + std::to_string(i) + ": " + std::string(value_length, 'v') + "\r\n";
  return out;
}

}  // namespace

TEST(HttpParser, AcceptsARequestLineOfExactlyTheLimit) {
  const std::string line = request_line_of_length(8 * 1024);
  ASSERT_EQ(line.size(), 8u * 1024);
  const auto out = run_whole(kind::request, line + "\r\n\r\n");
  EXPECT_EQ(out.error, parse_error::none);
  EXPECT_EQ(out.messages.size(), 1u);
}

TEST(HttpParser, RefusesARequestLineOverTheLimitHoweverItArrives) {
  const std::string line = request_line_of_length(8 * 1024 + 1);
  EXPECT_EQ(run_whole(kind::request, line + "\r\n\r\n").error, parse_error::start_line_too_long);
  // Before the line ends: a client that never sends CRLF is refused as soon as it is too long.
  EXPECT_EQ(run_whole(kind::request, line).error, parse_error::start_line_too_long);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < line.size(); ++i) bytes.push_back(std::string_view(line).substr(i, 1));
  EXPECT_EQ(run(kind::request, bytes).error, parse_error::start_line_too_long);
}

TEST(HttpParser, AppliesTheStartLineLimitToAResponseToo) {
  const std::string status_line = "HTTP/1.1 200 " + std::string(9000, 'r');
  EXPECT_EQ(run_whole(kind::response, status_line + "\r\n\r\n").error, parse_error::start_line_too_long);
}

TEST(HttpParser, RefusesAHeaderBlockOverTheLimit) {
  // 15 fields of ~1.1 KiB: about 16.5 KiB, fewer than 100 fields.
  const std::string big = fields_of(15, 1100);
  ASSERT_GT(big.size(), 16u * 1024);
  EXPECT_EQ(run_whole(kind::request, "GET / HTTP/1.1\r\n" + big + "\r\n").error, parse_error::headers_too_large);
  const std::string fits = fields_of(14, 1100);
  ASSERT_LT(fits.size() + 2, 16u * 1024);
  EXPECT_EQ(run_whole(kind::request, "GET / HTTP/1.1\r\n" + fits + "\r\n").error, parse_error::none);
}

TEST(HttpParser, RefusesOneHugeHeaderValueBeforeItEnds) {
  const std::string input = "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'v');
  EXPECT_EQ(run_whole(kind::request, input).error, parse_error::headers_too_large);
}

TEST(HttpParser, CountsWhitespaceThatNoCallbackReports) {
  // Spaces before a value are skipped by llhttp without a callback; they still count.
  const std::string input = "GET / HTTP/1.1\r\nX-Pad:" + std::string(20000, ' ');
  EXPECT_EQ(run_whole(kind::request, input).error, parse_error::headers_too_large);
}

TEST(HttpParser, AcceptsOneHundredFieldsButNotOneHundredAndOne) {
  EXPECT_EQ(run_whole(kind::request, "GET / HTTP/1.1\r\n" + fields_of(100) + "\r\n").error, parse_error::none);
  EXPECT_EQ(run_whole(kind::request, "GET / HTTP/1.1\r\n" + fields_of(101) + "\r\n").error, parse_error::too_many_headers);
}

TEST(HttpParser, HonoursCustomLimits) {
  const parse_limits tight{.max_start_line = 20, .max_header_bytes = 40, .max_header_fields = 2};
  EXPECT_EQ(run_whole(kind::request, "GET /0123456789abcdef HTTP/1.1\r\n\r\n", {.limits = tight}).error,
            parse_error::start_line_too_long);
  EXPECT_EQ(run_whole(kind::request, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", {.limits = tight}).error,
            parse_error::too_many_headers);
  EXPECT_EQ(run_whole(kind::request, "GET / HTTP/1.1\r\nA: " + std::string(40, 'x') + "\r\n\r\n", {.limits = tight}).error,
            parse_error::headers_too_large);
  EXPECT_EQ(run_whole(kind::request, "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", {.limits = tight}).error,
            parse_error::none);
}

TEST(HttpParser, LimitsApplyToEachPipelinedMessageOnItsOwn) {
  // Three requests of 6 KiB target each: together over 8 KiB, each under it. Cutting 18 KiB at
  // every byte would parse 330 MB (14 s under a sanitizer): cuts every 7th byte, plus the
  // byte-by-byte run that feeds every boundary on its own, cover it in a seventh of the time.
  const std::string one = request_line_of_length(6 * 1024) + "\r\n\r\n";
  run_options every_seventh;
  every_seventh.split_stride = 7;
  const auto out = run_every_split(kind::request, one + one + one, every_seventh);
  EXPECT_EQ(out.error, parse_error::none);
  EXPECT_EQ(out.messages.size(), 3u);
}

// ---- malformed input and smuggling shapes -----------------------------------------------------

namespace {

parse_error error_of(std::string_view request) {
  const outcome whole = run_whole(kind::request, request);
  // The same verdict byte by byte: no split lets a bad shape through.
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < request.size(); ++i) bytes.push_back(request.substr(i, 1));
  EXPECT_EQ(run(kind::request, bytes).error, whole.error) << request;
  return whole.error;
}

}  // namespace

TEST(HttpParser, RefusesContentLengthTogetherWithTransferEncoding) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            parse_error::malformed);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
            parse_error::malformed);
}

TEST(HttpParser, RefusesDuplicateContentLengths) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"), parse_error::malformed);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), parse_error::malformed);
}

TEST(HttpParser, RefusesInvalidContentLengths) {
  for (const char* value : {"abc", "-1", "1 2", "5x", "+5", "99999999999999999999999"}) {
    EXPECT_EQ(error_of(std::string("POST / HTTP/1.1\r\nContent-Length: ") + value + "\r\n\r\n"), parse_error::malformed)
        << value;
  }
}

TEST(HttpParser, RefusesBadChunkSizes) {
  for (const char* chunk : {"zz\r\n", "-1\r\n", "fffffffffffffffffff\r\n", " 5\r\n"}) {
    EXPECT_EQ(error_of(std::string("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") + chunk + "hello\r\n0\r\n\r\n"),
              parse_error::malformed)
        << chunk;
  }
  // A chunk longer than its size says.
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"), parse_error::malformed);
}

TEST(HttpParser, RefusesATransferEncodingThatDoesNotEndInChunked) {
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc"), parse_error::malformed);
  EXPECT_EQ(error_of("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\nabc"), parse_error::malformed);
}

TEST(HttpParser, RefusesBrokenHeadLines) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello"), parse_error::malformed)
      << "whitespace between the name and the colon (RFC 9112 5.1)";
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nNo-Colon\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/9.9\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("G@T / HTTP/1.1\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET /a b HTTP/1.1\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/1.1\nHost: t\n\n"), parse_error::malformed) << "bare LF";
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n"), parse_error::malformed) << "bare CR";
  EXPECT_EQ(error_of(std::string_view("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26)), parse_error::malformed) << "NUL";
  EXPECT_EQ(error_of("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), parse_error::malformed) << "a TLS hello";
}

TEST(HttpParser, RefusesObsoleteLineFoldingInARequest) {
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX-Folded: a\r\n b\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX-Folded: a\r\n\tb\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/1.1\r\nX-Folded:\r\n b\r\n\r\n"), parse_error::malformed) << "folded after an empty value";
}

TEST(HttpParser, UnfoldsObsoleteLineFoldingInAResponse) {
  const auto out = run_every_split(kind::response, "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(out.error, parse_error::none);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(header_value(out.messages[0].head, "x-folded"), "a b");
}

TEST(HttpParser, StaysInErrorOnceItFailed) {
  parser p(kind::request);
  EXPECT_EQ(p.feed("BAD REQUEST\r\n\r\n").what, event::error);
  EXPECT_EQ(p.error(), parse_error::malformed);
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\n\r\n").what, event::error);
  EXPECT_EQ(p.finish(), event::error);
}

// ---- limits and errors are a function of the bytes, never of the split ------------------------
// (Each rule below was broken once; tests/fuzz/regressions/README.md has the fuzz inputs.)

namespace {

parse_limits small_limits(std::size_t start_line, std::size_t header_bytes = 256) {
  return {.max_start_line = start_line, .max_header_bytes = header_bytes, .max_header_fields = 8};
}

}  // namespace

TEST(HttpParser, AStartLineOfExactlyTheLimitPassesWhateverTheSplit) {
  // The limit counts the line's bytes without its CRLF, however the CRLF arrives.
  const std::string line = request_line_of_length(40);
  ASSERT_EQ(line.size(), 40u);
  const auto fits = run_every_split(kind::request, line + "\r\nHost: a\r\n\r\n", {.limits = small_limits(40)});
  EXPECT_EQ(fits.error, parse_error::none);
  EXPECT_EQ(fits.messages.size(), 1u);
  EXPECT_EQ(run_every_split(kind::request, line + "\r\nHost: a\r\n\r\n", {.limits = small_limits(39)}).error,
            parse_error::start_line_too_long);
  // A head without fields: the empty line that ends it is not counted either.
  EXPECT_EQ(run_every_split(kind::request, line + "\r\n\r\n", {.limits = small_limits(40)}).error, parse_error::none);
}

TEST(HttpParser, AStatusLineOfExactlyTheLimitPassesWhateverTheSplit) {
  const std::string line = "HTTP/1.1 200 " + std::string(27, 'r');
  ASSERT_EQ(line.size(), 40u);
  const std::string response = line + "\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(run_every_split(kind::response, response, {.limits = small_limits(40)}).error, parse_error::none);
  EXPECT_EQ(run_every_split(kind::response, response, {.limits = small_limits(39)}).error,
            parse_error::start_line_too_long);
}

TEST(HttpParser, EmptyLinesBeforeTheStartLineCountTowardsItsLimit) {
  // "GET / HTTP/1.1" is 14 bytes; three empty lines before it add 6.
  const std::string request = "\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(run_every_split(kind::request, request, {.limits = small_limits(20)}).error, parse_error::none);
  EXPECT_EQ(run_every_split(kind::request, request, {.limits = small_limits(19)}).error,
            parse_error::start_line_too_long);
  // An endless stream of them is refused, not read for ever.
  EXPECT_EQ(run_every_split(kind::response, std::string(70, '\r'), {.limits = small_limits(64)}).error,
            parse_error::start_line_too_long);
}

TEST(HttpParser, AHeaderBlockOfExactlyTheLimitPassesWhateverTheSplit) {
  // The header limit counts the field lines' bytes without their CRLFs: 10 + 12 = 22 here.
  const std::string request = "GET / HTTP/1.1\r\nHost: abcd\r\nX-Long: 1234\r\n\r\n";
  EXPECT_EQ(run_every_split(kind::request, request, {.limits = small_limits(64, 22)}).error, parse_error::none);
  EXPECT_EQ(run_every_split(kind::request, request, {.limits = small_limits(64, 21)}).error,
            parse_error::headers_too_large);
  // One field line of exactly the limit.
  const std::string one = "GET / HTTP/1.1\r\nCookie: " + std::string(248, 'c') + "\r\n\r\n";
  EXPECT_EQ(run_every_split(kind::request, one, {.limits = small_limits(64, 256)}).error, parse_error::none);
  EXPECT_EQ(run_every_split(kind::request, one, {.limits = small_limits(64, 255)}).error,
            parse_error::headers_too_large);
}

TEST(HttpParser, ALimitErrorNeedsTheByteThatBreaksItToBeValid) {
  // The 6th byte of the start line breaks a 5-byte limit: a limit error if llhttp accepts that
  // byte, malformed if it refuses it or an earlier one. Whatever the split.
  EXPECT_EQ(run_every_split(kind::request, "GET /abc HTTP/1.1\r\n\r\n", {.limits = small_limits(5)}).error,
            parse_error::start_line_too_long);
  EXPECT_EQ(run_every_split(kind::request, std::string_view("GET /\0bc HTTP/1.1\r\n\r\n", 21),
                            {.limits = small_limits(5)}).error,
            parse_error::malformed);
  EXPECT_EQ(run_every_split(kind::request, std::string_view("GET \0abc HTTP/1.1\r\n\r\n", 21),
                            {.limits = small_limits(5)}).error,
            parse_error::malformed);
  // A line cut short by a bare CR after the limit was broken: the limit came first.
  EXPECT_EQ(run_every_split(kind::request, "GET " + std::string(61, 'c') + "\r", {.limits = small_limits(64)}).error,
            parse_error::start_line_too_long);
  // The same for the header block ("A: 12" is 5 bytes).
  const parse_limits five = small_limits(64, 5);
  EXPECT_EQ(run_every_split(kind::request, "GET / HTTP/1.1\r\nA: 123\r\n\r\n", {.limits = five}).error,
            parse_error::headers_too_large);
  EXPECT_EQ(run_every_split(kind::request, std::string_view("GET / HTTP/1.1\r\nA: 12\0\r\n\r\n", 26), {.limits = five}).error,
            parse_error::malformed);
}

TEST(HttpParser, FinishAfterACloseDelimitedBodyCompletesItOnce) {
  parser p(kind::response);
  const std::string_view input = "HTTP/1.0 200 OK\r\n\r\nx";
  auto r = p.feed(input);
  ASSERT_EQ(r.what, event::head_complete);
  ASSERT_EQ(p.feed(input.substr(r.consumed)).what, event::need_more);
  ASSERT_EQ(p.finish(), event::message_complete);
  EXPECT_EQ(p.body(), "x");
  p.next_message();
  EXPECT_EQ(p.finish(), event::need_more) << "between messages, not a second (empty) one";
  EXPECT_EQ(p.finish(), event::need_more);
}

TEST(HttpParser, RefusesHttp09Requests) {
  // No version: llhttp would take it as HTTP/0.9 (and read fields after it). We speak 1.x only.
  EXPECT_EQ(error_of("GET /\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET /index.html\r\nHost: a\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(error_of("GET / HTTP/0.9\r\n\r\n"), parse_error::malformed);
  EXPECT_EQ(run_every_split(kind::request, "GET /\r\n\r\n").error, parse_error::malformed);
  // A second request on the connection is checked too (llhttp keeps the first one's version
  // until it reads the next one's).
  EXPECT_EQ(run_every_split(kind::request, "GET / HTTP/1.1\r\n\r\nGET /\r\n\r\n").error, parse_error::malformed);
}
