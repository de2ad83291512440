// The engine's counters sidecar (core/src/path_counters.cpp), line by line
// as the runner reads it: a line is refused only with
// std::invalid_argument, and a line it accepts is written back and read
// again unchanged.
#include <sstream>
#include <stdexcept>

#include "diobench/path_counters.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(diobench::fuzz::text(data, size));
  std::string line;
  diobench::PathCounters total;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      const diobench::JobCounters job = diobench::parse_sidecar_line(line);
      total += job.counters;
      const std::string again = diobench::sidecar_line(job);
      if (diobench::sidecar_line(diobench::parse_sidecar_line(again)) != again) __builtin_trap();
    } catch (const std::invalid_argument&) {
    }
  }
  (void)total.shares(diobench::Direction::Read);
  (void)total.shares(diobench::Direction::Write);
  return 0;
}
