// io/sys_faults.cpp — the fault-injection mode of sys.hpp: the CORIO_FAULTS parser, the seeded
// draws, the counts, and the record of readiness that an injected fault hid.
#include "sys_faults.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sys.hpp"

namespace corio::net::sys {

std::atomic<bool> detail::faults_on{false};
std::atomic<bool> detail::faults_used{false};

namespace {

// Turns after which readiness hidden by a "delay" fault comes back (sys.hpp: 2..4). Kept small:
// under a manual clock each idle turn costs the loop its 5 ms wait for real I/O.
constexpr unsigned min_delay_turns = 2;
constexpr unsigned max_delay_turns = 4;
// Half the short lengths are at most this many bytes: tiny pieces split headers and lines
// where a parser is most likely to get it wrong.
constexpr std::size_t tiny_length = 16;

// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", 2014):
// tiny, and the same numbers with every compiler and standard library, unlike std::*_distribution.
class random_sequence {
 public:
  explicit random_sequence(std::uint64_t seed = 1) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [low, high] (the modulo bias is far below what a test could see).
  std::uint64_t between(std::uint64_t low, std::uint64_t high) noexcept { return low + next() % (high - low + 1); }

 private:
  std::uint64_t state_;
};

// Everything the mode keeps; guarded by `mutex` (loops on several threads share it).
struct engine {
  std::mutex mutex;
  std::optional<fault_config> config;
  random_sequence random;
  fault_counts counts;
  std::vector<std::array<unsigned char, 2>> hidden;  // by fd: turns owed to [read, write], 0 = none
};

// Made on first use, so it exists before the environment is read below, whatever the order
// in which this library's static objects are initialised.
engine& state() {
  static engine e;
  return e;
}

// Which fault a draw `u` in [0, 1) lands on: the rates laid end to end.
enum class pick { reset, eagain, delay, shorten, none };
pick choose(double u, const fault_config& r) noexcept {
  if ((u -= r.reset) < 0) return pick::reset;
  if ((u -= r.eagain) < 0) return pick::eagain;
  if ((u -= r.delay) < 0) return pick::delay;
  if ((u -= r.short_io) < 0) return pick::shorten;
  return pick::none;
}

// A length in [1, size - 1] (size >= 2), half the time at most tiny_length.
std::size_t shorter_length(random_sequence& random, std::size_t size) noexcept {
  const bool tiny = random.unit() < 0.5 && size - 1 > tiny_length;
  return static_cast<std::size_t>(random.between(1, tiny ? tiny_length : size - 1));
}

bool writes(faults::call c) noexcept { return c == faults::call::send || c == faults::call::send_to; }
bool on_stream(faults::call c) noexcept { return c == faults::call::recv || c == faults::call::send; }

// Why `rate` cannot be the rate of `name`, or nullptr if it can.
const char* rate_problem(std::string_view name, double rate) noexcept {
  if (name == "eintr") return rate >= 0 && rate < 1 ? nullptr : "must be a rate in [0, 1) (an EINTR every time would retry forever)";
  return rate >= 0 && rate <= 1 ? nullptr : "must be a rate in [0, 1]";
}

void check_rate(double rate, std::string_view name) {
  if (const char* problem = rate_problem(name, rate))
    throw std::invalid_argument("CORIO_FAULTS: " + std::string(name) + "=" + std::to_string(rate) + ": " + problem);
}

void validate(const fault_config& c) {
  check_rate(c.short_io, "short");
  check_rate(c.eagain, "eagain");
  check_rate(c.delay, "delay");
  check_rate(c.reset, "reset");
  check_rate(c.eintr, "eintr");
  if (c.short_io + c.eagain + c.delay + c.reset > 1 + 1e-9)
    throw std::invalid_argument("CORIO_FAULTS: short + eagain + delay + reset add up to more than 1 (one draw picks one of them)");
}

constexpr std::array<std::string_view, 6> keys{"seed", "short", "eagain", "delay", "reset", "eintr"};

// One "key=value" of CORIO_FAULTS into `c`; returns the key's index in `keys`.
std::size_t parse_setting(std::string_view item, fault_config& c) {
  const std::size_t equals = item.find('=');
  const std::string_view key = item.substr(0, equals);
  const std::string_view value = equals == std::string_view::npos ? std::string_view{} : item.substr(equals + 1);
  const auto bad = [&](const char* why) {
    return std::invalid_argument("CORIO_FAULTS: '" + std::string(item) + "': " + why +
                                 " (expected e.g. seed=42,short=0.2,eagain=0.1,eintr=0.1,delay=0.05,reset=0.001)");
  };
  std::size_t index = 0;
  while (index < keys.size() && keys[index] != key) ++index;
  if (index == keys.size()) throw bad("unknown key (seed, short, eagain, delay, reset, eintr)");
  if (value.empty()) throw bad("not key=value");
  const char* const end = value.data() + value.size();
  if (key == "seed") {
    const auto [rest, error] = std::from_chars(value.data(), end, c.seed);
    if (error != std::errc{} || rest != end) throw bad("the seed must be an integer from 0 to 2^64-1");
    return index;
  }
  double* const rates[] = {nullptr, &c.short_io, &c.eagain, &c.delay, &c.reset, &c.eintr};  // in the order of `keys`
  const auto [rest, error] = std::from_chars(value.data(), end, *rates[index]);
  if (error != std::errc{} || rest != end || !std::isfinite(*rates[index])) throw bad("a rate must be a number such as 0.05");
  if (const char* problem = rate_problem(key, *rates[index])) throw bad(problem);
  return index;
}

// CORIO_FAULTS, read before main(): on, or the reason it is malformed (sys.hpp).
class environment_setting {
 public:
  environment_setting() {
    const char* text = std::getenv("CORIO_FAULTS");
    if (text == nullptr || *text == '\0') return;
    text_ = text;
    try {
      enable_faults(parse_fault_config(text_));
      std::fprintf(stderr, "corio: fault injection on: CORIO_FAULTS=%s\n", text);
    } catch (const std::invalid_argument& e) {
      error_ = e.what();
      std::fprintf(stderr, "corio: %s; every socket will fail with this error\n", e.what());
    }
  }
  environment_setting(const environment_setting&) = delete;
  environment_setting& operator=(const environment_setting&) = delete;

