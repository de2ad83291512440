#include "diobench/reports/verdict.hpp"

#include <cmath>
#include <map>

#include "diobench/policy.hpp"
#include "diobench/units.hpp"

namespace diobench {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::Pass: return "PASS";
    case Outcome::Fail: return "FAIL";
    case Outcome::Inconclusive: return "INCONCLUSIVE";
    case Outcome::Crash: return "CRASH";
  }
  return "?";
}

bool is_fallback_path_cell(const CellData& c) {
  if (c.axis("target") != "loop") return false;
  const auto policy = parse_policy(c.axis("policy"));
  const auto semantics = parse_semantics(c.axis("semantics"));
  const auto recordsize = parse_size(c.axis("recordsize"));
  if (!policy) return false;
  PolicyConfig config;
  config.policy = *policy;
  if (semantics) config.semantics = *semantics;
  if (recordsize) config.recordsize = *recordsize;
  return loop_workload_takes_direct_path(config, c.axis("rw"), c.axis("bs"),
                                         c.axis("loop_dio") == "on");
}

std::string workload_group(const CellData& c) { return workload_group(c, c.axis("workload")); }

std::string workload_group(const CellData& c, const std::string& workload) {
  std::string g = workload;
  if (c.axis("app_direct") == "1") g += " O_DIRECT";
  g += " " + c.axis("submit");
  if (c.axis("semantics") != "2.3") g += " zfs" + c.axis("semantics");
  if (c.axis("recordsize") != "131072") g += " rs=" + c.axis("recordsize");
  if (c.axis("backend") != "emulated") g = c.axis("backend") + " " + g;
  return g;
}

namespace {

constexpr double kLevel = 0.95;
// A percentile bootstrap over fewer values gives intervals that are too
// narrow (with 3 values it can only pick among 10 medians): no PASS or
// FAIL below this.
constexpr unsigned kMinRepetitions = 5;

Comparison compare(const std::string& group, const std::string& kind, const CellData& s,
                   const CellData& r, bool latency, double threshold, std::uint64_t seed) {
  Comparison c;
  c.workload = group;
  c.kind = kind;
  c.subject = s.name;
  c.reference = r.name;
  c.metric = latency ? "p99 latency" : "throughput";
  if (s.crashed || r.crashed) {
    c.outcome = Outcome::Crash;
    // No numbers: a crashed cell measured nothing.
    c.ratio = c.cost = std::nan("");
    c.ratio_interval = c.cost_interval = {std::nan(""), std::nan("")};
    c.note = s.crashed ? "the fallback-path cell crashed the guest" : "the reference cell crashed the guest";
    return c;
  }
  std::vector<double> a, b;
  for (const auto& x : s.repetitions) a.push_back(latency ? x.p99 : x.throughput);
  for (const auto& x : r.repetitions) b.push_back(latency ? x.p99 : x.throughput);
  if (a.empty() || b.empty()) {
    c.note = "no measured repetition on one side";
    return c;
  }
  c.ratio = median(a) / median(b);
  c.ratio_interval = bootstrap_ratio_interval(a, b, kLevel, seed);
  if (latency) {
    c.cost = c.ratio - 1;
    c.cost_interval = {c.ratio_interval.low - 1, c.ratio_interval.high - 1};
  } else {
    c.cost = 1 - c.ratio;
    c.cost_interval = {1 - c.ratio_interval.high, 1 - c.ratio_interval.low};
  }
  const std::size_t n = std::min(a.size(), b.size());
  if (n < kMinRepetitions) {
    c.note = "needs at least " + std::to_string(kMinRepetitions) + " repetitions per cell";
    c.repetitions_to_decide = kMinRepetitions;
    return c;
  }
  if (c.cost_interval.high <= threshold) {
    c.outcome = Outcome::Pass;
  } else if (c.cost_interval.low > threshold) {
    c.outcome = Outcome::Fail;
  } else {
    // The interval narrows about as 1/sqrt(n): it clears the threshold
    // once its half-width is below the distance of the estimate from it.
    const double half = (c.cost_interval.high - c.cost_interval.low) / 2;
    const double distance = std::fabs(threshold - c.cost);
    if (distance < 1e-9) {
      c.note = "the estimate sits on the threshold";
    } else {
      const double needed = std::ceil(static_cast<double>(n) * (half / distance) * (half / distance));
      c.repetitions_to_decide = static_cast<unsigned>(std::max(needed, static_cast<double>(n + 1)));
    }
  }
  return c;
}

}  // namespace

std::vector<Comparison> compute_verdict(const RunData& run, double threshold, std::uint64_t seed) {
  std::map<std::string, std::vector<const CellData*>> groups;
  std::vector<std::string> order;
  for (const CellData& c : run.cells) {
    const std::string g = workload_group(c);
    if (!groups.count(g)) order.push_back(g);
    groups[g].push_back(&c);
  }
  std::vector<Comparison> out;
  std::uint64_t n = 0;
  for (const std::string& g : order) {
    const auto& cells = groups[g];
    auto find = [&](const std::string& policy, const std::string& target, const std::string& dio) {
      for (const CellData* c : cells) {
        if (c->axis("policy") == policy && c->axis("target") == target && c->axis("loop_dio") == dio) {
          return c;
        }
      }
      return static_cast<const CellData*>(nullptr);
    };
    for (const CellData* s : cells) {
      if (!is_fallback_path_cell(*s)) continue;
      const CellData* file = find(s->axis("policy"), "file", "n/a");
      const CellData* buffered = find("disabled", "loop", "off");
      for (bool latency : {false, true}) {
        // Each comparison its own seed, derived from the run's: reproducible.
        if (file) out.push_back(compare(g, "loop tax", *s, *file, latency, threshold, seed + ++n));
        if (buffered) {
          out.push_back(compare(g, "degradation", *s, *buffered, latency, threshold, seed + ++n));
        }
      }
    }
  }
  return out;
}

}  // namespace diobench
