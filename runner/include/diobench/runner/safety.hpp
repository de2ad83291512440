// The crash guard. Two loop hazards take a host down:
// - OpenZFS 2.3.0 dereferences a NULL mm when a loop device's
//   kernel-originated requests reach its Direct I/O path (issue 16956,
//   fixed in 2.3.1 by PR 17006): the kernel crashes.
// - Before 2.3.3 a loop device's write that the block layer cut inside a
//   multi-page bvec is retried forever (issue 17277, fixed in 2.3.3 by PR
//   17298; docs/design.md §2.1): under `standard` or `always` inside an
//   open transaction, so the pool stops; under `disabled` the request
//   never ends.
// Such a loop device is never attached, and such a cell never run, unless
// the user forces it. attach_loop() is the one way the suite (runner and
// bench drivers alike) attaches a loop device.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "diobench/loop_device.hpp"
#include "diobench/policy.hpp"
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

// True for the releases with the crash (2.3.0 and its release candidates).
bool zfs_version_crashes_on_loop_dio(const std::string& version);

// What will go through a loop device, as fio spells it: rw= (which
// directions), bs= (request size; one the rule cannot read counts as
// direct) and direct= (false: the writes go through the loop device's page
// cache, whose writeback hands the loop driver the requests).
struct LoopTraffic {
  std::string rw;
  std::string bs;
  bool app_direct = true;
};

// True for the releases before 2.3.3 (the X.Y.Z a version starts with; one
// that does not start so counts too): issue 17277. The lane's variants of
// 2.3.2 count, whatever their patch.
bool zfs_version_hangs_on_cut_loop_writes(const std::string& version);

// The largest request a loop device always hands its backing file whole:
// 128 pages (the loop queue's max_segments, at least a page each; its
// max_sectors_kb is 1280).
constexpr std::uint64_t kLoopUncutBytes = 128 * 4096;

// True when a loop device's `traffic` may reach its backing file as a
// write cut inside a bvec: O_DIRECT writes larger than kLoopUncutBytes (a
// bs= the rule cannot read counts), through a loop device with dio on, or
// with dio off on a kernel that hands the file whole requests (a
// page-by-page kernel hands it single pages). Writes through the loop
// device's page cache are not counted: its writeback's pages would have to
// be physically adjacent where the block layer cuts, and the lane saw none
// hang (docs/design.md §2.1).
bool loop_writes_may_be_cut(const LoopTraffic& traffic, bool loop_dio, LoopBuffered loop_buffered);

// Why `cell` would crash or hang this host, or nullopt when it is safe: a
// loop target whose backing file is on ZFS (`backing_on_zfs`) with a
// module that has the crash and a policy that sends the loop's requests
// direct, or with a module that has the hang and writes that may be cut.
std::optional<std::string> crash_risk(const Cell& cell, bool backing_on_zfs,
                                      const std::optional<std::string>& zfs_version);

// Why attaching a loop device over the file `backing` describes (its
// probe_target), with the loop driver's direct I/O `loop_dio`, carrying
// any of `traffic`, would crash or hang this host; nullopt when it is safe. The
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
