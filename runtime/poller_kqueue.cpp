// runtime/poller_kqueue.cpp — the kqueue(2) backend of poller.hpp (macOS, FreeBSD, DragonFly,
// NetBSD 10), the mirror of poller_epoll.cpp.
//
// kqueue has a filter per direction where epoll has one mask: add() registers EVFILT_READ and
// EVFILT_WRITE, both EV_CLEAR, so a filter reports again only after its state changed (epoll's
// EPOLLET); set_interest() has nothing to do. An event names one filter, so a descriptor ready
// both ways may come out as two poll_events in one batch; each side's waiter reads its own flag.
//
// EV_EOF: on the read filter the peer stopped writing (reads return 0: readable); on the write
// filter the connection can carry nothing more, so both sides wake, as epoll's EPOLLHUP does.
// A socket error comes as EV_EOF with the errno in fflags; EV_ERROR is a failed change. Either
// wakes both sides, whose own syscalls then meet the error.
//
// Waking from another thread: an EVFILT_USER event (ident 0, EV_CLEAR) sits in the queue; wake()
// triggers it with NOTE_TRIGGER, and retrieving it clears it, so wake-ups before one wait()
// coalesce (mio's Waker on macOS and FreeBSD does the same). wait() filters it out. kevent(2)
// is not on POSIX's async-signal-safe list (it is not POSIX at all), but it is a bare system
// call that takes no user-space lock, which is what that list is about.
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <memory>
#include <system_error>

#include "poller.hpp"

namespace corio::detail {
namespace {

[[noreturn]] void throw_errno(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

constexpr std::uintptr_t wake_ident = 0;

// Fills the fields by name instead of EV_SET: FreeBSD's EV_SET is a C compound literal, which
// -Wpedantic rejects in C++, and the field types differ between the BSDs.
struct kevent make_kevent(std::uintptr_t ident, int filter, unsigned flags, unsigned fflags,
                          void* udata) noexcept {
  struct kevent ev{};
  ev.ident = ident;
  ev.filter = static_cast<decltype(ev.filter)>(filter);
  ev.flags = static_cast<decltype(ev.flags)>(flags);
  ev.fflags = static_cast<decltype(ev.fflags)>(fflags);
  ev.udata = udata;
  return ev;
}

// kevent() takes a timespec, so the timeout keeps its nanoseconds: never rounded at all. Very
// long ones are cut to 11.5 days (epoll_wait's limit here too); the loop then waits again.
const timespec* to_timespec(std::optional<duration> timeout, timespec& ts) noexcept {
  if (!timeout) return nullptr;
  constexpr std::int64_t max_ns = 1'000'000LL * 1'000'000'000LL;
  const std::int64_t ns = std::clamp<std::int64_t>(timeout->count(), 0, max_ns);
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return &ts;
}

// A descriptor that cannot go one way: FreeBSD refuses EVFILT_WRITE on a pipe's read end
// (EINVAL) and on a pipe whose reader is gone (EPIPE; mio ignores it for the same reason).
bool one_way_only(int error) noexcept { return error == EINVAL || error == EPIPE; }

class kqueue_poller final : public poller {
 public:
  kqueue_poller();
  ~kqueue_poller() override { ::close(fd_); }
  void add(int fd, void* token) override;
  void set_interest(int, bool, bool) noexcept override {}  // EV_CLEAR: always both ways
  void remove(int fd) noexcept override;
  std::size_t wait(std::span<poll_event> out, std::optional<duration> timeout) override;
  void wake() noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "kqueue"; }

 private:
  // One change, applied at once; 0 or the errno.
  int change(int fd, int filter, unsigned flags, void* token) noexcept {
    const struct kevent ev = make_kevent(static_cast<std::uintptr_t>(fd), filter, flags, 0, token);
    return ::kevent(fd_, &ev, 1, nullptr, 0, nullptr) == 0 ? 0 : errno;
  }

  int fd_ = -1;
};

kqueue_poller::kqueue_poller() : fd_(::kqueue()) {
  if (fd_ < 0) throw_errno(errno, "kqueue");
  const struct kevent ev = make_kevent(wake_ident, EVFILT_USER, EV_ADD | EV_CLEAR, 0, nullptr);
  if (::fcntl(fd_, F_SETFD, FD_CLOEXEC) < 0 || ::kevent(fd_, &ev, 1, nullptr, 0, nullptr) < 0) {
    const int error = errno;
    ::close(fd_);
    throw_errno(error, "kevent(EVFILT_USER)");
  }
}

void kqueue_poller::wake() noexcept {
  const int saved = errno;  // a signal handler may be the caller
  const struct kevent ev = make_kevent(wake_ident, EVFILT_USER, 0, NOTE_TRIGGER, nullptr);
  while (::kevent(fd_, &ev, 1, nullptr, 0, nullptr) < 0 && errno == EINTR) {
  }
  errno = saved;
}

void kqueue_poller::add(int fd, void* token) {
  const int read_error = change(fd, EVFILT_READ, EV_ADD | EV_CLEAR, token);
  if (read_error != 0 && !one_way_only(read_error)) throw_errno(read_error, "kevent(EV_ADD)");
  const int write_error = change(fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, token);
  if (write_error == 0 || (read_error == 0 && one_way_only(write_error))) {
    ++registrations_;
    return;
  }
  if (read_error == 0) change(fd, EVFILT_READ, EV_DELETE, nullptr);
  throw_errno(write_error, "kevent(EV_ADD)");
}

void kqueue_poller::remove(int fd) noexcept {
  const bool read = change(fd, EVFILT_READ, EV_DELETE, nullptr) == 0;
  const bool write = change(fd, EVFILT_WRITE, EV_DELETE, nullptr) == 0;
  if (read || write) --registrations_;
}

std::size_t kqueue_poller::wait(std::span<poll_event> out, std::optional<duration> timeout) {
  constexpr int batch = 256;
  std::array<struct kevent, batch> events;
  const int max = static_cast<int>(out.size() < batch ? out.size() : batch);
  timespec ts{};
  const int n = ::kevent(fd_, nullptr, 0, events.data(), max, to_timespec(timeout, ts));
  if (n < 0) {
    if (errno == EINTR) return 0;  // the loop recomputes the timeout from the time left
    throw_errno(errno, "kevent");
  }
  std::size_t filled = 0;
  for (int i = 0; i < n; ++i) {
    const struct kevent& ev = events[static_cast<std::size_t>(i)];
    if (ev.filter == EVFILT_USER) continue;  // a wake(): its only job was to end the wait
    const bool eof = (ev.flags & EV_EOF) != 0;
    const bool failed = (ev.flags & EV_ERROR) != 0 || (eof && ev.fflags != 0);
    const bool read_filter = ev.filter == EVFILT_READ;
    out[filled++] = poll_event{
        ev.udata,
        failed || read_filter || eof,  // a write filter's EOF: the connection is gone
        failed || !read_filter,
        failed || eof,
    };
  }
  return filled;
}

}  // namespace

std::unique_ptr<poller> make_kqueue_poller() { return std::make_unique<kqueue_poller>(); }

}  // namespace corio::detail
