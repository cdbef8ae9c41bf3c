// tests/soak/soak_common.hpp — what the soak programs (tests/soak/soak_*.cpp) share: reading their "--flag value" command lines, and printing the one
// "TAG key=value ..." line that scripts/soak.sh reads back.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace soak {

/// Parses all of `text` as a number; false for anything else (a sign, a suffix, overflow).
template <class T>
[[nodiscard]] bool parse_number(std::string_view text, T& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

/// One "--name value" flag of a command line: `set` stores the value, false if it is bad.
struct flag {
  std::string_view name;
  std::function<bool(std::string_view)> set;
  bool required = false;
};

/// A flag's `set` that parses a number into `out`, refusing values below `least`.
template <class T>
[[nodiscard]] std::function<bool(std::string_view)> number_into(T& out, T least = 0) {
  return [&out, least](std::string_view text) { return parse_number(text, out) && out >= least; };
}

/// Parses argv[1..] as "--name value" pairs, each one of `flags`. False for an unknown flag, a
/// flag without a value, a bad value, or a required flag that is missing.
[[nodiscard]] inline bool parse_flags(int argc, char** argv, std::span<const flag> flags) {
  if (argc % 2 == 0) return false;  // a flag without its value
  std::vector<bool> seen(flags.size());
  for (int i = 1; i < argc; i += 2) {
    const auto it = std::find_if(flags.begin(), flags.end(), [&](const flag& f) { return f.name == argv[i]; });
    if (it == flags.end() || !it->set(argv[i + 1])) return false;
    seen[static_cast<std::size_t>(it - flags.begin())] = true;
  }
  for (std::size_t k = 0; k < flags.size(); ++k) {
    if (flags[k].required && !seen[k]) return false;
  }
  return true;
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
