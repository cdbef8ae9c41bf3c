// tests/io/http/parser_limits_test.cpp — detail::parser (io/http/parser.hpp): every limit, the
// malformed input and smuggling shapes that must be refused, and that each verdict is a
// function of the bytes, never of how they were split.
#include "parser_support.hpp"

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
