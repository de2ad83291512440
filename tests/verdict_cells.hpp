// A cell of the verdict's matrix (4k random reads, psync, emulated), built
// from one throughput and one p99 per repetition: what the verdict and
// compare tests feed the reports.
#pragma once

#include <string>
#include <vector>

#include "diobench/reports/run_data.hpp"

namespace diobench::test {

inline CellData verdict_cell(const std::string& policy, const std::string& target,
                             const std::string& dio, const std::vector<double>& throughput,
                             const std::vector<double>& p99) {
  CellData c;
  c.name = "w." + policy + "." + target + (dio == "n/a" ? "" : "-dio-" + dio);
  c.axes = {
      {"backend", "emulated"}, {"policy", policy},  {"target", target},   {"loop_dio", dio},
      {"app_direct", "0"},     {"submit", "psync"}, {"semantics", "2.3"}, {"recordsize", "131072"},
      {"workload", "w"},       {"rw", "randread"},  {"bs", "4k"}};
  for (std::size_t i = 0; i < throughput.size(); ++i) {
    RepetitionData r;
    r.repetition = static_cast<unsigned>(i + 1);
    r.throughput = throughput[i];
    r.p99 = p99[i];
    c.repetitions.push_back(r);
  }
  return c;
}

}  // namespace diobench::test
