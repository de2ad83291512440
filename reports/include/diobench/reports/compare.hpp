// `diobench compare RUN_A RUN_B`: the same cells in two runs (before and
// after a patch, host A and host B), their change in throughput and p99
// latency, each with a Mann-Whitney U p-value, and a geometric-mean
// summary over all matching cells.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "diobench/reports/run_data.hpp"

namespace diobench {

struct CellChange {
  std::string cell;
  std::size_t n_a = 0, n_b = 0;
  double throughput_a = 0, throughput_b = 0;  // medians, bytes/s
  double throughput_change = 0;               // b / a - 1
  double throughput_p = 1;
  double p99_a = 0, p99_b = 0;  // medians, ns
  double p99_change = 0;
  double p99_p = 1;
  bool few_repetitions = false;  // under 9 on a side: the U test is weak
};

// A cell during which the qemu guest crashed in one run or both (the
// unfixed OpenZFS build against the fixed one): listed, never compared.
struct CrashedCell {
  std::string cell;
  bool in_a = false, in_b = false;
  std::string excerpt_a, excerpt_b;  // the guest console's BUG / Oops lines
};

struct RunComparison {
  std::vector<CellChange> cells;            // cells measured in both runs
  std::vector<std::string> only_a, only_b;  // unmatched cells
  std::vector<CrashedCell> crashed;
  // Emulated CPU on either side, different accelerators: said with the numbers.
  std::vector<std::string> warnings;
  double geomean_throughput_ratio = 1;  // over matched cells, b / a
  double geomean_p99_ratio = 1;
};

RunComparison compare_runs(const RunData& a, const RunData& b);

// format: "md", "csv" or "json". The warnings are in the Markdown and the
// JSON; the CSV carries one row per crashed cell (column outcome) and
// leaves the warnings to the caller.
void write_comparison(const RunComparison& c, const RunData& a, const RunData& b,
                      const std::string& format, std::ostream& out);

}  // namespace diobench
