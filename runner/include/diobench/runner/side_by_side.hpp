// The side-by-side comparison: every policy x {file, loop dio on, loop dio
// off} for one read and one write workload, one repetition each, run with
// our engine on a scratch file, summarised as a table of throughput, p99
// latency and path split. It is what `diobench run` does until profiles
// exist (the smoke matrix), and what scripts/quickstart shows.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "diobench/fio_result.hpp"
#include "diobench/path_counters.hpp"
#include "diobench/policy.hpp"
#include "diobench/target.hpp"

namespace diobench {

struct Workload {
  std::string name;  // e.g. "randread-4k"
  std::string rw;    // fio rw=
  std::string bs;    // fio bs=
  unsigned iodepth = 1;
};

struct Cell {
  Policy policy = Policy::Standard;
  TargetKind target = TargetKind::File;  // File or Loop
  bool loop_dio = false;
  Workload workload;
  std::string submit = "psync";
  std::string name() const;         // unique, usable as a file name
  std::string target_label() const;  // "file", "loop dio on", "loop dio off"
};

struct SideBySideOptions {
  std::string scratch_dir = "/var/tmp/diobench";
  std::string out_dir;      // raw fio JSON, sidecars and logs
  std::string engine_path;  // the .so fio loads
  std::uint64_t size = 256ull << 20;
  unsigned runtime_s = 3;
  unsigned ramp_s = 1;
  std::string submit = "psync";
};

struct CellResult {
  Cell cell;
  enum class Outcome { Ok, Skipped, Failed, Interrupted } outcome = Outcome::Ok;
  std::string message;  // why skipped or failed
  FioResult fio;
  PathCounters counters;
};

std::vector<Cell> side_by_side_cells(const std::string& submit);

// Runs the cells in order, printing one progress line per cell to
// `progress`. Stops early (remaining cells Interrupted) on SIGINT/SIGTERM.
std::vector<CellResult> run_side_by_side(const SideBySideOptions& options,
                                         std::ostream& progress);

void print_table(const std::vector<CellResult>& results, std::ostream& out);

}  // namespace diobench
