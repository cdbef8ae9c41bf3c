// tests/io/http/response_writer_test.cpp — detail::append_response (io/http/response_writer.cpp):
// the exact bytes of a response for each framing rule (HEAD, 204, 304, Transfer-Encoding,
// HTTP/1.0 keep-alive, closing), the fields the server writes or leaves to the handler, the
// responses it refuses to send, and that a response is appended after what is already there.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "io/http/server_detail.hpp"

using corio::http::response;
using corio::http::detail::append_response;
using corio::http::detail::response_context;

namespace {

constexpr std::string_view date = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
constexpr std::string_view server = "Server: corio\r\n";

response_context plain_context() {
  return response_context{.head_method = false, .version_minor = 1, .closing = false, .date_field = date, .server_field = server};
}

struct written {
  std::string bytes;
  bool closes = false;
  std::string_view problem = {};
};

written write(const response& res, const response_context& context = plain_context(), std::string before = {}) {
  written w{.bytes = std::move(before)};
  w.problem = append_response(w.bytes, res, context, w.closes);
  return w;
}

response hello() {
  response res;
  res.headers.add("Content-Type", "text/plain");
  res.body = "Hello, World!";
  return res;
}

}  // namespace

TEST(HttpResponseWriter, WritesTheUsualResponseWithServerDateAndLength) {
  EXPECT_EQ(write(hello()).bytes, std::string("HTTP/1.1 200 OK\r\n") + std::string(server) + std::string(date) +
                                      "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!");
}

TEST(HttpResponseWriter, AppendsAfterWhatIsAlreadyThere) {
  const written w = write(hello(), plain_context(), "earlier bytes|");
  EXPECT_EQ(w.bytes.substr(0, 31), "earlier bytes|HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(w.bytes.substr(w.bytes.size() - 13), "Hello, World!");
}

TEST(HttpResponseWriter, WritesAnyStatusWithItsStandardOrOwnReason) {
  response res;
  res.status = 404;
  EXPECT_EQ(write(res, {.date_field = "", .server_field = ""}).bytes,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  res.status = 200;
  res.reason = "Fine";
  EXPECT_EQ(write(res, {.date_field = "", .server_field = ""}).bytes, "HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n");
  res.status = 999;
  res.reason.clear();
  EXPECT_EQ(write(res, {.date_field = "", .server_field = ""}).bytes, "HTTP/1.1 999 Unknown\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpResponseWriter, SaysKeepAliveToHttp10AndCloseWhenClosing) {
  response_context ten = plain_context();
  ten.version_minor = 0;
  const written kept = write(hello(), ten);
  EXPECT_NE(kept.bytes.find("\r\nConnection: keep-alive\r\n\r\n"), std::string::npos) << kept.bytes;
  EXPECT_FALSE(kept.closes);
  ten.closing = true;
  const written closed = write(hello(), ten);
  EXPECT_NE(closed.bytes.find("\r\nConnection: close\r\n\r\n"), std::string::npos) << closed.bytes;
  EXPECT_EQ(closed.bytes.find("keep-alive"), std::string::npos);
  EXPECT_TRUE(closed.closes);
}

TEST(HttpResponseWriter, ReplacesTheHandlersLengthAndConnectionButKeepsItsDateAndServer) {
  response res = hello();
  res.headers.add("content-length", "999");
  res.headers.add("CONNECTION", "keep-alive, Close");
  res.headers.add("date", "Mon, 07 Dec 2026 00:00:00 GMT");
  res.headers.add("SERVER", "mine");
  // Names as long as the special ones, but other names: ordinary fields.
  res.headers.add("X-Ab", "1");
  res.headers.add("Content-Lengtx", "2");
  const written w = write(res);
  EXPECT_TRUE(w.closes) << "the handler's Connection: close";
  EXPECT_EQ(w.bytes,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ndate: Mon, 07 Dec 2026 00:00:00 GMT\r\nSERVER: mine\r\n"
            "X-Ab: 1\r\nContent-Lengtx: 2\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!");
}

TEST(HttpResponseWriter, HeadAnd304MayAnnounceTheHandlersLengthWithoutABody) {
  response res;
  res.headers.add("Content-Length", "123456789012345678901234567890");  // any text: the handler's word
  res.body = "not sent";
  const response_context bare{.date_field = "", .server_field = ""};
  response_context head = bare;
  head.head_method = true;
  EXPECT_EQ(write(res, head).bytes, "HTTP/1.1 200 OK\r\nContent-Length: 123456789012345678901234567890\r\n\r\n");
  res.status = 304;
  EXPECT_EQ(write(res, bare).bytes,
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 123456789012345678901234567890\r\n\r\n");
  res.headers.clear();
  EXPECT_EQ(write(res, bare).bytes, "HTTP/1.1 304 Not Modified\r\n\r\n") << "304 without a length of its own";
  res.status = 200;
  EXPECT_EQ(write(res, head).bytes, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n") << "HEAD: the body's length";
}

TEST(HttpResponseWriter, NoContentAndTransferEncodingHaveNoContentLength) {
  const response_context bare{.date_field = "", .server_field = ""};
  response res;
  res.status = 204;
  res.headers.add("Content-Length", "5");
  res.body = "never";
  EXPECT_EQ(write(res, bare).bytes, "HTTP/1.1 204 No Content\r\n\r\n");
  response chunked;
  chunked.headers.add("Transfer-Encoding", "chunked");
  chunked.body = "3\r\nabc\r\n0\r\n\r\n";
  EXPECT_EQ(write(chunked, bare).bytes, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
}

TEST(HttpResponseWriter, TheLongestFramingFitsWithAnyServerAndDateFields) {
  // Every optional piece at once, at its longest: a 3-digit status, a long reason, a 20-digit
  // length, "Connection: keep-alive", long Server and Date fields.
  response res;
  res.status = 599;
  res.reason = std::string(300, 'r');
  res.body = std::string(1000, 'b');
  const std::string long_server = "Server: " + std::string(500, 's') + "\r\n";
  const std::string long_date = "Date: " + std::string(500, 'd') + "\r\n";
  const response_context ten{.version_minor = 0, .date_field = long_date, .server_field = long_server};
  const written w = write(res, ten);
  EXPECT_EQ(w.bytes, "HTTP/1.1 599 " + res.reason + "\r\n" + long_server + long_date +
                         "Content-Length: 1000\r\nConnection: keep-alive\r\n\r\n" + res.body);
}

TEST(HttpResponseWriter, RefusesWhatCannotBeSentAndAppendsNothing) {
  const auto refused = [](const response& res) {
    const written w = write(res, plain_context(), "kept");
    EXPECT_EQ(w.bytes, "kept");
    return !w.problem.empty();
  };
  response res = hello();
  res.status = 199;
  EXPECT_TRUE(refused(res));
  res.status = 1000;
  EXPECT_TRUE(refused(res));
  res = hello();
  res.reason = "O\rK";
  EXPECT_TRUE(refused(res));
  res = hello();
  res.headers.add("X-Split", "a\r\nInjected: yes");
  EXPECT_TRUE(refused(res));
  res = hello();
  res.headers.add("Bad Name", "x");
  EXPECT_TRUE(refused(res));
  res = hello();
  res.headers.add("X-Nul", std::string("a\0b", 3));
  EXPECT_TRUE(refused(res));
}
