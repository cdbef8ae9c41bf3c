// runtime/to_thread.hpp — corio::to_thread, asyncio.to_thread: run blocking or CPU-heavy work
// on a thread pool without blocking the loop.
//
//   std::string text = co_await corio::to_thread(read_whole_file, path);
//
// Contract:
//   * Runs fn(args...) on a thread of the loop's pool (thread_pool.hpp; made on first use,
//     sized by event_loop::options::thread_pool_size). fn and args are decay-copied (moved if
//     given as rvalues) into the job when to_thread() is called, like std::thread; pass
//     std::ref to share an object, and keep it alive for as long as the job may run.
//   * Resumes the awaiting task ON THE LOOP'S THREAD, on a turn after fn returned, never inside
//     the co_await that starts it. The result is fn's return value, by value (a returned
//     reference is copied on the pool thread); if fn throws, the co_await rethrows that exception.
//     While the job runs, the loop counts it as pending work: it blocks in the poller until the
//     job's completion wakes it, instead of reporting itself idle (event_loop::run_once).
//   * Cancellation cannot stop a thread. If the awaiting task is cancelled while waiting, the
//     wait is unregistered at once and the co_await throws corio::cancelled; what is left behind:
//       - a job not yet started is skipped (fn never runs);
//       - a job already running runs to the end; its result is dropped, on the loop's thread
//         when its completion arrives, or on the pool thread if the loop is gone; an exception
//         it threw is logged then (nobody else will ever see it).
//     A task already cancelled when it reaches the co_await throws without submitting anything.
//   * Destroying the loop waits for running jobs; jobs still queued are dropped (thread_pool.hpp).
//   * Throws: fn's exception; corio::cancelled; std::system_error when the pool's threads cannot
//     be started (nothing was submitted then).
//   * g++ 12 bug: a lambda temporary with by-value captures of non-trivial type (a shared_ptr,
//     a string) written inside the co_await expression, as in
//     `co_await to_thread([p = ptr] { ... })`, has its captures destroyed twice (the same bug as
//     with any callee, not only to_thread; clang is fine). Name the lambda first
//     (`auto job = [p = ptr] { ... }; co_await to_thread(job);`) or pass the values as args.
//   * Cost: one allocation per call, the job, which holds fn, args and the result and is
//     shared (reference-counted) by the awaiter, the pool and the loop's mailbox, so whichever
//     lets go last frees it and a cancelled frame is never written to.
#pragma once

#include <atomic>
#include <concepts>
#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "errors.hpp"
#include "event_loop.hpp"
#include "log.hpp"
#include "promise_base.hpp"
#include "task_state.hpp"
#include "thread_pool.hpp"

