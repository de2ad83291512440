// The running kernel, as the reasons the suite gives name it.
#pragma once

#include <string>

#include "diobench/policy.hpp"

namespace diobench {

// uname's release ("6.18.44-..."), or "unknown".
std::string kernel_release();

// What the running kernel's loop driver hands its file with dio off:
// loop_buffered_of_kernel(kernel_release()).
LoopBuffered running_loop_buffered();

}  // namespace diobench
