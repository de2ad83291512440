#include "diobench/kernel.hpp"

#include <sys/utsname.h>

namespace diobench {

std::string kernel_release() {
  utsname u{};
  return ::uname(&u) == 0 ? std::string(u.release) : std::string("unknown");
}

LoopBuffered running_loop_buffered() { return loop_buffered_of_kernel(kernel_release()); }

}  // namespace diobench
