// runtime/trace.cpp — the trace recorder (see trace.hpp for what is recorded and why).
//
// Event formats (Chrome "Trace Event Format", the JSON Object form):
//   {"ph":"M","name":"thread_name","pid":1,"tid":T,"args":{"name":"task #2 'fetch'"}}   a track
//   {"ph":"i","name":"spawn","s":"t","pid":1,"tid":T,"ts":U,"args":{...}}              an instant
//   {"ph":"X","name":"run","cat":"task","pid":1,"tid":T,"ts":U,"dur":D,"args":{...}}   a slice
//   {"ph":"s","name":"wake","cat":"wake","id":F,"pid":1,"tid":T,"ts":U}                arrow start
//   {"ph":"f","bp":"e","name":"wake","cat":"wake","id":F,"pid":1,"tid":T,"ts":U}       arrow end
// An arrow start binds to the slice around it on its track, an arrow end ("bp":"e") to the
// slice that encloses it: the woken task's next "run", which starts at the same timestamp.
// An arrow start is held back until its end exists, so the file never holds half an arrow (a
// task woken but destroyed before it ran again leaves no arrow at all).
#include "trace.hpp"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "await_chain.hpp"
#include "event_loop.hpp"
#include "task_state.hpp"

namespace corio {
namespace {

// A JSON string literal, quotes included.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

// The fields every event has: phase, name, track (pid is always 1: one loop per trace).
std::string head(std::string_view ph, std::string_view name, std::uint32_t track) {
  return "{\"ph\":" + quoted(ph) + ",\"name\":" + quoted(name) + ",\"pid\":1,\"tid\":" + std::to_string(track);
}

std::string task_label(const detail::task_state& t) {
  std::string label = "task #" + std::to_string(t.id());
  if (!t.name().empty()) label += " '" + std::string(t.name()) + "'";
  return label;
}

const char* phase_name(detail::wake_cause cause) noexcept {
  switch (cause) {
    case detail::wake_cause::timer: return "timers";
    case detail::wake_cause::io: return "I/O";
    case detail::wake_cause::thread: return "thread callbacks";
    case detail::wake_cause::loop: break;
  }
  return "loop";
}

// How a resumption ended, read right after it returned (the task is alive: it did not finish).
std::string how_it_stopped(const detail::task_state& t) {
  if (t.current_wait() == nullptr) return "yielded (ready to run)";
  return detail::describe_wait(t) + " at " + detail::short_site(detail::innermost_frame(t).await_site());
}

}  // namespace

void trace_recorder::attach(event_loop& loop) {
  if (loop_ != nullptr) throw std::logic_error("corio::trace_recorder: already attached to a loop");
  if (loop.tracer() != nullptr) throw std::logic_error("corio::trace_recorder: the loop already has a recorder");
  loop_ = &loop;
  origin_ = loop.now();
  loop.set_tracer(this);
  if (const detail::task_state* running = loop.current_task()) {  // attached from inside a task
    run_ = open_run{running, running->id(), 0, {}, task_label(*running), true, true};
    finished_task_ = 0;
  }
  emit(head("M", "process_name", 0) + ",\"args\":{\"name\":\"corio event loop\"}}");
  emit(head("M", "thread_name", 0) + ",\"args\":{\"name\":\"event loop\"}}");
  loop.for_each_task([this](const detail::task_state& t) {
    const_cast<detail::task_state&>(t).set_traced(true);  // the loop owns its tasks; we only flag them
    name_track(t);
  });
}

void trace_recorder::detach() noexcept {
  if (loop_ == nullptr) return;
  end_run("recording stopped");  // detached from inside a task: its run ends here
  loop_->set_tracer(nullptr);
  loop_->for_each_task([](const detail::task_state& t) { const_cast<detail::task_state&>(t).set_traced(false); });
  loop_ = nullptr;
}

double trace_recorder::micros(time_point t) const noexcept {
  return std::chrono::duration<double, std::micro>(t - origin_).count();
}

double trace_recorder::now_micros() const noexcept { return micros(loop_->now()); }

void trace_recorder::emit(std::string event) { events_.push_back(std::move(event)); }

void trace_recorder::name_track(const detail::task_state& t) {
  emit(head("M", "thread_name", t.id()) + ",\"args\":{\"name\":" + quoted(task_label(t)) + "}}");
  emit(head("M", "thread_sort_index", t.id()) + ",\"args\":{\"sort_index\":" + std::to_string(t.id()) + "}}");
}

void trace_recorder::on_spawn(detail::task_state& child) noexcept {
  child.set_traced(true);
  try {
    record_spawn(child);
  } catch (...) {  // out of memory: the trace misses a spawn, the program goes on
  }
}

void trace_recorder::record_spawn(const detail::task_state& child) {
  name_track(child);
  const double ts = now_micros();
  const detail::task_state* parent = running_task();
  const std::string parent_label = parent != nullptr ? run_.label : "none";
  emit(head("i", "spawn", child.id()) + ",\"s\":\"t\",\"ts\":" + number(ts) + ",\"args\":{\"site\":" +
       quoted(detail::short_site(child.spawn_site())) + ",\"parent\":" + quoted(parent_label) + "}}");
  if (parent != nullptr) start_flow(run_.id, ts, child.id(), "spawned by " + parent_label);
}

void trace_recorder::on_finish(const detail::task_state& t) noexcept {
  if (loop_->current_task() == &t) finished_task_ = t.id();
  pending_.erase(t.id());  // destroyed without running again: its arrow is never drawn
}

void trace_recorder::on_wake(const detail::task_state& woken, const detail::waiter& w) noexcept {
  try {
    if (pending_.contains(woken.id())) return;  // already on its way to the ready queue
    const double ts = now_micros();
    std::string what = w.describe();
    if (running_task() != nullptr) {  // woken by the running task
      start_flow(run_.id, ts, woken.id(), run_.label + ": " + what);
      return;
    }
    if (!in_phase_) {  // no phase around it: a zero-length slice on track 0 carries the arrow
      emit(head("X", "loop", 0) + ",\"cat\":\"loop\",\"ts\":" + number(ts) + ",\"dur\":0}");
    } else {
      ++phase_wakes_;
    }
    start_flow(0, ts, woken.id(), std::string(phase_name(in_phase_ ? phase_ : detail::wake_cause::loop)) + ": " + what);
  } catch (...) {  // out of memory: the trace misses one arrow, the program goes on
  }
}

// The task the loop is running, if this recorder has its run open. Never dereferenced after
// the task finished: a task that ends inside its run may be freed at once (detached, or its
// handle released by a task_group), and what it wakes then comes from the finishing code.
const detail::task_state* trace_recorder::running_task() const noexcept {
  const detail::task_state* running = loop_->current_task();
  if (running == nullptr || !run_.open || running != run_.task) return nullptr;
  return running;
}

void trace_recorder::begin_phase(detail::wake_cause cause) noexcept {
  end_attach_run();
  in_phase_ = true;
  phase_ = cause;
  phase_start_ = now_micros();
  phase_wakes_ = 0;
}

void trace_recorder::end_phase() noexcept {
  in_phase_ = false;
  if (phase_wakes_ == 0) return;  // a turn that woke nobody is not worth a slice
  try {
    emit(head("X", phase_name(phase_), 0) + ",\"cat\":\"loop\",\"ts\":" + number(phase_start_) +
         ",\"dur\":" + number(now_micros() - phase_start_) + ",\"args\":{\"woke\":" + std::to_string(phase_wakes_) + "}}");
  } catch (...) {
  }
}

void trace_recorder::start_flow(std::uint32_t from_track, double ts, std::uint32_t to_task, std::string cause) {
  const std::uint64_t id = next_flow_++;
  open_flows_.emplace(id, head("s", "wake", from_track) + ",\"cat\":\"wake\",\"id\":" + std::to_string(id) +
                              ",\"ts\":" + number(ts) + "}");
  pending_[to_task] = pending_wake{id, std::move(cause)};
}

// Ends the arrow pointing at `task`'s run that starts at `ts`; returns what woke it ("" if none).
std::string trace_recorder::finish_flow(std::uint32_t task, double ts) {
  const auto found = pending_.find(task);
  if (found == pending_.end()) return {};
  pending_wake wake = std::move(found->second);
  pending_.erase(found);
  const auto start = open_flows_.find(wake.flow);
  if (start == open_flows_.end()) return wake.cause;
  emit(std::move(start->second));
  open_flows_.erase(start);
  emit(head("f", "wake", task) + ",\"bp\":\"e\",\"cat\":\"wake\",\"id\":" + std::to_string(wake.flow) +
       ",\"ts\":" + number(ts) + "}");
  return wake.cause;
}

void trace_recorder::start_run(const detail::task_state& t) noexcept {
  end_attach_run();
  const double start = now_micros();
  std::string woken_by;
  try {
    woken_by = finish_flow(t.id(), start);
  } catch (...) {  // out of memory: the run is still recorded, without its arrow
  }
  std::string label;
  try {
    label = task_label(t);
  } catch (...) {
  }
  run_ = open_run{&t, t.id(), start, std::move(woken_by), std::move(label), true, false};
  finished_task_ = 0;
}

// Ends the open run, if any: the task finished in it, was stopped (detach), or parked/yielded.
void trace_recorder::end_run(const char* stopped_because) noexcept {
  if (!run_.open) return;
  run_.open = false;
  try {
    const double end = now_micros();
    const bool finished = finished_task_ == run_.id;  // then run_.task is freed, or about to be
    const std::string then = stopped_because != nullptr ? stopped_because : finished ? "finished" : how_it_stopped(*run_.task);
    std::string args = "{\"then\":" + quoted(then);
    if (!run_.woken_by.empty()) args += ",\"woken by\":" + quoted(run_.woken_by);
    emit(head("X", "run", run_.id) + ",\"cat\":\"task\",\"ts\":" + number(run_.start) +
         ",\"dur\":" + number(end - run_.start) + ",\"args\":" + args + "}}");
  } catch (...) {  // out of memory: the trace misses one slice
  }
}

void trace_recorder::end_attach_run() noexcept {
  if (run_.open && run_.from_attach) end_run();
}

// The resumption itself is not wrapped in try: resume() does not throw (a task's exception is
// stored in its frame). The recorder is looked up again afterwards: the task may have
// destroyed it (a recorder local to the task, saved just before the task returned).
void trace_recorder::run_traced(event_loop& loop, detail::ready_entry next) {
  trace_recorder* before = loop.tracer();
  if (next.task == nullptr) {
    next.handle.resume();
    return;
  }
  before->start_run(*next.task);
  next.handle.resume();
  if (trace_recorder* after = loop.tracer()) after->end_run();
}

void trace_recorder::write_json(std::ostream& out) const {
  out << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  for (std::size_t i = 0; i < events_.size(); ++i) out << events_[i] << (i + 1 < events_.size() ? ",\n" : "\n");
  out << "]}\n";
}

void trace_recorder::save(const std::string& path) const {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw std::system_error(errno, std::generic_category(), "corio::trace_recorder: cannot open " + path);
  write_json(file);
  file.flush();
  if (!file) throw std::system_error(EIO, std::generic_category(), "corio::trace_recorder: cannot write " + path);
}

namespace detail {
void trace_phase::end(event_loop& loop) noexcept {
  if (trace_recorder* recorder = loop.tracer()) recorder->end_phase();
}
}  // namespace detail

}  // namespace corio
