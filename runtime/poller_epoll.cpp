// runtime/poller_epoll.cpp — the epoll(7) backend of poller.hpp (Linux).
//
// Waking from another thread: an eventfd(2) sits in the epoll set, edge-triggered, with its own
// address as the token. wake() writes 1 to it; every write is a new edge, so a wait() in progress
// returns, and nothing has to read the counter back (mio's Waker does the same). wait() filters
// the eventfd's event out, so callers only ever see their own descriptors.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <memory>
#include <system_error>

#include "poller.hpp"

namespace corio::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// epoll_pwait2 (Linux 5.11) takes a timespec, so a 300 µs timer is not rounded up to a whole
// millisecond. Where it is missing (see wait_once) we use epoll_wait, rounding the timeout UP to
// milliseconds (poller.hpp). Atomic: loops on several threads may find out at the same time.
std::atomic<bool> have_epoll_pwait2{true};

int wait_once(int epfd, epoll_event* events, int max, std::optional<duration> timeout) {
  if (have_epoll_pwait2.load(std::memory_order_relaxed)) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout) {
      const auto ns = timeout->count() > 0 ? timeout->count() : 0;
      ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      tsp = &ts;
    }
    const int n = ::epoll_pwait2(epfd, events, max, tsp, nullptr);
    // ENOSYS: an older kernel. EPERM: a seccomp filter (older container runtimes) that does not
    // know the call; epoll_pwait2 itself never fails with EPERM.
    if (n >= 0 || (errno != ENOSYS && errno != EPERM)) return n;
    have_epoll_pwait2.store(false, std::memory_order_relaxed);
  }
  return ::epoll_wait(epfd, events, max, timeout_ms_rounded_up(timeout));
}

class epoll_poller final : public poller {
 public:
  epoll_poller();
  ~epoll_poller() override;
  void add(int fd, void* token) override;
  void set_interest(int, bool, bool) noexcept override {}  // edge-triggered: always both ways
  void remove(int fd) noexcept override;
  std::size_t wait(std::span<poll_event> out, std::optional<duration> timeout) override;
  void wake() noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "epoll"; }

 private:
  int fd_ = -1;
  int wake_fd_ = -1;
};

epoll_poller::epoll_poller() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (fd_ < 0) throw_errno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = &wake_fd_;
  if (wake_fd_ < 0 || ::epoll_ctl(fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
    const int error = errno;
    if (wake_fd_ >= 0) ::close(wake_fd_);
    ::close(fd_);
    errno = error;
    throw_errno("eventfd");
  }
}

epoll_poller::~epoll_poller() {
  ::close(wake_fd_);
  ::close(fd_);
}

// write(2) and read(2) are async-signal-safe; errno is saved because a signal handler may be
// the caller.
void epoll_poller::wake() noexcept {
  const int saved = errno;
  const std::uint64_t one = 1;
  while (::write(wake_fd_, &one, sizeof one) < 0) {
    if (errno == EINTR) continue;
    if (errno != EAGAIN) break;  // EBADF etc. cannot happen while the poller lives
    // The counter is at its maximum (2^64 - 2 unread wake-ups): reset it, then write again.
    std::uint64_t drained = 0;
    (void)!::read(wake_fd_, &drained, sizeof drained);
  }
  errno = saved;
}

void epoll_poller::add(int fd, void* token) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = token;
  if (::epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl(ADD)");
  ++registrations_;
}

void epoll_poller::remove(int fd) noexcept {
  if (::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr) == 0) --registrations_;
}

std::size_t epoll_poller::wait(std::span<poll_event> out, std::optional<duration> timeout) {
  constexpr int batch = 256;
  std::array<epoll_event, batch> events;
  const int max = static_cast<int>(out.size() < batch ? out.size() : batch);
  const int n = wait_once(fd_, events.data(), max, timeout);
  if (n < 0) {
    if (errno == EINTR) return 0;  // the loop recomputes the timeout from the time left
    throw_errno("epoll_wait");
  }
  std::size_t filled = 0;
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events[static_cast<std::size_t>(i)];
    if (ev.data.ptr == &wake_fd_) continue;  // a wake(): its only job was to end the wait
    const bool failed = (ev.events & (EPOLLERR | EPOLLHUP)) != 0;  // wake both sides (ae_epoll.c)
    out[filled++] = poll_event{
        ev.data.ptr,
        failed || (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) != 0,
        failed || (ev.events & EPOLLOUT) != 0,
        failed || (ev.events & EPOLLRDHUP) != 0,
    };
  }
  return filled;
}

}  // namespace

std::unique_ptr<poller> make_epoll_poller() { return std::make_unique<epoll_poller>(); }

}  // namespace corio::detail
