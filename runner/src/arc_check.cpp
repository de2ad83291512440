#include "diobench/runner/arc_check.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "diobench/mounts.hpp"

namespace diobench {

namespace fs = std::filesystem;

std::map<std::string, std::uint64_t> arc_deltas(const PoolIoStats& before,
                                                const PoolIoStats& after) {
  std::map<std::string, std::uint64_t> kept;
  for (const auto& [name, value] : after.values) {
    if (name == "demand_data_hits" || name == "demand_data_misses" || name == "mru_data" ||
        name == "mfu_data" || name.rfind("uncached_", 0) == 0) {
      const std::uint64_t was = before[name];
      kept[name] = value >= was ? value - was : 0;
    }
  }
  return kept;
}

std::optional<std::string> check_arc(const PathCounters& expected,
                                     const std::map<std::string, std::uint64_t>& deltas) {
  const std::uint64_t direct_reads = expected.bucket(Direction::Read, Path::Direct).requests;
  const auto hits = deltas.find("demand_data_hits");
  if (direct_reads == 0 || hits == deltas.end()) return std::nullopt;
  if (hits->second <= 16 || hits->second * 20 <= direct_reads) return "ok";
  return "the ARC served " + std::to_string(hits->second) +
         " demand data reads (demand_data_hits) "
         "where the model sends " +
         std::to_string(direct_reads) +
         " reads to disk by the direct path: the ARC was not empty, the repetition measured it";
}

std::string check_split(const PathCounters& expected, const PoolIoStats& delta) {
  std::string verdict = "agrees";
  for (Direction dir : {Direction::Read, Direction::Write}) {
    const std::uint64_t want =
        expected.bucket(dir, Path::Direct).bytes + expected.bucket(dir, Path::Split).direct_bytes;
    const std::string side = dir == Direction::Read ? "read" : "write";
    const std::uint64_t seen = delta["direct_" + side + "_bytes"];
    if ((want > 0) != (seen > 0)) verdict = "contradicts";
  }
  return verdict;
}

void check_zfs_repetition(RepetitionRecord& rec, const std::optional<PoolIoStats>& pool_delta) {
  if (!rec.arcstats.empty()) rec.arc_check = check_arc(*rec.counters, rec.arcstats);
  if (!pool_delta) return;
  rec.split_check = check_split(*rec.counters, *pool_delta);
  if (rec.split_check != "agrees") {
    rec.message = "the pool's iostats contradict the expected path split";
  }
}

std::optional<std::string> empty_arc_by_export(Journal& journal, const std::string& pool,
                                               const std::vector<std::string>& devices,
                                               const std::string& file) {
  journal.pool_exporting(pool, devices);
  if (!zpool_export(pool)) {
    journal.pool_imported(pool);  // nothing happened
    return "zpool export " + pool + " failed (in use?); cannot drop the ARC";
  }
  if (!zpool_import(pool, devices)) {
    throw std::runtime_error("zpool import " + pool +
                             " failed after exporting it to drop the ARC; "
                             "`diobench restore` retries");
  }
  journal.pool_imported(pool);
  if (!fs::exists(file)) {
    throw std::runtime_error("after zpool import " + pool + ", " + file +
                             " is not there (dataset not mounted again?)");
  }
  return std::nullopt;
}

namespace {

std::vector<MountEntry> mounts() {
  const char* file = std::getenv("DIOBENCH_MOUNTS");
  return read_mount_table(file && *file ? file : "/proc/self/mounts");
}

bool in_pool(const std::string& dataset, const std::string& pool) {
  return dataset == pool || dataset.rfind(pool + "/", 0) == 0;
}

// The mount holding `path`: the longest mount point that is a prefix of it.
const MountEntry* mount_of(const std::vector<MountEntry>& all, const std::string& path) {
  const MountEntry* best = nullptr;
  for (const MountEntry& m : all) {
    const std::string& at = m.mount_point;
    const bool under = path == at || at == "/" || path.rfind(at + "/", 0) == 0;
    if (under && (!best || at.size() >= best->mount_point.size())) best = &m;
  }
  return best;
}

}  // namespace

std::optional<std::string> arc_export_refusal(const std::string& pool, const std::string& dataset,
                                              const std::string& run_dir) {
  if (pool_devices(pool).empty()) {
    return "cannot list the devices of pool '" + pool + "' (zpool list -vHP) to import it again";
  }
  const std::vector<MountEntry> all = mounts();
  for (const MountEntry& m : all) {
    if (m.fs_type == "zfs" && in_pool(m.source, pool) && m.source != dataset &&
        dataset.rfind(m.source + "/", 0) != 0) {
      return "exporting pool '" + pool + "' would unmount " + m.source + " (on " + m.mount_point +
             "), which is not the dataset under test";
    }
  }
  const MountEntry* holder = mount_of(all, fs::absolute(run_dir).lexically_normal().string());
  if (holder && holder->fs_type == "zfs" && in_pool(holder->source, pool)) {
    return "the run directory " + run_dir + " is on pool '" + pool +
           "', which exporting would take away";
  }
  return std::nullopt;
}

}  // namespace diobench
