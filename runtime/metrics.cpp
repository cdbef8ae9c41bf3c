// runtime/metrics.cpp — printing loop_metrics (runtime/metrics.hpp).
#include "metrics.hpp"

#include <chrono>
#include <ostream>

namespace corio {

std::ostream& operator<<(std::ostream& out, const loop_metrics& m) {
  const std::chrono::duration<double, std::milli> longest = m.longest_resumption;
  return out << "tasks spawned " << m.tasks_spawned << ", live " << m.live_tasks << ", resumptions "
             << m.resumptions << ", polls " << m.polls << ", timers armed " << m.timers_armed << ", fired "
             << m.timers_fired << ", armed now " << m.armed_timers << ", registered fds " << m.registered_fds
             << ", ready high-water mark " << m.ready_high_water_mark << ", thread jobs in flight "
             << m.thread_jobs_in_flight << ", longest resumption " << longest.count() << " ms, slow resumptions "
             << m.slow_resumptions;
}

}  // namespace corio