namespace corio {
namespace detail {

/// Where a job keeps what fn produced. Written on the pool thread before the completion is
/// posted, read on the loop thread after it was taken from the mailbox (whose lock orders them).
template <class R>
struct thread_result {
  std::optional<R> value;
  std::exception_ptr error;
  template <class F>
  void produce(F&& f) { value.emplace(std::forward<F>(f)()); }
  R take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct thread_result<void> {
  std::exception_ptr error;
  template <class F>
  void produce(F&& f) { std::forward<F>(f)(); }
  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

class thread_job_waiter : public waiter {
 public:
  virtual void on_job_done() noexcept = 0;

 protected:
  thread_job_waiter() = default;
  ~thread_job_waiter() = default;
};

/// The state one to_thread call shares between the awaiting frame, a pool thread and the loop.
///   refs: the awaiter holds one for its life; submitting adds one, which travels pool ->
///   mailbox -> loop and is given back by whichever step ends the trip.
template <class R>
class thread_job : public pool_job, public posted_callback {
 public:
  /// Loop thread: queues the job on the pool and points its completion at `w`.
  void start(event_loop& loop, thread_job_waiter& w) {
    loop_ = &loop;
    box_ = &loop.mailbox();
    refs_.fetch_add(1, std::memory_order_relaxed);
    try {
      loop.submit_thread_job(*this);
    } catch (...) {
      refs_.fetch_sub(1, std::memory_order_relaxed);
      throw;
    }
    waiter_ = &w;
  }
  /// Loop thread: the awaiter stops listening (cancelled, or its frame destroyed).
  void abandon() noexcept {
    waiter_ = nullptr;
    abandoned_.store(true, std::memory_order_relaxed);
  }
  [[nodiscard]] bool listened_to_by(const thread_job_waiter& w) const noexcept { return waiter_ == &w; }
  R take_result() { return result_.take(); }

  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // pool_job: on a pool thread, or dropped by a pool being destroyed.
  void execute() noexcept final {
    if (!abandoned_.load(std::memory_order_relaxed)) {  // only a shortcut; running anyway is safe
      try {
        result_.produce([this]() -> decltype(auto) { return invoke(); });
      } catch (...) {
        result_.error = std::current_exception();
      }
    }
    if (!box_->post(*this)) {  // the loop is gone: nobody will look at the result
      report_unheard_failure();
      release();
    }
  }
  void drop() noexcept final { release(); }

  // posted_callback: on the loop's thread.
  void run() noexcept final {
    loop_->thread_job_done();
    if (waiter_ != nullptr)
      std::exchange(waiter_, nullptr)->on_job_done();
    else
      report_unheard_failure();
    release();
  }
  void discard() noexcept final { release(); }

  virtual ~thread_job() = default;

 protected:
  thread_job() = default;
  virtual R invoke() = 0;

 private:
  void report_unheard_failure() const noexcept {
    if (result_.error) log_suppressed_exception("to_thread: a job whose awaiting task gave up failed", result_.error);
  }

  thread_result<R> result_;
  event_loop* loop_ = nullptr;
  mailbox* box_ = nullptr;               // outlives the pool's threads (event_loop's destructor)
  thread_job_waiter* waiter_ = nullptr;  // loop thread only
  std::atomic<int> refs_{1};
  std::atomic<bool> abandoned_{false};
};

template <class R, class Fn, class... Args>
class thread_job_of final : public thread_job<R> {
 public:
  template <class F, class... A>
  explicit thread_job_of(F&& fn, A&&... args) : fn_(std::forward<F>(fn)), args_(std::forward<A>(args)...) {}

 private:
  R invoke() override { return static_cast<R>(std::apply(std::move(fn_), std::move(args_))); }

  Fn fn_;
  std::tuple<Args...> args_;
};

template <class R>
class [[nodiscard]] to_thread_awaiter final : public thread_job_waiter {
 public:
  explicit to_thread_awaiter(thread_job<R>* job) noexcept : job_(job) {}
  to_thread_awaiter(const to_thread_awaiter&) = delete;
  to_thread_awaiter& operator=(const to_thread_awaiter&) = delete;
  ~to_thread_awaiter() {
    if (job_->listened_to_by(*this)) job_->abandon();  // the waiting frame was destroyed
    job_->release();
  }

  [[nodiscard]] bool await_ready() const noexcept { return false; }

  template <corio_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    owner_ = &task_of(h);
    if (owner_->cancel_requested()) return false;
    resume_point = h;
    job_->start(owner_->loop(), *this);
    owner_->park(*this);
    return true;
  }

  R await_resume() {
    if (owner_->cancel_requested()) throw_cancelled();
    return job_->take_result();
  }

  bool on_cancel() noexcept override {
    job_->abandon();
    return true;
  }

  void on_job_done() noexcept override { owner_->wake(*this); }

  [[nodiscard]] std::string describe() const override { return "to_thread job"; }

 private:
  thread_job<R>* job_;
  task_state* owner_ = nullptr;
};

}  // namespace detail

/// Runs fn(args...) on the loop's thread pool and resumes with its result (see the contract).
template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
[[nodiscard]] auto to_thread(F&& fn, Args&&... args) {
  using R = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;
  using job = detail::thread_job_of<R, std::decay_t<F>, std::decay_t<Args>...>;
  return detail::to_thread_awaiter<R>(new job(std::forward<F>(fn), std::forward<Args>(args)...));
}

}  // namespace corio
