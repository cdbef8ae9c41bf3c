// io/streams.cpp — see streams.hpp.
#include "streams.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "../runtime/cancel_scope.hpp"  // detail::this_task
#include "sys.hpp"

namespace corio::net {
namespace {

// The first block a buffer gets, and the least room a read asks for. 64 KiB: asyncio's limit,
// so a full line fits in the first block; pages the kernel never writes to stay untouched, so
// an idle connection costs little resident memory.
constexpr std::size_t initial_capacity = 64 * 1024;
// The least free room a recv gets; below it, a read compacts or grows the buffer first.
constexpr std::size_t min_read = 4 * 1024;
// An emptied buffer bigger than this is freed (after a large read_exactly, say), so one big
// message does not pin its memory for the connection's whole life.
constexpr std::size_t max_idle_capacity = 4 * initial_capacity;
static_assert(min_read <= initial_capacity && initial_capacity < max_idle_capacity);

std::string incomplete_message(std::size_t got, std::optional<std::size_t> expected) {
  std::string m = "end of stream after " + std::to_string(got) + " bytes, ";
  return m + (expected ? "expected " + std::to_string(*expected) : std::string("before the delimiter"));
}

}  // namespace

incomplete_read_error::incomplete_read_error(std::string partial, std::optional<std::size_t> expected)
    : std::runtime_error(incomplete_message(partial.size(), expected)), partial_(std::move(partial)), expected_(expected) {}

limit_overrun_error::limit_overrun_error(std::size_t consumed, std::size_t limit)
    : std::runtime_error("no delimiter within the limit of " + std::to_string(limit) + " bytes (" + std::to_string(consumed) +
                         " bytes buffered before it)"),
      consumed_(consumed) {}

// --- byte_buffer ----------------------------------------------------------------------------

namespace detail {

// Compacting moves the readable bytes to the front. It is done only when the consumed prefix is
// at least as long as what is moved, so each byte is moved at most about once per byte consumed
// (amortised O(1)); otherwise the block doubles.
std::span<char> byte_buffer::prepare(std::size_t min_free) {
  if (capacity_ - end_ < min_free) {
    const std::size_t used = size();
    if (begin_ >= used && capacity_ - used >= min_free) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      const std::size_t grown = std::max({capacity_ * 2, used + min_free, initial_capacity});
      auto bigger = std::make_unique_for_overwrite<char[]>(grown);
      if (used != 0) std::memcpy(bigger.get(), data_.get() + begin_, used);
      data_ = std::move(bigger);
      capacity_ = grown;
    }
    begin_ = 0;
    end_ = used;
  }
  return {data_.get() + end_, capacity_ - end_};
}

void byte_buffer::append(std::string_view bytes) {
  if (bytes.empty()) return;  // memcpy from a null pointer is undefined, even for 0 bytes
  std::memcpy(prepare(bytes.size()).data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void byte_buffer::consume(std::size_t n) noexcept {
  begin_ += n;
  if (begin_ != end_) return;
  begin_ = end_ = 0;  // empty: the next bytes start at the front, no compaction needed
  if (capacity_ > max_idle_capacity) {
    data_.reset();
    capacity_ = 0;
  }
}

std::string byte_buffer::take(std::size_t n) {
  std::string out(readable().substr(0, n));
  consume(out.size());
  return out;
}

}  // namespace detail

// --- stream_reader --------------------------------------------------------------------------

// Marks the reader busy for one read; a second concurrent read is a bug in the caller (two
// tasks would each get an arbitrary part of the stream).
class stream_reader::busy_guard {
 public:
  explicit busy_guard(bool& busy) : busy_(busy) {
    if (busy_) throw std::logic_error("corio::net::stream_reader: another task is already reading");
    busy_ = true;
  }
  busy_guard(const busy_guard&) = delete;
  busy_guard& operator=(const busy_guard&) = delete;
  ~busy_guard() { busy_ = false; }

 private:
  bool& busy_;
};

// One recv into the buffer's free room (at least `min_free` bytes). False at end of stream.
// Cancel-safe: read_some consumes nothing when cancelled, and the buffer is only committed to
// after bytes arrived.
task<bool> stream_reader::fill(std::size_t min_free) {
  if (error_) std::rethrow_exception(error_);
  if (eof_) co_return false;
  std::optional<std::size_t> got;
  try {
    got = co_await socket_.read_some(buffer_.prepare(std::max(min_free, min_read)));
  } catch (const std::system_error&) {
    error_ = std::current_exception();  // after ECONNRESET recv reports 0: that is not an EOF
    throw;
  }
  if (!got) {
    eof_ = true;
    co_return false;
  }
  buffer_.commit(*got);
  co_return true;
}

// The length of the buffered data up to and including `delimiter`, reading as needed; nullopt
// at end of stream without it (buffer untouched). `from` remembers where the search stopped, so
// each byte is looked at about once however the data is split into chunks.
task<std::optional<std::size_t>> stream_reader::find(std::string_view delimiter) {
  std::size_t from = 0;  // no delimiter starts before this offset
  for (;;) {
    const std::string_view data = buffer_.readable();
    if (const std::size_t at = data.find(delimiter, from); at != std::string_view::npos) {
      if (at > limit_) throw limit_overrun_error(at, limit_);
      co_return at + delimiter.size();
    }
    // The delimiter may have begun in the last size()-1 bytes: search those again.
    from = data.size() < delimiter.size() ? 0 : data.size() - delimiter.size() + 1;
    if (from > limit_) throw limit_overrun_error(from, limit_);
    if (!co_await fill(min_read)) co_return std::nullopt;
  }
}

task<std::optional<std::string>> stream_reader::readline() {
  const busy_guard guard(busy_);
  if (const std::optional<std::size_t> length = co_await find("\n")) co_return buffer_.take(*length);
  if (buffer_.empty()) co_return std::nullopt;
  co_return buffer_.take(buffer_.size());  // the last line, without its '\n' (asyncio does this too)
}

task<std::string> stream_reader::read_until(std::string delimiter) {
  if (delimiter.empty()) throw std::invalid_argument("corio::net::stream_reader::read_until: empty delimiter");
  const busy_guard guard(busy_);
  if (const std::optional<std::size_t> length = co_await find(delimiter)) co_return buffer_.take(*length);
  throw incomplete_read_error(buffer_.take(buffer_.size()), std::nullopt);
}

task<std::string> stream_reader::read_exactly(std::size_t n) {
  const busy_guard guard(busy_);
  while (buffer_.size() < n) {
    if (!co_await fill(n - buffer_.size())) throw incomplete_read_error(buffer_.take(buffer_.size()), n);
  }
  co_return buffer_.take(n);
}

task<std::optional<std::string>> stream_reader::read(std::size_t n) {
  const busy_guard guard(busy_);
  if (n == 0) co_return std::string();
  if (buffer_.empty() && !co_await fill(min_read)) co_return std::nullopt;
  co_return buffer_.take(n);
}

task<std::string> stream_reader::read_all() {
  const busy_guard guard(busy_);
  while (co_await fill(min_read)) {
  }
  co_return buffer_.take(buffer_.size());
}

// --- stream_writer --------------------------------------------------------------------------

stream_writer::stream_writer(stream_socket& socket, std::size_t high_water, std::optional<std::size_t> low_water)
    : socket_(socket) {
  set_write_buffer_limits(high_water, low_water);
  unpaused_.set();
}

void stream_writer::set_write_buffer_limits(std::size_t high, std::optional<std::size_t> low) {
  const std::size_t l = low.value_or(high / 4);
  if (l > high) throw std::invalid_argument("corio::net::stream_writer: low water above high water");
  high_water_ = high;
  low_water_ = l;
  if (!paused_ && buffered() > high_water_) set_paused(true);
  if (paused_ && buffered() <= low_water_) set_paused(false);
}

void stream_writer::set_paused(bool paused) noexcept {
  paused_ = paused;
  if (paused) {
    unpaused_.clear();
  } else {
    unpaused_.set();  // wakes every drain() in a later turn
  }
}

void stream_writer::throw_if_failed() const {
  if (error_) std::rethrow_exception(error_);
}

void stream_writer::write(std::string_view data) {
  throw_if_failed();
  if (eof_requested_ || closing_) sys::throw_error(EPIPE, "corio::net::stream_writer: write after write_eof() or close()");
  if (data.empty()) return;
  if (buffered() == 0) {  // nothing queued: try the kernel first, as asyncio's transport does
    try {
      data.remove_prefix(socket_.try_write(data));
    } catch (const std::system_error&) {
      fail(std::current_exception());
      throw;
    }
    if (data.empty()) return;
  }
  pending_.append(data);
  if (!paused_ && buffered() > high_water_) set_paused(true);
  if (!flusher_.valid() || flusher_.done()) flusher_ = corio::spawn(flush(), "corio::net::stream_writer flush");
}

// The background sender (see streams.hpp). Runs while bytes are queued; then carries out a
// pending write_eof() or close(). A failure is kept for the next call, never thrown into the
// void. corio::cancelled (the writer is being destroyed) is not a std::exception: it passes
// through without touching the writer, which may be gone by then.
task<void> stream_writer::flush() {
  try {
    for (;;) {
      if (sending_.empty()) {
        if (pending_.empty()) break;
        std::swap(sending_, pending_);
      }
      const std::size_t sent = co_await socket_.write_some(sending_.readable());
      sending_.consume(sent);
      if (paused_ && buffered() <= low_water_) set_paused(false);
    }
    if (closing_) {
      finish_close();
    } else if (eof_requested_) {
      socket_.shutdown_write();
    }
  } catch (const std::exception&) {
    fail(std::current_exception());
  }
}

// Keeps the first error; the queued bytes can never be sent now, so they are dropped and every
// drain() is let go (to rethrow it).
void stream_writer::fail(std::exception_ptr error) noexcept {
  if (!error_) error_ = std::move(error);
  pending_.clear();
  sending_.clear();
  set_paused(false);
  if (closing_) finish_close();
}

task<void> stream_writer::drain() {
  const corio::detail::task_state& self = co_await corio::detail::this_task{};
  for (;;) {
    if (self.cancel_requested()) corio::detail::throw_cancelled();
    throw_if_failed();
    if (!paused_) co_return;
    co_await unpaused_.wait();
  }
}

void stream_writer::write_eof() {
  throw_if_failed();
  if (eof_requested_ || closing_) return;
  eof_requested_ = true;
  if (buffered() == 0) socket_.shutdown_write();  // else the flusher does it when done
}

void stream_writer::close() {
  if (closing_) return;
  closing_ = true;
  if (buffered() == 0) finish_close();  // else the flusher does it when done
  throw_if_failed();
}

// FIN after the last byte, then close. A failing shutdown (the peer already reset) changes
// nothing about what close means, so it is not reported.
void stream_writer::finish_close() noexcept {
  if (socket_.is_open()) {
    try {
      socket_.shutdown_write();
    } catch (const std::system_error&) {
    }
    socket_.close();
  }
  closed_.set();
}

task<void> stream_writer::wait_closed() {
  co_await closed_.wait();
  throw_if_failed();
}

void stream_writer::abort() noexcept {
  if (!error_) error_ = std::make_exception_ptr(std::system_error(ECANCELED, std::generic_category(), "operation aborted: the connection was closed"));
  closing_ = true;
  socket_.close();  // a parked flusher resumes with ECANCELED and finds error_ already kept
  fail(nullptr);    // drops the queue, lets every drain() go, marks the writer closed
}

// --- connection -----------------------------------------------------------------------------

detail::connection_state::connection_state(stream_socket s, const stream_options& options)
    : socket(std::move(s)), reader(socket, options.limit), writer(socket, options.high_water, options.low_water) {}

connection::connection(stream_socket socket, stream_options options) {
  if (!socket.is_open()) throw std::invalid_argument("corio::net::connection: the socket is not open");
  state_ = std::make_unique<detail::connection_state>(std::move(socket), options);
}

detail::connection_state& connection::state() {
  if (state_ == nullptr) throw std::logic_error("corio::net::connection: empty (default-constructed or moved-from)");
  return *state_;
}

}  // namespace corio::net
