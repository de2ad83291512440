// Target probing: what the workload opens (regular file, block device, loop
// device) and what lies beneath it (filesystem, ZFS dataset and its
// properties, OpenZFS module version). The engine, the runner and the
// reports read targets through this one description.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace diobench {

enum class TargetKind { File, Block, Loop };

std::string to_string(TargetKind kind);  // "file", "block", "loop"

// The loop driver's view of a /dev/loopN: read from sysfs
// (/sys/block/loopN/loop/{backing_file,dio}, queue/logical_block_size).
struct LoopInfo {
  std::string backing_file;
  bool direct_io = false;
  std::uint32_t logical_block_size = 512;
};

// A ZFS dataset holding the target (or the loop device's backing file).
struct ZfsDataset {
  std::string name;              // pool/dataset, from /proc/self/mountinfo
  std::string direct;            // "disabled" | "standard" | "always" ("" if unknown)
  std::uint64_t recordsize = 0;  // bytes (0 if unknown)
  std::string pool() const;      // part before the first '/'
};

struct TargetInfo {
  TargetKind kind = TargetKind::File;
  std::string path;       // as given
  std::string fs_type;    // filesystem holding the file or the loop's backing file
  std::string fs_source;  // mount source (device or dataset name)
  std::string mount_point;
  std::optional<LoopInfo> loop;            // kind == Loop
  std::optional<ZfsDataset> zfs;           // fs_type == "zfs"
  std::uint32_t logical_block_size = 512;  // block devices; files: 512
};

// Probes `path`; throws std::system_error (errno kept) if it cannot be
// stat'ed. ZFS properties are read with `zfs get` when the zfs command exists;
// missing tools leave the fields empty rather than failing.
TargetInfo probe_target(const std::string& path);

// "2.3.2-1" etc. from /sys/module/zfs/version; nullopt if ZFS is not loaded.
std::optional<std::string> zfs_module_version();

}  // namespace diobench
