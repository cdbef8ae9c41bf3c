// io/address.hpp — corio::net::address: where a socket is, for IPv4, IPv6 and Unix-domain
// sockets alike (a sockaddr_storage with its length; Asio's basic_endpoint, Python's address
// tuples).
//
//   auto a = net::address::ip("127.0.0.1", 8080);   // numeric only; names go through resolve()
//   auto b = net::address::ip("::1", 0);            // port 0: the kernel picks one at bind
//   auto c = net::address::unix_path("/tmp/x.sock");
//   a.to_string()  ->  "127.0.0.1:8080", "[::1]:0", "unix:/tmp/x.sock"
//
// Errors: a malformed numeric host or a Unix path too long for sun_path throws
// std::invalid_argument naming the input.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace corio::net {

class address {
 public:
  /// An empty address (family AF_UNSPEC); what a default-constructed socket reports.
  address() noexcept = default;

  /// A numeric IPv4 ("10.0.0.1") or IPv6 ("::1", "[::1]") host and a port.
  [[nodiscard]] static address ip(std::string_view numeric_host, std::uint16_t port);
  /// 127.0.0.1:port.
  [[nodiscard]] static address loopback(std::uint16_t port) noexcept;
  /// A Unix-domain socket path (at most sizeof(sun_path) - 1 bytes).
  [[nodiscard]] static address unix_path(std::string_view path);
  /// Copies what the kernel filled in (accept, getsockname, recvfrom, getaddrinfo).
  [[nodiscard]] static address from_native(const sockaddr* sa, socklen_t size) noexcept;

  [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
  [[nodiscard]] bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
  /// The port (host byte order); 0 for a Unix-domain address.
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// The numeric host ("127.0.0.1", "::1"), or the path of a Unix-domain address.
  [[nodiscard]] std::string host() const;
  /// "127.0.0.1:8080", "[::1]:8080", "unix:/path", or "(none)".
  [[nodiscard]] std::string to_string() const;

  [[nodiscard]] const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  [[nodiscard]] socklen_t native_size() const noexcept { return size_; }

  friend bool operator==(const address& a, const address& b) noexcept;

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

}  // namespace corio::net
