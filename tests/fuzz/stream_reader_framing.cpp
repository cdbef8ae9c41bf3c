// tests/fuzz/stream_reader_framing.cpp — libFuzzer target: io/streams.hpp's stream_reader
// frames the same bytes the same way however they are chunked on the wire.
//
// Property: a script of readline / read_until / read_exactly calls, run against the same bytes
// sent through a socket pair (net::stream_socket::pair()) in different chunkings — all at once,
// in chunk sizes the input chooses, and one byte at a time (inputs up to 256 bytes) — returns
// the same results in every chunking: the same lines and frames, the same end-of-stream
// answers (nullopt, incomplete_read_error with the same partial bytes and expected()), the
// same limit_overrun_errors, and the same bytes left over afterwards (read_all()). Any
// difference prints the transcripts and aborts, which libFuzzer reports as a crash. With
// CORIO_FUZZ_PRINT=1 in the environment, every input's transcript is printed.
//
// One thing is deliberately not compared: limit_overrun_error::consumed(). It says how far the
// reader searched, which depends on what was buffered when it gave up (asyncio's
// LimitOverrunError.consumed behaves the same); WHETHER the limit is overrun does not.
//
// The writer sends a chunk, then yields until the reader's socket is empty again (FIONREAD), so
// each chunk really reaches the reader on its own. No sleeps: one corio::run per chunking, under
// a 5 s limit that only a lost wakeup can reach (it aborts with a message saying so).
//
// Input layout:
//   byte 0        the reader's limit: bit 7 set -> the default (64 KiB), else 1 + (byte % 64)
//   byte 1        the number of calls, 1 + (byte % 16); then two bytes per call, kind and p:
//                   kind % 4: 0 readline()   1 read_until(delimiters[p % 6])
//                             2 read_exactly(p)   3 read_until(the one byte p)
//   next byte     the number of chunk sizes, 1 + (byte % 8); then that many bytes, each a chunk
//                 size of 1 + byte, used in turn until the data runs out
//   the rest      the data (up to 1024 bytes; the rest is ignored)
#include <sys/ioctl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/socket.hpp"
#include "io/streams.hpp"
#include "quoted.hpp"
#include "runtime/run.hpp"
#include "runtime/sleep.hpp"
#include "runtime/timeout.hpp"

