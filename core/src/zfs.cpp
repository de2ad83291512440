#include "diobench/zfs.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "target_parse.hpp"

namespace diobench {

std::optional<std::string> zfs_get(const std::string& dataset, const std::string& property) {
  auto out = detail::run_zfs({"get", "-Hp", "-o", "value", property, dataset});
  if (!out) return std::nullopt;
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return out;
}

bool zfs_set(const std::string& dataset, const std::string& property, const std::string& value) {
  return detail::run_zfs({"set", property + "=" + value, dataset}).has_value();
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

std::optional<PoolIoStats> read_pool_iostats(const std::string& pool) {
  const char* root = std::getenv("DIOBENCH_KSTAT_ROOT");
  const std::string file =
      std::string(root && *root ? root : "/proc/spl/kstat/zfs") + "/" + pool + "/iostats";
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return parse_kstat(text.str());
}

}  // namespace diobench
