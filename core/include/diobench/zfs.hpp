// The zfs backend's view of OpenZFS: dataset properties through the `zfs`
// command, and the pool's I/O statistics from its kstat, whose direct vs
// ARC counters prove which path requests took (as OpenZFS's own
// tests/zfs-tests/tests/functional/direct/dio.kshlib does).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diobench {

// The pool a dataset belongs to: its name's first part.
std::string pool_of(const std::string& dataset);

// `zfs get -Hp -o value PROPERTY DATASET`; nullopt if it fails.
std::optional<std::string> zfs_get(const std::string& dataset, const std::string& property);
// `zfs set PROPERTY=VALUE DATASET`; false if it fails.
bool zfs_set(const std::string& dataset, const std::string& property, const std::string& value);
// Whether a property's value is the dataset's own (`local`) or comes from
// elsewhere (`default`, `inherited from ...`): a value that was not local
// is put back with `zfs inherit`, not set, so that it stays inherited.
struct PropertyValue {
  std::string value;
  bool local = true;
};
// Where the dataset is mounted: its `mountpoint` when that is an
// absolute path; nullopt for legacy/none or when zfs fails.
std::optional<std::string> zfs_mountpoint(const std::string& dataset);
// `zfs get -Hp -o value,source`; nullopt if it fails.
std::optional<PropertyValue> zfs_get_with_source(const std::string& dataset,
                                                 const std::string& property);
// `zfs inherit PROPERTY DATASET`; false if it fails.
bool zfs_inherit(const std::string& dataset, const std::string& property);
// `zfs create -o NAME=VALUE ... DATASET` (mounted where it inherits its
// mountpoint); false if it fails.
bool zfs_create(const std::string& dataset, const std::map<std::string, std::string>& properties);
// `zfs destroy DATASET` (no -r: a dataset with children or snapshots
// stays); false if it fails.
bool zfs_destroy(const std::string& dataset);

// A pool's iostats kstat: name -> value (direct_read_count, arc_read_bytes, ...).
struct PoolIoStats {
  std::map<std::string, std::uint64_t> values;
  std::uint64_t operator[](const std::string& name) const;  // 0 if absent
  PoolIoStats operator-(const PoolIoStats& before) const;   // per-name deltas
};

// Parses the kstat text ("name type data" rows after two header lines).
PoolIoStats parse_kstat(std::string_view text);
// Reads /proc/spl/kstat/zfs/<pool>/iostats (the root directory can be
// moved with $DIOBENCH_KSTAT_ROOT, for tests); nullopt if absent.
std::optional<PoolIoStats> read_pool_iostats(const std::string& pool);
// The ARC's counters (arcstats, same root): name -> value; nullopt if absent.
std::optional<PoolIoStats> read_arc_stats();
// The ARC's data_size from arcstats (same root), bytes; nullopt if absent.
std::optional<std::uint64_t> read_arc_data_size();

// Dropping the ARC between repetitions, the one sure way: export and
// import the pool (the ARC forgets a pool's buffers when it is exported).
// It unmounts every dataset of the pool for a moment, so it is for pools
// dedicated to benchmarking, and opt-in.
// The pool's leaf vdevs as absolute device paths (`zpool list -vHP`).
std::vector<std::string> pool_devices(const std::string& pool);
bool zpool_export(const std::string& pool);
// `zpool import -d DEV ... POOL`: looks only at the given devices.
bool zpool_import(const std::string& pool, const std::vector<std::string>& devices);
bool pool_imported(const std::string& pool);

}  // namespace diobench
