#include "diobench/reports/compare.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "diobench/statistics.hpp"

namespace diobench {

namespace {
constexpr std::size_t kFewRepetitions = 9;

std::string num(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// "crash in A", "crash in B" or "crash in A and B".
std::string crashed_in(const CrashedCell& x) {
  return std::string("crash in ") + (x.in_a && x.in_b ? "A and B" : x.in_a ? "A" : "B");
}
}  // namespace

namespace {

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

}  // namespace

RunComparison compare_runs(const RunData& a, const RunData& b) {
  RunComparison out;
  out.warnings = run_warnings(a, b);
  std::map<std::string, const CellData*> in_b, all_b;
  for (const CellData& c : b.cells) {
    all_b[c.name] = &c;
    if (!c.repetitions.empty()) in_b[c.name] = &c;
  }
  // Crashed cells of either run, in A's order then B's own.
  for (const CellData& ca : a.cells) {
    const auto it = all_b.find(ca.name);
    const CellData* cb = it == all_b.end() ? nullptr : it->second;
    if (ca.crashed || (cb && cb->crashed)) {
      out.crashed.push_back({ca.name, ca.crashed > 0, cb && cb->crashed > 0,
                             first_nonempty(ca.crash_excerpts),
                             cb ? first_nonempty(cb->crash_excerpts) : ""});
    }
  }
  for (const CellData& cb : b.cells) {
    if (!cb.crashed) continue;
    bool listed = false;
    for (const CrashedCell& c : out.crashed) listed = listed || c.cell == cb.name;
    if (!listed)
      out.crashed.push_back({cb.name, false, true, "", first_nonempty(cb.crash_excerpts)});
  }
  auto crashed = [&](const std::string& name) {
    for (const CrashedCell& c : out.crashed) {
      if (c.cell == name) return true;
    }
    return false;
  };
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
    c.few_repetitions = c.n_a < kFewRepetitions || c.n_b < kFewRepetitions;
    if (c.throughput_a > 0 && c.throughput_b > 0) {
      log_tp += std::log(c.throughput_b / c.throughput_a);
      ++n_tp;
    }
    if (c.p99_a > 0 && c.p99_b > 0) {
      log_p99 += std::log(c.p99_b / c.p99_a);
      ++n_p99;
    }
    out.cells.push_back(c);
  }
  for (const auto& [name, cell] : in_b) {
    if (!crashed(name)) out.only_b.push_back(name);
  }
  if (n_tp) out.geomean_throughput_ratio = std::exp(log_tp / static_cast<double>(n_tp));
  if (n_p99) out.geomean_p99_ratio = std::exp(log_p99 / static_cast<double>(n_p99));
  return out;
}

void write_comparison(const RunComparison& c, const RunData& a, const RunData& b,
                      const std::string& format, std::ostream& out) {
  bool few = false;
  for (const CellChange& x : c.cells) few = few || x.few_repetitions;
  if (format == "json") {
    nlohmann::json j{{"a", a.dir},
                     {"b", b.dir},
                     {"geomean_throughput_ratio", c.geomean_throughput_ratio},
                     {"geomean_p99_ratio", c.geomean_p99_ratio},
                     {"only_a", c.only_a},
                     {"only_b", c.only_b},
                     {"warnings", c.warnings},
                     {"crashed", nlohmann::json::array()},
                     {"cells", nlohmann::json::array()}};
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
                            {"throughput_p", x.throughput_p},
                            {"p99_ns_a", x.p99_a},
                            {"p99_ns_b", x.p99_b},
                            {"p99_change", x.p99_change},
                            {"p99_p", x.p99_p},
                            {"few_repetitions", x.few_repetitions}});
    }
    out << j.dump(2) << "\n";
    return;
  }
  if (format == "csv") {
    out << "cell,n_a,n_b,throughput_a_Bps,throughput_b_Bps,throughput_change,throughput_p,"
           "p99_a_us,p99_b_us,p99_change,p99_p,few_repetitions,outcome\n";
    for (const CellChange& x : c.cells) {
      out << x.cell << "," << x.n_a << "," << x.n_b << "," << num("%.0f", x.throughput_a) << ","
          << num("%.0f", x.throughput_b) << "," << num("%.4f", x.throughput_change) << ","
          << num("%.4g", x.throughput_p) << "," << num("%.2f", x.p99_a / 1e3) << ","
          << num("%.2f", x.p99_b / 1e3) << "," << num("%.4f", x.p99_change) << ","
          << num("%.4g", x.p99_p) << "," << (x.few_repetitions ? "yes" : "no") << ",compared\n";
    }
    for (const CrashedCell& x : c.crashed) {
      out << x.cell << ",,,,,,,,,,,," << crashed_in(x) << "\n";
    }
    return;
  }
  out << "# diobench compare\n\nA: `" << a.dir << "` (" << a.profile << ", " << a.backend
      << ")  \nB: `" << b.dir << "` (" << b.profile << ", " << b.backend << ")\n\n"
      << "Geometric mean over " << c.cells.size() << " matching cells: throughput "
      << num("%+.1f%%", 100 * (c.geomean_throughput_ratio - 1)) << ", p99 latency "
      << num("%+.1f%%", 100 * (c.geomean_p99_ratio - 1)) << " (B against A).\n\n";
  for (const std::string& w : c.warnings) out << "> **Warning: " << w << "**\n\n";
  if (few) {
    out << "**Warning:** some cells have fewer than " << kFewRepetitions
        << " repetitions on a side; their Mann-Whitney p-values are weak evidence.\n\n";
  }
  out << "| cell | n A/B | MiB/s A | MiB/s B | change | p | p99 us A | p99 us B | change | p |\n"
         "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const CellChange& x : c.cells) {
    out << "| " << x.cell << " | " << x.n_a << "/" << x.n_b << " | "
        << num("%.1f", x.throughput_a / 1048576) << " | " << num("%.1f", x.throughput_b / 1048576)
        << " | " << num("%+.1f%%", 100 * x.throughput_change) << " | "
        << num("%.3g", x.throughput_p) << " | " << num("%.1f", x.p99_a / 1e3) << " | "
        << num("%.1f", x.p99_b / 1e3) << " | " << num("%+.1f%%", 100 * x.p99_change) << " | "
        << num("%.3g", x.p99_p) << " |\n";
  }
  if (!c.crashed.empty()) {
    out << "\n## Cells that crashed the guest\n\nNot compared: the guest crashed while they ran "
           "(first line of the console excerpt).\n\n| cell | crashed in | excerpt "
           "|\n|---|---|---|\n";
    for (const CrashedCell& x : c.crashed) {
      std::string e = x.in_a ? x.excerpt_a : x.excerpt_b;
      e = e.substr(0, e.find('\n'));
      for (char& ch : e) ch = ch == '|' ? '/' : ch;
      out << "| " << x.cell << " | " << crashed_in(x).substr(9) << " | "
          << (e.empty() ? "" : "`" + e + "`") << " |\n";
    }
  }
  for (const auto& n : c.only_a) out << "\nOnly in A: `" << n << "`";
  for (const auto& n : c.only_b) out << "\nOnly in B: `" << n << "`";
  if (!c.only_a.empty() || !c.only_b.empty()) out << "\n";
}

}  // namespace diobench
