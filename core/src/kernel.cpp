#include "diobench/kernel.hpp"

#include <sys/utsname.h>

namespace diobench {

std::string kernel_release() {
  utsname u{};
  return ::uname(&u) == 0 ? std::string(u.release) : std::string("unknown");
}

}  // namespace diobench
