#include "diobench/reports/compare.hpp"

#include <cmath>
#include <map>

#include "diobench/check/check.hpp"
#include "diobench/check/path_judgement.hpp"
#include "diobench/policy.hpp"
#include "diobench/statistics.hpp"

namespace diobench {

namespace {
constexpr std::size_t kFewRepetitions = 9;

std::string first_nonempty(const std::vector<std::string>& v) {
  for (const auto& s : v) {
    if (!s.empty()) return s;
  }
  return "";
}

std::string accelerator_of(const RunData& r) {
  return r.guest ? r.guest->accelerator : "none (not in the qemu guest)";
}

std::vector<std::string> run_warnings(const RunData& a, const RunData& b) {
  std::vector<std::string> w;
  if (a.emulated_cpu() || b.emulated_cpu()) {
    const std::string which = a.emulated_cpu() && b.emulated_cpu() ? "both runs"
                              : a.emulated_cpu()                   ? "run A"
                                                                   : "run B";
    w.push_back(std::string(kEmulatedCpuBanner) + " (" + which +
                " ran on an emulated CPU, qemu TCG: throughput and latency between runs are not "
                "comparable)");
  }
  if ((a.guest || b.guest) && accelerator_of(a) != accelerator_of(b)) {
    w.push_back("the runs differ in accelerator: A " + accelerator_of(a) + ", B " +
                accelerator_of(b));
  }
  return w;
}

// Crashed cells of either run, in A's order then B's own.
std::vector<CrashedCell> crashed_cells(const RunData& a, const RunData& b) {
  std::map<std::string, const CellData*> all_b;
  for (const CellData& c : b.cells) all_b[c.name] = &c;
  std::vector<CrashedCell> out;
  for (const CellData& ca : a.cells) {
    const auto it = all_b.find(ca.name);
    const CellData* cb = it == all_b.end() ? nullptr : it->second;
    if (ca.crashed || (cb && cb->crashed)) {
      out.push_back({ca.name, ca.crashed > 0, cb && cb->crashed > 0,
                     first_nonempty(ca.crash_excerpts),
                     cb ? first_nonempty(cb->crash_excerpts) : ""});
    }
  }
  for (const CellData& cb : b.cells) {
    if (!cb.crashed) continue;
    bool listed = false;
    for (const CrashedCell& c : out) listed = listed || c.cell == cb.name;
    if (!listed) out.push_back({cb.name, false, true, "", first_nonempty(cb.crash_excerpts)});
  }
  return out;
}

CellChange change_of(const CellData& ca, const CellData& cb) {
  std::vector<double> ta, tb, pa, pb;
  for (const auto& r : ca.repetitions) ta.push_back(r.throughput), pa.push_back(r.p99);
  for (const auto& r : cb.repetitions) tb.push_back(r.throughput), pb.push_back(r.p99);
  CellChange c;
  c.cell = ca.name;
  c.n_a = ta.size();
  c.n_b = tb.size();
  c.throughput_a = median(ta);
  c.throughput_b = median(tb);
  c.throughput_change = c.throughput_b / c.throughput_a - 1;
  c.throughput_p = mann_whitney_u(ta, tb).p;
  c.p99_a = median(pa);
  c.p99_b = median(pb);
  c.p99_change = c.p99_b / c.p99_a - 1;
  c.p99_p = mann_whitney_u(pa, pb).p;
  auto positive = [](const std::vector<double>& v) {
    for (double x : v) {
      if (!(x > 0) || !std::isfinite(x)) return false;
    }
    return true;
  };
  if (positive(ta) && positive(tb)) c.throughput_ratio = ratio_bounds(tb, ta, false, kChangeAlpha);
  if (positive(pa) && positive(pb)) c.p99_ratio = ratio_bounds(pb, pa, true, kChangeAlpha);
  c.few_repetitions = c.n_a < kFewRepetitions || c.n_b < kFewRepetitions;
  return c;
}

}  // namespace

ObservedPath observed_path(const CellData& c) {
  ObservedPath o;
  PathBytes total[2];
  for (const RepetitionData& r : c.repetitions) {
    o.measured = o.measured || r.pool_measured;
    for (Direction d : {Direction::Read, Direction::Write}) {
      total[static_cast<int>(d)].direct += r.pool(d).direct;
      total[static_cast<int>(d)].arc += r.pool(d).arc;
    }
  }
  const std::string rw = c.axis("rw");
  for (Direction d : {Direction::Read, Direction::Write}) {
    const PathBytes& t = total[static_cast<int>(d)];
    const bool issued = d == Direction::Read ? rw_reads(rw) : rw_writes(rw);
    if (!issued && t.direct == 0) continue;
    const std::string sep = o.classes.empty() ? "" : ", ";
    o.classes += sep + std::string(to_string(d)) + ": " + std::string(to_string(classify(t)));
    o.bytes += sep + std::string(to_string(d)) + ": " + bytes_text(t.direct, t.arc);
  }
  return o;
}

Amplification amplification_of(const CellData& c, double ramp_s) {
  std::vector<double> direct, arc, total;
  const Direction main = c.reads() ? Direction::Read : Direction::Write;
  for (const RepetitionData& r : c.repetitions) {
    if (!r.pool_measured) continue;
    const PathBytes& p = r.pool(main);
    direct.push_back(r.per_byte_asked(static_cast<double>(p.direct), ramp_s));
    arc.push_back(r.per_byte_asked(static_cast<double>(p.arc), ramp_s));
    total.push_back(r.amplification(ramp_s));
  }
  if (total.empty()) return {};
  return {median(direct), median(arc), median(total)};
}

namespace {

bool differs(double a, double b) {
  return std::fabs(a - b) >
         std::max(kAmplificationAbsolute, kAmplificationRelative * std::max(a, b));
}

}  // namespace

bool amplification_differs(const Amplification& a, const Amplification& b) {
  return differs(a.total, b.total) || differs(a.direct, b.direct) || differs(a.arc, b.arc);
}

namespace {

// Both runs' verdicts, comparison by comparison, in A's order then B's own.
std::vector<VerdictRow> verdict_rows(const RunData& a, const RunData& b, double threshold) {
  std::vector<VerdictRow> rows;
  std::map<std::string, std::size_t> index;
  auto add = [&](const RunData& run, bool is_a) {
    for (const Comparison& c : compute_verdict(run, threshold, run.seed)) {
      const std::string key =
          c.workload + ", " + c.kind + ", " + c.metric + ": " + c.subject + " vs " + c.reference;
      auto it = index.find(key);
      if (it == index.end()) {
        it = index.emplace(key, rows.size()).first;
        rows.push_back(VerdictRow{key});
      }
      VerdictRow& row = rows[it->second];
      (is_a ? row.in_a : row.in_b) = true;
      (is_a ? row.a : row.b) = c.outcome;
      (is_a ? row.cost_a : row.cost_b) = c.cost;
    }
  };
  add(a, true);
  add(b, false);
  return rows;
}

}  // namespace

double binomial_tail(std::size_t n, std::size_t k, double p) {
  if (k == 0) return 1;
  if (k > n) return 0;
  double below = 0;  // P(X < k), summed in logs for large n
  for (std::size_t i = 0; i < k; ++i) {
    const double log_term = std::lgamma(n + 1.0) - std::lgamma(i + 1.0) -
                            std::lgamma(static_cast<double>(n - i) + 1.0) +
                            static_cast<double>(i) * std::log(p) +
                            static_cast<double>(n - i) * std::log1p(-p);
    below += std::exp(log_term);
  }
  return std::max(0.0, std::min(1.0, 1 - below));
}

RunComparison compare_runs(const RunData& a, const RunData& b, double threshold) {
  RunComparison out;
  out.threshold = threshold;
  out.warnings = run_warnings(a, b);
  out.crashed = crashed_cells(a, b);
  auto crashed = [&](const std::string& name) {
    for (const CrashedCell& c : out.crashed) {
      if (c.cell == name) return true;
    }
    return false;
  };
  std::map<std::string, const CellData*> in_b;
  for (const CellData& c : b.cells) {
    if (!c.repetitions.empty()) in_b[c.name] = &c;
  }
  double log_tp = 0, log_p99 = 0;
  std::size_t n_tp = 0, n_p99 = 0;
  for (const CellData& ca : a.cells) {
    if (ca.repetitions.empty()) continue;
    const auto it = in_b.find(ca.name);
    if (it == in_b.end()) {
      if (!crashed(ca.name)) out.only_a.push_back(ca.name);
      continue;
    }
    const CellData& cb = *it->second;
    in_b.erase(it);
    const CellChange c = change_of(ca, cb);
    if (c.throughput_a > 0 && c.throughput_b > 0) {
      log_tp += std::log(c.throughput_b / c.throughput_a);
      ++n_tp;
    }
    if (c.p99_a > 0 && c.p99_b > 0) {
      log_p99 += std::log(c.p99_b / c.p99_a);
      ++n_p99;
    }
    for (const Interval& i : {c.throughput_ratio, c.p99_ratio}) {
      if (!std::isfinite(i.low) || !std::isfinite(i.high) || i.low <= 0) continue;
      ++out.decidable;
      out.decided += i.low > 1 || i.high < 1;
    }
    out.cells.push_back(c);
    const ObservedPath pa = observed_path(ca), pb = observed_path(cb);
    if (pa.measured && pb.measured) {
      ++out.path_cells;
      if (pa.classes != pb.classes)
        out.path_changes.push_back({ca.name, pa.classes, pb.classes, pa.bytes, pb.bytes});
    }
    const Amplification aa = amplification_of(ca, a.ramp_s), ab = amplification_of(cb, b.ramp_s);
    if (aa.total > 0 || ab.total > 0) {
      out.amplification.push_back({ca.name, aa, ab, amplification_differs(aa, ab)});
    }
  }
  for (const auto& [name, cell] : in_b) {
    if (!crashed(name)) out.only_b.push_back(name);
  }
  if (n_tp) out.geomean_throughput_ratio = std::exp(log_tp / static_cast<double>(n_tp));
  if (n_p99) out.geomean_p99_ratio = std::exp(log_p99 / static_cast<double>(n_p99));
  out.chance_of_as_many = binomial_tail(out.decidable, out.decided, kChangeFalseRate);
  out.verdict = verdict_rows(a, b, threshold);
  return out;
}

}  // namespace diobench
