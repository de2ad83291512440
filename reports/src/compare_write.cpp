// The comparison of two runs written out: Markdown (path changes first),
// CSV (one row per cell) or JSON (everything).
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "diobench/reports/compare.hpp"
#include "diobench/reports/document.hpp"

namespace diobench {

namespace {

// "crash in A", "crash in B" or "crash in A and B".
std::string crashed_in(const CrashedCell& x) {
  return std::string("crash in ") + (x.in_a && x.in_b ? "A and B" : x.in_a ? "A" : "B");
}

// "+3.1% [-1.2%, +7.9%]": a ratio's change and its interval; an open end
// (too few repetitions) is written as such.
std::string change_text(double change, const Interval& ratio) {
  auto end = [](double r) {
    return std::isfinite(r) && r > 0 ? format_number("%+.1f%%", 100 * (r - 1)) : "open";
  };
  return format_number("%+.1f%%", 100 * change) + " [" + end(ratio.low) + ", " + end(ratio.high) +
         "]";
}

std::string bold_if(bool b, const std::string& s) { return b ? "**" + s + "**" : s; }

std::string run_line(const RunData& r) {
  std::string s = "`" + r.dir + "`" + (r.host.empty() ? "" : " host `" + r.host + "`") + " (" +
                  r.profile + ", " + r.backend;
  if (r.guest && !r.guest->zfs_variant.empty())
    s += ", zfs " + r.guest->zfs_version + " " + r.guest->zfs_variant;
  return s + ")";
}

void write_path_changes(const RunComparison& c, std::ostream& out) {
  out << "## Path changes\n\n";
  if (c.path_cells == 0) {
    out << "No cell has the pool's counters on both sides (not the zfs backend): no path to "
           "compare.\n\n";
    return;
  }
  if (c.path_changes.empty()) {
    out << "No cell changed path: in all " << c.path_cells
        << " cells measured on both sides, each direction's bytes took the same path (direct, "
           "ARC, mixed or none, as `diobench check` classes them).\n\n";
    return;
  }
  out << "**" << c.path_changes.size() << " of " << c.path_cells
      << " cells changed path** (the pool's iostats over all repetitions, classed as `diobench "
         "check` does):\n\n| cell | path A | path B | bytes A | bytes B |\n|---|---|---|---|---|\n";
  for (const PathChange& p : c.path_changes) {
    out << "| " << p.cell << " | " << p.a << " | " << p.b << " | " << p.bytes_a << " | "
        << p.bytes_b << " |\n";
  }
  out << "\n";
}

void write_crashed(const RunComparison& c, std::ostream& out) {
  if (c.crashed.empty()) return;
  out << "## Cells that crashed the guest\n\nNot compared: the guest crashed while they ran "
         "(first line of the console excerpt).\n\n| cell | crashed in | excerpt "
         "|\n|---|---|---|\n";
  for (const CrashedCell& x : c.crashed) {
    std::string e = x.in_a ? x.excerpt_a : x.excerpt_b;
    e = e.substr(0, e.find('\n'));
    for (char& ch : e) ch = ch == '|' ? '/' : ch;
    out << "| " << x.cell << " | " << crashed_in(x).substr(9) << " | "
        << (e.empty() ? "" : "`" + e + "`") << " |\n";
  }
  out << "\n";
}

void write_changes(const RunComparison& c, std::ostream& out) {
  bool few = false;
  for (const CellChange& x : c.cells) few = few || x.few_repetitions;
  out << "## Changes per cell\n\nGeometric mean over " << c.cells.size()
      << " matching cells: throughput "
      << format_number("%+.1f%%", 100 * (c.geomean_throughput_ratio - 1)) << ", p99 latency "
      << format_number("%+.1f%%", 100 * (c.geomean_p99_ratio - 1)) << " (B against A).\n\n";
  if (c.decidable == 0) {
    out << "No change could be decided: too few repetitions for a 95% rank interval (4 a side "
           "are enough, 3 against 3 bound nothing).\n\n";
  } else {
    out << "Decided changes: **" << c.decided << " of " << c.decidable
        << "** (throughput and p99 of each cell; a change is decided, in bold, when its 95% "
           "interval leaves out no change). With no real change about "
        << format_number("%.1f", kChangeFalseRate * static_cast<double>(c.decidable))
        << " would be decided by chance; at least " << c.decided << " has a chance of "
        << format_number("%.3g", c.chance_of_as_many)
        << " (binomial, the comparisons taken as independent, which a cell's throughput and "
           "latency are not).\n\n";
  }
  if (few) {
    out << "**Warning:** some cells have fewer than 9 repetitions on a side; their Mann-Whitney "
           "p-values are weak evidence.\n\n";
  }
  out << "Change: B / A - 1 of the medians, [95% interval] from the rank bounds on the shift "
         "between the two sides' logarithms (p99: widened by fio's histogram resolution).\n\n"
         "| cell | n A/B | MiB/s A | MiB/s B | change [95%] | p | p99 us A | p99 us B | "
         "change [95%] | p |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const CellChange& x : c.cells) {
    out << "| " << x.cell << " | " << x.n_a << "/" << x.n_b << " | "
        << format_number("%.1f", x.throughput_a / 1048576) << " | "
        << format_number("%.1f", x.throughput_b / 1048576) << " | "
        << bold_if(x.throughput_decided(), change_text(x.throughput_change, x.throughput_ratio))
        << " | " << format_number("%.3g", x.throughput_p) << " | "
        << format_number("%.1f", x.p99_a / 1e3) << " | " << format_number("%.1f", x.p99_b / 1e3)
        << " | " << bold_if(x.p99_decided(), change_text(x.p99_change, x.p99_ratio)) << " | "
        << format_number("%.3g", x.p99_p) << " |\n";
  }
  out << "\n";
}

void write_amplification(const RunComparison& c, std::ostream& out) {
  if (c.amplification.empty()) return;
  std::size_t differ = 0;
  for (const AmplificationRow& r : c.amplification) differ += r.differs;
  out << "## Amplification\n\nBytes that reached the pool per byte asked (the workload's "
         "direction, medians over repetitions): directly, through the ARC (misses), and both. "
      << (differ ? "**" + std::to_string(differ) + " of " + std::to_string(c.amplification.size()) +
                       " cells differ**"
                 : "No cell differs")
      << " (by more than " << format_number("%.0f%%", 100 * kAmplificationRelative) << " and "
      << format_number("%.2f", kAmplificationAbsolute)
      << " bytes per byte).\n\n| cell | A | A direct | A ARC | B | B direct | B ARC | differs "
         "|\n|---|---|---|---|---|---|---|---|\n";
  auto x = [](double v) { return format_number("%.2fx", v); };
  for (const AmplificationRow& r : c.amplification) {
    out << "| " << r.cell << " | " << x(r.a.total) << " | " << x(r.a.direct) << " | " << x(r.a.arc)
        << " | " << x(r.b.total) << " | " << x(r.b.direct) << " | " << x(r.b.arc) << " | "
        << (r.differs ? "**yes**" : "no") << " |\n";
  }
  out << "\n";
}

void write_verdict(const RunComparison& c, std::ostream& out) {
  if (c.verdict.empty()) return;
  std::map<std::string, unsigned> count_a, count_b;
  std::size_t differ = 0;
  for (const VerdictRow& r : c.verdict) {
    if (r.in_a) ++count_a[to_string(r.a)];
    if (r.in_b) ++count_b[to_string(r.b)];
    differ += r.differs();
  }
  auto counts = [](const std::map<std::string, unsigned>& m) {
    std::string s;
    for (const auto& [k, n] : m) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + k;
    return s.empty() ? std::string("none") : s;
  };
  out << "## Verdict of each run\n\nThe fallback-path verdict (threshold "
      << format_number("%.0f%%", 100 * c.threshold) << ") computed on each run: A "
      << counts(count_a) << "; B " << counts(count_b) << ". "
      << (differ ? "**" + std::to_string(differ) + " comparisons differ.**"
                 : "Every comparison has the same outcome in both.")
      << "\n\n| comparison | A | cost A | B | cost B |\n|---|---|---|---|---|\n";
  for (const VerdictRow& r : c.verdict) {
    auto side = [](bool in, Outcome o) { return in ? std::string(to_string(o)) : "-"; };
    // a CRASH has no cost: no numbers to compare
    auto cost = [](bool in, double v) {
      return in && std::isfinite(v) ? format_number("%+.1f%%", 100 * v) : "-";
    };
    out << "| " << r.comparison << " | " << bold_if(r.differs(), side(r.in_a, r.a)) << " | "
        << cost(r.in_a, r.cost_a) << " | " << bold_if(r.differs(), side(r.in_b, r.b)) << " | "
        << cost(r.in_b, r.cost_b) << " |\n";
  }
  out << "\n";
}

nlohmann::json interval_json(const Interval& i) {
  auto end = [](double v) {
    return std::isfinite(v) && v > 0 ? nlohmann::json(v) : nlohmann::json();
  };
  return {end(i.low), end(i.high)};
}

void write_json(const RunComparison& c, const RunData& a, const RunData& b, std::ostream& out) {
  nlohmann::json j{{"a", a.dir},
                   {"b", b.dir},
                   {"geomean_throughput_ratio", c.geomean_throughput_ratio},
                   {"geomean_p99_ratio", c.geomean_p99_ratio},
                   {"decided_changes", c.decided},
                   {"decidable_changes", c.decidable},
                   {"change_false_rate", kChangeFalseRate},
                   {"chance_of_as_many_decided", c.chance_of_as_many},
                   {"path_cells", c.path_cells},
                   {"path_changes", nlohmann::json::array()},
                   {"only_a", c.only_a},
                   {"only_b", c.only_b},
                   {"warnings", c.warnings},
                   {"crashed", nlohmann::json::array()},
                   {"cells", nlohmann::json::array()},
                   {"amplification", nlohmann::json::array()},
                   {"verdict_threshold", c.threshold},
                   {"verdict", nlohmann::json::array()}};
  // Two hosts of one fleet run: which host each side is.
  if (!a.host.empty()) j["host_a"] = a.host;
  if (!b.host.empty()) j["host_b"] = b.host;
  for (const PathChange& p : c.path_changes) {
    j["path_changes"].push_back(
        {{"cell", p.cell}, {"a", p.a}, {"b", p.b}, {"bytes_a", p.bytes_a}, {"bytes_b", p.bytes_b}});
  }
  for (const CrashedCell& x : c.crashed) {
    j["crashed"].push_back({{"cell", x.cell},
                            {"in_a", x.in_a},
                            {"in_b", x.in_b},
                            {"excerpt_a", x.excerpt_a},
                            {"excerpt_b", x.excerpt_b}});
  }
  for (const CellChange& x : c.cells) {
    j["cells"].push_back({{"cell", x.cell},
                          {"n_a", x.n_a},
                          {"n_b", x.n_b},
                          {"throughput_a", x.throughput_a},
                          {"throughput_b", x.throughput_b},
                          {"throughput_change", x.throughput_change},
                          {"throughput_ratio_interval", interval_json(x.throughput_ratio)},
                          {"throughput_decided", x.throughput_decided()},
                          {"throughput_p", x.throughput_p},
                          {"p99_ns_a", x.p99_a},
                          {"p99_ns_b", x.p99_b},
                          {"p99_change", x.p99_change},
                          {"p99_ratio_interval", interval_json(x.p99_ratio)},
                          {"p99_decided", x.p99_decided()},
                          {"p99_p", x.p99_p},
                          {"few_repetitions", x.few_repetitions}});
  }
  auto amp = [](const Amplification& v) {
    return nlohmann::json{{"direct", v.direct}, {"arc", v.arc}, {"total", v.total}};
  };
  for (const AmplificationRow& r : c.amplification) {
    j["amplification"].push_back(
        {{"cell", r.cell}, {"a", amp(r.a)}, {"b", amp(r.b)}, {"differs", r.differs}});
  }
  for (const VerdictRow& r : c.verdict) {
    auto side = [](bool in, Outcome o) {
      return in ? nlohmann::json(to_string(o)) : nlohmann::json();
    };
    j["verdict"].push_back({{"comparison", r.comparison},
                            {"a", side(r.in_a, r.a)},
                            {"b", side(r.in_b, r.b)},
                            {"cost_a", r.in_a ? nlohmann::json(r.cost_a) : nlohmann::json()},
                            {"cost_b", r.in_b ? nlohmann::json(r.cost_b) : nlohmann::json()},
                            {"differs", r.differs()}});
  }
  out << j.dump(2) << "\n";
}

void write_csv(const RunComparison& c, std::ostream& out) {
  out << "cell,n_a,n_b,throughput_a_Bps,throughput_b_Bps,throughput_change,throughput_ratio_low,"
         "throughput_ratio_high,throughput_p,p99_a_us,p99_b_us,p99_change,p99_ratio_low,"
         "p99_ratio_high,p99_p,few_repetitions,outcome\n";
  auto end = [](double v) { return std::isfinite(v) && v > 0 ? format_number("%.4f", v) : ""; };
  for (const CellChange& x : c.cells) {
    out << x.cell << "," << x.n_a << "," << x.n_b << "," << format_number("%.0f", x.throughput_a)
        << "," << format_number("%.0f", x.throughput_b) << ","
        << format_number("%.4f", x.throughput_change) << "," << end(x.throughput_ratio.low) << ","
        << end(x.throughput_ratio.high) << "," << format_number("%.4g", x.throughput_p) << ","
        << format_number("%.2f", x.p99_a / 1e3) << "," << format_number("%.2f", x.p99_b / 1e3)
        << "," << format_number("%.4f", x.p99_change) << "," << end(x.p99_ratio.low) << ","
        << end(x.p99_ratio.high) << "," << format_number("%.4g", x.p99_p) << ","
        << (x.few_repetitions ? "yes" : "no") << ",compared\n";
  }
  for (const CrashedCell& x : c.crashed) {
    out << x.cell << ",,,,,,,,,,,,,,,," << crashed_in(x) << "\n";
  }
}

}  // namespace

void write_comparison(const RunComparison& c, const RunData& a, const RunData& b,
                      const std::string& format, std::ostream& out) {
  if (format == "json") return write_json(c, a, b, out);
  if (format == "csv") return write_csv(c, out);
  out << "# diobench compare\n\nA: " << run_line(a) << "  \nB: " << run_line(b) << "\n\n";
  for (const std::string& w : c.warnings) out << "> **Warning: " << w << "**\n\n";
  write_path_changes(c, out);
  write_crashed(c, out);
  write_changes(c, out);
  write_amplification(c, out);
  write_verdict(c, out);
  for (const auto& n : c.only_a) out << "Only in A: `" << n << "`  \n";
  for (const auto& n : c.only_b) out << "Only in B: `" << n << "`  \n";
}

}  // namespace diobench
