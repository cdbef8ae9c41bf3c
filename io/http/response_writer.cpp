// io/http/response_writer.cpp — responses as bytes (server_detail.hpp). The only place that
// knows the wire format the server sends; no I/O here.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <optional>

#include "server_detail.hpp"

namespace corio::http::detail {

bool has_token(std::string_view list, std::string_view token) noexcept {
  // A comma-separated list ("keep-alive, Upgrade"); tokens compare case-insensitively.
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
  }
  return false;
}

namespace {

// CR, LF or NUL: bytes that would end a field line early (response splitting).
bool has_line_break(std::string_view text) noexcept {
  for (const char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

void append_number(std::string& out, std::uint64_t n) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
  (void)ec;  // 24 digits hold any uint64_t
  out.append(digits.data(), end);
}

}  // namespace

void append_error_response(std::string& out, int status, std::string_view detail, std::string_view date_field) {
  const std::string_view reason = reason_phrase(status);
  out += "HTTP/1.1 ";
  append_number(out, static_cast<unsigned>(status));
  out += ' ';
  out += reason;
  out += "\r\n";
  out += date_field;
  out += "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ";
  std::string body(reason);
  if (!detail.empty()) {
    body += ": ";
    body += detail;
  }
  body += '\n';
  append_number(out, body.size());
  out += "\r\n\r\n";
  out += body;
}


namespace {

// What the server needs to know about a handler's fields before writing its own.
struct field_scan {
  std::string_view problem;  // non-empty: the response cannot be sent as it is
  std::optional<std::string_view> content_length;
  bool has_date = false;
  bool has_server = false;
  bool has_transfer_encoding = false;
  bool asks_close = false;
  bool has_replaced = false;  // Content-Length or Connection: fields the server writes itself
};

field_scan scan_fields(const response& res) {
  field_scan scan;
  if (res.status < 200 || res.status > 999) scan.problem = "its status is outside 200..999";
  if (has_line_break(res.reason)) scan.problem = "its reason phrase holds CR, LF or NUL";
  for (const header_field& f : res.headers) {
    // Response splitting: a CR or LF (or a bad name) would let the handler's data write fields.
    if (!is_token(f.name) || has_line_break(f.value)) {
      scan.problem = "a header field holds CR, LF, NUL or a bad name";
    } else if (iequals(f.name, "Content-Length")) {
      scan.content_length = f.value;
      scan.has_replaced = true;
    } else if (iequals(f.name, "Connection")) {
      scan.asks_close = scan.asks_close || has_token(f.value, "close");
      scan.has_replaced = true;
    } else if (iequals(f.name, "Date")) {
      scan.has_date = true;
    } else if (iequals(f.name, "Server")) {
      scan.has_server = true;
    } else if (iequals(f.name, "Transfer-Encoding")) {
      scan.has_transfer_encoding = true;
    }
  }
  return scan;
}

}  // namespace

namespace {

// Writes a response's bytes in two passes over the same pieces: first only counting them, then
// copying them into room made once (one resize instead of a capacity check per piece).
class piece_writer {
 public:
  explicit piece_writer(char* to) noexcept : at_(to) {}
  void put(std::string_view piece) noexcept {
    if (at_ != nullptr) std::memcpy(at_ + size_, piece.data(), piece.size());
    size_ += piece.size();
  }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  char* at_;  // nullptr while counting
  std::size_t size_ = 0;
};

struct response_plan {
  const response& res;
  const response_context& context;
  const field_scan& scan;
  std::string_view status_digits;
  std::string_view length_digits;  // empty: no Content-Length of ours
  bool closes;
  bool with_body;
};

void write_response(piece_writer& w, const response_plan& plan) {
  const response& res = plan.res;
  if (res.status == 200 && res.reason.empty()) {
    w.put("HTTP/1.1 200 OK\r\n");  // most responses: one piece instead of five
  } else {
    w.put("HTTP/1.1 ");
    w.put(plan.status_digits);
    w.put(" ");
    w.put(res.reason.empty() ? reason_phrase(res.status) : std::string_view(res.reason));
    w.put("\r\n");
  }
  if (!plan.scan.has_server) w.put(plan.context.server_field);
  if (!plan.scan.has_date) w.put(plan.context.date_field);
  for (const header_field& f : res.headers) {
    if (plan.scan.has_replaced && (iequals(f.name, "Content-Length") || iequals(f.name, "Connection"))) continue;
    w.put(f.name);
    w.put(": ");
    w.put(f.value);
    w.put("\r\n");
  }
  if (!plan.length_digits.empty()) {
    w.put("Content-Length: ");
    w.put(plan.length_digits);
    w.put("\r\n");
  }
  if (plan.closes) {
    w.put("Connection: close\r\n");
  } else if (plan.context.version_minor == 0) {
    w.put("Connection: keep-alive\r\n");
  }
  w.put("\r\n");
  if (plan.with_body) w.put(res.body);
}

}  // namespace

std::string_view append_response(std::string& out, const response& res, const response_context& context, bool& closes) {
  const field_scan scan = scan_fields(res);
  if (!scan.problem.empty()) return scan.problem;
  closes = context.closing || scan.asks_close;
  std::array<char, 24> status_digits{};
  const auto status_end = std::to_chars(status_digits.data(), status_digits.data() + status_digits.size(), res.status).ptr;
  // Framing. A HEAD or 304 answer may announce the length the GET would have had; a handler that
  // set Transfer-Encoding framed the body itself; 204 has none.
  std::array<char, 24> length_digits{};
  std::string_view length;
  if (res.status == 204 || scan.has_transfer_encoding) {
    // no Content-Length
  } else if ((context.head_method || res.status == 304) && scan.content_length) {
    length = *scan.content_length;
  } else if (res.status != 304) {
    const auto end = std::to_chars(length_digits.data(), length_digits.data() + length_digits.size(), res.body.size()).ptr;
    length = std::string_view(length_digits.data(), static_cast<std::size_t>(end - length_digits.data()));
  }
  const response_plan plan{
      .res = res,
      .context = context,
      .scan = scan,
      .status_digits = std::string_view(status_digits.data(), static_cast<std::size_t>(status_end - status_digits.data())),
      .length_digits = length,
      .closes = closes,
      .with_body = !(context.head_method || res.status == 204 || res.status == 304),
  };
  piece_writer counter(nullptr);
  write_response(counter, plan);
  const std::size_t start = out.size();
  out.resize(start + counter.size());
  piece_writer writer(out.data() + start);
  write_response(writer, plan);
  return {};
}

std::string date_field_for(std::chrono::system_clock::time_point t) {
  // In English whatever the locale, so no strftime.
  static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 64> text{};
  const int n = std::snprintf(text.data(), text.size(), "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
                              days[static_cast<std::size_t>(utc.tm_wday)], utc.tm_mday,
                              months[static_cast<std::size_t>(utc.tm_mon)], utc.tm_year + 1900, utc.tm_hour,
                              utc.tm_min, utc.tm_sec);
  return std::string(text.data(), static_cast<std::size_t>(std::max(n, 0)));
}

}  // namespace corio::http::detail
