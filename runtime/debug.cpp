// runtime/debug.cpp — debug mode's descriptions and warnings (runtime/debug.hpp).
#include "debug.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

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

// describe_await_chain's lines (one per frame, outermost first) joined into one log line.
std::string one_line(std::string chain) {
  for (std::size_t at = chain.find('\n'); at != std::string::npos; at = chain.find('\n', at)) chain.replace(at, 1, " -> ");
  return chain;
}

}  // namespace

bool debug_requested_by_environment() noexcept {
  static const bool requested = [] {
    const char* value = std::getenv("CORIO_DEBUG");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }();
  return requested;
}

std::string describe_resumption(const task_state& t) noexcept {
  try {
    return "task #" + std::to_string(t.id()) + " '" + std::string(t.name()) + "' spawned at " +
           site(t.spawn_site().file_name(), t.spawn_site().line()) + ", resumed " + one_line(describe_await_chain(t));
  } catch (...) {
    return {};  // out of memory: the warning, if any, will say less
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
