// io/http/control_bytes.hpp — finds a control byte (CR, LF, NUL...) eight bytes at a time. The
// parser's head_meter looks for line ends with it, and the response writer for the bytes that
// would split a field line.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace corio::http::detail {

/// Index of the first byte of `bytes` at or after `from` (at most bytes.size()) for which
/// `wanted(byte)` holds, or bytes.size(). `wanted` may hold only for bytes below 0x0E: NUL, LF,
/// CR and the other control bytes up to 0x0D. (A plain byte loop costs a compare and a branch
/// per byte, and string_view::find_first_of calls memchr once per byte.)
///
/// SWAR ("SIMD within a register"): eight bytes are tested at once for a byte below 0x0E with
/// the "has less than" trick of Bit Twiddling Hacks (Sean Anderson, "Determine if a word has a
/// byte less than n"): a byte's high bit survives `(word - 0x0E0E..) & ~word & 0x8080..` when the
/// subtraction borrowed through it and it was below 0x80 to begin with. A flagged byte is only a
/// candidate: if `wanted` says no (a tab, say), the search goes on after it. Every byte below
/// 0x0E is flagged; a borrow may also flag a more significant byte next to a true one, but never
/// a less significant one. So on a little-endian machine the lowest flag is the first candidate
/// in memory; on a big-endian one a false candidate may come first, and is skipped like a tab.
template <class Wanted>
[[nodiscard]] std::size_t find_control_byte(std::string_view bytes, std::size_t from, Wanted wanted) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101;
  constexpr std::uint64_t highs = 0x8080808080808080;
  constexpr std::uint64_t below = 0x0E;  // bytes under this one are candidates
  std::size_t i = from;
  while (bytes.size() - i >= sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, sizeof word);  // an unaligned load, without UB
    const std::uint64_t flags = (word - ones * below) & ~word & highs;
    if (flags == 0) {
      i += sizeof word;
      continue;
    }
    const int bit = std::endian::native == std::endian::little ? std::countr_zero(flags) : std::countl_zero(flags);
    const std::size_t at = i + static_cast<std::size_t>(bit / 8);
    if (wanted(bytes[at])) return at;
    i = at + 1;
  }
  while (i < bytes.size() && !wanted(bytes[i])) ++i;  // the last few bytes
  return i;
}

}  // namespace corio::http::detail
