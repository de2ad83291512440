// `diobench compare RUN_1 RUN_2 RUN_3 ...` (three runs or more, or two
// with --side-by-side): the same profile on several guest images of the
// version x kernel matrix (scripts/zfs-vm matrix), one column per run.
// What changed between OpenZFS releases and kernels, in the order a
// reviewer asks: which cells crashed the guest (the reproducer's outcome),
// whether the policy model's path table held (diobench check: the pool's
// iostats and arcstats against the prediction), the path each cell took,
// the amplification, and the verdict of each run. Throughput is not set
// side by side: runs in different guests are not comparable (and under
// qemu TCG only ratios within one run mean anything); each run's verdict
// is made of its own ratios.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "diobench/check/check.hpp"
#include "diobench/reports/compare.hpp"
#include "diobench/reports/run_data.hpp"

namespace diobench {

// One run's column: what it ran on, and what diobench check found.
struct VersionColumn {
  std::string label;        // the image, or kernel + OpenZFS + variant, or the directory
  std::string kernel, zfs;  // empty when the run was not made in the lane
  std::string accelerator;
  std::size_t crashed_cells = 0;
  std::string reproducer;  // "crash (N cells)" | "survives" (zfs runs) | "-"
  // The path table: "held (N cells)", "contradicted (K of N cells)", or
  // why it could not be judged.
  std::string path_table;
  bool path_table_held = false;
};

// A row: one cell (or comparison) and its entry in every column ("-"
// where the run does not have it); differs when the entries are not all
// alike (a difference between versions is what the reader looks for).
struct SideBySideRow {
  std::string name;
  std::vector<std::string> entries;
  bool differs = false;
};

struct VersionMatrix {
  std::vector<VersionColumn> columns;
  std::vector<SideBySideRow> crashes;        // cells that crashed a guest in any run
  std::vector<SideBySideRow> contradicted;   // cells diobench check did not pass, per run
  std::vector<SideBySideRow> paths;          // observed path per cell
  std::vector<SideBySideRow> amplification;  // bytes to the pool per byte asked
  std::vector<SideBySideRow> verdict;        // outcome (cost) per comparison
  std::vector<std::string> warnings;
  double threshold = 0.05;
};

// `checks[i]` is diobench check's result for runs[i] (nullopt: it could
// not be judged, with `check_problems[i]` saying why).
VersionMatrix side_by_side(const std::vector<RunData>& runs,
                           const std::vector<std::optional<CheckResult>>& checks,
                           const std::vector<std::string>& check_problems, double threshold = 0.05);

// format: "md" or "json".
void write_side_by_side(const VersionMatrix& m, const std::vector<RunData>& runs,
                        const std::string& format, std::ostream& out);

}  // namespace diobench
