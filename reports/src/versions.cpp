#include "diobench/reports/versions.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>

#include "diobench/reports/document.hpp"
#include "diobench/reports/verdict.hpp"

namespace diobench {

namespace {

using Entry = std::function<std::string(std::size_t run, const std::string& name)>;
// Whether two runs' entries for `name` say the same (both present).
using Same = std::function<bool(std::size_t a, std::size_t b, const std::string& name)>;

constexpr const char* kAbsent = "-";

// A cell across runs made on different OpenZFS releases: its name without
// the module's rules (".zfs2.4", ".zfs2.4-strict" in a cell's name, " zfs2.4"
// in a workload group). On the zfs backend those rules are the loaded
// module's (docs/design.md §3.3), so they are the run's column, not a
// different cell: 2.3.2's and 2.4.4's 4k reads share a row. Only when no
// run holds cells of several rules (an emulated run with a semantics axis).
class RowNaming {
 public:
  explicit RowNaming(const std::vector<RunData>& runs) {
    for (const RunData& r : runs) {
      std::set<std::string> rules;
      for (const CellData& c : r.cells) rules.insert(c.axis("semantics"));
      merge_rules_ = merge_rules_ && rules.size() <= 1;
    }
  }
  std::string operator()(std::string text) const;

 private:
  bool merge_rules_ = true;
};

std::string RowNaming::operator()(std::string text) const {
  if (!merge_rules_) return text;
  for (const char* rules : {".zfs2.4-strict", " zfs2.4-strict", ".zfs2.4", " zfs2.4"}) {
    for (std::size_t at = text.find(rules); at != std::string::npos; at = text.find(rules, at)) {
      text.erase(at, std::char_traits<char>::length(rules));
    }
  }
  return text;
}

// Rows for `names` (in order), one entry per run (kAbsent: not in this
// run). A row differs when two runs that both have it do not say the same
// (by default: the same text); a cell one run lacks is no difference.
std::vector<SideBySideRow> rows_of(const std::vector<std::string>& names, std::size_t runs,
                                   const Entry& entry, const Same& same = nullptr) {
  std::vector<SideBySideRow> rows;
  for (const std::string& name : names) {
    SideBySideRow row{name, {}, false};
    for (std::size_t i = 0; i < runs; ++i) row.entries.push_back(entry(i, name));
    std::optional<std::size_t> first;
    for (std::size_t i = 0; i < runs; ++i) {
      if (row.entries[i] == kAbsent) continue;
      if (!first) {
        first = i;
        continue;
      }
      const bool alike = same ? same(*first, i, name) : row.entries[i] == row.entries[*first];
      row.differs = row.differs || !alike;
    }
    rows.push_back(row);
  }
  return rows;
}

// The names `wanted` picks, in the first run's order, then each later
// run's own.
std::vector<std::string> names_where(const std::vector<RunData>& runs, const RowNaming& key,
                                     const std::function<bool(const CellData&)>& wanted) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const RunData& r : runs) {
    for (const CellData& c : r.cells) {
      const std::string name = key(c.name);
      if (wanted(c) && seen.insert(name).second) names.push_back(name);
    }
  }
  return names;
}

const CellData* cell_in(const RunData& r, const RowNaming& key, const std::string& name) {
  for (const CellData& c : r.cells) {
    if (key(c.name) == name) return &c;
  }
  return nullptr;
}

VersionColumn column_of(const RunData& r, const std::optional<CheckResult>& check,
                        const std::string& check_problem) {
  VersionColumn col;
  if (r.guest) {
    col.kernel = r.guest->guest_kernel;
    col.zfs = r.guest->zfs_version +
              (r.guest->zfs_variant.empty() ? "" : " (" + r.guest->zfs_variant + ")");
    col.accelerator = r.guest->accelerator;
  }
  const auto image = r.system.find("zfsvm.image");
  if (image != r.system.end() && !image->second.empty()) {
    col.label = image->second;
    if (r.guest && !r.guest->zfs_variant.empty() && r.guest->zfs_variant != "fixed")
      col.label += " (" + r.guest->zfs_variant + ")";
  } else if (r.guest) {
    col.label = col.kernel + ", zfs " + col.zfs;
  } else {
    col.label = std::filesystem::path(r.dir).filename().string();
  }
  for (const CellData& c : r.cells) col.crashed_cells += c.crashed > 0;
  if (r.backend == "zfs") {
    col.reproducer =
        col.crashed_cells ? "crash (" + std::to_string(col.crashed_cells) + " cells)" : "survives";
  } else {
    col.reproducer = "-";
  }
  if (!check) {
    col.path_table = "not judged: " + check_problem;
    return col;
  }
  std::size_t judged = 0, contradicted = 0;
  for (const CellCheck& c : check->cells) {
    if (c.verdict == CellVerdict::Unjudged) continue;
    ++judged;
    contradicted += c.verdict != CellVerdict::Ok;
  }
  col.path_table_held = judged > 0 && contradicted == 0;
  col.path_table = judged == 0         ? "no cell to judge"
                   : contradicted == 0 ? "held (" + std::to_string(judged) + " cells)"
                                       : "contradicted (" + std::to_string(contradicted) + " of " +
                                             std::to_string(judged) + " cells)";
  return col;
}

std::vector<SideBySideRow> crash_rows(const std::vector<RunData>& runs, const RowNaming& key) {
  const auto names = names_where(runs, key, [](const CellData& c) { return c.crashed > 0; });
  return rows_of(names, runs.size(), [&](std::size_t i, const std::string& name) {
    const CellData* c = cell_in(runs[i], key, name);
    if (!c) return std::string(kAbsent);
    return c->crashed ? std::string("CRASH") : std::string("ran");
  });
}

