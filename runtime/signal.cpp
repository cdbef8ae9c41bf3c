// runtime/signal.cpp — the process-wide half of signal.hpp: one sigaction handler, the table it
// reads, and one self-pipe per loop that watches signals.
//
// Why a handler and a self-pipe, and not signalfd(2): a signalfd only receives a signal that is
// BLOCKED in every thread of the process, including threads corio does not create (a library's
// worker, the user's own); if one thread leaves it unblocked, the kernel delivers the signal
// there, where the default action kills the process. A handler plus a pipe works whichever
// thread the kernel picks, is the same code on every POSIX system (no #ifdef), and costs one
// write() per delivery. libuv uses a self-pipe on Linux too (src/unix/signal.c), and so does
// Python's signal.set_wakeup_fd under asyncio.
//
//   process-wide, static, never freed (the handler reads it)         one per loop: signal_reactor
//   deliveries[signo]   atomic: how many times the handler ran          |
//   sets[signo], guards[signo]   atomic: who watches signo              |  pipe: read end watched
//   pipes ──> node ──> node ──> ...   node = { write_fd, wants[signo] } <┘  in its loop (background)
//
// The handler, on any thread, async-signal-safe (lock-free atomics, write, sigaction, raise):
//   1. save errno; in_flight += 1
//   2. corio::run's second Ctrl-C (see signal_claim::only_when_default): SIG_DFL, raise()
//   3. deliveries[signo] += 1
//   4. one byte `signo` into every node that wants signo (non-blocking: a full pipe drops it)
//   5. in_flight -= 1; restore errno
//
// The counts are the truth; the bytes only wake the loop and tell the order of arrival. A watch
// remembers, per signal, the count it has already taken (`seen_`), so the loop reading a byte
// hands out at most count - seen deliveries, and after the bytes it takes whatever is left:
// a dropped byte, or a byte still being written, cannot lose or double a delivery. (Only the
// ORDER across different signals is lost for deliveries whose bytes were dropped, which takes
// 64 KiB of unread bytes.)
//
// Registering and unregistering happen on loop threads, under one mutex the handler never
// takes. What the handler could be using concurrently is the pipe list: nodes are never freed
// (at most one per loop that watched signals at the same time; a free node is reused), and a
// node's write end is closed only after `write_fd = -1` and then waiting for in_flight to be 0.
// All of these atomics are sequentially consistent: either the handler's in_flight increment
// comes first and the closer waits for it, or its read of write_fd comes after the -1.
// The same Dekker argument covers a new watch: it sets `wants`, then reads deliveries as its
// baseline; a delivery it does not count in that baseline is one whose handler sees `wants`.
#include "signal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace corio::detail {
namespace {

constexpr int max_signal = NSIG;  // signal numbers are 1 .. NSIG-1
static_assert(max_signal <= 256, "a signal number travels through the pipe as one byte");
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free &&
                  std::atomic<std::uint64_t>::is_always_lock_free,
              "the signal handler may only use lock-free atomics");

struct pipe_node {
  std::atomic<int> write_fd{-1};
  std::array<std::atomic<bool>, max_signal> wants{};
  pipe_node* next = nullptr;                 // set before the node is published; never changes
  signal_reactor* reactor = nullptr;         // the rest: under registry_mutex
};

// --- read by the handler ---
constinit std::array<std::atomic<std::uint64_t>, max_signal> deliveries{};
constinit std::array<std::atomic<unsigned>, max_signal> sets{};    // signal_claim::always watches
constinit std::array<std::atomic<unsigned>, max_signal> guards{};  // only_when_default watches
constinit std::atomic<pipe_node*> pipes{nullptr};
constinit std::atomic<int> in_flight{0};
constinit std::atomic<bool> interrupted{false};  // a guarded signal arrived since run() began

// --- only under registry_mutex ---
constinit std::mutex registry_mutex;
std::array<struct sigaction, max_signal> previous{};  // what was there before corio's handler
std::size_t guard_claims = 0;

