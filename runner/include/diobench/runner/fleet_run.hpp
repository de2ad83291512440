// A repetition on a fleet (fleet.hpp, docs/design.md §7.9): set up on
// every host over ssh, measured on all of them at once by one fio client
// (`--client=HOST,PORT JOB` per host: each host's job names what fio opens
// there), one row per host and fio's sum over them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diobench/runner/cell.hpp"
#include "diobench/runner/fleet.hpp"
#include "diobench/runner/profile.hpp"
#include "diobench/runner/result_store.hpp"

namespace diobench {

// zfs backend on a fleet: the user's dataset (the same name on every
// host), the child each host works in, and how each empties its ARC.
struct FleetZfs {
  std::string dataset, work_dataset, arc_drop;
};

struct FleetSettings {
  std::vector<HostSpec> hosts;
  HostShell shell;
  HostPaths paths;              // the scratch area on every host, the run's name
  std::string engine;           // the engine's path, on every host the same
  bool force_unsafe = false;    // the hosts attach loop devices their crash guard refuses
  std::string run_dir;          // this machine's run directory
  std::optional<FleetZfs> zfs;  // none: the emulated backend
};

// The repetition's rows: every host's, in the hosts' order, then the sum
// (host kAllHosts, last). A host whose set-up failed or that fio lost
// fails its own row with the reason; the sum is ok only when every host
// is (a sum over fewer hosts would not compare with the others).
std::vector<RepetitionRecord> run_fleet_repetition(const Cell& cell, unsigned repetition,
                                                   unsigned position, const Profile& profile,
                                                   const FleetSettings& fleet);

// The same rows for a repetition not run (skipped): `like` for each host
// and for the sum.
std::vector<RepetitionRecord> fleet_rows(const RepetitionRecord& like, const FleetSettings& fleet);

// What a row of `host` (HOST,PORT or ADDR,PORT as fio names it:
// HostSpec::fio_result_name; or kAllHosts) stores of fio's result: that
// host's jobs, or the sum (with one host, which fio does not sum, that
// host's). nullopt when the result has none.
std::optional<FioResult> host_view(const FioResult& all, const std::string& host,
                                   std::size_t host_count);

// At the end of the run: every host's journal undone (its scratch file
// removed). Returns what went wrong, each prefixed with its host.
std::vector<std::string> finish_fleet(const FleetSettings& fleet);

// `diobench restore RUNDIR` of a fleet run: finish_fleet on the hosts its
// plan.json names (none: a local run, nothing to do), reached with its
// ssh command; `diobench` is diobench's path on the hosts.
std::vector<std::string> restore_fleet(const std::string& run_dir, const std::string& diobench);

}  // namespace diobench
