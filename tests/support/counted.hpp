// tests/support/counted.hpp — counts live instances, to catch frames that are never destroyed
// or destroyed twice (cppcoro's test/counted.hpp idea). The counter belongs to the test that
// creates it: no global state shared between tests.
#pragma once

namespace testing_support {

struct lifetime_counter {
  int alive = 0;
  int constructed = 0;
};

class counted {
 public:
  explicit counted(lifetime_counter& c) : counter_(&c) { ++c.alive, ++c.constructed; }
  counted(const counted& other) : counter_(other.counter_) { ++counter_->alive, ++counter_->constructed; }
  counted& operator=(const counted&) = delete;
  ~counted() { --counter_->alive; }

 private:
  lifetime_counter* counter_;
};

}  // namespace testing_support
