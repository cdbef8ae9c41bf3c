// runtime/run.hpp — corio::run, the program's entry into async code (asyncio.run).
//
//   int main() { return corio::run(async_main()); }
//
// Makes a fresh event loop on the calling thread, runs `main` as a task named "main" until it
// finishes, then cancels every task still alive and runs the loop until they have unwound, and
// finally returns main's result or rethrows its exception.
// Throws corio::deadlock_error when main waits on something that nothing can ever complete
// (no task ready, no timer armed, no I/O registered); std::logic_error when called while a
// loop is already running on this thread; std::system_error when the kernel refuses the loop
// its descriptors.
//
// Ctrl-C (asyncio.run does the same): while run() runs, SIGINT and SIGTERM cancel the main task,
// which sees corio::cancelled at its current or next suspension. run() then finishes as usual:
// it rethrows corio::cancelled, or returns main's value if main caught it and returned. Details:
//   * Only a signal whose disposition is SIG_DFL when run() starts is taken (a handler of the
//     program's own, or SIG_IGN, is left alone), and the disposition is restored when run()
//     returns. While a corio::signal_set watches the signal, the program handles it itself and
//     run() stands aside.
//   * A second SIGINT or SIGTERM after the first (main is still unwinding, or stuck in code that
//     never suspends) restores SIG_DFL and re-raises the signal from the signal handler itself:
//     the process ends the way it would without corio (asyncio.run's second KeyboardInterrupt).
//   * run_options{.cancel_on_interrupt = false} turns all of this off.
#pragma once

#include "source_location.hpp"
#include <optional>
#include <string>

#include "errors.hpp"
#include "event_loop.hpp"
#include "signal.hpp"
#include "spawn.hpp"
#include "task.hpp"

namespace corio {
namespace detail {
/// "task #3 'worker' spawned at file.cpp:12; ..." for every live task, for error messages.
[[nodiscard]] std::string describe_live_tasks(const event_loop& loop);
}  // namespace detail

namespace detail {
/// While alive, stops the loop's turn as soon as `task` finishes, so that the caller driving
/// the loop sees it at once instead of after the poller's next (possibly long) wait.
class stop_loop_when_done final : public completion_listener {
 public:
  stop_loop_when_done(event_loop& loop, task_state* task) noexcept : loop_(loop), task_(task) {
    if (task_ != nullptr && !task_->done() && task_->listener() == nullptr) task_->set_listener(this);
  }
  stop_loop_when_done(const stop_loop_when_done&) = delete;
  stop_loop_when_done& operator=(const stop_loop_when_done&) = delete;
  ~stop_loop_when_done() {
    if (task_ != nullptr && task_->listener() == this) task_->set_listener(nullptr);
  }
  void on_task_done(task_state&) noexcept override { loop_.stop(); }

 private:
  event_loop& loop_;
  task_state* task_;
};
}  // namespace detail

/// Runs turns of `loop` until `handle` finished. Throws corio::deadlock_error when nothing can
/// make progress before that.
template <class T>
void run_until_done(event_loop& loop, const join_handle<T>& handle) {
  const detail::stop_loop_when_done stopper(loop, handle.state());
  while (!handle.done()) {
    if (!loop.run_once() && !handle.done())
      throw deadlock_error("corio: deadlock: the task waits but nothing can wake it; live tasks: " +
                           detail::describe_live_tasks(loop));
  }
}

struct run_options {
  event_loop::options loop{};
  /// SIGINT and SIGTERM cancel the main task (see the top of this file).
  bool cancel_on_interrupt = true;
};

template <class T>
T run(task<T> main, run_options opts, corio::source_location where = corio::source_location::current()) {
  event_loop loop(std::move(opts.loop));
  join_handle<T> handle = detail::spawn_on(loop, std::move(main), "main", where);
  std::optional<detail::interrupt_guard> interrupts;
  if (opts.cancel_on_interrupt) interrupts.emplace(loop, *handle.state());
  run_until_done(loop, handle);
  loop.shutdown();     // a second Ctrl-C meanwhile still ends the process
  interrupts.reset();  // dispositions restored before run() returns
  return handle.result();
}

template <class T>
T run(task<T> main, event_loop::options opts = {}, corio::source_location where = corio::source_location::current()) {
  return run(std::move(main), run_options{.loop = std::move(opts)}, where);
}

}  // namespace corio
