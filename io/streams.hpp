// io/streams.hpp — buffered streams over a net::stream_socket: asyncio's StreamReader and
// StreamWriter as net::stream_reader and net::stream_writer, owned together by net::connection.
//
//   net::connection conn(co_await net::stream_socket::connect(to));
//   conn.writer().write("HELLO\r\n");                     // buffers (or sends at once); no await
//   co_await conn.writer().drain();                       // the backpressure point
//   while (auto line = co_await conn.reader().readline()) // nullopt: the peer closed (EOF)
//     handle(*line);                                      // each line ends with '\n'
//   conn.writer().close();                                // send what is buffered, FIN, close
//   co_await conn.writer().wait_closed();                 // ... and wait until that is done
//
// Ownership. asyncio hands out a (reader, writer) pair sharing one transport. Here a connection
// owns the socket, its reader and its writer in ONE heap block, so references to reader() and
// writer() stay valid when the connection is moved, and the socket is destroyed after both.
// One task may read while another writes; the reader is used by one task at a time (a second
// concurrent read throws std::logic_error, as asyncio raises RuntimeError); drain() may be
// awaited by several tasks.
//
// The reader's buffer (one block, compacted or grown only when a read needs room, and freed
// when it empties while larger than 256 KiB):
//
//     [ consumed ........ | readable ............... | free: the next recv lands here ]
//     0                 begin                       end                          capacity
//
// The writer sends at once while nothing is queued, like an asyncio transport; what the kernel
// does not take is queued, and a flusher task sends it in the background (see stream_writer).
//
// Contract, for every awaitable below unless it says otherwise:
//   * Resumes on the loop's thread. When the buffer already answers the call, it completes
//     without suspending; otherwise in a later turn, after a readiness edge (no spinning).
//   * Errors: std::system_error from the socket (ECONNRESET, ...); after one, every later read
//     that needs the socket throws the same error again (a reset is never mistaken for EOF).
//     End of stream is never an exception where a value can say it: read() and readline()
//     return nullopt; read_exactly() and read_until() throw net::incomplete_read_error.
//   * Cancellation (corio::cancelled, only while parked) is SAFE for every read: whatever was
//     received stays buffered for the next call, nothing is lost: after a readline() cancelled
//     half-way through a line, the next readline() returns the whole line.
//   * connection::close() aborts: parked reads and drains resume with std::system_error
//     (ECANCELED) in a later turn; unsent bytes are dropped.
//   * Destroying a connection that a task is still parked on is a bug (like destroying an
//     event with waiters); destroying it otherwise drops unsent bytes (see stream_writer).
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "../runtime/event.hpp"
#include "../runtime/spawn.hpp"
#include "../runtime/task.hpp"
#include "socket.hpp"

namespace corio::net {

/// asyncio's default limit and high-water mark (asyncio/streams.py: _DEFAULT_LIMIT = 2**16).
inline constexpr std::size_t default_stream_limit = 64 * 1024;

/// read_exactly() or read_until() reached end of stream first (asyncio.IncompleteReadError).
/// The partial data was taken out of the buffer and travels in the exception.
class incomplete_read_error : public std::runtime_error {
 public:
  incomplete_read_error(std::string partial, std::optional<std::size_t> expected);
  /// The bytes that did arrive before the end of stream.
  [[nodiscard]] const std::string& partial() const noexcept { return partial_; }
  /// read_exactly's n; nullopt for read_until (it expected a delimiter, not a size).
  [[nodiscard]] std::optional<std::size_t> expected() const noexcept { return expected_; }

 private:
  std::string partial_;
  std::optional<std::size_t> expected_;
};

/// readline() / read_until() found no delimiter within `limit` bytes (asyncio's
/// LimitOverrunError). Nothing was consumed: the bytes stay in the buffer.
class limit_overrun_error : public std::runtime_error {
 public:
  limit_overrun_error(std::size_t consumed, std::size_t limit);
  /// How many buffered bytes come before the earliest place the delimiter could still start.
  /// read_exactly(consumed()) skips them, if the protocol allows going on at all.
  [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
};

namespace detail {

/// A growable byte buffer with a read position (the diagram at the top). Not thread-safe.
class byte_buffer {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  [[nodiscard]] bool empty() const noexcept { return end_ == begin_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::string_view readable() const noexcept { return {data_.get() + begin_, size()}; }

