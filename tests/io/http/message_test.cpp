// tests/io/http/message_test.cpp — http::headers, iequals and reason_phrase (io/http/message.hpp).
#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/http/message.hpp"

using namespace corio::http;

namespace {
template <class Value>
concept addable_value = requires(headers fields, Value value) { fields.add("X-Name", std::forward<Value>(value)); };
}  // namespace

TEST(HttpMessage, IequalsIgnoresAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(iequals("a-b", "a_b"));
  EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89")) << "non-ASCII bytes compare as they are";
  EXPECT_FALSE(iequals("[", "{")) << "only letters fold ('[' + 32 is '{')";
}

TEST(HttpMessage, AddEmptyAppendsAFieldToFillInPlace) {
  headers h;
  h.add("Host", "a");
  header_field& f = h.add_empty();
  EXPECT_TRUE(f.name.empty());
  EXPECT_TRUE(f.value.empty());
  f.name = "Accept";
  f.value = "*/*";
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("accept"), "*/*");
  EXPECT_EQ(std::prev(h.end())->name, "Accept") << "appended last";
}

TEST(HttpMessage, AddTakesLiteralsViewsAndStringsAndMovesAnRvalueString) {
  headers h;
  const std::string long_value(100, 'x');  // past the short-string buffer: a move keeps the heap block
  std::string moved = long_value;
  const char* const block = moved.data();
  const std::string_view name = "X-View";
  h.add("X-Literal", "one");
  h.add(name, std::string_view("two"));
  h.add(std::string("X-Moved"), std::move(moved));
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.get("x-literal"), "one");
  EXPECT_EQ(h.get("x-view"), "two");
  EXPECT_EQ(h.get("x-moved"), long_value);
  EXPECT_EQ(std::prev(h.end())->value.data(), block) << "an rvalue string is moved, not copied";
  // std::string has operator=(char): a number must not slip through it as one character.
  static_assert(addable_value<std::string_view> && addable_value<std::string&&> && addable_value<const char*>);
  static_assert(!addable_value<int> && !addable_value<char>);
}

TEST(HttpMessage, GetFindsTheFirstFieldWhateverTheCase) {
  headers h;
  h.add("Set-Cookie", "a=1");
  h.add("Content-Type", "text/plain");
  h.add("set-cookie", "b=2");
  EXPECT_EQ(h.get("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(h.get("set-COOKIE"), "a=1");
  EXPECT_FALSE(h.get("Missing").has_value());
  EXPECT_TRUE(h.contains("content-type"));
  EXPECT_FALSE(h.contains("content"));
  EXPECT_EQ(h.size(), 3u);
}

TEST(HttpMessage, GetAllKeepsArrivalOrder) {
  headers h;
  h.add("Set-Cookie", "a=1");
  h.add("Other", "x");
  h.add("SET-COOKIE", "b=2");
  EXPECT_EQ(h.get_all("set-cookie"), (std::vector<std::string_view>{"a=1", "b=2"}));
  EXPECT_TRUE(h.get_all("nothing").empty());
}

TEST(HttpMessage, SetReplacesEveryFieldOfThatNameWithOneInTheFirstPlace) {
  headers h;
  h.add("A", "1");
  h.add("X", "old1");
  h.add("B", "2");
  h.add("x", "old2");
  h.set("X", "new");
  ASSERT_EQ(h.size(), 3u);
  std::vector<std::string> order;
  for (const header_field& f : h) order.push_back(f.name + "=" + f.value);
  EXPECT_EQ(order, (std::vector<std::string>{"A=1", "X=new", "B=2"}));
  h.set("Y", "appended");
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.get("y"), "appended");
}

TEST(HttpMessage, EraseRemovesEveryMatchAndCountsThem) {
  headers h;
  h.add("A", "1");
  h.add("a", "2");
  h.add("B", "3");
  EXPECT_EQ(h.erase("A"), 2u);
  EXPECT_EQ(h.erase("A"), 0u);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.begin()->name, "B");
  h.clear();
  EXPECT_TRUE(h.empty());
}

TEST(HttpMessage, RequestAndResponseDefaults) {
  const request req;
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/");
  EXPECT_EQ(req.version_minor, 1);
  const response res;
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.reason.empty());
}

TEST(HttpMessage, ReasonPhrasesAreTheStandardOnes) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(414), "URI Too Long");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(500), "Internal Server Error");
  EXPECT_EQ(reason_phrase(299), "Unknown");
  EXPECT_EQ(reason_phrase(-1), "Unknown");
}
