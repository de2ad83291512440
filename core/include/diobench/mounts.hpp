// The machine's mount tables, read with libmount (util-linux): the
// mountinfo format (/proc/self/mountinfo) and the mounts/fstab format
// (/proc/self/mounts), told apart by libmount itself, escapes decoded.
// Lines libmount cannot parse are left out. Why libmount: docs/design.md,
// "Libraries".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace diobench {

struct MountEntry {
  unsigned int major = 0;  // st_dev of the files on this mount (mountinfo only)
  unsigned int minor = 0;
  std::string root;  // the mount's root within its filesystem; "" outside mountinfo
  std::string mount_point;
  std::string fs_type;  // "ext4", "zfs", "fuse.sshfs", ...
  std::string source;   // device, or the dataset name for ZFS
  std::string options;  // as the table gives them (mounts: VFS and filesystem options)
};

// Every entry of a mount table's text, in order.
std::vector<MountEntry> parse_mount_table(std::string_view text);
// The same from a file; empty when it cannot be read.
std::vector<MountEntry> read_mount_table(const std::string& file);

}  // namespace diobench
