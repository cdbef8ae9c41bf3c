// tests/io/http/url_test.cpp — http::url: parsing, defaults, IPv6 literals, the errors that name
// the URL, and resolving redirect targets (io/http/url.hpp's rules, one by one).
#include <gtest/gtest.h>

#include <string>

#include "io/http/url.hpp"

using corio::http::url;
using corio::http::url_error;

namespace {

/// The message of the url_error that parsing `text` throws ("" if it parses).
std::string parse_error(const std::string& text) {
  try {
    (void)url::parse(text);
  } catch (const url_error& e) {
    EXPECT_EQ(e.url(), text);
    return e.what();
  }
  return "";
}

}  // namespace

TEST(url, splits_a_full_url_into_host_port_path_and_query) {
  const url u = url::parse("http://example.org:8080/a/b?x=1&y=2#frag");
  EXPECT_EQ(u.scheme(), "http");
  EXPECT_EQ(u.host(), "example.org");
  EXPECT_EQ(u.port(), 8080);
  EXPECT_EQ(u.path(), "/a/b");
  EXPECT_EQ(u.query(), "x=1&y=2");
  EXPECT_EQ(u.target(), "/a/b?x=1&y=2");
  EXPECT_EQ(u.authority(), "example.org:8080");
  EXPECT_EQ(u.to_string(), "http://example.org:8080/a/b?x=1&y=2");
}

TEST(url, defaults_to_port_80_and_path_slash) {
  const url u = url::parse("http://example.org");
  EXPECT_EQ(u.port(), 80);
  EXPECT_EQ(u.path(), "/");
  EXPECT_EQ(u.target(), "/");
  EXPECT_EQ(u.authority(), "example.org");  // port 80 is not written in the Host header
  EXPECT_EQ(url::parse("http://example.org:/x").port(), 80);
  EXPECT_EQ(url::parse("http://example.org?q").target(), "/?q");
}

TEST(url, lower_cases_the_scheme_and_host_but_not_the_path) {
  const url u = url::parse("HTTP://Example.ORG/Some/Path?Q=A");
  EXPECT_EQ(u.scheme(), "http");
  EXPECT_EQ(u.host(), "example.org");
  EXPECT_EQ(u.target(), "/Some/Path?Q=A");
}

TEST(url, takes_ipv6_literals_in_brackets) {
  const url u = url::parse("http://[::1]:8080/x");
  EXPECT_EQ(u.host(), "::1");
  EXPECT_EQ(u.port(), 8080);
  EXPECT_EQ(u.authority(), "[::1]:8080");
  EXPECT_EQ(u.to_string(), "http://[::1]:8080/x");
  EXPECT_EQ(url::parse("http://[2001:DB8::7]/").host(), "2001:db8::7");
  EXPECT_EQ(url::parse("http://[fe80::1%25eth0]/").host(), "fe80::1%25eth0");
  EXPECT_EQ(url::parse("http://[::1]").authority(), "[::1]");
}

TEST(url, takes_ipv4_addresses) {
  const url u = url::parse("http://127.0.0.1:9/");
  EXPECT_EQ(u.host(), "127.0.0.1");
  EXPECT_EQ(u.port(), 9);
}

TEST(url, keeps_an_empty_query_and_drops_the_fragment) {
  EXPECT_EQ(url::parse("http://h/p?").target(), "/p?");
  EXPECT_EQ(url::parse("http://h/p#only-a-fragment").target(), "/p");
}

TEST(url, percent_encodes_non_ascii_bytes_and_keeps_escapes) {
  EXPECT_EQ(url::parse("http://h/caf\xC3\xA9?q=\xC3\xA9").target(), "/caf%C3%A9?q=%C3%A9");
  EXPECT_EQ(url::parse("http://h/a%20b").path(), "/a%20b");
}

TEST(url, https_says_it_is_not_supported_yet) {
  const std::string message = parse_error("https://example.org/");
  EXPECT_NE(message.find("https is not supported yet"), std::string::npos) << message;
  EXPECT_NE(message.find("https://example.org/"), std::string::npos) << message;
  EXPECT_THROW((void)url::parse("HTTPS://example.org/"), url_error);
}

TEST(url, other_schemes_are_refused_by_name) {
  const std::string message = parse_error("ftp://example.org/file");
  EXPECT_NE(message.find("'ftp'"), std::string::npos) << message;
}

TEST(url, every_malformed_url_gives_an_error_naming_it) {
  for (const std::string bad : {
           "",                         // empty
           "example.org/path",         // no scheme
           "/relative/path",           // relative
           "http:example.org",         // no //
           "http://",                  // no host
           "http:///path",             // empty host
           "http://:80/",              // empty host with a port
           "http://h:0/",              // port 0
           "http://h:65536/",          // port too large
           "http://h:8x/",             // port not a number
           "http://h:-1/",             // negative port
           "http://user:pw@h/",        // credentials
           "http://[::1/",             // unclosed bracket
           "http://[::1]x/",           // junk after the bracket
           "http://[not-v6]/",         // not an IPv6 address
           "http://h h/",              // space in the host
           "http://h/a b",             // space in the path
           "http://h/a\r\nX-Injected: 1",  // CR LF in the path
           "http://h/?q=\t",           // control character in the query
           "http://h/a%zz",            // bad escape
           "http://h/a%2",             // truncated escape
           "http://h/a\\b",            // backslash
       }) {
    const std::string message = parse_error(bad);
    EXPECT_FALSE(message.empty()) << "accepted: " << bad;
    EXPECT_NE(message.find("invalid URL '" + bad + "'"), std::string::npos) << message;
  }
}

TEST(url, resolves_redirect_targets_against_the_base) {
  const url base = url::parse("http://h:8080/a/b/c?q=1");
  EXPECT_EQ(base.resolve("http://other/x").to_string(), "http://other/x");
  EXPECT_EQ(base.resolve("//other:81/y").to_string(), "http://other:81/y");
  EXPECT_EQ(base.resolve("/root").to_string(), "http://h:8080/root");
  EXPECT_EQ(base.resolve("d").to_string(), "http://h:8080/a/b/d");
  EXPECT_EQ(base.resolve("../d?z").to_string(), "http://h:8080/a/d?z");
  EXPECT_EQ(base.resolve("./").to_string(), "http://h:8080/a/b/");
  EXPECT_EQ(base.resolve("../../../../up").to_string(), "http://h:8080/up");
  EXPECT_EQ(base.resolve("?other").to_string(), "http://h:8080/a/b/c?other");
  EXPECT_EQ(base.resolve("").to_string(), "http://h:8080/a/b/c?q=1");
  EXPECT_EQ(base.resolve("/a/./b/../e#frag").to_string(), "http://h:8080/a/e");
  EXPECT_THROW((void)base.resolve("https://h/"), url_error);
  EXPECT_THROW((void)base.resolve("/bad path"), url_error);
}

TEST(url, same_origin_compares_scheme_host_and_port) {
  const url a = url::parse("http://h:8080/x");
  EXPECT_TRUE(a.same_origin(url::parse("http://H:8080/y")));
  EXPECT_FALSE(a.same_origin(url::parse("http://h/x")));
  EXPECT_FALSE(a.same_origin(url::parse("http://g:8080/x")));
}
