// corio.hpp — everything an application needs: #include <corio.hpp>, link corio::corio.
//
// Layering: timers/ (wheel, clocks) <- runtime/ (loop, tasks, combinators) <- io/ (sockets,
// streams, name resolution, servers: namespace corio::net).
// See docs/architecture.md for a guided tour of the source.
#pragma once

#include "runtime/await_chain.hpp"
#include "runtime/cancel_scope.hpp"
#include "runtime/condition.hpp"
#include "runtime/debug.hpp"
#include "runtime/errors.hpp"
#include "runtime/event.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/gather.hpp"
#include "runtime/metrics.hpp"
#include "runtime/mutex.hpp"
#include "runtime/outcome.hpp"
#include "runtime/queue.hpp"
#include "runtime/run.hpp"
#include "runtime/semaphore.hpp"
#include "runtime/signal.hpp"
#include "runtime/sleep.hpp"
#include "runtime/spawn.hpp"
#include "runtime/task.hpp"
#include "runtime/task_group.hpp"
#include "runtime/timeout.hpp"
#include "runtime/trace.hpp"
#include "runtime/to_thread.hpp"
#include "runtime/when_any.hpp"
#include "timers/clock.hpp"

#include "io/address.hpp"
#include "io/resolve.hpp"
#include "io/server.hpp"
#include "io/socket.hpp"
#include "io/streams.hpp"
