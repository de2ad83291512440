// The verdict (docs/design.md §10): does the fallback path cost little?
//
// For each workload, every fallback-path cell (a loop target whose
// requests the policy sends down the direct path) is compared with
//   - the same policy on the native file: the loop tax;
//   - the generic buffered path on the same loop target (direct=disabled,
//     loop dio off): the degradation cost;
// for throughput and for p99 latency. The cost is how much worse the
// fallback cell is (1 - ratio for throughput, ratio - 1 for latency, the
// ratio being fallback / reference). One-sided: a fallback that is faster
// costs nothing.
//
// The decision has to stay right when the repetitions are looked at again
// and again and adding them stops as soon as it looks decided (`diobench
// run --until-decided`): a plain 95% interval recomputed at each look is
// wrong far more often than 5% of the time (the simulation test measures
// 16% at the threshold with CV 10%). So:
//   - the interval bounds the ratio on a log scale with the
//     distribution-free rank interval of the shift between the two cells
//     (shift_bounds in statistics.hpp, which inverts the Wilcoxon rank-sum
//     test): exact at any count, whatever the shape of the noise, as long
//     as the two cells' repetitions spread alike (the shift is then the
//     log of the ratio of medians). The point estimate `ratio` stays the
//     ratio of medians. fio's p99 comes from its histogram: a bucket's
//     middle, up to half a bucket (at most 1/128 of the value, fio's
//     stat.h) from the real p99. Latency bounds are widened by the largest
//     such error among each cell's values: without it, cells steadier than
//     a bucket is wide could be judged on where the buckets' edges fall.
//   - the verdict looks at 5, 6, 7, 8, 9, 10 repetitions per cell, then
//     at about 15% more each time (next_look), and the j-th look spends a
//     one-sided error of 0.05 / (j (j + 1)) (look_alpha); these add up to
//     exactly 0.05. By the union bound each end of the interval then holds
//     at every look at once with probability >= 95%, however often anyone
//     looks and whenever the adding stops.
//   - the repetitions are replayed in the order they were recorded (by
//     repetition number: the subject's r, then the reference's r), and the
//     look falls where the two cells together reach twice a look's count.
//     The first look whose cost interval lies at or under the threshold
//     decides PASS, wholly above it FAIL, and the decision stands: a
//     runner that stopped there and a report recomputed later from
//     results.db, after a shared reference got more repetitions, agree.
//     The interval shown is the intersection of those of all the looks
//     (valid by the same union bound).
// A PASS is wrong only if the upper bound missed, a FAIL only if the lower
// one did, so each has a probability of at most 5% (two one-sided tests,
// as in equivalence testing). Nothing is decided below 5 repetitions per
// cell. INCONCLUSIVE comes with the look (repetitions per cell) at which
// the bounds would likely clear the threshold if the spread and the
// estimate hold. tests/verdict_sequential_test.cpp measures the
// wrong-decision rates and the repetitions needed on simulated runs.
#pragma once

#include <cstddef>
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

// The error a wrong PASS, or a wrong FAIL, may have over all looks together.
inline constexpr double kVerdictAlpha = 0.05;
// No PASS or FAIL with fewer repetitions than this in either cell.
inline constexpr unsigned kMinRepetitions = 5;
inline constexpr const char* kVerdictMethod = "rank bounds, error spent over repetitions";

// The counts per cell at which the verdict looks: 5, 6, 7, 8, 9, 10, then
// about 15% more each time (12, 14, 16, 18, 21, 24, 28, 32, 37, ...). The
// smallest at or above `repetitions`.
unsigned next_look(unsigned repetitions);
// The one-sided error spent on the look at `repetitions` of the two cells
// together: kVerdictAlpha / (j (j + 1)) for the j-th look (2 x 5 is the
// first), 0 for a count that is not a look.
double look_alpha(std::size_t repetitions);

struct Comparison {
  std::string workload;   // the cell group: workload, app O_DIRECT, submit, ...
  std::string kind;       // "loop tax" | "degradation"
  std::string subject;    // the fallback-path cell
  std::string reference;  // what it is compared with
  std::string metric;     // "throughput" | "p99 latency"
  double ratio = 0;       // median(subject) / median(reference)
  Interval ratio_interval;
  double cost = 0;  // > 0: the fallback is worse
  Interval cost_interval;
  Outcome outcome = Outcome::Inconclusive;
  std::optional<unsigned> repetitions_to_decide;  // INCONCLUSIVE only
  std::string note;
  // How the interval was built, and what it guarantees: each end holds at
  // every look at once with probability >= bound_level (the interval as a
  // whole with 2 * bound_level - 1).
  std::string method = kVerdictMethod;
  double bound_level = 1 - kVerdictAlpha;
  // The look that decided: the repetitions of the subject and of the
  // reference counted then (0 while undecided).
  unsigned decided_subject_repetitions = 0, decided_reference_repetitions = 0;
};

// The cells compared with one another: same workload, app O_DIRECT,
// submit, semantics, recordsize and backend; across policy and target.
std::string workload_group(const CellData& cell);
// The same group with `workload` standing for the workload's name (a load
// sweep groups its cells by rw and bs across their iodepth x numjobs).
std::string workload_group(const CellData& cell, const std::string& workload);

// True for the cells whose requests take the patched fallback path.
bool is_fallback_path_cell(const CellData& cell);

// The method needs no random numbers: `seed` is kept for the callers and
// does not change the result.
std::vector<Comparison> compute_verdict(const RunData& run, double threshold, std::uint64_t seed);

// One repetition's value of the compared metric, and when it was recorded
// relative to the other cell's repetitions (ties: the subject's first).
// compute_verdict uses the repetition number: RunData does not carry the
// order of recording across cells (results.db's row id) yet.
struct Measurement {
  std::uint64_t order = 0;
  double value = 0;
};

// The decision on one pair of cells' values (what compute_verdict does for
// each comparison; names left empty). The values must be positive.
Comparison compare_series(const std::vector<Measurement>& subject,
                          const std::vector<Measurement>& reference, bool latency,
                          double threshold);

// One look's interval of median(subject) / median(reference), from all
// the values at once (no sequential spending): the rank bounds on the
// shift between their logarithms (shift_bounds), each end at one-sided
// `alpha`, for latency widened by fio's histogram resolution as the
// verdict's are. The values must be positive. `diobench compare` uses it
// between two runs, whose lengths the verdict did not choose to tell them
// apart.
Interval ratio_bounds(const std::vector<double>& subject, const std::vector<double>& reference,
                      bool latency, double alpha);

// A Markdown paragraph saying how the verdict decides, for a report's
// method section.
std::string verdict_method_text(double threshold);

}  // namespace diobench
