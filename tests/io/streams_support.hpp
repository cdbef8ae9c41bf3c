// tests/io/streams_support.hpp — what the stream tests (streams_test.cpp, stream_writer_test.cpp)
// share: waiting for a condition, a checkable byte pattern, and a raw reader that checks it.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <corio.hpp>

#include "io/socket.hpp"
#include "io/streams.hpp"

namespace streams_testing {

namespace net = corio::net;

/// Yields until `condition()` holds (loopback data lands within a turn or two).
template <class Condition>
inline corio::task<> until(Condition condition) {
  for (int turns = 0; !condition(); ++turns) {
    if (turns > 100000) throw std::runtime_error("the condition never came true");
    co_await corio::yield();
  }
}

/// A connection for one test, owned jointly by the test body and the tasks it spawns on it
/// (keeping): a body that stops early (a failed assertion, an injected reset) drops their join
/// handles, which only asks the tasks to cancel; they still run once more after the body's
/// locals are gone, and the connection they read must still be there.
inline std::shared_ptr<net::connection> shared_connection(net::stream_socket s) {
  return std::make_shared<net::connection>(std::move(s));
}

/// Runs `op`, an operation on `conn`, keeping `conn` alive until it is over (see shared_connection).
template <class T>
corio::task<T> keeping([[maybe_unused]] std::shared_ptr<net::connection> conn, corio::task<T> op) {
  co_return co_await std::move(op);  // `conn`, a copy in this frame, outlives `op`
}

/// A pseudo-random byte pattern, repeated, so that any stream offset's bytes can be checked.
class pattern {
 public:
  static constexpr std::size_t period = 65537;  // prime: no chunk size lines up with it
  pattern() : bytes_(2 * period, '\0') {
    std::uint32_t x = 12345;
    for (std::size_t i = 0; i < period; ++i) bytes_[i] = bytes_[i + period] = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  }
  /// The `n` (at most period) bytes at stream offset `offset`.
  [[nodiscard]] std::string_view at(std::size_t offset, std::size_t n) const { return {bytes_.data() + offset % period, n}; }
  /// Any `n` bytes from stream offset `offset`.
  [[nodiscard]] std::string range(std::size_t offset, std::size_t n) const {
    std::string out;
    for (std::size_t done = 0; done < n;) {
      const std::size_t piece = std::min(period, n - done);
      out += at(offset + done, piece);
      done += piece;
    }
    return out;
  }

 private:
  std::string bytes_;
};

/// Reads the raw socket to EOF in pieces of `piece` bytes, checking every byte against `p` (the
/// stream being at offset `from`). Returns how many bytes came.
inline corio::task<std::size_t> read_and_check(net::stream_socket& s, const pattern& p, std::size_t piece, std::size_t from = 0) {
  std::vector<char> buf(piece);
  std::size_t total = from;
  while (std::optional<std::size_t> n = co_await s.read_some(buf)) {
    if (std::memcmp(buf.data(), p.at(total, *n).data(), *n) != 0) throw std::runtime_error("corrupted at " + std::to_string(total));
    total += *n;
  }
  co_return total - from;
}

/// A small kernel send buffer, so that writes queue in the writer soon and the flusher moves
/// small steps (Linux doubles the value and keeps a floor).
inline void shrink_send_buffer(net::stream_socket& s) {
  const int size = 16 * 1024;
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

}  // namespace streams_testing
