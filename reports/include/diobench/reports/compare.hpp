// `diobench compare RUN_A RUN_B`: the same cells in two runs (before and
// after a patch, host A and host B). What a reviewer of a patch reads, in
// this order: the cells whose path changed (the pool's iostats: direct,
// ARC, mixed or none per direction), the cells that crashed the guest,
// per cell the change in throughput and p99 latency (ratio of medians,
// its 95% rank interval, a Mann-Whitney U p-value), how many changes are
// decided against how many chance alone would give, the bytes that
// reached the disk directly and through the ARC per byte asked (the
// amplification) on both sides, and the verdict of each run.
#pragma once

#include <cmath>
#include <iosfwd>
#include <string>
#include <vector>

#include "diobench/reports/run_data.hpp"
#include "diobench/reports/verdict.hpp"
#include "diobench/statistics.hpp"

namespace diobench {

// Each end of a change's interval misses with at most this probability:
// the interval is a 95% one, and a change is "decided" when it leaves out
// no change at all (ratio 1). With no real change, a decided change then
// turns up in at most kChangeFalseRate of the comparisons.
inline constexpr double kChangeAlpha = 0.025;
inline constexpr double kChangeFalseRate = 2 * kChangeAlpha;

struct CellChange {
  std::string cell;
  std::size_t n_a = 0, n_b = 0;
  double throughput_a = 0, throughput_b = 0;  // medians, bytes/s
  double throughput_change = 0;               // b / a - 1
  Interval throughput_ratio{0, INFINITY};     // of b / a, 95%
  double throughput_p = 1;
  double p99_a = 0, p99_b = 0;  // medians, ns
  double p99_change = 0;
  Interval p99_ratio{0, INFINITY};
  double p99_p = 1;
  bool few_repetitions = false;  // under 9 on a side: the U test is weak
  bool throughput_decided() const { return throughput_ratio.low > 1 || throughput_ratio.high < 1; }
  bool p99_decided() const { return p99_ratio.low > 1 || p99_ratio.high < 1; }
};

// A cell during which the qemu guest crashed in one run or both (the
// unfixed OpenZFS build against the fixed one): listed, never compared.
struct CrashedCell {
  std::string cell;
  bool in_a = false, in_b = false;
  std::string excerpt_a, excerpt_b;  // the guest console's BUG / Oops lines
};

// A cell measured in both runs whose observed path differs: per direction
// the workload issues (and any other that moved bytes directly), the
// class of its pool bytes over all repetitions (check's classify), e.g.
// "read: direct" against "read: ARC".
struct PathChange {
  std::string cell;
  std::string a, b;
  std::string bytes_a, bytes_b;  // "read: direct 12.0M ARC 0.1M"
};

// The bytes that reached the pool per byte the workload asked, in the
// main direction (medians over repetitions): directly, through the ARC
// (misses), and both together (the amplification the report shows).
struct Amplification {
  double direct = 0, arc = 0, total = 0;
};
// The observed path of a cell, per direction, over its repetitions: the
// class (check's classify, with its tolerance), e.g. "read: direct", and
// the bytes. Directions the workload does not issue appear only when they
// moved bytes directly. Not measured: no repetition has the pool's counters.
struct ObservedPath {
  bool measured = false;
  std::string classes, bytes;
};
ObservedPath observed_path(const CellData& c);

// The cell's amplification (medians over repetitions with pool counters;
// all zero when none has them).
Amplification amplification_of(const CellData& c, double ramp_s);

struct AmplificationRow {
  std::string cell;
  Amplification a, b;
  bool differs = false;  // beyond kAmplificationTolerance
};
// Amplifications differ when they are further apart than 10% of the
// larger and 0.05 bytes per byte (less is the ramp's share, metadata, the
// ARC's residue from one repetition to the next).
inline constexpr double kAmplificationRelative = 0.10;
inline constexpr double kAmplificationAbsolute = 0.05;
// Beyond that tolerance in any of the three.
bool amplification_differs(const Amplification& a, const Amplification& b);

// One comparison of the verdict (docs/design.md §10) in each run.
struct VerdictRow {
  std::string comparison;  // workload, kind, metric: subject vs reference
  bool in_a = false, in_b = false;
  Outcome a = Outcome::Inconclusive, b = Outcome::Inconclusive;
  double cost_a = 0, cost_b = 0;
  bool differs() const { return in_a != in_b || a != b; }
};

struct RunComparison {
  std::vector<PathChange> path_changes;     // first in the report
  std::size_t path_cells = 0;               // cells whose path could be compared
  std::vector<CellChange> cells;            // cells measured in both runs
  std::vector<std::string> only_a, only_b;  // unmatched cells
  std::vector<CrashedCell> crashed;
  std::vector<AmplificationRow> amplification;  // cells with pool counters on both sides
  std::vector<VerdictRow> verdict;
  double threshold = 0.05;  // the verdict's
  // Emulated CPU on either side, different accelerators: said with the numbers.
  std::vector<std::string> warnings;
  double geomean_throughput_ratio = 1;  // over matched cells, b / a
  double geomean_p99_ratio = 1;
  // Decided changes (throughput and p99 together) among the comparisons
  // with finite intervals, and how likely at least that many would be if
  // nothing had changed (binomial with kChangeFalseRate).
  std::size_t decided = 0, decidable = 0;
  double chance_of_as_many = 1;
};

RunComparison compare_runs(const RunData& a, const RunData& b, double threshold = 0.05);

// P(X >= k) for X binomial(n, p).
double binomial_tail(std::size_t n, std::size_t k, double p);

// format: "md", "csv" or "json". The warnings are in the Markdown and the
// JSON; the CSV carries one row per crashed cell (column outcome) and
// leaves the warnings to the caller.
void write_comparison(const RunComparison& c, const RunData& a, const RunData& b,
                      const std::string& format, std::ostream& out);

}  // namespace diobench
