// The crash guard. OpenZFS 2.3.0 dereferences a NULL mm when a loop
// device's kernel-originated requests reach its Direct I/O path (issue
// 16956, fixed in 2.3.1 by PR 17006): the host goes down. Such a cell is
// never run unless the user forces it.
#pragma once

#include <optional>
#include <string>

#include "diobench/runner/cell.hpp"

namespace diobench {

// The loaded OpenZFS version: /sys/module/zfs/version, or the file named
// by $DIOBENCH_ZFS_VERSION_FILE (so tests can pose as any version).
std::optional<std::string> loaded_zfs_version();

// True for the releases with the bug (2.3.0 and its release candidates).
bool zfs_version_crashes_on_loop_dio(const std::string& version);

// Why `cell` would crash this host, or nullopt when it is safe: a loop
// target whose backing file is on ZFS (`backing_on_zfs`) with a module
// that has the bug, and a policy that sends the loop's requests direct.
std::optional<std::string> crash_risk(const Cell& cell, bool backing_on_zfs,
                                      const std::optional<std::string>& zfs_version);

}  // namespace diobench
