// runtime/metrics.hpp — corio::loop_metrics: what one event loop has done so far, as plain numbers.
//
//   const corio::loop_metrics m = corio::event_loop::current()->metrics();
//   std::cout << m << '\n';   // "tasks spawned 12, live 3, resumptions 85, polls 9, ..."
//
// event_loop::metrics() copies the loop's counters into this struct; reading them costs
// nothing and changes nothing. Call it on the loop's thread (like everything but
// call_soon_threadsafe). Totals count from the loop's construction and never go down; "now"
// values are the state at the call. Keeping the counters costs one increment where each event
// happens (a spawn, a resumption, a poller wait, a timer armed or fired), nothing else.
//
// longest_resumption and slow_resumptions need a clock read around every resumption, so they
// are measured only in debug mode (runtime/debug.hpp) and stay zero otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>

#include "../timers/clock.hpp"

namespace corio {

struct loop_metrics {
  std::uint64_t tasks_spawned = 0;      // total: spawn() calls (corio::run's main task included)
  std::size_t live_tasks = 0;           // now: spawned and not yet finished
  std::uint64_t resumptions = 0;        // total: coroutines resumed from the ready queue
  std::uint64_t polls = 0;              // total: waits in the poller (epoll_wait, poll, kevent)
  std::uint64_t timers_armed = 0;       // total: timers put in the wheel (a sleep, a timeout)
  std::uint64_t timers_fired = 0;       // total: timers that expired (not the cancelled ones)
  std::size_t armed_timers = 0;         // now
  std::size_t registered_fds = 0;       // now: descriptors in the poller, the loop's own included
  std::size_t ready_high_water_mark = 0;  // most coroutines ever waiting in the ready queue at once
  std::size_t thread_jobs_in_flight = 0;  // now: to_thread jobs whose completion is still to come
  duration longest_resumption{};        // debug mode only: the longest one resumption took
  std::uint64_t slow_resumptions = 0;   // debug mode only: resumptions over the threshold
};

/// One line, "tasks spawned 12, live 3, ..." with every field, for logs and samples.
std::ostream& operator<<(std::ostream& out, const loop_metrics& m);

}  // namespace corio
