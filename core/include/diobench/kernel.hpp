// The running kernel, as the reasons the suite gives name it.
#pragma once

#include <string>

namespace diobench {

// uname's release ("6.18.44-..."), or "unknown".
std::string kernel_release();

}  // namespace diobench
