// tests/io/http/parser_test.cpp — detail::parser (io/http/parser.hpp): requests and responses,
// whole and split at every byte, bodies of each kind, pipelining and upgrades. The limits and
// the shapes that must be refused are in parser_limits_test.cpp.
#include "parser_support.hpp"

#include <utility>

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
  // The events a whole message gives, fed again after a head until it ends, and its target.
  const auto events_of = [](kind k, std::string_view input) {
    parser p(k);
    std::vector<event> events;
    do {
      const auto [consumed, what] = p.feed(input);
      input.remove_prefix(consumed);
      events.push_back(what);
    } while (events.back() == event::head_complete);
    return std::pair{events, p.head().target};
  };
  const std::vector<event> alone{event::message_complete};
  const std::vector<event> head_first{event::head_complete, event::message_complete};
  // No body, nothing to decide on before it: message_complete alone, the head whole with it.
  EXPECT_EQ(events_of(kind::request, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), std::pair(alone, std::string("/a")));
  EXPECT_EQ(events_of(kind::request, "POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n").first, alone);
  EXPECT_EQ(events_of(kind::request, "HEAD /a HTTP/1.0\r\n\r\n").first, alone);
  // A body to come (announced or chunked), or an upgrade: the head first, on its own.
  EXPECT_EQ(events_of(kind::request, "POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx").first, head_first);
  EXPECT_EQ(events_of(kind::request, "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").first,
            head_first);
  EXPECT_EQ(events_of(kind::request, "GET /a HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").first,
            head_first);
  // A response's head always comes first: a client decides how to read the body.
  EXPECT_EQ(events_of(kind::response, "HTTP/1.1 204 No Content\r\n\r\n").first, head_first);
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
