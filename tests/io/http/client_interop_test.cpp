// tests/io/http/client_interop_test.cpp — http::client_session against real servers nobody here
// wrote: Python's http.server (HTTP/1.0, a connection per request) and nginx (HTTP/1.1
// keep-alive, static files by sendfile, a chunked SSI page, a 301 for a directory). Each test
// starts its peer as a child process on 127.0.0.1 in a temporary directory and stops it by its
// PID at the end. A missing binary skips the test, loudly.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <corio.hpp>

#include "io/http/client.hpp"
#include "runtime/testing.hpp"
#include "support/sockets.hpp"

using namespace std::chrono_literals;
using namespace corio;

namespace {

/// A child process with its stdout and stderr on a pipe; killed (SIGTERM, then SIGKILL) and
/// reaped by the destructor.
class peer_process {
 public:
  peer_process(std::vector<std::string> argv, const std::string& directory) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      if (::chdir(directory.c_str()) != 0) ::_exit(126);
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    output_ = out[0];
  }
  peer_process(const peer_process&) = delete;
  peer_process& operator=(const peer_process&) = delete;
  ~peer_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 200 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(10ms);
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    if (output_ >= 0) ::close(output_);
  }

  /// The next line of output, waiting at most `limit`; "" on timeout or EOF.
  std::string read_line(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (const auto nl = pending_.find('\n'); nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{output_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char buffer[512];
      const ssize_t n = ::read(output_, buffer, sizeof buffer);
      if (n <= 0) return "";
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int output_ = -1;
  std::string pending_;
};

bool executable(const char* path) { return ::access(path, X_OK) == 0; }

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

/// A port nobody listens on right now (the kernel's pick, released again).
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// Waits until something accepts connections on 127.0.0.1:port (at most `limit`).
bool wait_for_listener(std::uint16_t port, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string big_file_text() {
  std::string text;
  for (int i = 0; text.size() < 1024 * 1024; ++i) text += "line " + std::to_string(i) + "\n";
  return text;
}

task<std::string> fetch_text(http::client_session& session, std::string url) {
  http::client_response r = co_await session.get(url);
  co_return co_await r.text();
}

task<void> against_python(std::string base, std::string big) {
  http::client_session session;
  http::client_response hello = co_await session.get(base + "/hello.txt");
  EXPECT_EQ(hello.status(), 200);
  EXPECT_EQ(hello.headers().get("content-type"), "text/plain");
  EXPECT_EQ(co_await hello.text(), "static file\n");

  http::client_response missing = co_await session.get(base + "/missing.txt");
  EXPECT_EQ(missing.status(), 404);
  EXPECT_NE((co_await missing.text()).find("404"), std::string::npos);

  http::client_response head = co_await session.head(base + "/hello.txt");
  EXPECT_EQ(head.status(), 200);
  EXPECT_EQ(head.content_length(), 12u);
  EXPECT_EQ(co_await head.text(), "");

  http::client_response large = co_await session.get(base + "/big.txt");
  EXPECT_EQ(co_await large.text(), big);
  // http.server speaks HTTP/1.0 and closes after each response: nothing could be reused.
  EXPECT_EQ(session.connections_made(), 4u);
  EXPECT_EQ(session.idle_connections(), 0u);
}

task<void> against_nginx(std::string base, std::string big) {
  http::client_session session;
  for (int i = 0; i < 3; ++i) {
    http::client_response r = co_await session.get(base + "/hello.txt");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(co_await r.text(), "static file\n");
  }
  http::client_response chunked = co_await session.get(base + "/ssi/page.html");
  EXPECT_EQ(chunked.status(), 200);
  EXPECT_EQ(chunked.headers().get("transfer-encoding"), "chunked");
  EXPECT_EQ(chunked.content_length(), std::nullopt);
  EXPECT_EQ(co_await chunked.text(), "before 127.0.0.1 after\n");

  http::client_response head = co_await session.head(base + "/big.txt");
  EXPECT_EQ(head.content_length(), big.size());
  EXPECT_EQ(co_await head.text(), "");
  http::client_response large = co_await session.get(base + "/big.txt");
  EXPECT_EQ(co_await large.text(), big);

  // nginx answers a directory without its '/' with a 301 to the absolute URL with the '/'.
  http::client_response redirected = co_await session.get(base + "/dir");
  EXPECT_EQ(redirected.status(), 200);
  EXPECT_EQ(redirected.url().path(), "/dir/");
  EXPECT_EQ(co_await redirected.text(), "index\n");

  EXPECT_EQ(session.connections_made(), 1u) << "nginx keeps the connection alive: one for everything";

  std::vector<task<std::string>> many;
  http::client_options options;
  options.limit_per_host = 4;
  http::client_session limited(options);
  for (int i = 0; i < 20; ++i)
    many.push_back(fetch_text(limited, base + "/hello.txt"));
  const std::vector<std::string> bodies = co_await gather(std::move(many));
  EXPECT_EQ(bodies, std::vector<std::string>(20, "static file\n"));
  EXPECT_LE(limited.connections_made(), 4u);
}

}  // namespace

TEST(http_client_interop, python_http_server) {
  if (!executable("/usr/bin/python3")) {
    std::fprintf(stderr, "\n*** SKIPPED: /usr/bin/python3 is missing (apt-get install python3) ***\n\n");
    GTEST_SKIP() << "/usr/bin/python3 is missing";
  }
  testing_support::temp_dir dir;
  write_file(dir.path() / "hello.txt", "static file\n");
  const std::string big = big_file_text();
  write_file(dir.path() / "big.txt", big);
  peer_process python({"/usr/bin/python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "0"}, dir.path());
  // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
  const std::string banner = python.read_line(10s);
  const auto at = banner.find(" port ");
  ASSERT_NE(at, std::string::npos) << "python3 -m http.server said: " << banner;
  const int port = std::stoi(banner.substr(at + 6));
  corio::testing::run_test(against_python("http://127.0.0.1:" + std::to_string(port), big),
                           corio::testing::real_time());
}

TEST(http_client_interop, nginx_keep_alive_chunked_and_redirects) {
  if (!executable("/usr/sbin/nginx")) {
    std::fprintf(stderr, "\n*** SKIPPED: /usr/sbin/nginx is missing (apt-get install nginx-light) ***\n\n");
    GTEST_SKIP() << "/usr/sbin/nginx is missing";
  }
  testing_support::temp_dir dir;
  const std::filesystem::path www = dir.path() / "www";
  write_file(www / "hello.txt", "static file\n");
  const std::string big = big_file_text();
  write_file(www / "big.txt", big);
  write_file(www / "dir" / "index.html", "index\n");
  write_file(www / "ssi" / "page.html", "before <!--# echo var=\"host\" --> after\n");
  std::filesystem::create_directories(dir.path() / "tmp");
  const std::string d = dir.path().string();
  for (int attempt = 0; attempt < 3; ++attempt) {
    const std::uint16_t port = free_port();
    write_file(dir.path() / "nginx.conf",
               "daemon off; master_process off; worker_processes 1;\n"
               "error_log " + d + "/error.log; pid " + d + "/nginx.pid;\n"
               "events { worker_connections 256; }\n"
               "http {\n  access_log off; gzip off; keepalive_timeout 30s;\n"
               "  client_body_temp_path " + d + "/tmp; proxy_temp_path " + d + "/tmp;\n"
               "  fastcgi_temp_path " + d + "/tmp; uwsgi_temp_path " + d + "/tmp; scgi_temp_path " + d + "/tmp;\n"
               "  types { text/plain txt; text/html html; }\n"
               "  server {\n    listen 127.0.0.1:" + std::to_string(port) + ";\n    root " + d + "/www;\n"
               "    location /ssi/ { ssi on; chunked_transfer_encoding on; }\n  }\n}\n");
    peer_process nginx({"/usr/sbin/nginx", "-p", d, "-c", d + "/nginx.conf"}, d);
    if (!wait_for_listener(port, 5s)) continue;  // the port was taken meanwhile: another one
    corio::testing::run_test(against_nginx("http://127.0.0.1:" + std::to_string(port), big),
                             corio::testing::real_time());
    return;
  }
  FAIL() << "nginx did not start (see its error.log)";
}
