#include "diobench/runner/cpu_usage.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace diobench {

std::optional<double> idle_seconds_from_proc_stat(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string label;
  // Fields of the aggregate line (proc(5)): user nice system idle iowait
  // irq softirq steal guest guest_nice, in USER_HZ ticks.
  unsigned long long f[8] = {};
  if (!(in >> label) || label != "cpu") return std::nullopt;
  for (unsigned long long& v : f) {
    if (!(in >> v)) return std::nullopt;
  }
  const long hz = sysconf(_SC_CLK_TCK);
  return static_cast<double>(f[3] + f[4]) / static_cast<double>(hz > 0 ? hz : 100);
}

std::optional<double> system_idle_seconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return idle_seconds_from_proc_stat(line);
}

double busy_seconds(double window_s, long cpus, double idle_before, double idle_after) {
  const double capacity = window_s * static_cast<double>(cpus > 0 ? cpus : 1);
  return std::clamp(capacity - (idle_after - idle_before), 0.0, capacity);
}

}  // namespace diobench
