// Loop devices the tests look for (a leak check, an attach checked from
// outside): through the product's one listing, bound_loop_devices(),
// which loop_device_test holds against util-linux's losetup.
#pragma once

#include <string>
#include <vector>

#include "diobench/loop_device.hpp"

namespace diobench::test {

// "/dev/loopN" of every loop device whose backing file starts with `prefix`.
inline std::vector<std::string> loops_under(const std::string& prefix) {
  std::vector<std::string> found;
  for (const BoundLoop& loop : bound_loop_devices()) {
    if (loop.backing_file.rfind(prefix, 0) == 0) found.push_back(loop.path);
  }
  return found;
}

}  // namespace diobench::test
