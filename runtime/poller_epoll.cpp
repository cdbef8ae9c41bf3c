// runtime/poller_epoll.cpp — the epoll(7) backend of poller.hpp (Linux).
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <ctime>
#include <system_error>

#include "poller.hpp"

namespace corio::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// epoll_pwait2 (Linux 5.11) takes a timespec, so a 300 µs timer is not rounded up to a whole
// millisecond. Older kernels answer ENOSYS; from then on we use epoll_wait, rounding the
// timeout UP to milliseconds (rounding down would wake early and spin, ae_epoll.c does the same).
bool have_epoll_pwait2 = true;

int wait_ms_rounded_up(std::optional<duration> timeout) {
  if (!timeout) return -1;
  const auto ns = timeout->count();
  if (ns <= 0) return 0;
  const auto ms = (ns + 999'999) / 1'000'000;
  return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

int wait_once(int epfd, epoll_event* events, int max, std::optional<duration> timeout) {
  if (have_epoll_pwait2) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout) {
      const auto ns = timeout->count() > 0 ? timeout->count() : 0;
      ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      tsp = &ts;
    }
    const int n = ::epoll_pwait2(epfd, events, max, tsp, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    have_epoll_pwait2 = false;
  }
  return ::epoll_wait(epfd, events, max, wait_ms_rounded_up(timeout));
}

}  // namespace

poller::poller() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (fd_ < 0) throw_errno("epoll_create1");
}

poller::~poller() { ::close(fd_); }

void poller::add(int fd, void* token) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = token;
  if (::epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl(ADD)");
  ++registrations_;
}

void poller::remove(int fd) noexcept {
  if (::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr) == 0) --registrations_;
}

std::size_t poller::wait(std::span<poll_event> out, std::optional<duration> timeout) {
  constexpr int batch = 256;
  std::array<epoll_event, batch> events;
  const int max = static_cast<int>(out.size() < batch ? out.size() : batch);
  const int n = wait_once(fd_, events.data(), max, timeout);
  if (n < 0) {
    if (errno == EINTR) return 0;  // the loop recomputes the timeout from the time left
    throw_errno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    const auto e = events[static_cast<std::size_t>(i)].events;
    const bool failed = (e & (EPOLLERR | EPOLLHUP)) != 0;  // wake both sides (ae_epoll.c)
    out[static_cast<std::size_t>(i)] = poll_event{
        events[static_cast<std::size_t>(i)].data.ptr,
        failed || (e & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) != 0,
        failed || (e & EPOLLOUT) != 0,
    };
  }
  return static_cast<std::size_t>(n);
}

}  // namespace corio::detail
