// io/http/url.cpp — parsing and resolving http:// URLs (url.hpp has the rules).
#include "url.hpp"

#include <charconv>
#include <vector>

namespace corio::http {
namespace {

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_hex(char c) noexcept { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

/// The scheme's length when `text` starts with "scheme:" (RFC 3986 §3.1), else 0.
std::size_t scheme_length(std::string_view text) noexcept {
  if (text.empty() || !is_alpha(text[0])) return 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':') return i;
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

/// "%XY" at `i`: two hex digits must follow.
bool valid_escape(std::string_view s, std::size_t i) noexcept {
  return i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]);
}

/// A path or query as it may go into a request line: bytes >= 0x80 %-encoded, everything a
/// request line cannot carry refused.
std::string encode_path_part(std::string_view text, std::string_view part, std::string_view whole) {
  static constexpr char hex_digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(part.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    const auto byte = static_cast<unsigned char>(part[i]);
    if (byte >= 0x80) {
      out += '%';
      out += hex_digits[byte >> 4];
      out += hex_digits[byte & 0xF];
    } else if (byte <= 0x20 || byte == 0x7F || byte == '\\') {
      throw url_error(whole, std::string(text) + " contains a space, a control character or '\\' (escape it as %XX)");
    } else if (byte == '%' && !valid_escape(part, i)) {
      throw url_error(whole, std::string(text) + " has a '%' that is not followed by two hex digits");
    } else {
      out += static_cast<char>(byte);
    }
  }
  return out;
}

bool valid_host_char(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
}

/// The inside of "[...]": an IPv6 address, maybe with a %zone. The exact form is checked when
/// the address is resolved (inet_pton); here only its alphabet, so nothing odd reaches a header.
bool valid_ipv6_literal(std::string_view s) noexcept {
  if (s.find(':') == std::string_view::npos) return false;
  const std::size_t zone = s.find('%');
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = i < zone ? (is_hex(c) || c == ':' || c == '.') : (valid_host_char(c) && (c != '%' || i == zone));
    if (!ok) return false;
  }
  return zone != s.size() - 1;
}

std::uint16_t parse_port(std::string_view digits, std::string_view whole) {
  if (digits.empty()) return 80;  // "http://host:/" (RFC 3986 §3.2.3 allows an empty port)
  unsigned value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (error != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535)
    throw url_error(whole, "the port '" + std::string(digits) + "' is not a number from 1 to 65535");
  return static_cast<std::uint16_t>(value);
}

/// RFC 3986 §5.2.4 on a path that starts with '/': "/a/./b/../c" -> "/a/c".
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  bool ends_in_directory = false;
  std::size_t start = 1;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    ends_in_directory = segment == "." || segment == "..";
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (segment != ".") {
      kept.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const std::string_view segment : kept) {
    out += '/';
    out += segment;
  }
  if (out.empty() || ends_in_directory) out += '/';
  return out;
}

}  // namespace

url_error::url_error(std::string_view url, std::string_view why)
    : std::invalid_argument("invalid URL '" + std::string(url) + "': " + std::string(why)), url_(url) {}

url url::parse(std::string_view text) {
  if (text.empty()) throw url_error(text, "it is empty");
  const std::size_t scheme_end = scheme_length(text);
  if (scheme_end == 0) throw url_error(text, "it is not an absolute URL (expected http://host/...)");
  url u;
  u.scheme_ = lower(text.substr(0, scheme_end));
  if (u.scheme_ == "https") throw url_error(text, "https is not supported yet (corio has no TLS); use http://");
  if (u.scheme_ != "http") throw url_error(text, "the scheme '" + u.scheme_ + "' is not supported (only http)");
  std::string_view rest = text.substr(scheme_end + 1);
  if (rest.substr(0, 2) != "//") throw url_error(text, "expected '//' after 'http:'");
  rest.remove_prefix(2);

  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    throw url_error(text, "credentials in URLs (user:password@) are not supported; send an Authorization header");

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) throw url_error(text, "an IPv6 host has no closing ']'");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') throw url_error(text, "unexpected text after the IPv6 host's ']'");
    if (!after.empty()) port = after.substr(1);
    if (!valid_ipv6_literal(host)) throw url_error(text, "'[" + std::string(host) + "]' is not an IPv6 address");
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    for (const char c : host)
      if (!valid_host_char(c) || c == '%') throw url_error(text, "the host '" + std::string(host) + "' contains '" + c + "'");
  }
  if (host.empty()) throw url_error(text, "the host is empty");
  u.host_ = lower(host);
  u.port_ = parse_port(port, text);

  const std::size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const std::size_t question = rest.find('?');
  const std::string_view path = rest.substr(0, question);
  u.path_ = path.empty() ? "/" : encode_path_part("the path", path, text);
  if (question != std::string_view::npos) {
    u.has_query_ = true;
    u.query_ = encode_path_part("the query", rest.substr(question + 1), text);
  }
  return u;
}

url url::resolve(std::string_view reference) const {
  const std::size_t fragment = reference.find('#');
  if (fragment != std::string_view::npos) reference = reference.substr(0, fragment);
  if (scheme_length(reference) != 0) return parse(reference);
  if (reference.substr(0, 2) == "//") return parse(scheme_ + ":" + std::string(reference));

  const std::size_t question = reference.find('?');
  const std::string_view ref_path = reference.substr(0, question);
  std::string path;
  if (ref_path.empty()) {
    path = path_;
  } else if (ref_path[0] == '/') {
    path = remove_dot_segments(ref_path);
  } else {
    path = remove_dot_segments(path_.substr(0, path_.rfind('/') + 1) + std::string(ref_path));
  }
  std::string joined = scheme_ + "://" + authority() + path;
  if (question != std::string_view::npos) {
    joined += reference.substr(question);
  } else if (ref_path.empty() && has_query_) {
    joined += '?' + query_;
  }
  return parse(joined);
}

std::string url::target() const { return has_query_ ? path_ + '?' + query_ : path_; }

std::string url::authority() const {
  std::string out = host_.find(':') != std::string::npos ? '[' + host_ + ']' : host_;
  if (port_ != 80) out += ':' + std::to_string(port_);
  return out;
}

std::string url::to_string() const { return scheme_ + "://" + authority() + target(); }

bool url::same_origin(const url& other) const noexcept {
  return scheme_ == other.scheme_ && host_ == other.host_ && port_ == other.port_;
}

}  // namespace corio::http
