// io/socket_operations.cpp — what socket_operations.hpp leaves out of line: the rare paths of
// read_some_op and write_all_op (a cancellation that lands after the wake-up, an error while
// parked), kept out of the header so the common path stays small.
#include "socket_operations.hpp"

#include <exception>
#include <system_error>
#include <utility>

#include "../runtime/errors.hpp"

namespace corio::net {

void stream_socket::write_all_op::resume_after_waiting() {
  if (fell_back()) return fallback_result();
  if (cancelled_after_it_was_over()) corio::detail::throw_cancelled();  // every byte went; cancel wins
  try {
    finish();
  } catch (const write_error&) {
    throw;
  } catch (const std::system_error& e) {  // closed while it waited (ECANCELED): say how much went out (T-20)
    throw write_error(e.code().value(), sent_);
  }
}

void stream_socket::unread_and_cancel(std::span<const char> buffer, std::optional<std::size_t> result,
                                     std::exception_ptr error) {
  // End of stream need not be kept: the kernel says "end" again. An error may not be said again
  // (a pending socket error is cleared once recv reports it), so it is kept, even a reset that
  // note_error remembers too: the next read throws what this one would have.
  if (error)
    unread_error_ = std::move(error);
  else if (result.value_or(0) > 0)
    unread_.insert(0, buffer.data(), *result);
  corio::detail::throw_cancelled();
}

bool stream_socket::take_unread(std::span<char> buffer, std::optional<std::size_t>& result) {
  if (unread_.empty()) std::rethrow_exception(std::exchange(unread_error_, nullptr));
  const std::size_t n = unread_.copy(buffer.data(), buffer.size());
  unread_.erase(0, n);
  result = n;
  return true;
}

}  // namespace corio::net
