// io/http/message.hpp — the pieces of an HTTP/1.1 message that the client and the server share:
// header fields with case-insensitive names, a request and a response as plain values, and the
// standard reason phrases (RFC 9110). No I/O here.
//
//   http::headers h;
//   h.add("Content-Type", "text/plain");
//   h.get("content-type");                 // "text/plain": names compare case-insensitively
//
// Contract: plain values; what they allocate is their strings and one block for a message's
// fields (from the runtime's per-thread block cache, runtime/frame_allocator.hpp). No exceptions
// except std::bad_alloc (and std::invalid_argument where a function says so).
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../runtime/frame_allocator.hpp"

namespace corio::http {

namespace detail {
/// iequals for two views of the same size.
[[nodiscard]] bool iequals_same_size(std::string_view a, std::string_view b) noexcept;
}  // namespace detail

/// ASCII case-insensitive equality, for header names and methods' tokens. (Inline, so that a
/// lookup pays no call for the names whose length differs: most of them.)
[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && detail::iequals_same_size(a, b);
}

/// Is `text` a token (RFC 9110 5.6.2: one or more tchar), as a field name or a method must be?
[[nodiscard]] bool is_token(std::string_view text) noexcept;

/// One header field, as it arrived (or as it will be sent).
struct header_field {
  std::string name;
  std::string value;
};

/// Header fields in arrival order. A name may repeat (Set-Cookie); lookups ignore case.
/// Linear search: a message has a handful of fields, and a vector beats a map at that size.
/// The fields' block comes from the runtime's per-thread block cache (frame_allocator.hpp), as
/// coroutine frames do: a server makes and drops a response's fields once per request.
class headers {
  using field_vector = std::vector<header_field, corio::detail::block_allocator<header_field>>;

 public:
  using const_iterator = field_vector::const_iterator;

  /// Appends a field (another with the same name may exist already). Name and value are
  /// anything a std::string can be assigned from: a literal or a view is copied once, straight
  /// into place; a std::string passed as an rvalue is moved.
  template <class Name, class Value>
    requires std::assignable_from<std::string&, Name&&> && std::assignable_from<std::string&, Value&&>
  void add(Name&& name, Value&& value) {
    header_field& f = add_empty();
    f.name = std::forward<Name>(name);
    f.value = std::forward<Value>(value);
  }
  /// Appends a field with an empty name and value and returns it, for a caller that moves or
  /// builds the strings in place (the parser does). The reference lasts until the next change.
  header_field& add_empty() {
    // Room for a few at once: a handler adds two or three fields, and growing one by one
    // would reallocate at each.
    if (fields_.capacity() == 0) fields_.reserve(first_capacity);
    return fields_.emplace_back();
  }
  /// Replaces every field named `name` with one field.
  void set(std::string name, std::string value);
  /// The first field named `name`, if any.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const noexcept;
  /// Every value of `name`, in order.
  [[nodiscard]] std::vector<std::string_view> get_all(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const noexcept { return get(name).has_value(); }
  /// Removes every field named `name`; returns how many there were.
  std::size_t erase(std::string_view name);

  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
  [[nodiscard]] const_iterator begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] const_iterator end() const noexcept { return fields_.end(); }
  void clear() noexcept { fields_.clear(); }
  /// Makes room for `n` fields at once (the parser does, rather than growing one by one).
  void reserve(std::size_t n) { fields_.reserve(n); }

 private:
  static constexpr std::size_t first_capacity = 4;
  field_vector fields_;
};

/// A whole request: what a server handler receives, and what a client sends.
struct request {
  std::string method = "GET";
  std::string target = "/";  ///< the request-target as sent: path and query ("/a/b?x=1")
  int version_minor = 1;     ///< HTTP/1.x
  http::headers headers;
  std::string body;
};

/// A whole response, as a server handler returns it. The server writes Content-Length from the
/// body (unless the handler set Transfer-Encoding, and framed the body itself) and Connection
/// itself, replacing the handler's; it adds Date and Server when the handler did not set them
/// (server.hpp has the details: HEAD, 204, 304).
struct response {
  int status = 200;
  std::string reason;  ///< empty: the standard phrase for `status`
  http::headers headers;
  std::string body;
};

/// "OK" for 200, "Not Found" for 404...; "Unknown" for a code RFC 9110 does not name.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

}  // namespace corio::http
