#include "diobench/runner/safety.hpp"

#include <cstdlib>
#include <fstream>

#include "diobench/target.hpp"

namespace diobench {

std::optional<std::string> loaded_zfs_version() {
  const char* file = std::getenv("DIOBENCH_ZFS_VERSION_FILE");
  if (!file || !*file) return zfs_module_version();
  std::ifstream in(file);
  std::string v;
  if (!(in >> v)) return std::nullopt;
  return v;
}

bool zfs_version_crashes_on_loop_dio(const std::string& version) {
  // "2.3.0", "2.3.0-1", "2.3.0-rc5": Direct I/O arrived in 2.3.0 and the
  // fix in 2.3.1.
  // The qemu lane's "unfixed" build (scripts/zfs-vm build --unfixed) puts
  // the bug back into a 2.3.2 module and says so in its version.
  return version == "2.3.0" || version.rfind("2.3.0-", 0) == 0 ||
         version.find("diobench_unfixed") != std::string::npos;
}

std::optional<std::string> crash_risk(const Cell& cell, bool backing_on_zfs,
                                      const std::optional<std::string>& zfs_version) {
  if (cell.target != TargetKind::Loop || !backing_on_zfs || !zfs_version) return std::nullopt;
  if (!zfs_version_crashes_on_loop_dio(*zfs_version)) return std::nullopt;
  if (!cell.loop_takes_direct_path()) return std::nullopt;
  return "refused: OpenZFS " + *zfs_version +
         " crashes the host (NULL pointer dereference, OpenZFS issue 16956) when a loop "
         "device's requests take the Direct I/O path, as direct=" +
         std::string(to_string(cell.policy)) + " with loop dio " +
         (cell.loop_dio.value_or(false) ? "on" : "off") +
         " does for " + cell.workload.rw + " of " + cell.workload.bs + "; fixed in 2.3.1. Upgrade, or pass --force-unsafe on a machine you can lose.";
}

}  // namespace diobench
