// tests/soak/echo_ledger.hpp — the byte accounting of the echo soak (scripts/soak.sh,
// soak_echo_client.cpp): what one connection sent, what came back, and what counts as lost.
//
// Every connection sends its own byte stream: byte i is pattern_byte(seed, i), where the seed is
// unique to the connection. A byte echoed to the wrong connection, twice, out of order or shifted
// by one position therefore does not match what the ledger expects at that offset.
//
// The accounting, per connection (nothing here waits or does I/O; the client fills it in):
//
//   attempted  bytes handed to write_all so far, the call in progress included
//   sent       bytes whose write_all returned: the kernel took them all (acknowledged)
//   echoed     bytes read back that matched the stream, in order, from offset 0
//   corrupt    bytes read back that did not match, or that were never attempted at all;
//              after the first bad byte the rest of the stream cannot be trusted, so every later
//              byte read is corrupt too
//
// The soak requires two figures to be 0 on every connection:
//   * corrupt() — no byte ever comes back wrong, whatever happened to the connection;
//   * lost() — acknowledged bytes that did not come back intact and in order:
//     - a connection that ended cleanly (we shut down our side and read to EOF) must have every
//       sent byte echoed: lost = sent - echoed;
//     - a connection that failed with an error we did not cause (a reset from the server, an
//       early EOF) is judged the same way: what it sent and never got back is lost;
//     - a connection we cancelled or reset ourselves was cut at an arbitrary moment: bytes in
//       flight then were thrown away on purpose, not lost, so it counts only what it had
//       confirmed. Its lost is 0 — unless its echo went wrong, and then every sent byte from the
//       first bad one on is lost (it never came back in order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace soak {

/// Byte `offset` of the stream whose seed is `seed`. Each 8-byte word of the stream is the
/// splitmix64 finaliser of (seed, word number): streams of different seeds are unrelated (not
/// shifted copies of each other), and no stream repeats itself within the sizes we send.
[[nodiscard]] inline char pattern_byte(std::uint64_t seed, std::uint64_t offset) noexcept {
  std::uint64_t z = seed + (offset >> 3) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<char>(z >> ((offset & 7) * 8));
}

/// Writes the stream's bytes [offset, offset + out.size()) into `out`.
inline void fill_pattern(std::uint64_t seed, std::uint64_t offset, std::span<char> out) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = pattern_byte(seed, offset + i);
}

/// How a connection ended, which decides what lost() may excuse.
enum class ending : unsigned char { open, clean, cancelled, reset, failed };

class echo_ledger {
 public:
  explicit echo_ledger(std::uint64_t seed) noexcept : seed_(seed) {}

  [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }
  [[nodiscard]] std::uint64_t attempted() const noexcept { return attempted_; }
  [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }
  [[nodiscard]] std::uint64_t echoed() const noexcept { return echoed_; }
  [[nodiscard]] std::uint64_t corrupt() const noexcept { return corrupt_; }
  [[nodiscard]] ending ended_as() const noexcept { return ending_; }

  /// The next `size` bytes of the stream are about to be handed to write_all.
  void begin_write(std::size_t size) noexcept { attempted_ += size; }
  /// write_all returned: every attempted byte is now sent.
  void end_write() noexcept { sent_ = attempted_; }

  /// Checks `data`, just read from the socket, against the stream at the next expected offset.
  void check_echo(std::span<const char> data) noexcept {
    for (const char byte : data) {
      const bool expected = corrupt_ == 0 && echoed_ < attempted_ && byte == pattern_byte(seed_, echoed_);
      if (expected) {
        ++echoed_;
      } else {
        ++corrupt_;
      }
    }
  }

  void finish(ending how) noexcept { ending_ = how; }

  /// Acknowledged bytes that did not come back intact and in order (see the top of the file);
  /// 0 while the connection is open.
  [[nodiscard]] std::uint64_t lost() const noexcept {
    const std::uint64_t unreturned = sent_ > echoed_ ? sent_ - echoed_ : 0;
    switch (ending_) {
      case ending::clean:
      case ending::failed: return unreturned;
      case ending::cancelled:
      case ending::reset: return corrupt_ > 0 ? unreturned : 0;
      case ending::open: return 0;
    }
    return 0;
  }

 private:
  std::uint64_t seed_;
  std::uint64_t attempted_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t echoed_ = 0;
  std::uint64_t corrupt_ = 0;
  soak::ending ending_ = ending::open;
};

}  // namespace soak