void handle_signal(int signo) {
  const int saved_errno = errno;
  const auto i = static_cast<std::size_t>(signo);
  in_flight.fetch_add(1);
  if (guards[i].load() > 0 && sets[i].load() == 0 && interrupted.exchange(true)) {
    // A second Ctrl-C while corio::run shuts down: the default action, as if corio were not
    // there. signo is blocked while its handler runs, so the raise() strikes when we return.
    struct sigaction fallback {};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    ::sigaction(signo, &fallback, nullptr);
    ::raise(signo);
  }
  deliveries[i].fetch_add(1);
  const auto byte = static_cast<unsigned char>(signo);
  for (pipe_node* n = pipes.load(); n != nullptr; n = n->next) {
    if (!n->wants[i].load()) continue;
    const int fd = n->write_fd.load();
    if (fd >= 0 && ::write(fd, &byte, 1) < 0) {
      // EAGAIN: the pipe is full, so the loop has a wake-up pending and will read the counts.
    }
  }
  in_flight.fetch_sub(1);
  errno = saved_errno;
}

[[noreturn]] void throw_errno(int error, const char* what) { throw std::system_error(error, std::generic_category(), what); }

// pipe2() would set both flags atomically but is not in macOS; until the FD_CLOEXEC lands, a
// fork+exec on another thread could inherit the descriptors (the same window as libuv's).
std::array<int, 2> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe(fds.data()) != 0) throw_errno(errno, "corio: pipe for signals");
  for (const int fd : fds) {
    const int status = ::fcntl(fd, F_GETFL);
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || status < 0 || ::fcntl(fd, F_SETFL, status | O_NONBLOCK) != 0) {
      const int error = errno;
      ::close(fds[0]);
      ::close(fds[1]);
      throw_errno(error, "corio: fcntl on the signal pipe");
    }
  }
  return fds;
}

bool watched(int signo) noexcept {
  const auto i = static_cast<std::size_t>(signo);
  return sets[i].load() + guards[i].load() > 0;
}

// Is `signo` at its default disposition, as the program set it (corio's own handler aside)?
bool default_disposition(int signo) noexcept {
  struct sigaction current {};
  if (watched(signo)) {
    current = previous[static_cast<std::size_t>(signo)];
  } else if (::sigaction(signo, nullptr, &current) != 0) {
    return false;
  }
  return (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL;
}

void install_handler(int signo) {
  struct sigaction action {};
  action.sa_handler = &handle_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (::sigaction(signo, &action, &previous[static_cast<std::size_t>(signo)]) == 0) return;
  if (errno == EINVAL)  // e.g. glibc's 32 and 33, which it keeps for threads
    throw std::invalid_argument("corio::signal_set: signal " + std::to_string(signo) + " cannot be caught");
  throw_errno(errno, "corio: sigaction");
}

}  // namespace

/// One per loop that watches signals: owns the loop's pipe and knows the loop's watches.
class signal_reactor final : public io_handler {
 public:
  /// The reactor of `loop`, made (with its pipe, watched in the loop) if it has none.
  /// Under registry_mutex. Throws std::system_error.
  static signal_reactor& of(event_loop& loop);
  /// Under registry_mutex: when no watch is left, unwatches and closes the pipe, frees this.
  void release_if_unused() noexcept;

  void on_ready(const poll_event&) noexcept override { drain(); }
  /// Reads the pipe, and offers every delivery not yet taken to the watches, in arrival order.
  void drain() noexcept;

  std::vector<signal_watch*> watches;
  std::array<unsigned, max_signal> claims{};  // watches of this loop, per signal
  pipe_node* node;

 private:
  signal_reactor(event_loop& loop, pipe_node& n, std::array<int, 2> fds) noexcept : node(&n), loop_(loop), fds_(fds) {}
  static void offer(signal_watch& w, std::size_t i, std::uint64_t at_most) noexcept;

  event_loop& loop_;
  std::array<int, 2> fds_;  // read end, write end
};