std::vector<SideBySideRow> contradicted_rows(const std::vector<RunData>& runs,
                                             const std::vector<std::optional<CheckResult>>& checks,
                                             const RowNaming& key) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& check : checks) {
    if (!check) continue;
    for (const CellCheck& c : check->cells) {
      const bool bad = c.verdict == CellVerdict::Mismatch || c.verdict == CellVerdict::Error;
      if (bad && seen.insert(key(c.cell)).second) names.push_back(key(c.cell));
    }
  }
  return rows_of(names, runs.size(), [&](std::size_t i, const std::string& name) {
    if (!checks[i]) return std::string(kAbsent);
    for (const CellCheck& c : checks[i]->cells) {
      if (key(c.cell) != name) continue;
      std::string e = to_string(c.verdict);
      if (c.verdict != CellVerdict::Ok)
        e += ": predicted " + c.predicted + ", observed " + c.observed;
      return e;
    }
    return std::string(kAbsent);
  });
}

std::vector<SideBySideRow> path_rows(const std::vector<RunData>& runs, const RowNaming& key) {
  const auto names =
      names_where(runs, key, [](const CellData& c) { return observed_path(c).measured; });
  return rows_of(names, runs.size(), [&](std::size_t i, const std::string& name) {
    const CellData* c = cell_in(runs[i], key, name);
    const ObservedPath p = c ? observed_path(*c) : ObservedPath{};
    return p.measured ? p.classes : std::string(kAbsent);
  });
}

std::vector<SideBySideRow> amplification_rows(const std::vector<RunData>& runs,
                                              const RowNaming& key) {
  auto amp = [&](std::size_t i, const std::string& name) -> std::optional<Amplification> {
    const CellData* c = cell_in(runs[i], key, name);
    if (!c) return std::nullopt;
    const Amplification a = amplification_of(*c, runs[i].ramp_s);
    if (!(a.total > 0)) return std::nullopt;
    return a;
  };
  const auto names = names_where(runs, key, [&](const CellData&) { return true; });
  std::vector<std::string> measured;
  for (const std::string& name : names) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (amp(i, name)) {
        measured.push_back(name);
        break;
      }
    }
  }
  return rows_of(
      measured, runs.size(),
      [&](std::size_t i, const std::string& name) {
        const auto a = amp(i, name);
        if (!a) return std::string(kAbsent);
        return format_number("%.2fx", a->total) + " (direct " + format_number("%.2f", a->direct) +
               ", ARC " + format_number("%.2f", a->arc) + ")";
      },
      [&](std::size_t a, std::size_t b, const std::string& name) {
        return !amplification_differs(*amp(a, name), *amp(b, name));
      });
}

std::vector<SideBySideRow> verdict_rows(const std::vector<RunData>& runs, const RowNaming& key,
                                        double threshold) {
  std::vector<std::string> names;
  std::vector<std::map<std::string, Comparison>> per_run(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    for (const Comparison& c : compute_verdict(runs[i], threshold, runs[i].seed)) {
      const std::string name = key(c.workload + ", " + c.kind + ", " + c.metric + ": " + c.subject +
                                   " vs " + c.reference);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      per_run[i].emplace(name, c);
    }
  }
  // The outcome is what must agree; the cost is each run's own measure.
  return rows_of(
      names, runs.size(),
      [&](std::size_t i, const std::string& name) {
        const auto it = per_run[i].find(name);
        if (it == per_run[i].end()) return std::string(kAbsent);
        const Comparison& c = it->second;
        std::string e = to_string(c.outcome);
        if (std::isfinite(c.cost)) e += " (" + format_number("%+.1f%%", 100 * c.cost) + ")";
        return e;
      },
      [&](std::size_t a, std::size_t b, const std::string& name) {
        return per_run[a].at(name).outcome == per_run[b].at(name).outcome;
      });
}

std::vector<std::string> matrix_warnings(const std::vector<VersionColumn>& cols,
                                         const std::vector<RunData>& runs) {
  std::vector<std::string> w;
  bool emulated = false;
  std::set<std::string> accelerators;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    emulated = emulated || runs[i].emulated_cpu();
    accelerators.insert(cols[i].accelerator.empty() ? "none" : cols[i].accelerator);
  }
  if (emulated) {
    w.push_back(std::string(kEmulatedCpuBanner) +
                " (a run here ran on an emulated CPU, qemu TCG: only the ratios inside each run, "
                "its verdict, carry over; no throughput is set side by side)");
  }
  if (accelerators.size() > 1) w.push_back("the runs were made on different accelerators");
  return w;
}

}  // namespace

VersionMatrix side_by_side(const std::vector<RunData>& runs,
                           const std::vector<std::optional<CheckResult>>& checks,
                           const std::vector<std::string>& check_problems, double threshold) {
  VersionMatrix m;
  m.threshold = threshold;
  const RowNaming key(runs);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    m.columns.push_back(column_of(runs[i], checks.at(i), check_problems.at(i)));
  }
  m.warnings = matrix_warnings(m.columns, runs);
  m.crashes = crash_rows(runs, key);
  m.contradicted = contradicted_rows(runs, checks, key);
  m.paths = path_rows(runs, key);
  m.amplification = amplification_rows(runs, key);
  m.verdict = verdict_rows(runs, key, threshold);
  return m;
}

}  // namespace diobench