  /// The free tail, at least `min_free` bytes: compacts or grows first if needed.
  [[nodiscard]] std::span<char> prepare(std::size_t min_free);
  /// Marks `n` bytes of the span prepare() gave as filled.
  void commit(std::size_t n) noexcept { end_ += n; }
  void append(std::string_view bytes);
  /// Drops the first `n` readable bytes.
  void consume(std::size_t n) noexcept;
  /// Removes and returns the first `n` readable bytes.
  [[nodiscard]] std::string take(std::size_t n);
  /// Drops everything; keeps the memory (a parked send may still point into it).
  void clear() noexcept { begin_ = end_ = 0; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace detail

/// The reading half (asyncio.StreamReader). Pinned: it refers to its socket.
class stream_reader {
 public:
  /// Reads from `socket`, which must outlive the reader. `limit`: see readline().
  explicit stream_reader(stream_socket& socket, std::size_t limit = default_stream_limit) noexcept
      : socket_(socket), limit_(limit) {}
  stream_reader(const stream_reader&) = delete;
  stream_reader& operator=(const stream_reader&) = delete;

  /// One line, '\n' included. At end of stream: the last line as it is, without '\n', if bytes
  /// are left; nullopt when nothing is (EOF is never an empty string). A line longer than
  /// limit() bytes (before its '\n') throws net::limit_overrun_error, consuming nothing.
  [[nodiscard]] task<std::optional<std::string>> readline();
  /// Everything up to and including `delimiter` (non-empty, else std::invalid_argument).
  /// Limit as readline(). End of stream first: net::incomplete_read_error carrying all that was
  /// buffered (consumed), expected() == nullopt.
  [[nodiscard]] task<std::string> read_until(std::string delimiter);
  /// Exactly `n` bytes. End of stream first: net::incomplete_read_error carrying the bytes that
  /// came (consumed) and expected() == n. n is not bounded by limit(): the caller chose it.
  [[nodiscard]] task<std::string> read_exactly(std::size_t n);
  /// Up to `n` bytes, waiting only if nothing is buffered. nullopt at end of stream; n == 0
  /// gives "" at once — a 0-byte read and EOF are never confused.
  [[nodiscard]] task<std::optional<std::string>> read(std::size_t n);
  /// Everything until end of stream ("" if the stream already ended). Unbounded: for peers you
  /// trust; otherwise read_exactly() or read() in a loop.
  [[nodiscard]] task<std::string> read_all();

  /// True when the peer ended the stream and every byte was read.
  [[nodiscard]] bool at_eof() const noexcept { return eof_ && buffer_.empty(); }
  /// Bytes received and not yet read.
  [[nodiscard]] std::size_t buffered() const noexcept { return buffer_.size(); }
  [[nodiscard]] std::size_t limit() const noexcept { return limit_; }

 private:
  class busy_guard;
  [[nodiscard]] task<bool> fill(std::size_t min_free);
  [[nodiscard]] task<std::optional<std::size_t>> find(std::string_view delimiter);

  stream_socket& socket_;
  std::size_t limit_;
  detail::byte_buffer buffer_;
  std::exception_ptr error_;  // the socket failed: rethrown by every later fill
  bool eof_ = false;
  bool busy_ = false;  // a read is in progress (one reader at a time)
};

/// The writing half (asyncio.StreamWriter plus its transport's buffer). Pinned: it refers to its
/// socket, and its flusher task refers to it.
///
/// How bytes leave:
///   write(data)  nothing queued -> send() at once; only what the kernel refused is queued
///                bytes queued   -> appended behind them (order is kept)
///   queued bytes -> a flusher task, spawned by the write() that queued the first byte and
///                   ending when the queue is empty, parks on writability and sends. It does
///                   not spin: it runs only after a readiness edge. A task, and not "flush
///                   inside drain()", because a client that writes a request and then awaits the
///                   reply without calling drain() must still have its request sent.
///   drain()      -> returns at once unless more than high_water is queued; then waits until the
///                   flusher brought it down to low_water (asyncio's pause/resume_writing
///                   hysteresis), so `write(); co_await drain();` in a loop bounds memory by
///                   about high_water + one write, however slow the reader.
/// The queue is two buffers: write() appends to `pending_`; the flusher sends from `sending_`
/// and swaps them when it runs dry. A parked send points into `sending_`, which write() never
/// touches, so write() may grow `pending_` at any time.
///
/// Errors: a send that fails in the background is kept and rethrown by the next write(),
/// drain(), close() and wait_closed() (std::system_error: EPIPE, ECONNRESET, ...); queued bytes
/// are dropped then, as nothing can send them any more.
///
/// What happens to unsent bytes: bytes given to write() go out even if the writing task is
/// cancelled (drain() is cancel-safe: the bytes keep flowing). They are DROPPED when the
/// writer is destroyed (its flusher is cancelled) or aborted by connection::close(); the peer
/// then reads what the kernel had already taken followed by a normal end of stream, so a
/// protocol that must tell a cut-off stream from a whole one frames its messages. Use close()
/// + wait_closed() to know every byte was handed to the kernel.
class stream_writer {
 public:
  /// Writes to `socket`, which must outlive the writer. low_water defaults to high_water / 4.
  explicit stream_writer(stream_socket& socket, std::size_t high_water = default_stream_limit,
                         std::optional<std::size_t> low_water = std::nullopt);
  stream_writer(const stream_writer&) = delete;
  stream_writer& operator=(const stream_writer&) = delete;
  ~stream_writer() = default;  // dropping flusher_ cancels it (join_handle's rule)

  /// Queues `data` (sending at once what it can). Never waits. Throws a kept background error,
  /// or std::system_error(EPIPE) after write_eof() or close().
  void write(std::string_view data);
  /// Waits while more than high_water is queued (see above). A check point: throws
  /// corio::cancelled if the task is cancelled, even when it need not wait. Cancel-safe.
  [[nodiscard]] task<void> drain();
  /// Shuts down the write side (the peer reads EOF) once the queued bytes are sent; reading
  /// goes on. Idempotent.
  void write_eof();
  /// Sends what is queued, shuts down the write side, then closes the socket (reads end too,
  /// as in asyncio). Returns at once; wait_closed() waits for it. Idempotent. Throws a kept
  /// background error (after closing). If the peer sent bytes we never read, the kernel answers
  /// the close with a reset, which may destroy data still in flight (RFC 2525 §2.17): to be
  /// sure, write_eof() and read to EOF before closing.
  void close();
  /// Waits until close() finished: rethrows a kept error. Cancel-safe: the close goes on.
  [[nodiscard]] task<void> wait_closed();
  /// Closes the socket now, dropping queued bytes; parked drains and wait_closed() end with
  /// std::system_error(ECANCELED) (asyncio's transport.abort()). Idempotent.
  void abort() noexcept;

  /// Bytes queued and not yet handed to the kernel (asyncio's get_write_buffer_size()).
  [[nodiscard]] std::size_t buffered() const noexcept { return pending_.size() + sending_.size(); }
  [[nodiscard]] bool is_closing() const noexcept { return closing_; }
  /// std::invalid_argument if low > high. low defaults to high / 4.
  void set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low = std::nullopt);

 private:
  [[nodiscard]] task<void> flush();
  void set_paused(bool paused) noexcept;
  void fail(std::exception_ptr error) noexcept;
  void finish_close() noexcept;
  void throw_if_failed() const;

  stream_socket& socket_;
  detail::byte_buffer pending_;  // appended to by write()
  detail::byte_buffer sending_;  // sent from by the flusher
  std::size_t high_water_ = default_stream_limit;
  std::size_t low_water_ = default_stream_limit / 4;
  bool paused_ = false;        // more than high_water queued, not yet back to low_water
  bool eof_requested_ = false;
  bool closing_ = false;
  std::exception_ptr error_;   // a background send failed (or abort()): kept for the next call
  corio::event unpaused_;      // set whenever !paused_: drain() waits on it
  corio::event closed_;        // set when close() or abort() finished
  join_handle<void> flusher_;  // declared last: dropped (cancelled) first
};

/// What a connection is made with.
struct stream_options {
  std::size_t limit = default_stream_limit;       ///< readline()/read_until() limit
  std::size_t high_water = default_stream_limit;  ///< drain() waits above this
  std::optional<std::size_t> low_water = std::nullopt;  ///< ... until this; default high_water / 4
};

namespace detail {
struct connection_state {
  connection_state(stream_socket s, const stream_options& options);
  stream_socket socket;  // first, so destroyed after the reader and writer that refer to it
  stream_reader reader;
  stream_writer writer;
};
}  // namespace detail

/// A connected socket with its reader and writer (what open_connection() and serve() hand out).
/// Move-only; an empty (default-constructed or moved-from) connection throws std::logic_error
/// from its accessors. End it with writer().close() and co_await writer().wait_closed():
/// destroying it drops whatever is still queued (up to high_water after a drain()).
class connection {
 public:
  connection() noexcept = default;
  /// Takes over a connected socket. Throws std::invalid_argument for an unopened one.
  explicit connection(stream_socket socket, stream_options options = {});

  [[nodiscard]] stream_reader& reader() { return state().reader; }
  [[nodiscard]] stream_writer& writer() { return state().writer; }
  [[nodiscard]] stream_socket& socket() { return state().socket; }
  [[nodiscard]] bool is_open() const noexcept { return state_ != nullptr && state_->socket.is_open(); }

  /// Closes now, without flushing (writer().abort()): see the contract at the top. For a
  /// graceful end use writer().close() and wait_closed(). Idempotent.
  void close() noexcept {
    if (state_ != nullptr) state_->writer.abort();
  }

 private:
  detail::connection_state& state();
  std::unique_ptr<detail::connection_state> state_;
};

}  // namespace corio::net
