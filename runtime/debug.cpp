// runtime/debug.cpp — debug mode's descriptions and warnings (runtime/debug.hpp).
#include "debug.hpp"

#include <cxxabi.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <typeinfo>

#include "event_loop.hpp"
#include "log.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"

namespace corio::detail {
namespace {

std::string site(const char* file, std::uint_least32_t line) { return std::string(file) + ":" + std::to_string(line); }

// "corio::detail::sleep_awaiter" rather than the mangled "N5corio6detail13sleep_awaiterE".
std::string type_name(const std::type_info& type) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> readable(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                        std::free);
  return status == 0 && readable ? std::string(readable.get()) : std::string(type.name());
}

std::string milliseconds(duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", std::chrono::duration<double, std::milli>(d).count());
  return text;
}

}  // namespace

bool debug_requested_by_environment() noexcept {
  static const bool requested = [] {
    const char* value = std::getenv("CORIO_DEBUG");
    return value != nullptr && std::strcmp(value, "1") == 0;
  }();
  return requested;
}

// The frames are linked from the task's root through promise_base::awaiting(); each names the
// coroutine function it runs. A parked task also says what it is parked on (at the moment of a
// resumption it is not: wake() has already ended the wait).
std::string describe_await_chain(const task_state& t) {
  std::string chain;
  std::size_t depth = 0;
  for (const promise_base* frame = &t.root(); frame != nullptr; frame = frame->awaiting(), ++depth) {
    if (depth > 0) chain += " -> ";
    chain += site(frame->coroutine_file(), frame->coroutine_line());
  }
  chain += depth == 1 ? " (1 frame)" : " (" + std::to_string(depth) + " frames)";
  if (const waiter* w = t.current_wait()) chain += ", parked on " + type_name(typeid(*w));
  return chain;
}

std::string describe_resumption(const task_state& t) noexcept {
  try {
    return "task #" + std::to_string(t.id()) + " '" + std::string(t.name()) + "' spawned at " +
           site(t.spawn_site().file_name(), t.spawn_site().line()) + ", resumed in " + describe_await_chain(t);
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
