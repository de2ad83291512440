// The crash guard. OpenZFS 2.3.0 dereferences a NULL mm when a loop
// device's kernel-originated requests reach its Direct I/O path (issue
// 16956, fixed in 2.3.1 by PR 17006): the host goes down. Such a loop
// device is never attached, and such a cell never run, unless the user
// forces it. attach_loop() is the one way the suite (runner and bench
// drivers alike) attaches a loop device.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "diobench/loop_device.hpp"
#include "diobench/runner/cell.hpp"
#include "diobench/target.hpp"

namespace diobench {

// The loaded OpenZFS version: /sys/module/zfs/version, or the file named
// by $DIOBENCH_ZFS_VERSION_FILE (so tests can pose as any version).
std::optional<std::string> loaded_zfs_version();

// The loaded module's Direct I/O rules as a semantics label: "2.3" for
// 2.3.x (and older), "2.4" from 2.4.0 on, "2.4-strict" when its parameter
// zfs_dio_strict is 1; nullopt when no module is loaded.
std::optional<std::string> loaded_module_semantics();

// True for the releases with the bug (2.3.0 and its release candidates).
bool zfs_version_crashes_on_loop_dio(const std::string& version);

// Why `cell` would crash this host, or nullopt when it is safe: a loop
// target whose backing file is on ZFS (`backing_on_zfs`) with a module
// that has the bug, and a policy that sends the loop's requests direct.
std::optional<std::string> crash_risk(const Cell& cell, bool backing_on_zfs,
                                      const std::optional<std::string>& zfs_version);

// What will go through a loop device, as fio spells it: rw= (which
// directions) and bs= (request size; one the rule cannot read counts as
// direct).
struct LoopTraffic {
  std::string rw;
  std::string bs;
};

// Why attaching a loop device over the file `backing` describes (its
// probe_target), with the loop driver's direct I/O `loop_dio`, carrying
// any of `traffic`, would crash this host; nullopt when it is safe. The
// policy is the dataset's own `direct` (one that cannot be read counts as
// `always`). $DIOBENCH_POSE_ZFS_DIRECT=<direct> makes a backing file that
// is not on ZFS count as on a dataset with that `direct` (tests; it can
// only add refusals).
std::optional<std::string> loop_attach_risk(const TargetInfo& backing, bool loop_dio,
                                            const std::vector<LoopTraffic>& traffic,
                                            const std::optional<std::string>& zfs_version);

// Thrown by attach_loop when the guard refuses; what() says why and how
// to force it.
class LoopRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Attaches a loop device over `backing_file` after asking the guard
// (probe_target of the file, loaded_zfs_version()). Throws LoopRefused
// unless `force`; otherwise what LoopDevice throws.
LoopDevice attach_loop(const std::string& backing_file, const LoopOptions& options,
                       const std::vector<LoopTraffic>& traffic, bool force);

}  // namespace diobench
