#include "task_state.hpp"

#include <cxxabi.h>

#include <typeinfo>
#include <utility>

#include "cancel_scope.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "log.hpp"
#include "trace.hpp"

namespace corio::detail {

task_state::task_state(ready_queue& ready, std::coroutine_handle<> frame, promise_base& root,
                       std::string_view name, corio::source_location spawn_site, task_state* parent,
                       std::uint32_t id)
    : ready_(&ready),
      frame_(frame),
      root_(&root),
      parent_(parent),
      name_(name.empty() ? nullptr : std::make_unique<const std::string>(name)),
      spawn_site_(spawn_site),
      id_(id) {
  root.owner_ = this;
}

namespace {
thread_local std::uint64_t cancelled_throws = 0;
}  // namespace

void throw_cancelled() {
  ++cancelled_throws;
  throw cancelled{};
}

std::uint64_t cancellations_thrown() noexcept { return cancelled_throws; }

bool handling_cancellation() noexcept {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type != nullptr && *type == typeid(cancelled);
}

void task_state::note_park_time() noexcept { parked_since_ = loop().now(); }

void task_state::trace_wake(const waiter& w) noexcept {
  if (trace_recorder* recorder = loop().tracer()) recorder->on_wake(*this, w);
}

void task_state::request_cancel() noexcept {
  if (done_) return;
  cancel_requested_ = true;
  deliver_cancel();
}

void task_state::deliver_cancel() noexcept {
  if (current_wait_ != nullptr && cancel_requested() && current_wait_->on_cancel()) wake(*current_wait_);
}

bool task_state::scoped_cancel_requested() const noexcept {
  for (const cancel_scope* s = innermost_scope_; s != nullptr; s = s->parent()) {
    if (s->cancel_called()) return true;
    if (s->shielded()) return false;  // nothing outside a shield reaches in
  }
  return cancel_requested_;
}

void task_state::on_root_finished() noexcept {
  done_ = true;
  current_wait_ = nullptr;
  loop().task_finished(*this);
  if (!handle_alive_) {  // detached or dropped: nobody will ever look at the result
    report_unretrieved_error();
    destroy_frame();
    delete this;
    return;
  }
  if (completion_listener* l = std::exchange(listener_, nullptr)) l->on_task_done(*this);
}

void task_state::release_handle(bool result_retrieved) noexcept {
  handle_alive_ = false;
  if (!done_) return;  // on_root_finished frees everything later
  if (!result_retrieved) report_unretrieved_error();
  destroy_frame();
  delete this;
}

void task_state::destroy_unfinished() noexcept {
  done_ = true;
  current_wait_ = nullptr;
  listener_ = nullptr;
  loop().task_finished(*this);
  destroy_frame();  // runs the destructors of the frame's locals, which may release other tasks
  if (!handle_alive_) delete this;
}

void task_state::destroy_frame() noexcept {
  if (frame_) std::exchange(frame_, {}).destroy();
}

// A task ending in corio::cancelled was stopped on purpose: that is not an error to report.
void task_state::report_unretrieved_error() const noexcept {
  if (frame_ && root_->failed() && !root_->ended_by_cancellation()) log_unretrieved_exception(*this, root_->error());
}

}  // namespace corio::detail
