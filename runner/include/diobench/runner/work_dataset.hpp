// The zfs backend's dataset under test. By default a run does not touch
// the user's dataset: it creates a child of it to work in (mounted below
// it, inheriting its recordsize, compression and the rest), sets `direct`
// there, and destroys the child when it ends. The child's creation is
// journaled first, and the child carries the run's token in a user
// property, so `diobench restore` destroys it after a kill, and nothing
// else. With --in-place the run works on the user's dataset itself and
// sets its property back (PropertyOverride).
#pragma once

#include <string>

#include "diobench/runner/journal.hpp"

namespace diobench {

// The user property that marks a dataset as made by a run: its value is
// the run's token.
inline constexpr const char* kRunTokenProperty = "diobench:run";

// "PARENT/diobench-<16 random hex digits>": a new child's name.
std::string new_work_dataset_name(const std::string& parent);
// Whether `name` is such a child of `parent` (a resumed run's plan is
// checked with it: the run creates and destroys nothing else).
bool is_work_dataset_name(const std::string& name, const std::string& parent);

// The scratch area on a dataset the run works in, below its mountpoint.
std::string zfs_scratch_dir(const std::string& mountpoint);

class WorkDataset {
 public:
  // Creates `name` (journaled first; std::runtime_error naming it if zfs
  // cannot), or takes it up again when it exists with this run's token
  // (a resumed run); a dataset of that name without the token is refused
  // (std::invalid_argument: not ours).
  WorkDataset(Journal& journal, std::string name);
  ~WorkDataset();  // destroys it (journaled); on failure restore retries; never throws
  WorkDataset(const WorkDataset&) = delete;
  WorkDataset& operator=(const WorkDataset&) = delete;

  // Left for a later process (a fleet host's dataset outlives the command
  // that made it; its journal entry destroys it at the end).
  void keep() { kept_ = true; }
  const std::string& name() const { return name_; }
  const std::string& mountpoint() const { return mountpoint_; }

 private:
  Journal& journal_;
  std::string name_, token_, mountpoint_;
  bool kept_ = false;
};

}  // namespace diobench
