// RUNDIR/plan.json: what a run was started with that --resume needs
// (backend, scratch area, filters, seed, --until-decided's limits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diobench {

struct PlanFile {
  std::string backend, scratch_dir, dataset, bench = "none", arc_drop = "none";
  std::vector<std::string> filters;
  unsigned repetitions = 1;
  std::uint64_t seed = 0;
  // --until-decided, when the run was started with it.
  struct Decision {
    double budget_s = 0;
    unsigned max_repetitions = 0;
    double threshold = 0.05;
  };
  std::optional<Decision> until_decided;
  // zfs backend: the dataset the run works in (a child of `dataset` the
  // run creates, or `dataset` itself with --in-place). A plan without it
  // (older diobench) worked in place.
  std::string work_dataset;
  // A fleet run: its hosts (HOST[:PORT]) and the ssh command; none: local.
  std::vector<std::string> hosts;
  std::string ssh;
};

// A plan from its JSON text. Throws std::invalid_argument naming `origin`
// when the text is not a plan: bad input, not a failed run (exit 2).
PlanFile parse_plan(const std::string& text, const std::string& origin);
// The same from a file; std::invalid_argument too when it is missing.
PlanFile read_plan(const std::string& file);

}  // namespace diobench