namespace {

using corio::fuzz::quoted;
using corio::net::stream_reader;
using corio::net::stream_socket;

struct call {
  enum class kind : unsigned char { readline, read_until, read_exactly } what;
  std::string delimiter;  // read_until
  std::size_t n = 0;      // read_exactly
};

struct script {
  std::size_t limit = corio::net::default_stream_limit;
  std::vector<call> calls;
  std::vector<std::size_t> chunk_sizes;
  std::string_view data;
};

constexpr std::size_t max_data = 1024;
constexpr std::size_t max_bytewise = 256;

std::optional<script> decode(const std::uint8_t* bytes, std::size_t size) {
  static const char* const delimiters[] = {"\n", "\r\n", "\r\n\r\n", ":", "--", "abc"};
  std::size_t pos = 0;
  const auto next = [&]() -> std::optional<std::uint8_t> {
    if (pos == size) return std::nullopt;
    return bytes[pos++];
  };
  script s;
  const auto limit = next();
  const auto count = next();
  if (!limit || !count) return std::nullopt;
  if ((*limit & 0x80) == 0) s.limit = 1 + *limit % 64U;
  for (unsigned i = 0; i <= *count % 16U; ++i) {
    const auto kind = next();
    const auto p = next();
    if (!kind || !p) return std::nullopt;
    switch (*kind % 4) {
      case 0: s.calls.push_back({call::kind::readline, "", 0}); break;
      case 1: s.calls.push_back({call::kind::read_until, delimiters[*p % 6], 0}); break;
      case 2: s.calls.push_back({call::kind::read_exactly, "", *p}); break;
      default: s.calls.push_back({call::kind::read_until, std::string(1, static_cast<char>(*p)), 0}); break;
    }
  }
  const auto chunks = next();
  if (!chunks) return std::nullopt;
  for (unsigned i = 0; i <= *chunks % 8U; ++i) {
    const auto c = next();
    if (!c) return std::nullopt;
    s.chunk_sizes.push_back(1 + std::size_t{*c});
  }
  s.data = std::string_view(reinterpret_cast<const char*>(bytes) + pos, std::min(size - pos, max_data));
  return s;
}

// Bytes the kernel holds for `fd` that nobody has read yet.
int unread_bytes(int fd) {
  int n = 0;
  if (::ioctl(fd, FIONREAD, &n) != 0) return 0;
  return n;
}

// Owns the writing socket, so that a script cut short by an exception cannot leave this task
// pointing at a destroyed one.
corio::task<void> send_in_chunks(stream_socket out, std::string_view data, std::vector<std::size_t> sizes,
                                 const bool& reader_done, int reader_fd) {
  for (std::size_t i = 0; !data.empty(); ++i) {
    const std::string_view chunk = data.substr(0, sizes[i % sizes.size()]);
    data.remove_prefix(chunk.size());
    co_await out.write_all(chunk);
    while (!reader_done && unread_bytes(reader_fd) > 0) co_await corio::yield();
  }
  out.shutdown_write();
}

corio::task<std::string> perform(stream_reader& reader, const call& c) {
  try {
    switch (c.what) {
      case call::kind::readline: {
        const std::optional<std::string> line = co_await reader.readline();
        co_return line ? "readline " + quoted(*line) : "readline eof";
      }
      case call::kind::read_until: {
        const std::string frame = co_await reader.read_until(c.delimiter);
        co_return "read_until " + quoted(c.delimiter) + " " + quoted(frame);
      }
      case call::kind::read_exactly: {
        const std::string frame = co_await reader.read_exactly(c.n);
        co_return "read_exactly " + std::to_string(c.n) + " " + quoted(frame);
      }
    }
  } catch (const corio::net::limit_overrun_error&) {
    co_return "limit overrun";  // consumed() is not compared: see the top
  } catch (const corio::net::incomplete_read_error& e) {
    co_return "incomplete " + quoted(e.partial()) + " expected " +
              (e.expected() ? std::to_string(*e.expected()) : std::string("delimiter"));
  }
  co_return "unreachable";
}

corio::task<std::vector<std::string>> run_script(const script& s, std::vector<std::size_t> chunk_sizes) {
  auto [out, in] = stream_socket::pair();
  bool reader_done = false;
  const int reader_fd = in.native_handle();
  auto sender = corio::spawn(send_in_chunks(std::move(out), s.data, std::move(chunk_sizes), reader_done, reader_fd));
  stream_reader reader(in, s.limit);
  std::vector<std::string> transcript;
  for (const call& c : s.calls) {
    std::string result = co_await perform(reader, c);
    transcript.push_back(std::move(result));
  }
  reader_done = true;
  std::string rest = co_await reader.read_all();
  transcript.push_back("rest " + quoted(rest));
  co_await sender;
  co_return transcript;
}

// A script takes milliseconds; one that has not ended after 5 s never will: some bytes or the
// end of the stream were sent and the reader was not woken for them (a lost wakeup).
constexpr auto hang_limit = std::chrono::seconds(5);

std::vector<std::string> run_in_a_loop(const script& s, std::vector<std::size_t> chunk_sizes) {
  try {
    return corio::run(corio::timeout(hang_limit, run_script(s, std::move(chunk_sizes))),
                      corio::run_options{.cancel_on_interrupt = false});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stream_reader fuzz: unexpected exception: %s\n", e.what());
    std::abort();
  }
}

void print_transcript(const char* title, const std::vector<std::string>& lines) {
  std::fprintf(stderr, "--- %s\n", title);
  for (const auto& line : lines) std::fprintf(stderr, "  %s\n", line.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::optional<script> s = decode(data, size);
  if (!s) return 0;
  const auto whole = run_in_a_loop(*s, {std::max<std::size_t>(s->data.size(), 1)});
  const auto chunked = run_in_a_loop(*s, s->chunk_sizes);
  std::optional<std::vector<std::string>> bytewise;
  if (s->data.size() <= max_bytewise) bytewise = run_in_a_loop(*s, {1});
  if (std::getenv("CORIO_FUZZ_PRINT") != nullptr) print_transcript("whole", whole);
  if (whole != chunked || (bytewise && whole != *bytewise)) {
    std::fprintf(stderr, "stream_reader fuzz: the chunkings disagree (%zu data bytes, limit %zu)\n", s->data.size(),
                 s->limit);
    print_transcript("whole", whole);
    print_transcript("chunked as the input says", chunked);
    if (bytewise) print_transcript("byte by byte", *bytewise);
    std::abort();
  }
  return 0;
}
