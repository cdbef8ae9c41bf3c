// tests/fuzz/quoted.hpp — bytes as a C-like string literal ("GET / HTTP/1.1\r\n\x00"), so that
// the transcripts a fuzz target prints on a mismatch show CR, LF and NUL plainly.
#pragma once

#include <string>
#include <string_view>

namespace corio::fuzz {

inline std::string quoted(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace corio::fuzz
