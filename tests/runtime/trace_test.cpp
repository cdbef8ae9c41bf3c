// tests/runtime/trace_test.cpp — the trace recorder writes valid Chrome trace-event JSON whose
// events match what the loop did (trace.hpp).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <corio.hpp>

#include "runtime/testing.hpp"
#include "support/tasks.hpp"

using namespace std::chrono_literals;
using namespace testing_support;

namespace {

// A small strict JSON parser: enough to prove the file is JSON and to look inside it.
struct json;
using json_object = std::map<std::string, json>;
using json_array = std::vector<json>;
struct json {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<json_array>, std::shared_ptr<json_object>> v;
  [[nodiscard]] const json_object& object() const { return *std::get<std::shared_ptr<json_object>>(v); }
  [[nodiscard]] const json_array& array() const { return *std::get<std::shared_ptr<json_array>>(v); }
  [[nodiscard]] const std::string& str() const { return std::get<std::string>(v); }
  [[nodiscard]] double num() const { return std::get<double>(v); }
};

class parser {
 public:
  explicit parser(std::string text) : s_(std::move(text)) {}
  json document() {
    json j = value();
    skip();
    if (i_ != s_.size()) fail("trailing characters");
    return j;
  }

 private:
  [[noreturn]] void fail(const char* why) const {
    throw std::runtime_error(std::string("invalid JSON at ") + std::to_string(i_) + ": " + why);
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void expect(char c) {
    skip();
    if (i_ >= s_.size() || s_[i_] != c) fail("unexpected character");
    ++i_;
  }
  bool consume(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  json value() {
    skip();
    if (i_ >= s_.size()) fail("end of input");
    const char c = s_[i_];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return json{string()};
    if (s_.compare(i_, 4, "true") == 0) return i_ += 4, json{true};
    if (s_.compare(i_, 5, "false") == 0) return i_ += 5, json{false};
    if (s_.compare(i_, 4, "null") == 0) return i_ += 4, json{nullptr};
    return number();
  }
  json object() {
    expect('{');
    auto o = std::make_shared<json_object>();
    if (!consume('}')) {
      do {
        skip();
        std::string key = string();
        expect(':');
        (*o)[key] = value();
      } while (consume(','));
      expect('}');
    }
    return json{o};
  }
  json array() {
    expect('[');
    auto a = std::make_shared<json_array>();
    if (!consume(']')) {
      do a->push_back(value());
      while (consume(','));
      expect(']');
    }
    return json{a};
  }
  std::string string() {
    if (s_[i_] != '"') fail("expected a string");
    std::string out;
    for (++i_; i_ < s_.size() && s_[i_] != '"'; ++i_) {
      if (static_cast<unsigned char>(s_[i_]) < 0x20) fail("control character in a string");
      if (s_[i_] == '\\') {
        if (++i_ >= s_.size() || std::string_view("\"\\/bfnrtu").find(s_[i_]) == std::string_view::npos) fail("bad escape");
        if (s_[i_] == 'u') i_ += 4;
      }
      out += s_[i_];
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }
  json number() {
    std::size_t used = 0;
    const double d = std::stod(s_.substr(i_, 32), &used);
    if (used == 0) fail("bad number");
    i_ += used;
    return json{d};
  }

  std::string s_;
  std::size_t i_ = 0;
};

struct counts {
  int spawn = 0, run = 0, suspended = 0, finished = 0, flow_start = 0, flow_end = 0, loop_slices = 0;
  std::map<double, int> flow_ids;  // id -> +1 per start, +10 per end: 11 when paired
};

counts count(const json& trace) {
  counts c;
  for (const json& e : trace.object().at("traceEvents").array()) {
    const json_object& ev = e.object();
    const std::string& ph = ev.at("ph").str();
    const std::string& name = ev.at("name").str();
    if (ph == "i" && name == "spawn") ++c.spawn;
    if (ph == "X" && name == "run") {
      ++c.run;
      const std::string& then = ev.at("args").object().at("then").str();
      (then == "finished" ? c.finished : c.suspended) += 1;
    }
    if (ph == "X" && ev.at("tid").num() == 0) ++c.loop_slices;
    if (ph == "s") ++c.flow_start, c.flow_ids[ev.at("id").num()] += 1;
    if (ph == "f") ++c.flow_end, c.flow_ids[ev.at("id").num()] += 10;
  }
  return c;
}

corio::task<> set_after(std::chrono::milliseconds d, corio::event& ev) {
  co_await corio::sleep(d);
  ev.set();
}

corio::task<> wait_for(corio::event& ev) { co_await ev.wait(); }

corio::task<> scenario() {
  corio::event ev;
  auto setter = corio::spawn(set_after(10ms, ev), "setter");
  auto waiter = corio::spawn(wait_for(ev), "waiter");
  co_await setter;
  co_await waiter;
}

// Runs scenario() on a fresh manual-clock loop traced from before its first turn. FIFO even
// under CORIO_SHUFFLE_SEED: the expected runs and arrows are those of one known order (in
// another, main may wake to join a waiter that has not finished yet, and run once more).
std::string traced_scenario() {
  corio::trace_recorder trace;
  {
    corio::event_loop loop({.clock = corio::clock::manual(), .shuffle_seed = 0});
    trace.attach(loop);
    auto main = corio::detail::spawn_on(loop, scenario(), "main", corio::source_location::current());
    while (!main.done() && loop.run_once()) {
    }
    EXPECT_TRUE(main.done());
    main.result();
  }
  EXPECT_FALSE(trace.attached()) << "the loop's destruction detaches it";
  std::ostringstream out;
  trace.write_json(out);
  return out.str();
}

}  // namespace

TEST(trace, a_known_scenario_gives_valid_json_with_the_expected_spawns_runs_and_paired_arrows) {
  const std::string text = traced_scenario();
  json trace;
  ASSERT_NO_THROW(trace = parser(text).document()) << text;
  const counts c = count(trace);
  EXPECT_EQ(c.spawn, 3) << text;  // main, setter, waiter
  // main: spawns, joins setter | waiter is done already, ends. setter: sleeps | sets, ends.
  // waiter: waits | ends.
  EXPECT_EQ(c.run, 6) << text;
  EXPECT_EQ(c.suspended, 3) << text;
  EXPECT_EQ(c.finished, 3) << text;
  // Arrows: main -> setter and waiter (spawn), timers -> setter, setter -> waiter (the event),
  // setter -> main (its end wakes the join).
  EXPECT_EQ(c.flow_start, 5) << text;
  EXPECT_EQ(c.flow_end, 5) << text;
  for (const auto& [id, marks] : c.flow_ids) EXPECT_EQ(marks, 11) << "flow " << id << " is not one start and one end";
  EXPECT_EQ(c.loop_slices, 1) << "one timer phase woke a task";
}

TEST(trace, each_run_says_what_woke_it_and_how_it_ended) {
  const std::string text = traced_scenario();
  EXPECT_NE(text.find(R"("then":"waiting for sleep, due in 0.010 s at trace_test.cpp:)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("then":"waiting for event at trace_test.cpp:)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("woken by":"timers: sleep, due in 0.000 s")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("woken by":"task #2 'setter': event")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("name":"thread_name","pid":1,"tid":3,"args":{"name":"task #3 'waiter'"})"), std::string::npos)
      << text;
}

TEST(trace, a_recorder_attached_and_saved_from_inside_a_task_records_that_task_too) {
  const std::string path = ::testing::TempDir() + "h-chains-trace-test.json";
  corio::run([](std::string file) -> corio::task<> {
    corio::trace_recorder trace;
    trace.attach(*corio::event_loop::current());
    co_await corio::sleep(1ms);
    trace.save(file);
  }(path), {.clock = corio::clock::manual()});
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path.c_str());
  json trace;
  ASSERT_NO_THROW(trace = parser(text.str()).document()) << text.str();
  const counts c = count(trace);
  EXPECT_EQ(c.run, 1) << "the run that attached it (until the sleep); the last run is cut by save" << text.str();
  EXPECT_EQ(c.suspended, 1);
  EXPECT_EQ(c.flow_start, 1) << "the timer woke it";
  EXPECT_EQ(c.flow_end, 1);
}

TEST(trace, save_to_an_unwritable_path_throws_system_error) {
  corio::trace_recorder trace;
  EXPECT_THROW(trace.save("/nonexistent-dir/h-chains/trace.json"), std::system_error);
}
