// runtime/debug.cpp — debug mode's descriptions and warnings (runtime/debug.hpp).
#include "debug.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "await_chain.hpp"
#include "event_loop.hpp"
#include "log.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"

namespace corio::detail {
namespace {

std::string site(const char* file, std::uint_least32_t line) { return std::string(file) + ":" + std::to_string(line); }

std::string milliseconds(duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", std::chrono::duration<double, std::milli>(d).count());
  return text;
}

// One frame as describe_await_chain prints it: "in f at file.cpp:12".
std::string frame_text(const char* file, const char* function, std::uint_least32_t line) {
  return "in " + std::string(coroutine_name(function)) + " at " +
         short_site(corio::source_location::current(file, function, line));
}

}  // namespace

bool debug_requested_by_environment() noexcept {
  static const bool requested = [] {
    const char* value = std::getenv("CORIO_DEBUG");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }();
  return requested;
}

void resumption_record::capture(const task_state& t) noexcept {
  task_id_ = t.id();
  spawn_site_ = t.spawn_site();
  const std::string_view name = t.name();
  name_length_ = name.size();
  if (!name.empty()) std::memcpy(name_.data(), name.data(), std::min(name.size(), kept_name));  // data() may be null
  parked_ = t.current_wait() != nullptr;
  depth_ = 0;
  for (const promise_base* frame = &t.root(); frame != nullptr; frame = frame->awaiting()) {
    // Past the last slot, each deeper frame overwrites it: it ends up holding the innermost.
    frame_site& slot = frames_[std::min(depth_, kept_frames - 1)];
    slot = {frame->coroutine_file(), frame->coroutine_function(), frame->await_site().line()};
    ++depth_;
  }
}

// Mirrors describe_await_chain (await_chain.cpp) for a task in the ready queue, where it was.
std::string resumption_record::describe() const noexcept {
  try {
    std::string text = "task #" + std::to_string(task_id_) + " '" +
                       std::string(name_.data(), std::min(name_length_, kept_name)) +
                       (name_length_ > kept_name ? "...' spawned at " : "' spawned at ") +
                       site(spawn_site_.file_name(), spawn_site_.line()) + ", resumed ";
    const std::size_t kept = std::min(depth_, kept_frames);
    for (std::size_t i = 0; i + 1 < kept; ++i)
      text += frame_text(frames_[i].file, frames_[i].function, frames_[i].line) + " -> ";
    if (depth_ > kept) text += "(" + std::to_string(depth_ - kept) + " more frames) -> ";
    const frame_site& innermost = frames_[kept - 1];
    if (innermost.line == 0) return text + "not started yet";  // a spawned task's first run
    return text + frame_text(innermost.file, innermost.function, innermost.line) +
           (parked_ ? ": parked" : ": ready to run");
  } catch (...) {
    return {};  // out of memory: the warning will say less
  }
}

void warn_slow_resumption(const std::string& resumed, duration took, duration threshold) noexcept {
  try {
    log_warning("slow resumption: " + resumed + " kept the loop busy for " + milliseconds(took) +
                " (threshold " + milliseconds(threshold) +
                "): is something blocking? (use corio::to_thread or an async call)");
  } catch (...) {
    // A warning must never take the loop down (an allocation failed).
  }
}

void report_never_awaited(const promise_base& frame) noexcept {
  const event_loop* loop = event_loop::current();
  if (loop != nullptr ? !loop->debug() : !debug_requested_by_environment()) return;
  try {
    log_warning("coroutine " + site(frame.coroutine_file(), frame.coroutine_line()) +
                " was never awaited: it was destroyed without being co_awaited or spawned, so its body never ran");
  } catch (...) {
  }
}

}  // namespace corio::detail
