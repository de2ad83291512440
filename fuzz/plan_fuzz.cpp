// RUNDIR/plan.json (runner/src/plan_file.cpp): refused only with
// std::invalid_argument.
#include <stdexcept>

#include "diobench/runner/plan_file.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)diobench::parse_plan(diobench::fuzz::text(data, size), "fuzz/plan.json");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
