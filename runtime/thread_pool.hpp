// runtime/thread_pool.hpp — corio::thread_pool, the threads behind corio::to_thread.
//
//      submit() ──> [ job | job | job ]  ──>  worker 1 ... worker N   (std::thread each)
//                   FIFO, one mutex +          each takes the oldest job, runs it with the
//                   one condition_variable     lock released, and goes back for the next
//
// A fixed number of threads, all started by the constructor; jobs are intrusive nodes
// (detail::pool_job), so the pool itself allocates nothing per job. This is the plain design
// (CPython's ThreadPoolExecutor, libuv's threadpool.c): blocking calls and CPU-heavy work are
// long next to one mutex hand-off, so a work-stealing pool would buy nothing here.
//
// Each event_loop owns one, made on the first to_thread() (event_loop::options::thread_pool_size
// sets its size). The destructor:
//   * drops the jobs still queued: they are drop()ped, never executed;
//   * waits for the jobs already running to return (a thread cannot be stopped from outside),
//     then joins every thread. So destroying a loop blocks while its to_thread work runs.
// Thread-safe: submit() may be called from any thread (the destructor, obviously, from one).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace corio {
namespace detail {

/// One unit of work for the pool. Exactly one of execute() / drop() is called, once: execute() on a
/// pool thread; drop() on the thread destroying the pool, or inside submit() once the pool is
/// being destroyed. After that call the pool no longer touches the node.
class pool_job {
 public:
  virtual void execute() noexcept = 0;
  virtual void drop() noexcept = 0;

  pool_job* next_in_pool = nullptr;

 protected:
  pool_job() = default;
  ~pool_job() = default;
};

}  // namespace detail

class thread_pool {
 public:
  /// `threads` workers; 0 means default_size().
  /// Throws std::system_error when a thread cannot be started (none is left running then).
  explicit thread_pool(std::size_t threads = 0);
  /// Drops queued jobs, waits for running ones, joins every thread (see above).
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// max(4, std::thread::hardware_concurrency()). One thread per core is what CPU-heavy work
  /// can use; the floor of 4 is for blocking work (a file read, getaddrinfo), which occupies a
  /// thread without using a core, so that on a 1- or 2-core machine a couple of slow calls do
  /// not queue up every other one. CPython's executor uses min(32, cores + 4) for the same
  /// reason; we do not cap at 32, as a loop's CPU-bound to_thread work should reach every core.
  [[nodiscard]] static std::size_t default_size() noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return workers_.size(); }

  /// Queues `job` (FIFO); a free thread runs it. The pool calls exactly one of job.execute() or
  /// job.drop(); the caller keeps `job` alive until then. Never throws.
  void submit(detail::pool_job& job) noexcept;

 private:
  void work() noexcept;

  std::mutex mutex_;
  std::condition_variable wakeup_;
  detail::pool_job* head_ = nullptr;  // the queue: oldest first
  detail::pool_job* tail_ = nullptr;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace corio
