// runtime/thread_pool.cpp — see thread_pool.hpp.
#include "thread_pool.hpp"

#include <algorithm>
#include <utility>

namespace corio {

std::size_t thread_pool::default_size() noexcept {
  return std::max<std::size_t>(4, std::thread::hardware_concurrency());  // 0 means "unknown"
}

thread_pool::thread_pool(std::size_t threads) {
  const std::size_t n = threads == 0 ? default_size() : threads;
  workers_.reserve(n);
  try {
    for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  } catch (...) {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wakeup_.notify_all();
    for (auto& t : workers_) t.join();
    throw;
  }
}

thread_pool::~thread_pool() {
  detail::pool_job* dropped = nullptr;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped = std::exchange(head_, nullptr);
    tail_ = nullptr;
  }
  wakeup_.notify_all();
  // Outside the lock: a job's drop() may free things whose destructors submit again.
  while (dropped != nullptr) std::exchange(dropped, dropped->next_in_pool)->drop();
  for (auto& t : workers_) t.join();
}

void thread_pool::submit(detail::pool_job& job) noexcept {
  job.next_in_pool = nullptr;
  {
    const std::lock_guard lock(mutex_);
    if (!stopping_) {
      (tail_ != nullptr ? tail_->next_in_pool : head_) = &job;
      tail_ = &job;
      // notify under the lock: the pool may be destroyed as soon as it is released
      wakeup_.notify_one();
      return;
    }
  }
  job.drop();
}

void thread_pool::work() noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    wakeup_.wait(lock, [this] { return head_ != nullptr || stopping_; });
    if (head_ == nullptr) return;  // stopping, and nothing left to take
    detail::pool_job* job = head_;
    head_ = job->next_in_pool;
    if (head_ == nullptr) tail_ = nullptr;
    lock.unlock();
    job->execute();
    lock.lock();
  }
}

}  // namespace corio
