#include "diobench/runner/decision.hpp"

#include <algorithm>
#include <random>

namespace diobench {

namespace {

unsigned attempts_of(const std::map<std::string, unsigned>& attempts, const std::string& cell) {
  const auto it = attempts.find(cell);
  return it == attempts.end() ? 0 : it->second;
}

// How many repetitions per cell the comparison should have after this batch.
unsigned batch_goal(const OpenComparison& c, unsigned have, unsigned cap) {
  const unsigned step = std::max(2u, have / 2);
  unsigned goal = have + step;
  if (c.repetitions_to_decide) goal = std::clamp(*c.repetitions_to_decide, have + 1, have + step);
  return std::min(goal, cap);
}

}  // namespace

std::vector<PlannedRepetition> plan_batch(const DecisionState& state,
                                          const std::map<std::string, unsigned>& attempts,
                                          unsigned cap, std::uint64_t seed) {
  std::map<std::string, unsigned> goal;  // cell -> repetitions after the batch
  for (const OpenComparison& c : state.open) {
    const unsigned have =
        std::min(attempts_of(attempts, c.subject), attempts_of(attempts, c.reference));
    const unsigned g = batch_goal(c, have, cap);
    for (const std::string& cell : {c.subject, c.reference}) goal[cell] = std::max(goal[cell], g);
  }
  std::vector<PlannedRepetition> batch;
  for (const auto& [cell, g] : goal) {
    const unsigned have = attempts_of(attempts, cell);
    for (unsigned r = have + 1; r <= g; ++r) batch.push_back({cell, r, r - have});
  }
  std::mt19937_64 rng(seed);
  std::shuffle(batch.begin(), batch.end(), rng);
  return batch;
}

std::vector<PlannedRepetition> fit_to_budget(std::vector<PlannedRepetition> batch,
                                             const std::function<double(const std::string&)>& cost,
                                             double seconds_left, std::uint64_t seed) {
  std::stable_sort(batch.begin(), batch.end(),
                   [](const auto& a, const auto& b) { return a.round < b.round; });
  double total = 0;
  std::size_t keep = 0;
  while (keep < batch.size() && total + cost(batch[keep].cell) <= seconds_left) {
    total += cost(batch[keep++].cell);
  }
  batch.resize(keep);
  std::mt19937_64 rng(seed);
  std::shuffle(batch.begin(), batch.end(), rng);
  return batch;
}

}  // namespace diobench
