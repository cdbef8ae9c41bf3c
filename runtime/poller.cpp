// runtime/poller.cpp — choosing a poller backend at run time (see poller.hpp).
//
// CMake defines CORIO_HAVE_EPOLL / CORIO_HAVE_KQUEUE for the backend files it compiles; poll(2)
// is always there.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "poller.hpp"

namespace corio::detail {
namespace {

poller_backend platform_default() noexcept {
#if defined(CORIO_HAVE_EPOLL)
  return poller_backend::epoll;
#elif defined(CORIO_HAVE_KQUEUE)
  return poller_backend::kqueue;
#else
  return poller_backend::poll;
#endif
}

poller_backend from_environment() {
  const char* value = std::getenv("CORIO_POLLER");
  if (value == nullptr || *value == '\0') return platform_default();
  const std::string_view name(value);
  if (name == "epoll") return poller_backend::epoll;
  if (name == "kqueue") return poller_backend::kqueue;
  if (name == "poll") return poller_backend::poll;
  throw std::invalid_argument("corio: CORIO_POLLER=" + std::string(name) + " is not one of epoll, kqueue, poll");
}

[[noreturn]] void missing(const char* name) {
  throw std::invalid_argument(std::string("corio: the ") + name + " poller backend does not exist on this platform");
}

}  // namespace

std::unique_ptr<poller> make_poller(poller_backend backend) {
  if (backend == poller_backend::automatic) backend = from_environment();
  switch (backend) {
    case poller_backend::epoll:
#if defined(CORIO_HAVE_EPOLL)
      return make_epoll_poller();
#else
      missing("epoll");
#endif
    case poller_backend::kqueue:
#if defined(CORIO_HAVE_KQUEUE)
      return make_kqueue_poller();
#else
      missing("kqueue");
#endif
    case poller_backend::poll:
      return make_poll_poller();
    case poller_backend::automatic:
      break;
  }
  return make_poll_poller();
}

}  // namespace corio::detail
