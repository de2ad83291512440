#include "diobench/runner/cpu_usage.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace diobench {

std::optional<double> busy_seconds_from_proc_stat(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string label;
  // Fields of the aggregate line (proc(5)): user nice system idle iowait
  // irq softirq steal guest guest_nice, in USER_HZ ticks.
  unsigned long long f[8] = {};
  if (!(in >> label) || label != "cpu") return std::nullopt;
  for (unsigned long long& v : f) {
    if (!(in >> v)) return std::nullopt;
  }
  const unsigned long long busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  const long hz = sysconf(_SC_CLK_TCK);
  return static_cast<double>(busy) / static_cast<double>(hz > 0 ? hz : 100);
}

std::optional<double> system_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return busy_seconds_from_proc_stat(line);
}

}  // namespace diobench
