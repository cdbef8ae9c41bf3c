// runtime/poller_poll.cpp — the poll(2) backend of poller.hpp (every POSIX system).
//
// poll(2) is level-triggered: a descriptor is reported on every call for as long as it stays
// ready. An idle socket is nearly always writable, so watching both directions for every
// descriptor, as the edge-triggered backends do, would make each wait() return at once. This
// backend therefore watches only the directions set_interest() asked for (a task is parked on
// them), and add() registers a descriptor that is watched for nothing. Such an entry keeps a
// negative fd in the pollfd array: poll() skips it entirely, whereas events == 0 would still
// report POLLERR and POLLHUP (POSIX poll(): "these flags are always reported").
//
//   set_:     [ wake pipe | fd 7, POLLIN | fd -1 (fd 9, idle) | fd 4, POLLIN|POLLOUT | ... ]
//   entries_: [ (unused)  | 7, token  | 9, token               | 4, token              | ... ]
//   slot_:    indexed by fd: the position in set_/entries_, or -1; remove() moves the last
//             entry into the hole, so every wait passes poll() one dense array.
//
// Waking from another thread: a self-pipe (D. J. Bernstein's trick; libuv before eventfd, and
// still on macOS). Its read end sits in slot 0; wake() writes one byte, wait() drains the pipe
// when it fires and never reports it. Both ends are non-blocking: a full pipe already holds a
// wake-up, so wake() may drop its byte. pipe() + fcntl() rather than pipe2(): macOS lacks pipe2.
//
// Cost: O(registered descriptors) per wait, as poller.hpp says. Fairness: when `out` is too small
// for everything ready, the next wait() starts scanning where this one stopped.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include "poller.hpp"

namespace corio::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

void set_nonblocking_cloexec(int fd) {
  const int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
    throw_errno("fcntl");
}

struct entry {
  int fd;        // the real descriptor; set_[i].fd is -1 while nothing is watched
  void* token;
};

class poll_poller final : public poller {
 public:
  poll_poller();
  ~poll_poller() override;
  void add(int fd, void* token) override;
  void set_interest(int fd, bool read, bool write) noexcept override;
  void remove(int fd) noexcept override;
  std::size_t wait(std::span<poll_event> out, std::optional<duration> timeout) override;
  void wake() noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "poll"; }

 private:
  [[nodiscard]] int slot_of(int fd) const noexcept {
    return fd >= 0 && static_cast<std::size_t>(fd) < slot_.size() ? slot_[static_cast<std::size_t>(fd)] : -1;
  }
  void drain_wake_pipe() noexcept;
  std::size_t collect(std::span<poll_event> out, int ready) noexcept;

  std::vector<pollfd> set_;     // set_[0] is the wake pipe's read end
  std::vector<entry> entries_;  // parallel to set_
  std::vector<int> slot_;       // fd -> index into set_, -1 if not registered
  std::size_t cursor_ = 1;      // where the next scan starts
  int wake_pipe_[2] = {-1, -1};
};

poll_poller::poll_poller() {
  if (::pipe(wake_pipe_) < 0) throw_errno("pipe");
  try {
    set_nonblocking_cloexec(wake_pipe_[0]);
    set_nonblocking_cloexec(wake_pipe_[1]);
  } catch (...) {
    ::close(wake_pipe_[0]);
    ::close(wake_pipe_[1]);
    throw;
  }
  set_.push_back(pollfd{wake_pipe_[0], POLLIN, 0});
  entries_.push_back(entry{wake_pipe_[0], nullptr});
}

poll_poller::~poll_poller() {
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

// write(2) is async-signal-safe; errno is saved because a signal handler may be the caller.
void poll_poller::wake() noexcept {
  const int saved = errno;
  const char byte = 1;
  while (::write(wake_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  errno = saved;  // EAGAIN: the pipe is full, so a wake-up is pending already
}

void poll_poller::drain_wake_pipe() noexcept {
  std::array<char, 256> buf;
  while (::read(wake_pipe_[0], buf.data(), buf.size()) > 0) {
  }
}

// poll() would accept any number and answer POLLNVAL later; fail now instead, as epoll_ctl does.
void poll_poller::add(int fd, void* token) {
  if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) throw std::system_error(EBADF, std::generic_category(), "poll add");
  if (slot_of(fd) >= 0) throw std::system_error(EEXIST, std::generic_category(), "poll add");
  if (static_cast<std::size_t>(fd) >= slot_.size()) slot_.resize(static_cast<std::size_t>(fd) + 1, -1);
  set_.push_back(pollfd{-1, 0, 0});
  entries_.push_back(entry{fd, token});
  slot_[static_cast<std::size_t>(fd)] = static_cast<int>(set_.size() - 1);
  ++registrations_;
}

void poll_poller::set_interest(int fd, bool read, bool write) noexcept {
  const int slot = slot_of(fd);
  if (slot < 0) return;
  pollfd& p = set_[static_cast<std::size_t>(slot)];
  p.events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
  p.fd = p.events != 0 ? fd : -1;
}

void poll_poller::remove(int fd) noexcept {
  const int slot = slot_of(fd);
  if (slot < 0) return;
  const auto hole = static_cast<std::size_t>(slot);
  set_[hole] = set_.back();
  entries_[hole] = entries_.back();
  slot_[static_cast<std::size_t>(entries_[hole].fd)] = slot;  // a no-op when fd was the last
  set_.pop_back();
  entries_.pop_back();
  slot_[static_cast<std::size_t>(fd)] = -1;
  --registrations_;
}

std::size_t poll_poller::wait(std::span<poll_event> out, std::optional<duration> timeout) {
  const int ready = ::poll(set_.data(), static_cast<nfds_t>(set_.size()), timeout_ms_rounded_up(timeout));
  if (ready < 0) {
    if (errno == EINTR) return 0;  // the loop recomputes the timeout from the time left
    throw_errno("poll");
  }
  if (ready == 0) return 0;
  int user_ready = ready;
  if (set_[0].revents != 0) {  // a wake(): its only job was to end the wait
    drain_wake_pipe();
    --user_ready;
  }
  return collect(out, user_ready);
}

// Turns up to out.size() of the `ready` entries with revents into poll_events, scanning round
// from cursor_; what does not fit is still ready (level-triggered) and comes out next time.
std::size_t poll_poller::collect(std::span<poll_event> out, int ready) noexcept {
  const std::size_t users = set_.size() - 1;
  if (users == 0) return 0;
  std::size_t i = cursor_ <= users ? cursor_ : 1;
  std::size_t filled = 0;
  for (std::size_t seen = 0; seen < users && ready > 0 && filled < out.size(); ++seen) {
    const short r = set_[i].revents;
    if (r != 0) {
      --ready;
      const bool failed = (r & (POLLERR | POLLHUP | POLLNVAL)) != 0;  // wake both sides
      out[filled++] = poll_event{entries_[i].token, failed || (r & (POLLIN | POLLPRI)) != 0,
                                 failed || (r & POLLOUT) != 0, failed};
    }
    i = i == users ? 1 : i + 1;
  }
  cursor_ = i;
  return filled;
}

}  // namespace

std::unique_ptr<poller> make_poll_poller() { return std::make_unique<poll_poller>(); }

}  // namespace corio::detail
