#include "diobench/zfs.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "target_parse.hpp"

namespace diobench {

std::string pool_of(const std::string& dataset) { return dataset.substr(0, dataset.find('/')); }

std::optional<std::string> zfs_get(const std::string& dataset, const std::string& property) {
  auto out = detail::run_zfs({"get", "-Hp", "-o", "value", property, dataset});
  if (!out) return std::nullopt;
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return out;
}

bool zfs_set(const std::string& dataset, const std::string& property, const std::string& value) {
  return detail::run_zfs({"set", property + "=" + value, dataset}).has_value();
}

std::optional<std::string> zfs_mountpoint(const std::string& dataset) {
  auto mountpoint = zfs_get(dataset, "mountpoint");
  if (!mountpoint || mountpoint->empty() || mountpoint->front() != '/') return std::nullopt;
  return mountpoint;
}

std::optional<PropertyValue> zfs_get_with_source(const std::string& dataset,
                                                 const std::string& property) {
  auto out = detail::run_zfs({"get", "-Hp", "-o", "value,source", property, dataset});
  if (!out) return std::nullopt;
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  const auto tab = out->find('\t');
  PropertyValue v;
  v.value = out->substr(0, tab);
  // No source column (an old zfs): take it as local, the safe reading.
  v.local = tab == std::string::npos || out->substr(tab + 1) == "local";
  return v;
}

bool zfs_inherit(const std::string& dataset, const std::string& property) {
  return detail::run_zfs({"inherit", property, dataset}).has_value();
}

bool zfs_create(const std::string& dataset, const std::map<std::string, std::string>& properties) {
  std::vector<std::string> args{"create"};
  for (const auto& [name, value] : properties) args.insert(args.end(), {"-o", name + "=" + value});
  args.push_back(dataset);
  return detail::run_zfs(args).has_value();
}

bool zfs_destroy(const std::string& dataset) {
  return detail::run_zfs({"destroy", dataset}).has_value();
}

std::uint64_t PoolIoStats::operator[](const std::string& name) const {
  const auto it = values.find(name);
  return it == values.end() ? 0 : it->second;
}

PoolIoStats PoolIoStats::operator-(const PoolIoStats& before) const {
  PoolIoStats d;
  for (const auto& [name, v] : values) d.values[name] = v - before[name];
  return d;
}

PoolIoStats parse_kstat(std::string_view text) {
  PoolIoStats s;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::string name, type, data;
    if (!(row >> name >> type >> data)) continue;
    // Data rows have a numeric type (4: uint64); the header rows do not.
    if (type.empty() || type.find_first_not_of("0123456789") != std::string::npos) continue;
    try {
      std::size_t used = 0;
      const std::uint64_t v = std::stoull(data, &used);
      if (used == data.size()) s.values[name] = v;
    } catch (const std::exception&) {
    }
  }
  return s;
}

namespace {
// A kstat file under /proc/spl/kstat/zfs (or $DIOBENCH_KSTAT_ROOT).
std::optional<PoolIoStats> read_kstat(const std::string& relative) {
  const char* root = std::getenv("DIOBENCH_KSTAT_ROOT");
  const std::string file =
      std::string(root && *root ? root : "/proc/spl/kstat/zfs") + "/" + relative;
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return parse_kstat(text.str());
}
}  // namespace

std::optional<PoolIoStats> read_pool_iostats(const std::string& pool) {
  return read_kstat(pool + "/iostats");
}

std::optional<PoolIoStats> read_arc_stats() { return read_kstat("arcstats"); }

std::optional<std::uint64_t> read_arc_data_size() {
  const auto stats = read_kstat("arcstats");
  if (!stats || !stats->values.count("data_size")) return std::nullopt;
  return (*stats)["data_size"];
}

std::vector<std::string> pool_devices(const std::string& pool) {
  std::vector<std::string> devices;
  const auto out = detail::run_zpool({"list", "-vHP", "-o", "name", pool});
  if (!out) return devices;
  std::istringstream in(*out);
  std::string word;
  while (in >> word) {
    if (word.front() == '/') devices.push_back(word);
  }
  return devices;
}

bool zpool_export(const std::string& pool) {
  return detail::run_zpool({"export", pool}, detail::kPoolExportImportTimeoutS).has_value();
}

bool zpool_import(const std::string& pool, const std::vector<std::string>& devices) {
  std::vector<std::string> args{"import"};
  for (const std::string& d : devices) args.insert(args.end(), {"-d", d});
  args.push_back(pool);
  return detail::run_zpool(args, detail::kPoolExportImportTimeoutS).has_value();
}

bool pool_imported(const std::string& pool) {
  return detail::run_zpool({"list", "-H", "-o", "name", pool}).has_value();
}

}  // namespace diobench
