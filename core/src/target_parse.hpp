// The pure parts of target probing, split out so that the tests can feed
// them literal lines instead of this machine's mounts: /proc/self/mountinfo
// read with libmount, the choice of the mount that holds a file, and the output of
// `zfs get`. Internal to the core library; not installed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diobench/mounts.hpp"

namespace diobench::detail {

using diobench::MountEntry;

// The kernel writes space, tab, newline and backslash in paths as \040,
// \011, \012 and \134; anything else is kept as it is (libmount's
// mnt_unmangle, as its parser decodes every field).
std::string decode_mount_escapes(std::string_view field);

// Every well-formed line of a mountinfo text, in order (libmount; see
// proc(5) for the format).
std::vector<MountEntry> parse_mountinfo(std::string_view text);

// One line of it; nullopt for a malformed line (too few fields, no " - "
// separator, major:minor not numeric).
std::optional<MountEntry> parse_mountinfo_line(std::string_view line);

// The mount holding a file whose st_dev is major:minor and whose canonical
// path is `path` ("" when unknown). Among the entries with that device (bind
// mounts share it; ZFS datasets each have their own anonymous 0:N device),
// the one whose mount point is the longest prefix of `path` wins, and among
// equals the last, i.e. the mount on top. Without a prefix match the last
// entry with the device wins. When no entry has the device (btrfs
// subvolumes report their own), the longest mount point prefix does.
std::optional<MountEntry> find_mount(const std::vector<MountEntry>& mounts, unsigned int major,
                                     unsigned int minor, std::string_view path);

// The dataset properties the suite needs.
struct ZfsProperties {
  std::string direct;            // "" if unknown (e.g. zfs < 2.3)
  std::uint64_t recordsize = 0;  // 0 if unknown
};

// Parses `zfs get -Hp -o property,value direct,recordsize DATASET`: one
// "property<TAB>value" line per property, in any order; "-" means unknown.
ZfsProperties parse_zfs_get(std::string_view output);

// Runs that query with the first `zfs` found in PATH (falling back to
// recordsize alone for a zfs without the `direct` property). Returns empty
// properties when there is no zfs command or it fails.
ZfsProperties read_zfs_properties(const std::string& dataset);

// A zfs or zpool command's time limit: tens of seconds for a query or a
// property change, longer for exporting (the pool's dirty data is
// written) and importing (its devices are read).
constexpr double kZfsCommandTimeoutS = 30;
constexpr double kPoolExportImportTimeoutS = 300;

// Runs the first `zfs` in PATH with `args`; its stdout when it exits 0,
// nullopt otherwise (or when there is no zfs command, or it ran past
// `timeout_s` and was killed).
std::optional<std::string> run_zfs(const std::vector<std::string>& args,
                                   double timeout_s = kZfsCommandTimeoutS);
// The same for `zpool`.
std::optional<std::string> run_zpool(const std::vector<std::string>& args,
                                     double timeout_s = kZfsCommandTimeoutS);

}  // namespace diobench::detail
