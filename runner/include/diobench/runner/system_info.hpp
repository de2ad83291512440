// What a result depends on besides the cell, recorded once per run
// (after OpenZFS's perf tests, which keep a config.json beside results).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace diobench {

// Kernel, CPU model and count, memory, the filesystem of `scratch_dir`
// with its mount options, the block device below it and its scheduler,
// the fio version, and, when loaded, the ZFS version and tunables; plus
// every DIOBENCH_SYSINFO_A_B=value in the environment as "a.b" (how the
// qemu lane records its accelerator, guest kernel and ZFS package).
std::map<std::string, std::string> collect_system_info(const std::string& scratch_dir);

// The block device holding `path` (sysfs name, e.g. "vda" or "vda1"), or
// nullopt on filesystems without one (tmpfs, ZFS datasets).
std::optional<std::string> block_device_of(const std::string& path);

// Bytes read and written so far by a block device, from
// /sys/class/block/<name>/stat (sectors are 512 bytes there, always).
struct DeviceCounters {
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
};
std::optional<DeviceCounters> device_counters(const std::string& name);

// What a pool's disks are below it: each leaf vdev's block device (sysfs
// name) that has counters.
std::vector<std::string> pool_block_devices(const std::string& pool);

// What a block device moved in a repetition: the counters' difference.
struct DeviceIo {
  std::string device;  // e.g. "vda", "loop3"
  std::string role;    // "storage" (under the scratch area) or "loop"
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
};
// The device's counters now less `before`; nullopt when either is unknown.
std::optional<DeviceIo> device_delta(const std::string& name, const std::string& role,
                                     const std::optional<DeviceCounters>& before);

// fsync of a file or block device (for a block device: its page cache
// written through to the device); failures only mean less was flushed.
void sync_to_storage(const std::string& path);

}  // namespace diobench