  // The evidence that faults were really injected, for whoever reads the run's output.
  ~environment_setting() {
    if (text_.empty() || !error_.empty()) return;
    const fault_counts n = fault_stats();
    std::fprintf(stderr, "corio: CORIO_FAULTS=%s injected, in %llu calls: %llu short, %llu eagain, %llu delayed, %llu resets, %llu eintr\n",
                 text_.c_str(), static_cast<unsigned long long>(n.calls), static_cast<unsigned long long>(n.shortened),
                 static_cast<unsigned long long>(n.eagain), static_cast<unsigned long long>(n.delayed),
                 static_cast<unsigned long long>(n.resets), static_cast<unsigned long long>(n.eintr));
  }

  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  std::string text_;
  std::string error_;
};

const environment_setting environment;

}  // namespace

fault_config parse_fault_config(std::string_view text) {
  fault_config c;
  std::array<bool, keys.size()> seen{};
  for (bool more = !text.empty(); more;) {  // "a,b," has an empty third setting: an error
    const std::size_t comma = text.find(',');
    const std::size_t key = parse_setting(text.substr(0, comma), c);
    if (std::exchange(seen[key], true)) throw std::invalid_argument("CORIO_FAULTS: '" + std::string(keys[key]) + "' is given twice");
    more = comma != std::string_view::npos;
    if (more) text.remove_prefix(comma + 1);
  }
  validate(c);
  return c;
}

void enable_faults(const fault_config& config) {
  validate(config);
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  e.config = config;
  e.random = random_sequence(config.seed);
  e.counts = {};
  detail::faults_used.store(true, std::memory_order_relaxed);
  detail::faults_on.store(true, std::memory_order_relaxed);
}

void disable_faults() noexcept {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  detail::faults_on.store(false, std::memory_order_relaxed);
  e.config.reset();  // `hidden` stays: what was hidden must still be reported
}

std::optional<fault_config> current_faults() {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  return e.config;
}

fault_counts fault_stats() {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  return e.counts;
}

unsigned take_hidden_readiness(int fd, bool write) noexcept {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  if (fd < 0 || static_cast<std::size_t>(fd) >= e.hidden.size()) return 0;
  unsigned char& turns = e.hidden[static_cast<std::size_t>(fd)][write ? 1 : 0];
  return std::exchange(turns, 0);
}

void check_fault_environment() {
  if (!environment.error().empty()) throw std::invalid_argument(environment.error());
}

namespace faults {

fault draw(call c, std::size_t size) noexcept {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  if (!e.config) return {fault::kind::none, size};  // switched off since the caller looked
  ++e.counts.calls;
  switch (choose(e.random.unit(), *e.config)) {
    case pick::reset:
      if (!on_stream(c)) break;
      ++e.counts.resets;
      return {fault::kind::reset, size};
    case pick::eagain:
      ++e.counts.eagain;
      return {fault::kind::would_block, size, 1};
    case pick::delay:
      ++e.counts.delayed;
      return {fault::kind::would_block, size, static_cast<unsigned>(e.random.between(min_delay_turns, max_delay_turns))};
    case pick::shorten:
      if (!on_stream(c) || size < 2) break;
      ++e.counts.shortened;
      return {fault::kind::none, shorter_length(e.random, size), 1};
    case pick::none:
      break;
  }
  return {fault::kind::none, size};
}

// Called from noexcept code: if growing the table fails, the process ends (a test-only mode).
void hide_readiness(call c, int fd, unsigned turns) noexcept {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  if (fd < 0) return;
  const auto slot = static_cast<std::size_t>(fd);
  if (slot >= e.hidden.size()) e.hidden.resize(slot + 1, {0, 0});
  e.hidden[slot][writes(c) ? 1 : 0] = static_cast<unsigned char>(turns);
}

bool interrupt_now() noexcept {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  if (!e.config || e.random.unit() >= e.config->eintr) return false;
  ++e.counts.eintr;
  return true;
}

void forget(int fd) noexcept {
  engine& e = state();
  const std::lock_guard lock(e.mutex);
  if (fd >= 0 && static_cast<std::size_t>(fd) < e.hidden.size()) e.hidden[static_cast<std::size_t>(fd)] = {0, 0};
}

void report_reset(call c, int fd) noexcept {
  static constexpr const char* names[] = {"recv", "send", "recv_from", "send_to", "accept"};
  std::fprintf(stderr, "corio: fault injection: ECONNRESET injected into %s on fd %d\n", names[static_cast<int>(c)], fd);
}

}  // namespace faults
}  // namespace corio::net::sys
