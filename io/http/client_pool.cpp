// io/http/client_pool.cpp — the pool's counting, parking and hand-over (client_pool.hpp).
#include "client_pool.hpp"

#include <utility>

#include "../sys.hpp"
#include "client.hpp"

namespace corio::http::detail {

namespace {

/// May an idle connection carry another request? One non-blocking recv of one byte answers it:
/// "nothing to read" is what a live, quiet connection says; end of stream, an error or a byte
/// nobody asked for mean the server closed it (or misbehaved) while it was idle. This finds a
/// connection closed before the request goes out; one that the server closes while the
/// request is on its way is handled by client.cpp's retry.
bool still_usable(client_connection& c) noexcept {
  if (!c.socket.is_open()) return false;
  char byte = 0;
  return net::sys::recv(c.socket.native_handle(), &byte, 1).would_block();
}

}  // namespace

client_connection::client_connection(net::stream_socket s, std::string pool_key, const parse_limits& limits)
    : socket(std::move(s)),
      response_parser(parser::kind::response, limits),
      key(std::move(pool_key)),
      buffer(std::make_unique<char[]>(buffer_size)) {}

// A request waiting for room: lives in acquire()'s frame.
struct pool::waiter {
  waiter(pool& p, std::string k) : owner(p), key(std::move(k)) {}
  waiter(const waiter&) = delete;
  waiter& operator=(const waiter&) = delete;
  // Leaves the queue, or gives back what was granted and never claimed (a cancelled or
  // destroyed frame), so nothing is lost either way.
  ~waiter() {
    if (queued) {
      owner.waiters_.erase(position);
    } else if (granted) {
      owner.release(key, std::move(grant.connection), true);
    }
  }

  pool& owner;
  std::string key;
  corio::event ready;
  std::list<waiter*>::iterator position;
  bool queued = false;
  bool granted = false;  // grant holds something the frame has not taken yet
  bool refused = false;  // the pool closed while it waited
  pool_grant grant;
};

pool::~pool() {
  // Waiters keep the pool alive (through their session or response), so none can be left.
  idle_.clear();
}

task<pool_grant> pool::acquire(std::string key) {
  if (closed_) throw client_error("http::client_session: the session is closed");
  // Keeps the pool alive while this request waits, even if the session is destroyed.
  const std::shared_ptr<pool> keep_alive = shared_from_this();
  waiter w(*this, std::move(key));
  w.position = waiters_.insert(waiters_.end(), &w);
  w.queued = true;
  dispatch();
  if (w.queued) co_await w.ready.wait();
  if (w.refused) throw client_error("http::client_session: the session was closed while the request waited");
  w.granted = false;
  co_return std::move(w.grant);
}

bool pool::try_grant(const std::string& key, pool_grant& grant) noexcept {
  const event_loop* loop = event_loop::current();
  const time_point now = loop != nullptr ? loop->now() : time_point{};
  for (auto idle = idle_.find(key); idle != idle_.end() && !idle->second.empty(); idle = idle_.find(key)) {
    std::unique_ptr<client_connection> newest = std::move(idle->second.back());  // the least likely to be closed
    idle->second.pop_back();
    --idle_count_;
    if (now - newest->idle_since <= idle_timeout_ && still_usable(*newest)) {
      grant.connection = std::move(newest);
      return true;
    }
    newest.reset();  // idle too long (the server has probably closed it), or found closed
    forget(key);
  }
  auto [host, inserted] = per_host_.try_emplace(key, 0);
  if (limit_per_host_ != 0 && host->second >= limit_per_host_) return false;
  if (limit_ != 0 && open_ >= limit_ && !close_oldest_idle()) {
    if (host->second == 0) per_host_.erase(host);
    return false;
  }
  ++open_;
  ++host->second;
  return true;
}

void pool::dispatch() noexcept {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (limit_ != 0 && open_ >= limit_ && idle_count_ == 0) return;  // nothing can be served
    waiter& w = **it;
    if (!try_grant(w.key, w.grant)) {
      ++it;
      continue;
    }
    it = waiters_.erase(it);
    w.queued = false;
    w.granted = true;
    w.ready.set();
  }
}

bool pool::close_oldest_idle() noexcept {
  std::vector<std::unique_ptr<client_connection>>* oldest = nullptr;
  for (auto& [key, connections] : idle_) {
    if (connections.empty()) continue;
    if (oldest == nullptr || connections.front()->idle_since < oldest->front()->idle_since) oldest = &connections;
  }
  if (oldest == nullptr) return false;
  const std::string key = oldest->front()->key;
  oldest->erase(oldest->begin());  // closes it
  --idle_count_;
  forget(key);
  return true;
}

void pool::forget(const std::string& key) noexcept {
  --open_;
  if (const auto host = per_host_.find(key); host != per_host_.end() && --host->second == 0) per_host_.erase(host);
  if (const auto idle = idle_.find(key); idle != idle_.end() && idle->second.empty()) idle_.erase(idle);
}

void pool::release(const std::string& key, std::unique_ptr<client_connection> connection, bool reusable) noexcept {
  if (connection != nullptr && reusable && !closed_ && connection->socket.is_open()) {
    connection->idle_since = event_loop::current() != nullptr ? event_loop::current()->now() : time_point{};
    try {
      idle_[key].push_back(std::move(connection));
      ++idle_count_;
    } catch (...) {  // std::bad_alloc: then the connection is simply closed
      connection.reset();
      forget(key);
    }
  } else {
    connection.reset();  // closes it
    forget(key);
  }
  dispatch();
}

void pool::close() noexcept {
  if (closed_) return;
  closed_ = true;
  for (auto& [key, connections] : idle_) {
    open_ -= connections.size();
    if (const auto host = per_host_.find(key); host != per_host_.end()) host->second -= connections.size();
  }
  idle_.clear();
  idle_count_ = 0;
  while (!waiters_.empty()) {
    waiter& w = *waiters_.front();
    waiters_.pop_front();
    w.queued = false;
    w.refused = true;
    w.ready.set();
  }
}

}  // namespace corio::http::detail
