// The verdict of DESIGN.md: does the fallback path cost little?
//
// For each workload, every fallback-path cell (a loop target whose
// requests the policy sends down the direct path) is compared with
//   - the same policy on the native file: the loop tax;
//   - the generic buffered path on the same loop target (direct=disabled,
//     loop dio off): the degradation cost;
// for throughput and for p99 latency, as a ratio of medians with a 95%
// bootstrap interval. The cost is how much worse the fallback cell is
// (1 - ratio for throughput, ratio - 1 for latency). One-sided: a fallback
// that is faster costs nothing. PASS when the whole interval of the cost
// is at or under the threshold, FAIL when it is wholly above,
// INCONCLUSIVE otherwise, with the repetitions that would likely decide.
// Below 5 repetitions per cell nothing is decided.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diobench/reports/run_data.hpp"
#include "diobench/statistics.hpp"

namespace diobench {

// Crash: one of the two cells crashed the qemu guest (no numbers to compare).
enum class Outcome { Pass, Fail, Inconclusive, Crash };
const char* to_string(Outcome o);

struct Comparison {
  std::string workload;   // the cell group: workload, app O_DIRECT, submit, ...
  std::string kind;       // "loop tax" | "degradation"
  std::string subject;    // the fallback-path cell
  std::string reference;  // what it is compared with
  std::string metric;     // "throughput" | "p99 latency"
  double ratio = 0;       // median(subject) / median(reference)
  Interval ratio_interval;
  double cost = 0;        // > 0: the fallback is worse
  Interval cost_interval;
  Outcome outcome = Outcome::Inconclusive;
  std::optional<unsigned> repetitions_to_decide;  // INCONCLUSIVE only
  std::string note;
};

// The cells compared with one another: same workload, app O_DIRECT,
// submit, semantics, recordsize and backend; across policy and target.
std::string workload_group(const CellData& cell);
// The same group with `workload` standing for the workload's name (a load
// sweep groups its cells by rw and bs across their iodepth x numjobs).
std::string workload_group(const CellData& cell, const std::string& workload);

// True for the cells whose requests take the patched fallback path.
bool is_fallback_path_cell(const CellData& cell);

std::vector<Comparison> compute_verdict(const RunData& run, double threshold,
                                        std::uint64_t seed);

}  // namespace diobench
