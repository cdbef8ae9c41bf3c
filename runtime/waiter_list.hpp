// runtime/waiter_list.hpp — the intrusive FIFO of parked tasks that mutex, semaphore, condition
// and queue are built on.
//
//     head                                   tail
//      v                                      v
//   [ W1 ] <-> [ W2 ] <-> [ W3 ] <-> ... <-> [ Wn ]     every Wi lives inside its awaiter,
//                                                        in the frame of the task that waits
//
// A waiter joins at the back when its task parks, and leaves from the front when the primitive
// hands it what it waited for, or from anywhere at once when its task is cancelled (on_cancel)
// or its frame is destroyed (the destructor). All of that is O(1) and allocates nothing.
//
// The list is typed (waiter_list<W> holds only W's, W deriving from list_waiter<W>), but its
// links point at the base class: the base destructor still unlinks after W's part is gone, and
// a downcast at that moment would be undefined (UBSan's vptr check says so).
//
// Single loop, like everything that parks tasks: only the loop's thread touches a list.
#pragma once

#include <cassert>
#include <coroutine>

#include "task_state.hpp"

namespace corio::detail {

template <class W>
class waiter_list;

/// Base of an awaiter that waits its turn in a waiter_list<W> (W derives from list_waiter<W>).
template <class W>
class list_waiter : public waiter {
 public:
  list_waiter(const list_waiter&) = delete;
  list_waiter& operator=(const list_waiter&) = delete;

  /// Cancelled while parked: leave the list now; the task resumes and its await_resume throws.
  bool on_cancel() noexcept override {
    list_->remove(*this);
    return true;
  }

  [[nodiscard]] bool linked() const noexcept { return list_ != nullptr; }
  [[nodiscard]] task_state& owner() const noexcept { return *owner_; }

 protected:
  list_waiter() noexcept = default;
  // Virtual only to keep -Wnon-virtual-dtor quiet: the friend below counts as access to a
  // protected destructor. Awaiters are never deleted through a base pointer.
  virtual ~list_waiter() {
    if (list_ != nullptr) list_->remove(*this);  // the waiting frame was destroyed
  }

  /// Parks the coroutine `h` of `owner` at the back of `list`.
  void park_in(waiter_list<W>& list, std::coroutine_handle<> h) noexcept {
    resume_point = h;
    list.push_back(*this);
    owner_->park(*this);
  }

  /// Queues the parked task for resumption on a later turn (it has left the list already).
  void wake() { owner_->wake(*this); }

  task_state* owner_ = nullptr;  // set by the derived await_suspend

 private:
  friend class waiter_list<W>;
  waiter_list<W>* list_ = nullptr;
  list_waiter* prev_ = nullptr;
  list_waiter* next_ = nullptr;
};

template <class W>
class waiter_list {
  using node = list_waiter<W>;

 public:
  waiter_list() noexcept = default;
  waiter_list(const waiter_list&) = delete;
  waiter_list& operator=(const waiter_list&) = delete;
  ~waiter_list() { assert(head_ == nullptr && "a corio sync primitive was destroyed while tasks wait on it"); }

  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }

  /// Unlinks and returns the oldest waiter, or nullptr.
  W* pop_front() noexcept {
    node* first = head_;
    if (first == nullptr) return nullptr;
    remove(*first);
    return static_cast<W*>(first);
  }

  void push_back(node& w) noexcept {
    assert(w.list_ == nullptr);
    w.list_ = this;
    w.prev_ = tail_;
    w.next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = &w;
    tail_ = &w;
  }

  void remove(node& w) noexcept {
    assert(w.list_ == this);
    (w.prev_ != nullptr ? w.prev_->next_ : head_) = w.next_;
    (w.next_ != nullptr ? w.next_->prev_ : tail_) = w.prev_;
    w.prev_ = w.next_ = nullptr;
    w.list_ = nullptr;
  }

 private:
  node* head_ = nullptr;
  node* tail_ = nullptr;
};

}  // namespace corio::detail
