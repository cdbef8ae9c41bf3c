// tests/io/socket_accept_pause_test.cpp — listener::accept pausing while the process is out of
// descriptors (reliability.md T-04) must still end when its listener is closed or destroyed:
// at once, with ECANCELED, and without touching the listener afterwards.
//
// The shortage is injected rather than real. Using up the descriptors (a lowered RLIMIT_NOFILE)
// starves the sanitizers as well: UBSan's vptr check opens a pipe to probe memory and aborts when
// it cannot. So this file defines accept4 itself: the linker binds the program's calls to this
// definition instead of libc's, for every test in this executable, and it fails with EMFILE
// while a test asks it to (a test-only shim at the syscall boundary, reliability.md §7).
#include <gtest/gtest.h>

#if defined(__linux__)

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>

#include <corio.hpp>

#include "io/socket.hpp"
#include "runtime/testing.hpp"
#include "support/capture_log.hpp"
#include "support/sockets.hpp"
#include "support/tasks.hpp"

namespace {
bool accept4_runs_out_of_descriptors = false;
}  // namespace

extern "C" int accept4(int fd, sockaddr* addr, socklen_t* addr_len, int flags) {
  if (accept4_runs_out_of_descriptors) {
    errno = EMFILE;
    return -1;
  }
  return static_cast<int>(::syscall(SYS_accept4, fd, addr, addr_len, flags));
}

using namespace std::chrono_literals;
using namespace testing_support;
namespace net = corio::net;

namespace {

// accept4 fails with EMFILE while this lives.
class descriptor_shortage {
 public:
  descriptor_shortage() { accept4_runs_out_of_descriptors = true; }
  descriptor_shortage(const descriptor_shortage&) = delete;
  descriptor_shortage& operator=(const descriptor_shortage&) = delete;
  ~descriptor_shortage() { accept4_runs_out_of_descriptors = false; }
};

}  // namespace

CORIO_TEST(socket_accept_pause, an_accept_short_of_descriptors_logs_once_and_takes_the_connection_when_they_return) {
  capture_log log;
  auto server = net::listener::bind(net::address::loopback(0));
  auto client = co_await net::stream_socket::connect(server.local_address());
  auto shortage = std::make_unique<descriptor_shortage>();
  auto accepting = corio::spawn(server.accept());
  co_await corio::sleep(350ms);  // three pauses and a half
  EXPECT_FALSE(accepting.done());
  shortage.reset();
  auto accepted = co_await accepting;
  EXPECT_EQ(accepted.peer_address(), client.local_address());
  const std::string text = log.text();
  EXPECT_NE(text.find("out of file descriptors"), std::string::npos);
  EXPECT_EQ(text.find("out of file descriptors"), text.rfind("out of file descriptors")) << "logged more than once";
}

// These two let the warning reach stderr: a capture would swallow a sanitizer's report too.
CORIO_TEST(socket_accept_pause, closing_the_listener_ends_the_pause_at_once_with_ecanceled) {
  const descriptor_shortage shortage;
  auto server = net::listener::bind(net::address::loopback(0));
  auto client = co_await net::stream_socket::connect(server.local_address());
  bool close_returned = false;
  auto accepting = corio::spawn(report_abort(server.accept(), close_returned));
  co_await until_parked(accepting);  // accept4 failed; the accept pauses
  CORIO_ASSERT(parked(accepting));
  const auto start = current_loop().now();
  server.close();
  close_returned = true;
  const abort_report r = co_await accepting;
  EXPECT_EQ(r.error, ECANCELED);
  EXPECT_TRUE(r.after_close_returned);
  EXPECT_LT(current_loop().now() - start, 100ms) << "the accept sat out its whole pause after close()";
}

CORIO_TEST(socket_accept_pause, destroying_the_listener_ends_the_pause_and_the_accept_never_touches_it_again) {
  const descriptor_shortage shortage;
  auto server = std::make_unique<net::listener>(net::listener::bind(net::address::loopback(0)));
  auto client = co_await net::stream_socket::connect(server->local_address());
  bool destroyed = false;
  auto accepting = corio::spawn(report_abort(server->accept(), destroyed));
  co_await until_parked(accepting);
  CORIO_ASSERT(parked(accepting));
  server.reset();  // from here on the accept's frame must not read the listener (ASan)
  destroyed = true;
  const abort_report r = co_await accepting;
  EXPECT_EQ(r.error, ECANCELED);
  EXPECT_TRUE(r.after_close_returned);
}

#endif  // __linux__
