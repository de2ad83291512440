#include "diobench/reports/hosts.hpp"

#include <algorithm>
#include <sstream>

#include "diobench/fio_result.hpp"
#include "diobench/statistics.hpp"

namespace diobench {

HostRun::HostRun(RunData r, std::uint64_t seed) : run(std::move(r)), cells(summarize(run, seed)) {}

std::vector<HostRun> load_hosts(const RunData& run, std::uint64_t seed) {
  std::vector<HostRun> out;
  for (const std::string& host : run.hosts)
    out.emplace_back(load_host_view(run.dir, host, Measured::Optional), seed);
  return out;
}

namespace {

// The hosts' medians of one figure for cell `i` (hosts that measured it).
Spread spread_of(const std::vector<HostRun>& hosts, std::size_t i,
                 double (*figure)(const CellSummary&)) {
  std::vector<double> v;
  for (const HostRun& h : hosts) {
    if (i < h.cells.size() && h.cells[i].n > 0) v.push_back(figure(h.cells[i]));
  }
  if (v.empty()) return {};
  const auto [low, high] = std::minmax_element(v.begin(), v.end());
  return {v.size(), *low, median(v), *high};
}

double throughput_of(const CellSummary& s) { return s.throughput_median; }
double p99_of(const CellSummary& s) { return s.p99; }

}  // namespace

std::vector<CellSpread> host_spread(const std::vector<CellSummary>& sums,
                                    const std::vector<HostRun>& hosts) {
  std::vector<CellSpread> out;
  for (std::size_t i = 0; i < sums.size(); ++i) {
    out.push_back({sums[i].cell->name, sums[i].n > 0 ? sums[i].throughput_median : NAN,
                   spread_of(hosts, i, throughput_of), spread_of(hosts, i, p99_of)});
  }
  return out;
}

std::string fleet_rows_statement(const RunData& run) {
  if (!run.fleet()) return "";
  const std::string n =
      std::to_string(run.hosts.size()) + " host" + (run.hosts.size() == 1 ? "" : "s");
  if (!run.host.empty()) {
    return "Host `" + run.host + "` of a fleet run over " + n + ": computed on its rows alone.";
  }
  return "A fleet run over " + n +
         ": the answer, the verdict and the Cells table are computed on fio's sum over the hosts "
         "(`" +
         kFioAllClients +
         "`) of each repetition, not on any one host's rows; each host's own cells and the "
         "spread between the hosts are in the section Hosts.";
}

namespace {

std::string mib(double bytes_per_s) { return format_number("%.1f", bytes_per_s / 1048576); }
std::string us(double ns) { return format_number("%.1f", ns / 1e3); }
std::string ratio(double r) { return format_number("%.2fx", r); }

Table spread_table(const std::vector<CellSpread>& spread, std::size_t hosts) {
  Table t;
  t.id = "host-spread";
  t.header = {"cell",           "hosts",           "MiB/s, sum", "MiB/s, lowest",
              "MiB/s, median",  "MiB/s, highest",  "high / low", "p99 us, lowest",
              "p99 us, median", "p99 us, highest", "high / low"};
  t.numeric = {false, true, true, true, true, true, true, true, true, true, true};
  for (const CellSpread& c : spread) {
    t.rows.push_back({c.cell, std::to_string(c.throughput.hosts) + "/" + std::to_string(hosts),
                      mib(c.sum_throughput), mib(c.throughput.low), mib(c.throughput.median),
                      mib(c.throughput.high), ratio(c.throughput.ratio()), us(c.p99.low),
                      us(c.p99.median), us(c.p99.high), ratio(c.p99.ratio())});
  }
  return t;
}

// "5", "4 (1 failed)": measured repetitions and the others.
std::string repetitions_text(const CellSummary& s) {
  const CellData& c = *s.cell;
  return std::to_string(s.n) + (c.failed ? " (" + std::to_string(c.failed) + " failed)" : "") +
         (c.skipped ? " (" + std::to_string(c.skipped) + " skipped)" : "");
}

std::vector<std::string> host_row(const std::string& host, const CellSummary& s) {
  if (s.n == 0) return {s.cell->name, host, repetitions_text(s), "-", "-", "-", "-"};
  return {s.cell->name,
          host,
          repetitions_text(s),
          mib(s.throughput_median) + " (" + mib(s.throughput_interval.low) + "-" +
              mib(s.throughput_interval.high) + ")",
          format_number("%.3f", s.throughput_cv),
          format_number("%.0f", s.iops_median),
          us(s.p50) + " / " + us(s.p99) + " / " + us(s.p999)};
}

Table per_host_table(const std::vector<CellSummary>& sums, const std::vector<HostRun>& hosts) {
  Table t;
  t.id = "host-cells";
  t.header = {"cell", "host", "n", "MiB/s (95% CI)", "CV", "IOPS", "p50 / p99 / p99.9 us"};
  t.numeric = {false, false, true, true, true, true, true};
  for (std::size_t i = 0; i < sums.size(); ++i) {
    t.rows.push_back(host_row(std::string("`") + kFioAllClients + "`", sums[i]));
    for (const HostRun& h : hosts) {
      if (i < h.cells.size()) t.rows.push_back(host_row("`" + h.run.host + "`", h.cells[i]));
    }
  }
  return t;
}

// Each host's failed repetitions, a line per cell with the first reason.
std::vector<std::string> host_failures(const std::vector<HostRun>& hosts) {
  std::vector<std::string> out;
  for (const HostRun& h : hosts) {
    for (const CellData& c : h.run.cells) {
      if (!c.failed) continue;
      std::string line =
          "`" + h.run.host + "`, `" + c.name + "`: " + std::to_string(c.failed) + " failed";
      // The messages of failed and skipped repetitions are kept together:
      // a reason is quoted only when it cannot be a skip's.
      if (!c.skipped && !c.messages.empty()) {
        const std::string& m = c.messages.front();
        line += " (" + m.substr(0, m.find('\n')) + ")";
      }
      out.push_back(line);
    }
  }
  return out;
}

}  // namespace

Document hosts_document(const RunData& run, const std::vector<CellSummary>& sums,
                        const std::vector<HostRun>& hosts) {
  if (!run.fleet()) return {};
  std::string names;
  for (const std::string& h : run.hosts) names += (names.empty() ? "`" : ", `") + h + "`";
  Document doc{
      heading("Hosts"),
      paragraph("Every repetition ran on each of the " + std::to_string(run.hosts.size()) +
                " hosts (" + names +
                ") at the same moment, through fio's client/server mode. The tables above "
                "use fio's sum over the hosts (`" +
                kFioAllClients +
                "`); the ones here show each host's own repetitions, which the verdict does not "
                "use."),
      heading("Spread between the hosts", 3),
      paragraph("Per cell, each host's median over its measured repetitions; across the hosts "
                "that measured the cell, the lowest, the median and the highest of those, and "
                "highest / lowest. MiB/s, sum: the median of fio's sum."),
      table_block(spread_table(host_spread(sums, hosts), hosts.size())),
      heading("Each host's cells", 3),
      paragraph("fio's sum first, then each host, figures as in the Cells table."),
      table_block(per_host_table(sums, hosts))};
  if (const auto failures = host_failures(hosts); !failures.empty()) {
    doc.push_back(heading("Failed repetitions per host", 3));
    doc.push_back(list_block(failures));
  }
  return doc;
}

std::string hosts_csv(const std::vector<CellSummary>& sums, const std::vector<HostRun>& hosts) {
  std::ostringstream csv;
  csv << "cell,host,repetitions,failed,throughput_median_Bps,throughput_ci_low_Bps,"
         "throughput_ci_high_Bps,throughput_cv,iops_median,p50_us,p99_us,p999_us\n";
  auto row = [&](const std::string& host, const CellSummary& s) {
    csv << s.cell->name << "," << host << "," << s.n << "," << s.cell->failed << ",";
    if (s.n == 0) {
      csv << ",,,,,,,\n";
      return;
    }
    csv << format_number("%.0f", s.throughput_median) << ","
        << format_number("%.0f", s.throughput_interval.low) << ","
        << format_number("%.0f", s.throughput_interval.high) << ","
        << format_number("%.4f", s.throughput_cv) << "," << format_number("%.1f", s.iops_median)
        << "," << format_number("%.2f", s.p50 / 1e3) << "," << format_number("%.2f", s.p99 / 1e3)
        << "," << format_number("%.2f", s.p999 / 1e3) << "\n";
  };
  for (std::size_t i = 0; i < sums.size(); ++i) {
    row(kFioAllClients, sums[i]);
    for (const HostRun& h : hosts) {
      if (i < h.cells.size()) row(h.run.host, h.cells[i]);
    }
  }
  return csv.str();
}

}  // namespace diobench
