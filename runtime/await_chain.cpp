// runtime/await_chain.cpp — await chains and the task tree (see await_chain.hpp).
#include "await_chain.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "event_loop.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"
#include "timeout.hpp"

namespace corio {
namespace detail {

std::string short_site(const corio::source_location& where) {
  const char* file = where.file_name();
  if (const char* slash = std::strrchr(file, '/')) file = slash + 1;
  return std::string(file) + ":" + std::to_string(where.line());
}

std::string_view coroutine_name(const char* function) noexcept {
  const std::string_view name(function);
  if (!name.ends_with('>')) return name;
  int depth = 0;  // find the '<' that opens the final template argument list
  for (std::size_t i = name.size(); i-- > 0;) {
    if (name[i] == '>') ++depth;
    if (name[i] == '<' && --depth == 0) {
      const std::string_view base = name.substr(0, i);
      return base.empty() || base.ends_with("operator") ? name : base;  // operator<=>, operator->
    }
  }
  return name;
}

std::string format_seconds(duration d) {
  char text[48];
  std::snprintf(text, sizeof text, "%.3f s", std::chrono::duration<double>(d).count());
  return text;
}

const promise_base& innermost_frame(const task_state& t) noexcept {
  const promise_base* frame = &t.root();
  while (frame->awaiting() != nullptr) frame = frame->awaiting();
  return *frame;
}

std::string describe_wait(const task_state& t) {
  if (const waiter* w = t.current_wait()) return "waiting for " + w->describe();
  if (t.loop().current_task() == &t) return "running";
  return "ready to run";
}

corio::source_location caller_site(corio::source_location fallback) noexcept {
  const event_loop* loop = event_loop::current();
  const task_state* t = loop != nullptr ? loop->current_task() : nullptr;
  if (t == nullptr) return fallback;
  const promise_base* caller = nullptr;  // the frame before the innermost one
  for (const promise_base* frame = &t->root(); frame->awaiting() != nullptr; frame = frame->awaiting()) caller = frame;
  return caller != nullptr ? caller->await_site() : fallback;
}

namespace {

std::string frame_line(const promise_base& frame) {
  const corio::source_location site = frame.await_site();
  return "in " + std::string(coroutine_name(site.function_name())) + " at " + short_site(site);
}

std::string task_header(const task_state& t) {
  std::string text = "task #" + std::to_string(t.id());
  if (!t.name().empty()) text += " '" + std::string(t.name()) + "'";
  return text + " (spawned at " + short_site(t.spawn_site()) + ")";
}

// Live tasks grouped under their parents. A task record does not outlive its task, but a child
// can outlive its parent, whose freed record may be reused by a newer task: a parent is only
// believed if it is alive AND older than the child (ids grow with every spawn).
class task_tree {
 public:
  explicit task_tree(const event_loop& loop) {
    std::unordered_set<const task_state*> live;
    loop.for_each_task([&](const task_state& t) { live.insert(&t); });
    loop.for_each_task([&](const task_state& t) {
      const task_state* parent = t.parent();
      if (parent != nullptr && live.contains(parent) && parent->id() < t.id())
        children_[parent].push_back(&t);
      else
        roots_.push_back(&t);
    });
  }

  void print(std::ostream& out) const {
    if (roots_.empty()) out << "no live tasks\n";
    for (const task_state* root : roots_) print_task(out, *root, "", "");
  }

 private:
  void print_task(std::ostream& out, const task_state& t, const std::string& head, const std::string& body) const {
    out << head << task_header(t) << '\n';
    std::string chain = describe_await_chain(t);
    for (std::size_t start = 0; start <= chain.size();) {
      std::size_t end = chain.find('\n', start);
      if (end == std::string::npos) end = chain.size();
      out << body << "  " << std::string_view(chain).substr(start, end - start) << '\n';
      start = end + 1;
    }
    const auto found = children_.find(&t);
    if (found == children_.end()) return;
    const std::vector<const task_state*>& kids = found->second;
    for (std::size_t i = 0; i < kids.size(); ++i) {
      const bool last = i + 1 == kids.size();
      print_task(out, *kids[i], body + (last ? "  └─ " : "  ├─ "), body + (last ? "     " : "  │  "));
    }
  }

  std::vector<const task_state*> roots_;
  std::unordered_map<const task_state*, std::vector<const task_state*>> children_;
};

}  // namespace

std::string describe_await_chain(const task_state& t) {
  std::string text;
  const promise_base* frame = &t.root();
  for (; frame->awaiting() != nullptr; frame = frame->awaiting()) text += frame_line(*frame) + "\n";
  if (frame->await_site().line() == 0)  // a spawned task before its first co_await
    return text + (t.loop().current_task() == &t ? "running" : "not started yet");
  const std::string wait = describe_wait(t);
  if (wait == "running") {  // its await site is behind it: say so
    const corio::source_location site = frame->await_site();
    return text + "in " + std::string(coroutine_name(site.function_name())) + ": running, last co_await at " +
           short_site(site);
  }
  return text + frame_line(*frame) + ": " + wait;
}

// Runs in the timer phase (deadline_scope::on_fire), so the task is never running here: it is
// parked, or in the ready queue.
timeout_error::blame blame_of(const task_state& t) noexcept {
  timeout_error::blame b;
  b.parked_at = innermost_frame(t).await_site();
  if (t.current_wait() != nullptr && t.parked_since() != time_point::min()) b.parked_for = t.loop().now() - t.parked_since();
  try {
    b.waiting_for = describe_wait(t);
  } catch (...) {  // out of memory: the site and the time are still worth reporting
  }
  return b;
}

}  // namespace detail

void dump_tasks(const event_loop& loop, std::ostream& out) { detail::task_tree(loop).print(out); }

void dump_tasks(std::ostream& out) {
  if (const event_loop* loop = event_loop::current())
    dump_tasks(*loop, out);
  else
    out << "no event loop is running on this thread\n";
}

}  // namespace corio
