// `diobench check DIR`: a finished run judged against the policy model.
//
// DIR is either a run directory (results.db, as `diobench run --backend
// zfs` writes it, e.g. in the qemu lane) or a lane test directory
// (cells/<policy>.<target>.<workload>/ as vm/guest/test.sh collects it).
// For every cell, each direction's bytes on the pool's two paths are held
// against the model's prediction (path_judgement.hpp); for a run
// directory, also the facts the runner must have kept (runner_facts
// below). Nothing is written.
#pragma once

#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace diobench {

// Input that cannot be judged at all: not a run directory, a damaged
// results.db or meta.json. The message names it (exit status 2).
class CheckInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class CellVerdict { Ok, Mismatch, Error, Unjudged };
const char* to_string(CellVerdict v);

// One table row: a cell, judged over all its repetitions.
struct CellCheck {
  std::string cell;
  std::string directions;  // what the workload issues: read, write, read+write
  std::string predicted;   // the model's route per direction, e.g. "read: direct"
  std::string observed;    // the pool's bytes per path, e.g. "read: direct 12.0M ARC 0.1M"
  CellVerdict verdict = CellVerdict::Ok;
  std::string reason;  // why not OK: names the repetition and direction
};

// A fact about the run as a whole (statuses, the ARC flush, ...).
struct RunFact {
  std::string name;
  bool ok = true;
  std::string detail;
};

struct CheckResult {
  std::string dir;
  std::string kind;  // "run directory" | "lane test directory"
  std::vector<CellCheck> cells;
  std::vector<RunFact> facts;
  bool passed() const;  // every cell OK and every fact holds
};

// Throws CheckInputError for bad input.
CheckResult check_directory(const std::string& dir);
CheckResult check_run_directory(const std::string& dir);  // results.db
CheckResult check_lane_cells(const std::string& dir);     // cells/*/

// The table, the facts and the one-line summary.
void print_check(const CheckResult& result, std::ostream& out);

// For a row's observed column: "direct 12.0M ARC 0.1M".
std::string bytes_text(std::uint64_t direct, std::uint64_t arc);

}  // namespace diobench
