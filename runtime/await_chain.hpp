// runtime/await_chain.hpp — "where is this task stuck?": the await chain of a suspended task,
// and corio::dump_tasks, which prints every live task of a loop as a tree (asyncio 3.14's
// print_call_graph).
//
//   corio::dump_tasks(std::cerr);     // from inside a task, or dump_tasks(loop, out) outside
//
//   task #1 'main' (spawned at main.cpp:40)
//     in main_task at main.cpp:42
//     in gather at gather.hpp:188: waiting for gather of 3 tasks, 2 running
//     ├─ task #2 'fetch a' (spawned at main.cpp:42)
//     │    in fetch at main.cpp:20: waiting for sleep, due in 1.500 s
//     └─ task #4 'reader' (spawned at main.cpp:31)
//          in reader at main.cpp:31
//          in read_some at socket.cpp:88: waiting for fd 7 readable
//
// How it is found, at no cost until somebody asks:
//
//   task_state ──root──> frame ──awaiting──> frame ──awaiting──> frame ──current_wait──> waiter
//                        await_site()        await_site()        await_site()            describe()
//
// Each frame remembers the site of its last co_await (promise_base::await_transform), so every
// frame of a suspended task names the line it is suspended at; the chain is printed outermost
// first, the innermost frame (the one parked on a waiter) last. Children are the live tasks
// spawned while their parent was running (gather's children, spawn inside a task).
//
// Format, stable enough to compare in a test:
//   * file names are printed without their directories (the compiler's paths are absolute);
//   * times are relative to loop.now() ("due in 1.500 s"), so a manual clock makes them exact;
//   * tasks are listed oldest first, children under their parent, in spawn order;
//   * a frame that has not reached its first co_await yet says "not started yet"; a task in the
//     ready queue says "ready to run"; the task calling dump_tasks says "running".
//
// Only the loop's thread may call these (they read task records that the loop changes).
// They allocate (strings); they never throw except std::bad_alloc and what the stream throws.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

#include "../timers/clock.hpp"
#include "source_location.hpp"

namespace corio {

class event_loop;

/// Prints every live task of the loop running on this thread (or "no event loop is running").
void dump_tasks(std::ostream& out);
/// Prints every live task of `loop`; it need not be running (a test, a hang report).
void dump_tasks(const event_loop& loop, std::ostream& out);

namespace detail {

class task_state;
class promise_base;

/// The frames of `t`, one line each ("in f at file.cpp:12"), outermost first; the innermost
/// line ends with what the task waits for. Lines are separated by '\n', no final newline.
[[nodiscard]] std::string describe_await_chain(const task_state& t);

/// The innermost frame of `t`: the one running, or parked, or about to be resumed.
[[nodiscard]] const promise_base& innermost_frame(const task_state& t) noexcept;

/// The name of the coroutine a frame runs, as a co_await inside it names it: without the
/// template arguments g++ adds when the frame records it ("gather", not "gather<void, void>").
[[nodiscard]] std::string_view coroutine_name(const char* function) noexcept;

/// "file.cpp:12": the file name without its directories, and the line.
[[nodiscard]] std::string short_site(const corio::source_location& where);

/// What the task waits for right now, as describe_await_chain's last line says it
/// ("sleep, due in 1.500 s", "ready to run", ...).
[[nodiscard]] std::string describe_wait(const task_state& t);

/// Called at the start of a coroutine that was just awaited (gather's body): the site of the
/// co_await that started it, in the running task; `fallback` when there is none (a spawned root).
[[nodiscard]] corio::source_location caller_site(corio::source_location fallback) noexcept;

/// Seconds with three decimals: "1.500 s".
[[nodiscard]] std::string format_seconds(duration d);

}  // namespace detail
}  // namespace corio
