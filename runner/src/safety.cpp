#include "diobench/runner/safety.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <tuple>

#include "diobench/kernel.hpp"
#include "diobench/policy.hpp"
#include "diobench/units.hpp"

namespace diobench {

std::optional<std::string> loaded_zfs_version() {
  const char* file = std::getenv("DIOBENCH_ZFS_VERSION_FILE");
  if (!file || !*file) return zfs_module_version();
  std::ifstream in(file);
  std::string v;
  if (!(in >> v)) return std::nullopt;
  return v;
}

std::optional<std::string> loaded_module_semantics() {
  const std::optional<std::string> version = loaded_zfs_version();
  if (!version) return std::nullopt;
  unsigned major = 0, minor = 0;
  if (std::sscanf(version->c_str(), "%u.%u", &major, &minor) != 2) return std::nullopt;
  if (major < 2 || (major == 2 && minor < 4)) return "2.3";
  std::ifstream strict("/sys/module/zfs/parameters/zfs_dio_strict");
  int on = 0;
  return strict >> on && on == 1 ? "2.4-strict" : "2.4";
}

bool zfs_version_crashes_on_loop_dio(const std::string& version) {
  // "2.3.0", "2.3.0-1", "2.3.0-rc5": Direct I/O arrived in 2.3.0 and the
  // fix in 2.3.1.
  // The qemu lane's "unfixed" build (scripts/zfs-vm build --unfixed) puts
  // the bug back into a 2.3.2 module and says so in its version.
  return version == "2.3.0" || version.rfind("2.3.0-", 0) == 0 ||
         version.find("diobench_unfixed") != std::string::npos;
}

bool zfs_version_hangs_on_cut_loop_writes(const std::string& version) {
  unsigned major = 0, minor = 0, patch = 0;
  if (std::sscanf(version.c_str(), "%u.%u.%u", &major, &minor, &patch) != 3) return true;
  return std::tie(major, minor, patch) < std::make_tuple(2u, 3u, 3u);
}

bool loop_writes_may_be_cut(const LoopTraffic& traffic, bool loop_dio, LoopBuffered loop_buffered) {
  if (!rw_writes(traffic.rw)) return false;
  if (!loop_dio && loop_buffered == LoopBuffered::PerPage) return false;
  if (!traffic.app_direct) return false;
  const std::optional<std::uint64_t> bs = parse_size(traffic.bs);
  return !bs || *bs == 0 || *bs > kLoopUncutBytes;
}

namespace {

bool module_crashes(bool backing_on_zfs, const std::optional<std::string>& zfs_version) {
  return backing_on_zfs && zfs_version && zfs_version_crashes_on_loop_dio(*zfs_version);
}

bool module_hangs(bool backing_on_zfs, const std::optional<std::string>& zfs_version) {
  return backing_on_zfs && zfs_version && zfs_version_hangs_on_cut_loop_writes(*zfs_version);
}

// Why, once the loop's requests are known to take the Direct I/O path.
std::string refusal(const std::string& zfs_version, Policy policy, bool loop_dio,
                    const LoopTraffic& traffic) {
  return "refused: OpenZFS " + zfs_version +
         " crashes the host (NULL pointer dereference, OpenZFS issue 16956) when a loop "
         "device's requests take the Direct I/O path, as direct=" +
         std::string(to_string(policy)) + " with loop dio " + (loop_dio ? "on" : "off") +
         " does for " + traffic.rw + " of " + traffic.bs +
         "; fixed in 2.3.1. Upgrade, or pass --force-unsafe on a machine you can lose.";
}

// Why, once the loop's writes are known to be cuttable.
std::string hang_refusal(const std::string& zfs_version, bool loop_dio,
                         const LoopTraffic& traffic) {
  return "refused: OpenZFS " + zfs_version +
         " can hang the host (OpenZFS issue 17277: a loop device's write cut inside a "
         "multi-page bvec is retried forever, under direct=standard or always inside an open "
         "transaction that stops the pool) with loop dio " +
         (loop_dio ? "on" : "off") + " for O_DIRECT " + traffic.rw + " of " + traffic.bs +
         " (requests over 512 KiB may be cut); fixed in 2.3.3. Upgrade, or pass --force-unsafe on "
         "a machine you can lose.";
}

}  // namespace

std::optional<std::string> crash_risk(const Cell& cell, bool backing_on_zfs,
                                      const std::optional<std::string>& zfs_version) {
  if (cell.target != TargetKind::Loop) return std::nullopt;
  const bool loop_dio = cell.loop_dio.value_or(false);
  const LoopTraffic traffic{cell.workload.rw, cell.workload.bs, cell.app_direct};
  if (module_crashes(backing_on_zfs, zfs_version) && cell.loop_takes_direct_path())
    return refusal(*zfs_version, cell.policy, loop_dio, traffic);
  if (module_hangs(backing_on_zfs, zfs_version) &&
      loop_writes_may_be_cut(traffic, loop_dio, running_loop_buffered()))
    return hang_refusal(*zfs_version, loop_dio, traffic);
  return std::nullopt;
}

std::optional<std::string> loop_attach_risk(const TargetInfo& backing, bool loop_dio,
                                            const std::vector<LoopTraffic>& traffic,
                                            const std::optional<std::string>& zfs_version) {
  std::optional<std::string> direct;
  if (backing.fs_type == "zfs") {
    direct = backing.zfs ? backing.zfs->direct : "";
  } else if (const char* posed = std::getenv("DIOBENCH_POSE_ZFS_DIRECT"); posed && *posed) {
    direct = posed;
  }
  if (!direct) return std::nullopt;
  PolicyConfig config;
  config.policy = parse_policy(*direct).value_or(Policy::Always);
  if (backing.zfs && backing.zfs->recordsize) config.recordsize = backing.zfs->recordsize;
  config.loop_buffered = running_loop_buffered();
  for (const LoopTraffic& t : traffic) {
    if (module_crashes(true, zfs_version) &&
        loop_workload_takes_direct_path(config, t.rw, t.bs, loop_dio)) {
      return refusal(*zfs_version, config.policy, loop_dio, t);
    }
    if (module_hangs(true, zfs_version) &&
        loop_writes_may_be_cut(t, loop_dio, config.loop_buffered)) {
      return hang_refusal(*zfs_version, loop_dio, t);
    }
  }
  return std::nullopt;
}

LoopDevice attach_loop(const std::string& backing_file, const LoopOptions& options,
                       const std::vector<LoopTraffic>& traffic, bool force) {
  if (!force) {
    if (auto why = loop_attach_risk(probe_target(backing_file), options.direct_io, traffic,
                                    loaded_zfs_version())) {
      throw LoopRefused("loop device over " + backing_file + " " + *why);
    }
  }
  return LoopDevice(backing_file, options);
}

}  // namespace diobench
