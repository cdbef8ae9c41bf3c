// io/http/url.hpp — http::url: an absolute http:// URL taken apart into what a client needs to
// open a connection and write a request line (yarl.URL's role for aiohttp, much smaller).
//
//   auto u = http::url::parse("http://[::1]:8080/a/b?x=1#top");
//   u.host()      // "::1"            (brackets stripped; names are lower-cased)
//   u.port()      // 8080             (80 when the URL names none)
//   u.target()    // "/a/b?x=1"       (path + '?' + query: the request-target; no fragment)
//   u.authority() // "[::1]:8080"     (the Host header's value)
//   u.resolve("../c")                 // http://[::1]:8080/c — a redirect's Location
//
// What is accepted (RFC 3986's generic syntax, restricted to what HTTP/1.1 can send):
//   * the scheme `http`, in any case. `https` throws url_error "https is not supported yet"
//     (there is no TLS in corio yet), and any other scheme throws url_error too;
//   * a host: a name of letters, digits, '-', '.', '_', '~' or %-escapes, an IPv4 address, or an
//     IPv6 literal in brackets ("[::1]", with an optional %zone);
//   * a port 1..65535 (empty, as in "http://h:/", means 80);
//   * a path and query of visible ASCII: bytes >= 0x80 are %-encoded (so a UTF-8 path works),
//     while spaces, control bytes and '\' are refused, since a request line cannot carry them;
//   * the fragment ("#...") is dropped: it is never sent to a server.
// Refused with url_error, always naming the URL: relative URLs, user:password@ (credentials in
// URLs leak into logs; send an Authorization header instead), an empty host, a bad port.
//
// Contract: plain values; parse() and resolve() throw http::url_error (a std::invalid_argument)
// and std::bad_alloc, nothing else.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corio::http {

/// A URL that cannot be used: malformed, relative, or of a scheme corio cannot speak.
class url_error : public std::invalid_argument {
 public:
  url_error(std::string_view url, std::string_view why);
  /// The URL as given.
  [[nodiscard]] const std::string& url() const noexcept { return url_; }

 private:
  std::string url_;
};

class url {
 public:
  /// Parses an absolute http:// URL (see the top). Throws url_error.
  [[nodiscard]] static url parse(std::string_view text);

  /// A redirect target: `reference` (absolute, "//host/...", "/path", "path", "?query")
  /// resolved against this URL (RFC 3986 §5.2, dot segments removed). Throws url_error.
  [[nodiscard]] url resolve(std::string_view reference) const;

  [[nodiscard]] const std::string& scheme() const noexcept { return scheme_; }
  /// The host without brackets, lower-cased: "example.org", "10.0.0.1", "::1".
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// "/" at least; %-escapes are kept as they were written.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// Without the '?'; empty when there is none.
  [[nodiscard]] const std::string& query() const noexcept { return query_; }
  /// The request-target: path, then '?' and the query if there is one.
  [[nodiscard]] std::string target() const;
  /// host, or host:port when the port is not 80; IPv6 hosts in brackets. The Host header.
  [[nodiscard]] std::string authority() const;
  /// "http://" + authority() + target().
  [[nodiscard]] std::string to_string() const;
  /// Same scheme, host and port (a redirect elsewhere drops the Authorization header).
  [[nodiscard]] bool same_origin(const url& other) const noexcept;

  friend bool operator==(const url&, const url&) = default;

 private:
  url() = default;
  std::string scheme_ = "http";
  std::string host_;
  std::uint16_t port_ = 80;
  std::string path_ = "/";
  std::string query_;
  bool has_query_ = false;  // "?" with nothing after it is kept as written
};

}  // namespace corio::http
