#include "diobench/runner/arc_check.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

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

namespace {

struct Mount {
  std::string source, target, type;
};

std::vector<Mount> mounts() {
  const char* file = std::getenv("DIOBENCH_MOUNTS");
  std::ifstream in(file && *file ? file : "/proc/self/mounts");
  std::vector<Mount> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    Mount m;
    if (f >> m.source >> m.target >> m.type) out.push_back(m);
  }
  return out;
}

bool in_pool(const std::string& dataset, const std::string& pool) {
  return dataset == pool || dataset.rfind(pool + "/", 0) == 0;
}

// The mount holding `path`: the longest mount point that is a prefix of it.
const Mount* mount_of(const std::vector<Mount>& all, const std::string& path) {
  const Mount* best = nullptr;
  for (const Mount& m : all) {
    const bool under = path == m.target || m.target == "/" || path.rfind(m.target + "/", 0) == 0;
    if (under && (!best || m.target.size() >= best->target.size())) best = &m;
  }
  return best;
}

}  // namespace

std::optional<std::string> arc_export_refusal(const std::string& pool, const std::string& dataset,
                                              const std::string& run_dir) {
  if (pool_devices(pool).empty()) {
    return "cannot list the devices of pool '" + pool + "' (zpool list -vHP) to import it again";
  }
  const std::vector<Mount> all = mounts();
  for (const Mount& m : all) {
    if (m.type == "zfs" && in_pool(m.source, pool) && m.source != dataset &&
        dataset.rfind(m.source + "/", 0) != 0) {
      return "exporting pool '" + pool + "' would unmount " + m.source + " (on " + m.target +
             "), which is not the dataset under test";
    }
  }
  const Mount* holder = mount_of(all, fs::absolute(run_dir).lexically_normal().string());
  if (holder && holder->type == "zfs" && in_pool(holder->source, pool)) {
    return "the run directory " + run_dir + " is on pool '" + pool +
           "', which exporting would take away";
  }
  return std::nullopt;
}

}  // namespace diobench
