// tests/soak/soak_common.hpp — what the soak programs (soak_echo_client, soak_http_server)
// share: reading the numbers of their "--flag value" command lines, and printing the one
// "TAG key=value ..." line that scripts/soak.sh reads back.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string_view>
#include <system_error>
#include <utility>

namespace soak {

/// Parses all of `text` as a number; false for anything else (a sign, a suffix, overflow).
template <class T>
[[nodiscard]] bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

using field = std::pair<const char*, std::uint64_t>;

/// Prints "TAG name=value name=value ...\n" and flushes (the script may be waiting for it).
inline void print_fields(const char* tag, std::initializer_list<field> fields) {
  std::printf("%s", tag);
  for (const auto& [name, value] : fields) std::printf(" %s=%llu", name, static_cast<unsigned long long>(value));
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace soak
