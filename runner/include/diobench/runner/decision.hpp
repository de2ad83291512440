// `diobench run --until-decided`: after the base repetitions, repetitions
// are added only to the cells of comparisons the verdict has not decided
// yet, in batches, until every comparison is decided or the budget or the
// per-cell cap is reached.
//
// The runner does not compute the verdict itself: whoever starts the run
// hands it a Decider (the command line wires in the reports library's
// verdict), so the runner stays independent of the reports.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace diobench {

// A comparison the verdict has not decided.
struct OpenComparison {
  std::string label;               // what is compared, for people
  std::string subject, reference;  // the two cells' names
  // The verdict method's estimate of the repetitions per cell that would
  // decide it (in all, not added); nullopt when it has none.
  std::optional<unsigned> repetitions_to_decide;
  std::string note;  // the method's own word on it, if any
};

struct DecisionState {
  std::size_t decided = 0;  // PASS, FAIL or CRASH
  std::vector<OpenComparison> open;
};

// The verdict of the run directory as it stands, at `threshold` (a
// fraction, 0.05 for 5%).
using Decider = std::function<DecisionState(const std::string& run_dir, double threshold)>;

struct PlannedRepetition {
  std::string cell;
  unsigned repetition = 0;  // 1-based, per cell
  unsigned round = 0;       // 1: the first added to its cell in this batch
  bool operator==(const PlannedRepetition&) const = default;
};

// The next batch: for each open comparison, both of its cells grow to the
// repetitions the method expects to decide it, by at least one and at
// most half again what they have (at least two), never past `cap`
// (repetitions per cell, counting every attempt). `attempts` is the
// highest repetition number each cell has used. The batch comes in a
// random order from `seed`, so the two cells of a comparison interleave.
std::vector<PlannedRepetition> plan_batch(const DecisionState& state,
                                          const std::map<std::string, unsigned>& attempts,
                                          unsigned cap, std::uint64_t seed);

// The batch cut to what `seconds_left` affords at `cost` seconds per
// repetition of a cell: whole rounds first (every cell its first added
// repetition, then every cell its second, ...), so the cells of a
// comparison stay level; then reshuffled from `seed`.
std::vector<PlannedRepetition> fit_to_budget(std::vector<PlannedRepetition> batch,
                                             const std::function<double(const std::string&)>& cost,
                                             double seconds_left, std::uint64_t seed);

}  // namespace diobench
