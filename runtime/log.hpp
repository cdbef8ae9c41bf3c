// runtime/log.hpp — the runtime's few log lines, kept behind functions so that spdlog stays out
// of public headers. The logger is named "corio", writes to stderr, and is quiet by default: it
// shows warnings and errors only (set CORIO_LOG=debug|info|warn|error|off to change that).
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace corio::detail {

class task_state;

/// "Task exception was never retrieved" (asyncio's wording), with the task's name and spawn site.
void log_unretrieved_exception(const task_state& task, const std::exception_ptr& error) noexcept;

/// An error that could not be delivered to anyone else (e.g. a second failure inside a gather).
void log_suppressed_exception(std::string_view context, const std::exception_ptr& error) noexcept;

void log_warning(std::string_view message) noexcept;

/// Shown only when CORIO_LOG=info or more verbose (the ready-queue shuffle's seed).
void log_info(std::string_view message) noexcept;

/// The text of an exception for a log line: what() for std::exception, a fixed text otherwise.
[[nodiscard]] std::string describe_exception(const std::exception_ptr& error);

}  // namespace corio::detail
