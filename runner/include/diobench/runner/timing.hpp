// How the runner times its steps (set-up, cache drop, fio): milliseconds
// on the steady clock.
#pragma once

#include <chrono>

namespace diobench {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace diobench
