#include "log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>

#include "errors.hpp"
#include "task_state.hpp"

namespace corio::detail {
namespace {

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::get("corio");
    if (!l) l = spdlog::stderr_color_mt("corio");
    const char* level = std::getenv("CORIO_LOG");
    l->set_level(level != nullptr ? spdlog::level::from_str(level) : spdlog::level::warn);
    return l;
  }();
  return *instance;
}

}  // namespace

std::string describe_exception(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (const cancelled&) {
    return "corio::cancelled";
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

void log_unretrieved_exception(const task_state& task, const std::exception_ptr& error) noexcept {
  try {
    const auto& site = task.spawn_site();
    logger().error("Task exception was never retrieved: task #{} '{}' spawned at {}:{}: {}", task.id(),
                   task.name(), site.file_name(), site.line(), describe_exception(error));
  } catch (...) {
    // Logging must never take the loop down.
  }
}

void log_suppressed_exception(std::string_view context, const std::exception_ptr& error) noexcept {
  try {
    logger().error("{}: {}", context, describe_exception(error));
  } catch (...) {
  }
}

void log_warning(std::string_view message) noexcept {
  try {
    logger().warn("{}", message);
  } catch (...) {
  }
}

void log_info(std::string_view message) noexcept {
  try {
    logger().info("{}", message);
  } catch (...) {
  }
}

}  // namespace corio::detail
