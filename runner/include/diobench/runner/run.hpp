// `diobench run`: a profile's matrix, repetitions in randomized order,
// each on a freshly prepared cold target, stored in a run directory.
//
// Run directory:
//   profile.ini, job.fio   copies of what ran
//   plan.json              backend, filters, seed, --until-decided's budget,
//                          cap and threshold, a fleet's hosts: what --resume needs
//   journal.jsonl          undo journal (removed once nothing is left to undo)
//   results.db             the SQLite index (result_store.hpp)
//   raw/<cell>/rep<N>.json            fio's output as fio wrote it
//   raw/<cell>/rep<N>.counters.jsonl  the engine's sidecar
//   raw/<cell>/rep<N>.log             fio's own messages
//   bench/bench.json, bench/bench.log  the Google Benchmark drivers' JSON as
//                          they wrote it, and their messages (profile [bench])
//   current.json           the repetition running now (crash_record.hpp)
//   A fleet run (fleet_run.hpp) adds, per repetition, raw/<cell>/rep<N>.fio
//   (the job the hosts ran), .hosts (fio's host list), .HOST:PORT.counters.jsonl
//   (each host's sidecar) and .hosts.d/ (what each host's set-up said).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "diobench/runner/decision.hpp"
#include "diobench/runner/profile.hpp"

namespace diobench {

struct RunOptions {
  std::string profile_path;
  std::string backend = "emulated";
  std::string scratch_dir = "/var/tmp/diobench";
  std::string dataset;  // zfs backend: the user's dataset
  // zfs backend: work in `dataset` itself (its direct= set back at the
  // end) instead of in a child dataset the run creates and destroys.
  bool in_place = false;
  // zfs backend: the dataset the run works in (the child, or `dataset`);
  // a resumed run's from its plan, else made up when the run starts.
  std::string work_dataset;
  std::string out_dir;                  // the run directory (created)
  std::optional<unsigned> repetitions;  // overrides the profile's
  std::vector<std::string> filters;
  std::optional<std::uint64_t> seed;  // overrides the profile's
  bool force_unsafe = false;
  std::string engine_path;
  bool resume = false;  // out_dir is an interrupted run to finish
  // zfs backend: how the ARC is emptied before each repetition: "auto"
  // (export where the pool allows it, else the run is refused with the
  // reason), "export" (zpool export + import of the whole pool, without
  // the checks of auto: the caller vouches the pool is dedicated to
  // benchmarking), or "none" (opted out: later repetitions may be served
  // by the ARC). Elsewhere: "none".
  std::string arc_drop = "auto";
  // --until-decided: after the base repetitions, add repetitions to the
  // cells of undecided comparisons (decision.hpp); the budget and cap
  // override the profile's, `decider` computes the verdict.
  bool until_decided = false;
  std::optional<double> budget_s;
  std::optional<unsigned> max_repetitions;
  double threshold = 0.05;
  Decider decider;
  // The bench drivers: none, all or a filter (overrides the profile's
  // [bench] drivers), and where their binary is.
  std::optional<std::string> bench_drivers;
  std::string bench_path;
  // A fleet run (fleet.hpp): HOST[:PORT] of each host (overrides the
  // profile's [hosts]), the ssh command that reaches them (words; empty:
  // ssh -o BatchMode=yes), and diobench's path, on every host the same.
  std::vector<std::string> hosts;
  std::string ssh;
  std::string diobench_path;
};

struct RunOutcome {
  unsigned ok = 0, failed = 0, skipped = 0, left = 0;
  bool interrupted = false;
  // Why the run stopped before its end, when something every later
  // repetition would repeat happened (a full filesystem); "" otherwise.
  std::string stopped;
  // --until-decided: comparisons decided and still open when it stopped.
  std::size_t decided = 0, open = 0;
  int signal = 0;
  // The bench drivers: "" not asked for, "ok", "skipped: ...", or what
  // went wrong ("N drivers reported errors", "failed: ...").
  std::string bench;
  bool bench_failed() const {
    return !bench.empty() && bench != "ok" && bench.rfind("skipped", 0) != 0;
  }
};

// Throws ProfileError / std::invalid_argument for bad input (exit 2 at the
// command line) and std::runtime_error when the run cannot start.
RunOutcome execute_run(const RunOptions& options, std::ostream& out, std::ostream& progress);

// The plan without running it: cells after filters, in profile order.
Profile plan_run(const RunOptions& options);

}  // namespace diobench
