// io/http/response_writer.cpp — responses as bytes (server_detail.hpp). The only place that
// knows the wire format the server sends; no I/O here.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <optional>

#include "control_bytes.hpp"
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
  return find_control_byte(text, 0, [](char c) { return c == '\r' || c == '\n' || c == '\0'; }) != text.size();
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

// The fields the server reads or writes itself. Their five names have five different lengths,
// so the length picks the one name worth comparing: one iequals per field instead of five.
enum class special_field : unsigned char { none, content_length, connection, date, server, transfer_encoding };

special_field special_field_of(std::string_view name) noexcept {
  const auto if_named = [name](std::string_view known, special_field f) {
    return iequals(name, known) ? f : special_field::none;
  };
  switch (name.size()) {
    case 4: return if_named("Date", special_field::date);
    case 6: return if_named("Server", special_field::server);
    case 10: return if_named("Connection", special_field::connection);
    case 14: return if_named("Content-Length", special_field::content_length);
    case 17: return if_named("Transfer-Encoding", special_field::transfer_encoding);
    default: return special_field::none;
  }
}

// What the server needs to know about a handler's fields before writing its own.
struct field_scan {
  std::string_view problem;  // non-empty: the response cannot be sent as it is
  std::optional<std::string_view> content_length;
  bool has_date = false;
  bool has_server = false;
  bool has_transfer_encoding = false;
  bool asks_close = false;
  bool has_replaced = false;  // Content-Length or Connection: fields the server writes itself
  std::size_t field_bytes = 0;  // the handler's fields as "name: value\r\n" lines
};

field_scan scan_fields(const response& res) {
  field_scan scan;
  if (res.status < 200 || res.status > 999) scan.problem = "its status is outside 200..999";
  if (has_line_break(res.reason)) scan.problem = "its reason phrase holds CR, LF or NUL";
  for (const header_field& f : res.headers) {
    scan.field_bytes += f.name.size() + f.value.size() + 4;
    // Response splitting: a CR or LF (or a bad name) would let the handler's data write fields.
    if (!is_token(f.name) || has_line_break(f.value)) {
      scan.problem = "a header field holds CR, LF, NUL or a bad name";
      continue;
    }
    switch (special_field_of(f.name)) {
      case special_field::content_length:
        scan.content_length = f.value;
        scan.has_replaced = true;
        break;
      case special_field::connection:
        scan.asks_close = scan.asks_close || has_token(f.value, "close");
        scan.has_replaced = true;
        break;
      case special_field::date: scan.has_date = true; break;
      case special_field::server: scan.has_server = true; break;
      case special_field::transfer_encoding: scan.has_transfer_encoding = true; break;
      case special_field::none: break;
    }
  }
  return scan;
}

// Writes a response's pieces one after the other into room made beforehand (append_response
// makes room for the most they can take, once, instead of a capacity check per piece).
class piece_writer {
 public:
  explicit piece_writer(char* to) noexcept : at_(to) {}
  void put(std::string_view piece) noexcept {
    std::memcpy(at_, piece.data(), piece.size());
    at_ += piece.size();
  }
  void put_number(std::uint64_t n) noexcept { at_ = std::to_chars(at_, at_ + max_digits, n).ptr; }
  [[nodiscard]] char* end() const noexcept { return at_; }

  static constexpr std::size_t max_digits = 20;  // of a std::uint64_t

 private:
  char* at_;
};

struct response_plan {
  const response& res;
  const response_context& context;
  const field_scan& scan;
  std::string_view reason;
  // A HEAD or 304 answer may keep the handler's own Content-Length (a plain view and a flag, not
  // an optional: g++ 12 with -fsanitize=thread warned that the optional "may be used
  // uninitialized", which it was not).
  std::string_view handlers_length;
  bool keeps_handlers_length;
  bool length_from_body;  // else: Content-Length is the body's size
  bool closes;
  bool with_body;

  // The most bytes write_response() can write for this plan: every piece it may put, with
  // numbers at their longest ("HTTP/1.1 999 ", "Content-Length: <20 digits>", the longer
  // Connection field, each with its CRLF, and the blank line).
  [[nodiscard]] std::size_t max_size() const noexcept {
    constexpr std::size_t framing = 13 + 2 + 16 + piece_writer::max_digits + 2 + 24 + 2;
    return framing + reason.size() + context.server_field.size() + context.date_field.size() + scan.field_bytes +
           handlers_length.size() + (with_body ? res.body.size() : 0);
  }
};

void write_status_line(piece_writer& w, const response_plan& plan) {
  if (plan.res.status == 200 && plan.res.reason.empty()) {
    w.put("HTTP/1.1 200 OK\r\n");  // most responses: one piece instead of five
    return;
  }
  w.put("HTTP/1.1 ");
  w.put_number(static_cast<unsigned>(plan.res.status));
  w.put(" ");
  w.put(plan.reason);
  w.put("\r\n");
}

void write_response(piece_writer& w, const response_plan& plan) {
  write_status_line(w, plan);
  if (!plan.scan.has_server) w.put(plan.context.server_field);
  if (!plan.scan.has_date) w.put(plan.context.date_field);
  for (const header_field& f : plan.res.headers) {
    if (plan.scan.has_replaced) {
      const special_field special = special_field_of(f.name);
      if (special == special_field::content_length || special == special_field::connection) continue;
    }
    w.put(f.name);
    w.put(": ");
    w.put(f.value);
    w.put("\r\n");
  }
  if (plan.keeps_handlers_length || plan.length_from_body) {
    w.put("Content-Length: ");
    if (plan.keeps_handlers_length) {
      w.put(plan.handlers_length);
    } else {
      w.put_number(plan.res.body.size());
    }
    w.put("\r\n");
  }
  if (plan.closes) {
    w.put("Connection: close\r\n");
  } else if (plan.context.version_minor == 0) {
    w.put("Connection: keep-alive\r\n");
  }
  w.put("\r\n");
  if (plan.with_body) w.put(plan.res.body);
}

}  // namespace

std::string_view append_response(std::string& out, const response& res, const response_context& context, bool& closes) {
  const field_scan scan = scan_fields(res);
  if (!scan.problem.empty()) return scan.problem;
  closes = context.closing || scan.asks_close;
  // Framing. A HEAD or 304 answer may announce the length the GET would have had; a handler that
  // set Transfer-Encoding framed the body itself; 204 has none.
  const bool no_length = res.status == 204 || scan.has_transfer_encoding;
  const bool keeps_handlers_length = !no_length && (context.head_method || res.status == 304) && scan.content_length;
  const response_plan plan{
      .res = res,
      .context = context,
      .scan = scan,
      .reason = res.reason.empty() ? reason_phrase(res.status) : std::string_view(res.reason),
      .handlers_length = keeps_handlers_length ? *scan.content_length : std::string_view(),
      .keeps_handlers_length = keeps_handlers_length,
      .length_from_body = !no_length && !keeps_handlers_length && res.status != 304,
      .closes = closes,
      .with_body = !(context.head_method || res.status == 204 || res.status == 304),
  };
  // Room for the most the pieces can take, then written in one pass and cut to what was.
  const std::size_t start = out.size();
  out.resize(start + plan.max_size());
  piece_writer writer(out.data() + start);
  write_response(writer, plan);
  out.resize(static_cast<std::size_t>(writer.end() - out.data()));
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