signal_reactor& signal_reactor::of(event_loop& loop) {
  pipe_node* free_node = nullptr;
  for (pipe_node* n = pipes.load(); n != nullptr; n = n->next) {
    if (n->reactor != nullptr && &n->reactor->loop_ == &loop) return *n->reactor;
    if (n->reactor == nullptr) free_node = n;
  }
  const std::array<int, 2> fds = make_pipe();
  signal_reactor* r = nullptr;
  try {
    pipe_node* n = free_node != nullptr ? free_node : new pipe_node;
    if (n != free_node) {
      n->next = pipes.load();
      pipes.store(n);  // published: the handler may walk it from now on
    }
    r = new signal_reactor(loop, *n, fds);
    loop.watch(fds[0], *r, event_loop::liveness::background);
  } catch (...) {
    delete r;
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  loop.set_interest(fds[0], true, false);
  r->node->reactor = r;
  r->node->write_fd.store(fds[1]);
  return *r;
}

void signal_reactor::release_if_unused() noexcept {
  if (!watches.empty()) return;
  loop_.unwatch(fds_[0], event_loop::liveness::background);
  node->write_fd.store(-1);
  while (in_flight.load() != 0) std::this_thread::yield();  // a handler may hold the old fd
  ::close(fds_[0]);
  ::close(fds_[1]);
  node->reactor = nullptr;
  delete this;
}

void signal_reactor::offer(signal_watch& w, std::size_t i, std::uint64_t at_most) noexcept {
  const int signo = w.signals_[i];
  const std::uint64_t fresh = std::min(deliveries[static_cast<std::size_t>(signo)].load() - w.seen_[i], at_most);
  if (fresh > 0 && w.on_signal(signo, fresh)) w.seen_[i] += fresh;
}

void signal_reactor::drain() noexcept {
  std::array<unsigned char, 256> bytes{};
  for (;;) {
    const ssize_t n = ::read(fds_[0], bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: empty (edge-triggered pollers need it read to the end)
    for (ssize_t b = 0; b < n; ++b) {
      const int signo = bytes[static_cast<std::size_t>(b)];
      for (std::size_t k = 0; k < watches.size(); ++k) {
        signal_watch& w = *watches[k];
        const auto it = std::find(w.signals_.begin(), w.signals_.end(), signo);
        if (it != w.signals_.end()) offer(w, static_cast<std::size_t>(it - w.signals_.begin()), 1);
      }
    }
  }
  for (std::size_t k = 0; k < watches.size(); ++k) {  // bytes dropped or still on their way
    for (std::size_t i = 0; i < watches[k]->signals_.size(); ++i) offer(*watches[k], i, ~std::uint64_t{0});
  }
}

std::vector<int> checked_signals(std::span<const int> signals) {
  if (signals.empty()) throw std::invalid_argument("corio::signal_set: no signals given");
  std::vector<int> out;
  for (const int s : signals) {
    const char* refused = nullptr;
    if (s < 1 || s >= max_signal) {
      refused = "does not exist";
    } else if (s == SIGKILL || s == SIGSTOP) {
      refused = "(SIGKILL or SIGSTOP) cannot be caught";
    } else if (s == SIGSEGV || s == SIGBUS || s == SIGFPE || s == SIGILL) {
      refused = "is a fault: returning from a handler runs the faulting instruction again";
    } else if (s == SIGPIPE) {
      refused = "(SIGPIPE) is never touched by corio: sockets use MSG_NOSIGNAL";
    }
    if (refused != nullptr)
      throw std::invalid_argument("corio::signal_set: signal " + std::to_string(s) + " " + refused);
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

signal_watch::signal_watch(event_loop& loop, std::span<const int> signals, signal_claim claim)
    : loop_(&loop), claim_(claim) {
  const std::vector<int> wanted = checked_signals(signals);
  const std::lock_guard lock(registry_mutex);
  register_all(wanted);
}

// Under registry_mutex. All or nothing: on an exception, nothing stays registered.
void signal_watch::register_all(std::span<const int> wanted) {
  for (const int s : wanted)
    if (claim_ == signal_claim::always || default_disposition(s)) signals_.push_back(s);
  if (signals_.empty()) return;
  seen_.reserve(signals_.size());
  signal_reactor& r = signal_reactor::of(*loop_);
  try {
    r.watches.push_back(this);
  } catch (...) {
    r.release_if_unused();
    throw;
  }
  reactor_ = &r;
  for (const int s : signals_) {
    const auto i = static_cast<std::size_t>(s);
    if (!watched(s)) {
      try {
        install_handler(s);
      } catch (...) {
        signals_.resize(seen_.size());  // only those claimed so far
        unregister_all();
        throw;
      }
    }
    if (claim_ == signal_claim::always) {
      ++sets[i];
    } else {
      ++guards[i];
      if (guard_claims++ == 0) interrupted.store(false);
    }
    if (r.claims[i]++ == 0) r.node->wants[i].store(true);
    seen_.push_back(deliveries[i].load());  // after `wants`: see the opening comment
  }
}

signal_watch::~signal_watch() {
  if (reactor_ == nullptr) return;
  const std::lock_guard lock(registry_mutex);
  unregister_all();
}

// Under registry_mutex: undoes register_all for the signals in signals_.
void signal_watch::unregister_all() noexcept {
  signal_reactor& r = *std::exchange(reactor_, nullptr);
  for (const int s : signals_) {
    const auto i = static_cast<std::size_t>(s);
    if (--r.claims[i] == 0) r.node->wants[i].store(false);
    if (claim_ == signal_claim::always) {
      --sets[i];
    } else {
      --guards[i];
      --guard_claims;
    }
    if (!watched(s)) ::sigaction(s, &previous[i], nullptr);  // exactly what was there before
  }
  std::erase(r.watches, this);
  r.release_if_unused();
}

void signal_watch::collect() noexcept {
  if (reactor_ != nullptr) reactor_->drain();
}

void signal_watch::uncount(int signo) noexcept {
  const auto it = std::find(signals_.begin(), signals_.end(), signo);
  if (it != signals_.end()) --seen_[static_cast<std::size_t>(it - signals_.begin())];
}

interrupt_guard::interrupt_guard(event_loop& loop, task_state& main)
    : signal_watch(loop, std::array{SIGINT, SIGTERM}, signal_claim::only_when_default), main_(&main) {}

bool interrupt_guard::on_signal(int signo, std::uint64_t) noexcept {
  // While a signal_set watches it, the program handles this signal itself (asyncio.run also
  // keeps out of the way of a handler installed with add_signal_handler).
  if (sets[static_cast<std::size_t>(signo)].load() == 0) main_->request_cancel();
  return true;
}

}  // namespace corio::detail

namespace corio {
namespace {

event_loop& running_loop() {
  event_loop* loop = event_loop::current();
  if (loop == nullptr) throw std::logic_error("corio::signal_set: no event loop is running on this thread");
  return *loop;
}

task<int> wait_once(std::vector<int> signals) {
  signal_set set(signals);
  co_return co_await set.wait();
}

}  // namespace

signal_set::signal_set(std::initializer_list<int> signals) : signal_set(running_loop(), signals) {}
signal_set::signal_set(std::span<const int> signals) : signal_set(running_loop(), signals) {}
signal_set::signal_set(event_loop& loop, std::initializer_list<int> signals)
    : signal_set(loop, std::span<const int>(signals.begin(), signals.size())) {}
signal_set::signal_set(event_loop& loop, std::span<const int> signals)
    : signal_watch(loop, signals, detail::signal_claim::always) {}
signal_set::~signal_set() = default;  // waiters_ asserts that nobody waits; the base unregisters

bool signal_set::on_signal(int signo, std::uint64_t count) noexcept {
  try {
    if (!undelivered_.empty() && undelivered_.back().signo == signo) {
      undelivered_.back().count += count;
    } else {
      undelivered_.push_back({signo, count});
    }
  } catch (...) {
    return false;  // out of memory: they stay counted and are offered again
  }
  hand_out();
  return true;
}

void signal_set::hand_out() noexcept {
  while (!undelivered_.empty() && !waiters_.empty()) {
    awaiter* w = waiters_.pop_front();
    burst& oldest = undelivered_.front();
    w->signo_ = oldest.signo;
    if (--oldest.count == 0) undelivered_.pop_front();
    loop().release_work();
    w->wake();
  }
}

void signal_set::give_back(int signo) noexcept {
  if (!undelivered_.empty() && undelivered_.front().signo == signo) {
    ++undelivered_.front().count;
  } else {
    try {
      undelivered_.push_front({signo, 1});
    } catch (...) {
      uncount(signo);  // out of memory: offered again (at the back) by the next collect()
      return;
    }
  }
  hand_out();
}

task<int> wait_for_signal(std::initializer_list<int> signals) {
  return wait_once(detail::checked_signals(std::span<const int>(signals.begin(), signals.size())));
}

}  // namespace corio
