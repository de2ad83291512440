// RUNDIR/current.json (runner/src/crash_record.cpp): refused only with
// std::invalid_argument.
#include <stdexcept>

#include "diobench/runner/crash_record.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)diobench::parse_running(diobench::fuzz::text(data, size), "fuzz/current.json");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
