// io/http/message.cpp — header fields and reason phrases (message.hpp).
#include "message.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace corio::http {

namespace {

constexpr char to_lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// RFC 9110 5.6.2 tchar, as a table: one load per byte.
constexpr std::array<bool, 256> token_chars = [] {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<unsigned char>(c)] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

}  // namespace

bool is_token(std::string_view text) noexcept {
  // No branch per byte: a bad name is rare, so stopping at its first bad byte saves nothing,
  // while a branch per byte costs every good one.
  bool all_tchar = !text.empty();
  for (const char c : text) all_tchar &= token_chars[static_cast<unsigned char>(c)];
  return all_tchar;
}

namespace detail {

bool iequals_same_size(std::string_view a, std::string_view b) noexcept {
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Names are mostly looked up in the case they were sent in: one comparison per byte then.
    if (a[i] != b[i] && to_lower_ascii(a[i]) != to_lower_ascii(b[i])) return false;
  }
  return true;
}

}  // namespace detail

void headers::set(std::string name, std::string value) {
  // Keep the first field's place (and its strings' capacity); drop the later duplicates.
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const header_field& f) { return iequals(f.name, name); });
  if (first == fields_.end()) {
    add(std::move(name), std::move(value));
    return;
  }
  first->name = std::move(name);
  first->value = std::move(value);
  const std::string_view kept = first->name;
  auto tail_begin = std::next(first);
  auto tail_end = std::remove_if(tail_begin, fields_.end(),
                                 [&](const header_field& f) { return iequals(f.name, kept); });
  fields_.erase(tail_end, fields_.end());
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
  for (const header_field& f : fields_) {
    if (iequals(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

std::vector<std::string_view> headers::get_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const header_field& f : fields_) {
    if (iequals(f.name, name)) values.emplace_back(f.value);
  }
  return values;
}

std::size_t headers::erase(std::string_view name) {
  auto kept_end = std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const header_field& f) { return iequals(f.name, name); });
  const auto removed = static_cast<std::size_t>(fields_.end() - kept_end);
  fields_.erase(kept_end, fields_.end());
  return removed;
}

std::string_view reason_phrase(int status) noexcept {
  // RFC 9110 section 15, plus 429 / 431 (RFC 6585), the ones a server here can send.
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace corio::http
