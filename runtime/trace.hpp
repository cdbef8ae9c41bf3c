// runtime/trace.hpp — corio::trace_recorder: what the loop did, as a Chrome trace-event JSON
// file (open it in ui.perfetto.dev or chrome://tracing; scripts/plot_trace.py draws a PNG).
//
//   corio::trace_recorder trace;
//   trace.attach(*corio::event_loop::current());   // or any loop, before it runs
//   ... the program runs ...
//   trace.save("out.json");                        // throws std::system_error if it cannot
//
// What is recorded, one track (a "thread" in the viewer) per task, plus track 0 for the loop:
//
//   track 0 "event loop"  [timers]──┐          [I/O ready]──┐
//   task #2 'fetch a'  ▮spawn  [run]│ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ ─ │─> [run]   ...
//   task #3 'reader'           [run]└─> [run]               
//
//   * spawn: an instant event on the new task's track (args: spawn site, parent); when a task
//     spawned it, a flow arrow from the spawner's slice to the child's first run;
//   * resume: a complete event "run" (ts, dur) per resumption; its args say how it ended
//     ("then": "waiting for fd 7 readable at socket.cpp:88", "yielded", "finished") and what
//     woke it ("woken by");
//   * wake: a flow arrow (flow events "s"/"f", category "wake") from the waker to the next run
//     of the woken task. The waker is the running task (event.set, queue put, a finished child,
//     a cancel), or a slice on track 0 for the loop's phases: "timers" (a sleep or a deadline
//     fired), "I/O" (a descriptor became ready), "thread callbacks" (a to_thread job finished,
//     call_soon_threadsafe), "loop" (shutdown cancelling what is left).
// Times are the loop's clock (a manual clock gives exact, repeatable traces), in microseconds
// since attach().
//
// Cost: nothing when no recorder is attached but one predictable branch per resumption, spawn
// and wake-up (task_state::wake, event_loop). Attached, every event is formatted and kept in
// memory until save(): meant for runs of seconds, not days.
//
// Rules: one recorder per loop, attached from the loop's thread; tasks that were alive at
// attach() and every task spawned later are traced. detach() (or destroying the recorder, or
// the loop) stops recording; what was recorded stays saveable. A recorder may be destroyed
// while a task it traces is running (a local of that task): nothing touches it afterwards.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../timers/clock.hpp"
#include "ready_queue.hpp"

namespace corio {

class event_loop;

namespace detail {
class task_state;
class waiter;

/// Who wakes tasks while the loop is not running one: the phase of the turn (event_loop.cpp).
enum class wake_cause : unsigned char { loop, timer, io, thread };
}  // namespace detail

class trace_recorder {
 public:
  trace_recorder() = default;
  trace_recorder(const trace_recorder&) = delete;
  trace_recorder& operator=(const trace_recorder&) = delete;
  ~trace_recorder() { detach(); }

  /// Starts recording `loop`. Throws std::logic_error if it already has a recorder, or if this
  /// one is attached elsewhere.
  void attach(event_loop& loop);
  /// Stops recording (idempotent). Recorded events stay.
  void detach() noexcept;
  [[nodiscard]] bool attached() const noexcept { return loop_ != nullptr; }

  /// The whole trace as one JSON object {"traceEvents": [...], "displayTimeUnit": "ns"}.
  void write_json(std::ostream& out) const;
  /// write_json() to the file `path`. Throws std::system_error when it cannot be written.
  void save(const std::string& path) const;

  // --- hooks, called by the loop and by task_state (not for application code) ---
  void on_spawn(detail::task_state& child) noexcept;
  void on_finish(const detail::task_state& t) noexcept;
  void on_wake(const detail::task_state& woken, const detail::waiter& w) noexcept;
  void begin_phase(detail::wake_cause cause) noexcept;
  void end_phase() noexcept;
  /// Runs one ready entry, recording it (the loop calls this instead of resume()).
  static void run_traced(event_loop& loop, detail::ready_entry next);
  void on_loop_destroyed() noexcept { loop_ = nullptr; }

 private:
  struct pending_wake {
    std::uint64_t flow;
    std::string cause;
  };
  // The resumption being recorded: started by run_traced, or by attach() from inside a task
  // (then no run_traced will end it: the next hook of the loop does).
  struct open_run {
    const detail::task_state* task = nullptr;
    std::uint32_t id = 0;
    double start = 0;
    std::string woken_by;
    std::string label;  // "task #3 'name'": the task may be freed before the run ends
    bool open = false;
    bool from_attach = false;
  };

  [[nodiscard]] double micros(time_point t) const noexcept;
  [[nodiscard]] double now_micros() const noexcept;
  void name_track(const detail::task_state& t);
  void record_spawn(const detail::task_state& child);
  void start_flow(std::uint32_t from_track, double ts, std::uint32_t to_task, std::string cause);
  [[nodiscard]] std::string finish_flow(std::uint32_t task, double ts);
  void start_run(const detail::task_state& t) noexcept;
  void end_run(const char* stopped_because = nullptr) noexcept;
  void end_attach_run() noexcept;
  [[nodiscard]] const detail::task_state* running_task() const noexcept;
  void emit(std::string event);

  event_loop* loop_ = nullptr;
  time_point origin_{};
  std::vector<std::string> events_;                              // JSON objects, in order
  std::unordered_map<std::uint32_t, pending_wake> pending_;      // woken task id -> its arrow
  std::unordered_map<std::uint64_t, std::string> open_flows_;    // flow id -> its "s" event
  std::uint64_t next_flow_ = 1;
  open_run run_;
  std::uint32_t finished_task_ = 0;  // set by on_finish during a recorded run
  detail::wake_cause phase_ = detail::wake_cause::loop;
  bool in_phase_ = false;
  double phase_start_ = 0;
  std::uint32_t phase_wakes_ = 0;
};

namespace detail {

/// Marks a phase of the loop's turn for the recorder, if any (one branch when there is none).
/// The recorder is looked up again at the end: the phase may have detached it.
class trace_phase {
 public:
  trace_phase(event_loop& loop, trace_recorder* recorder, wake_cause cause) noexcept
      : loop_(loop), active_(recorder != nullptr) {
    if (active_) [[unlikely]] recorder->begin_phase(cause);
  }
  trace_phase(const trace_phase&) = delete;
  trace_phase& operator=(const trace_phase&) = delete;
  ~trace_phase() {
    if (active_) [[unlikely]] end(loop_);
  }

 private:
  // Static, so that `this` never escapes and the object lives in registers: with no recorder
  // attached, a phase costs a load and two tests.
  static void end(event_loop& loop) noexcept;
  event_loop& loop_;
  bool active_;
};

}  // namespace detail
}  // namespace corio
