// A fleet run in the report and in compare (docs/design.md §7.9): results.db
// written by the runner's own ResultStore with a row per cell, repetition
// and host plus fio's sum ("All clients"), read back as the sum (the
// verdict's rows), as each host, and as the spread between the hosts.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diobench/reports/compare.hpp"
#include "diobench/reports/hosts.hpp"
#include "diobench/reports/plots.hpp"
#include "diobench/reports/report.hpp"
#include "diobench/runner/result_store.hpp"
#include "diobench/sqlite.hpp"
#include "report_test_support.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;
using test::count;
using test::shell;
using test::slurp;
using test::TempDir;

constexpr double kMiB = 1048576;
const std::vector<std::string> kHosts = {"10.9.0.1:8765", "10.9.0.2:8765", "10.9.0.3:8765"};

Cell make_cell(Policy policy, TargetKind target, std::optional<bool> dio) {
  Cell c;
  c.policy = policy;
  c.target = target;
  c.loop_dio = dio;
  c.workload = Workload{"randread-4k", "randread", "4k"};
  return c;
}

// A fallback-path cell (always, loop dio on) and its two references.
const std::vector<Cell> kCells = {make_cell(Policy::Always, TargetKind::File, std::nullopt),
                                  make_cell(Policy::Always, TargetKind::Loop, true),
                                  make_cell(Policy::Disabled, TargetKind::Loop, false)};

// Per host and cell the base throughput (MiB/s) and p99 (us): the hosts
// disagree on the loop tax (0.5x, 1.0x, 0.9x); the sum's is 240/300.
const double kThroughput[3][3] = {{100, 50, 40}, {100, 100, 40}, {100, 90, 40}};
const double kP99[3][3] = {{50, 80, 90}, {60, 70, 90}, {70, 75, 90}};

FioResult fio_of(double mib_per_s, double p99_us) {
  FioJobResult job;
  job.name = "cell";
  job.read.bw_bytes = mib_per_s * kMiB;
  job.read.io_bytes = static_cast<std::uint64_t>(job.read.bw_bytes);
  job.read.total_ios = job.read.io_bytes / 4096;
  job.read.iops = static_cast<double>(job.read.total_ios);
  job.read.runtime_ms = 1000;
  job.read.clat_percentiles_ns = {{50.0, p99_us * 500}, {99.0, p99_us * 1e3}};
  FioResult r;
  r.jobs = {job};
  return r;
}

RepetitionRecord row(const Cell& c, unsigned rep, unsigned position, const std::string& host) {
  RepetitionRecord r;
  r.cell = c.name();
  r.repetition = rep;
  r.position = position;
  r.host = host;
  r.status = "ok";
  return r;
}

// Nine repetitions of every cell on the three hosts, each host's value +i
// MiB/s in repetition i; host 3 lost in the always.file cell's ninth
// (its row and the sum's fail). `fleet` false: the same sums as a local
// run (host '').
fs::path write_run(const fs::path& dir, bool fleet) {
  fs::create_directories(dir);
  ResultStore store((dir / "results.db").string());
  store.begin_run("smoke-test", "emulated", 7, utc_timestamp());
  store.add_system_info({{"kernel", "Linux 6.1.0-57-amd64 #1 SMP"}});
  store.add_cells(kCells);
  unsigned position = 0;
  for (unsigned rep = 1; rep <= 9; ++rep) {
    for (std::size_t c = 0; c < kCells.size(); ++c) {
      ++position;
      const bool lost = c == 0 && rep == 9;
      std::vector<RepetitionRecord> rows;
      double sum = 0, p99 = 0;
      for (std::size_t h = 0; h < kHosts.size(); ++h) {
        RepetitionRecord r = row(kCells[c], rep, position, kHosts[h]);
        sum += kThroughput[h][c] + rep;
        p99 = std::max(p99, kP99[h][c]);
        if (lost && h == 2) {
          r.status = "failed";
          r.message = "client: host=10.9.0.3 disconnected";
        } else {
          r.fio = fio_of(kThroughput[h][c] + rep, kP99[h][c]);
        }
        rows.push_back(r);
      }
      RepetitionRecord all = row(kCells[c], rep, position, fleet ? kFioAllClients : "");
      all.status = lost ? "failed" : "ok";
      if (!lost) all.fio = fio_of(sum, p99);
      if (fleet) {
        rows.push_back(all);
        store.add_repetitions(rows);
      } else {
        store.add_repetition(all);
      }
    }
  }
  store.finish_run("finished", utc_timestamp());
  return dir;
}

class FleetReport : public ::testing::Test {
 protected:
  TempDir tmp_{"diobench-fleet-report"};
  fs::path fleet_ = write_run(tmp_.path() / "fleet", true);
  fs::path local_ = write_run(tmp_.path() / "local", false);
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ReportError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST_F(FleetReport, TheRunReadsAsTheSumItsHostsAsThemselves) {
  const RunData sum = load_run(fleet_);
  EXPECT_EQ(sum.hosts, kHosts);
  EXPECT_EQ(sum.host, "");
  ASSERT_EQ(sum.cells.size(), 3u);
  EXPECT_EQ(sum.cells[0].repetitions.size(), 8u);  // the ninth's sum failed
  EXPECT_EQ(sum.cells[0].failed, 1u);
  EXPECT_DOUBLE_EQ(sum.cells[1].repetitions[0].throughput, (50 + 100 + 90 + 3) * kMiB);
  const RunData h2 = load_host_view(fleet_, "10.9.0.2:8765");
  EXPECT_EQ(h2.host, "10.9.0.2:8765");
  EXPECT_DOUBLE_EQ(h2.cells[1].repetitions[0].throughput, 101 * kMiB);
  EXPECT_DOUBLE_EQ(h2.cells[1].repetitions[0].p99, 70e3);
  // By its name alone, as no other host shares it.
  EXPECT_EQ(load_host_view(fleet_, "10.9.0.3").host, "10.9.0.3:8765");
  EXPECT_EQ(load_host_view(fleet_, "10.9.0.3").cells[0].repetitions.size(), 8u);
  // A local run: no hosts, its rows as before.
  const RunData local = load_run(local_);
  EXPECT_TRUE(local.hosts.empty());
  EXPECT_DOUBLE_EQ(local.cells[1].repetitions[0].throughput, 243 * kMiB);
}

TEST_F(FleetReport, AHostNotInTheRunIsNamedWithTheHostsItHas) {
  const std::string unknown = error_of([&] { load_host_view(fleet_, "10.9.0.7:8765"); });
  EXPECT_NE(unknown.find("host '10.9.0.7:8765' is not in " + fleet_.string()), std::string::npos)
      << unknown;
  EXPECT_NE(unknown.find("its hosts: 10.9.0.1:8765, 10.9.0.2:8765, 10.9.0.3:8765"),
            std::string::npos)
      << unknown;
  // fio's sum is not a host.
  EXPECT_NE(error_of([&] { load_host_view(fleet_, kFioAllClients); }).find("is not in"),
            std::string::npos);
  const std::string local = error_of([&] { load_host_view(local_, "10.9.0.1"); });
  EXPECT_NE(local.find("host '10.9.0.1': " + local_.string() + " is not a fleet run"),
            std::string::npos)
      << local;
}

// The verdict stays on the sum: its loop tax is the sums' (about 0.81),
// none of the hosts' (about 0.5, 1.0 and 0.9).
TEST_F(FleetReport, TheVerdictIsTheSums) {
  const RunData run = load_run(fleet_);
  bool found = false;
  for (const Comparison& c : compute_verdict(run, 0.05, run.seed)) {
    if (c.kind != "loop tax" || c.metric != "throughput") continue;
    found = true;
    // The sums' ratio of medians: 255 / 313.5 over all repetitions, 249 /
    // 309 over the first five, wherever the verdict decided.
    EXPECT_NEAR(c.ratio, 0.81, 0.01) << c.subject;
  }
  EXPECT_TRUE(found) << "no loop tax comparison in the verdict";
  EXPECT_NE(fleet_rows_statement(run).find("computed on fio's sum over the hosts (`All clients`)"),
            std::string::npos);
  EXPECT_EQ(fleet_rows_statement(load_run(local_)), "");
}

TEST_F(FleetReport, SpreadBetweenHostsPerCell) {
  const RunData run = load_run(fleet_);
  const std::vector<CellSummary> sums = summarize(run, run.seed);
  const std::vector<HostRun> hosts = load_hosts(run, run.seed);
  ASSERT_EQ(hosts.size(), 3u);
  const std::vector<CellSpread> spread = host_spread(sums, hosts);
  ASSERT_EQ(spread.size(), 3u);
  // The loop cell: host medians 55, 105, 95 MiB/s; p99 80, 70, 75 us.
  const CellSpread& loop = spread[1];
  EXPECT_EQ(loop.cell, kCells[1].name());
  EXPECT_EQ(loop.throughput.hosts, 3u);
  EXPECT_DOUBLE_EQ(loop.throughput.low, 55 * kMiB);
  EXPECT_DOUBLE_EQ(loop.throughput.median, 95 * kMiB);
  EXPECT_DOUBLE_EQ(loop.throughput.high, 105 * kMiB);
  EXPECT_DOUBLE_EQ(loop.throughput.ratio(), 105.0 / 55);
  EXPECT_DOUBLE_EQ(loop.p99.low, 70e3);
  EXPECT_DOUBLE_EQ(loop.p99.high, 80e3);
  EXPECT_DOUBLE_EQ(loop.sum_throughput, (240 + 15) * kMiB);
  // Host 3's eight repetitions of the file cell: median 104.5.
  EXPECT_DOUBLE_EQ(spread[0].throughput.high, 105 * kMiB);
  EXPECT_DOUBLE_EQ(hosts[2].cells[0].throughput_median, 104.5 * kMiB);
}

// A host that measured nothing (every row of it failed) is a row of
// failures in the report, and no side to compare.
TEST_F(FleetReport, AHostThatMeasuredNothing) {
  sqlite::Database((fleet_ / "results.db").string(), sqlite::Database::Access::Create)
      .exec(
          "UPDATE repetitions SET status = 'failed', message = 'set-up on the host failed: "
          "lost' WHERE host = '10.9.0.3:8765'");
  const RunData run = load_run(fleet_);
  const std::vector<HostRun> hosts = load_hosts(run, run.seed);
  ASSERT_EQ(hosts.size(), 3u);
  EXPECT_EQ(hosts[2].cells[1].n, 0u);
  const std::vector<CellSpread> spread = host_spread(summarize(run, run.seed), hosts);
  EXPECT_EQ(spread[1].throughput.hosts, 2u);
  EXPECT_DOUBLE_EQ(spread[1].throughput.high, 105 * kMiB);
  const std::string md = to_markdown(hosts_document(run, summarize(run, run.seed), hosts));
  EXPECT_NE(md.find("| " + kCells[1].name() + " | 2/3 | "), std::string::npos) << md;
  EXPECT_NE(md.find("| `10.9.0.3:8765` | 0 (9 failed) | - |"), std::string::npos) << md;
  const std::string nothing = error_of([&] { load_host_view(fleet_, "10.9.0.3"); });
  EXPECT_NE(nothing.find("host '10.9.0.3:8765' has no measured repetition"), std::string::npos)
      << nothing;
}

// report.md and index.html carry the Hosts section where the cells are,
// the answer says which rows it uses; hosts.csv has a row per cell and
// host. A local run's report has none of it.
TEST_F(FleetReport, TheReportShowsHostsAndTheSpread) {
  for (const fs::path& dir : {fleet_, local_}) {
    const RunData run = load_run(dir);
    const auto verdict = compute_verdict(run, 0.05, run.seed);
    write_report(run, summarize(run, run.seed), verdict, 0.05, {}, 0, (dir / "out").string());
  }
  const std::string md = slurp(fleet_ / "out" / "report.md");
  const std::size_t cells = md.find("## Cells"), hosts = md.find("## Hosts");
  ASSERT_NE(hosts, std::string::npos) << md;
  EXPECT_LT(cells, hosts);
  EXPECT_LT(md.find("A fleet run over 3 hosts: the answer, the verdict"), cells);
  EXPECT_NE(md.find("| " + kCells[1].name() +
                    " | 3/3 | 255.0 | 55.0 | 95.0 | 105.0 | 1.91x | "
                    "70.0 | 75.0 | 80.0 | 1.14x |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| " + kCells[1].name() + " | `10.9.0.2:8765` | 9 | 105.0 ("),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| " + kCells[0].name() + " | `10.9.0.3:8765` | 8 (1 failed) | 104.5 ("),
            std::string::npos)
      << md;
  EXPECT_EQ(count(md, "| `All clients` |"), 3u);
  EXPECT_NE(md.find("`10.9.0.3:8765`, `" + kCells[0].name() +
                    "`: 1 failed (client: host=10.9.0.3 disconnected)"),
            std::string::npos)
      << md;
  const std::string html = slurp(fleet_ / "out" / "index.html");
  EXPECT_NE(html.find("id=\"host-spread\""), std::string::npos);
  EXPECT_LT(html.find("id=\"cells\""), html.find("id=\"host-cells\""));
  const std::string csv = slurp(fleet_ / "out" / "hosts.csv");
  EXPECT_EQ(count(csv, "\n"), 1u + 3 * 4);  // header, then the sum and 3 hosts per cell
  EXPECT_NE(csv.find("\n" + kCells[1].name() + ",10.9.0.1:8765,9,0,57671680,"), std::string::npos)
      << csv;

  const std::string local = slurp(local_ / "out" / "report.md");
  EXPECT_EQ(local.find("Hosts"), std::string::npos);
  EXPECT_EQ(local.find("A fleet run"), std::string::npos);
  EXPECT_EQ(local.find("All clients"), std::string::npos);
  EXPECT_FALSE(fs::exists(local_ / "out" / "hosts.csv"));
}

// compare of two hosts is the comparison of two runs, each side a host's
// own rows: host 2's loop cell is 105 against host 1's 55.
TEST_F(FleetReport, CompareTwoHostsOfOneRun) {
  const RunData a = load_host_view(fleet_, "10.9.0.1:8765");
  const RunData b = load_host_view(fleet_, "10.9.0.2:8765");
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.cells.size(), 3u);
  EXPECT_NEAR(c.cells[1].throughput_change, 105.0 / 55 - 1, 1e-12);
  EXPECT_TRUE(c.cells[1].throughput_decided());
  EXPECT_LT(c.cells[1].throughput_p, 0.001);
  EXPECT_NEAR(c.cells[1].p99_change, 70.0 / 80 - 1, 1e-12);
  EXPECT_DOUBLE_EQ(c.cells[2].throughput_change, 0);  // the same on both hosts
  std::ostringstream md, json;
  write_comparison(c, a, b, "md", md);
  EXPECT_NE(md.str().find("A: `" + fleet_.string() + "` host `10.9.0.1:8765` (smoke-test, "),
            std::string::npos)
      << md.str();
  EXPECT_NE(md.str().find("| " + kCells[1].name() + " | 9/9 | 55.0 | 105.0 | **+90.9% ["),
            std::string::npos)
      << md.str();
  write_comparison(c, a, b, "json", json);
  const auto j = nlohmann::json::parse(json.str());
  EXPECT_EQ(j["host_a"], "10.9.0.1:8765");
  EXPECT_EQ(j["host_b"], "10.9.0.2:8765");
}

// diobench report: the verdict on stdout says which rows it is of.
TEST_F(FleetReport, TheReportCommandSaysTheVerdictIsOfTheSums) {
  const auto fleet = shell(std::string(DIOBENCH_BINARY) + " report " + fleet_.string());
  ASSERT_EQ(fleet.status, 0) << fleet.output;
  EXPECT_NE(fleet.output.find("(threshold 5%)\n(A fleet run over 3 hosts: the answer, the verdict"),
            std::string::npos)
      << fleet.output;
  EXPECT_TRUE(fs::exists(fleet_ / "report" / "hosts.csv"));
  const auto local = shell(std::string(DIOBENCH_BINARY) + " report " + local_.string());
  ASSERT_EQ(local.status, 0) << local.output;
  EXPECT_EQ(local.output.find("fleet run"), std::string::npos) << local.output;
}

// The command line: the same comparison, and bad input exits 2 naming it.
TEST_F(FleetReport, CompareHostsOnTheCommandLine) {
  const std::string bin = std::string(DIOBENCH_BINARY) + " compare ";
  const auto ok = shell(bin + fleet_.string() + " --host 10.9.0.1 --host 10.9.0.2:8765");
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("B: `" + fleet_.string() + "` host `10.9.0.2:8765`"), std::string::npos)
      << ok.output;
  EXPECT_NE(ok.output.find("| 9/9 | 55.0 | 105.0 | **+90.9% ["), std::string::npos) << ok.output;
  const auto unknown = shell(bin + fleet_.string() + " --host 10.9.0.1 --host node7");
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("host 'node7' is not in " + fleet_.string() +
                                " (its hosts: 10.9.0.1:8765, 10.9.0.2:8765, 10.9.0.3:8765)"),
            std::string::npos)
      << unknown.output;
  const auto local = shell(bin + local_.string() + " --host a --host b");
  EXPECT_EQ(local.status, 2) << local.output;
  EXPECT_NE(local.output.find("is not a fleet run"), std::string::npos) << local.output;
  const auto same = shell(bin + fleet_.string() + " --host 10.9.0.1 --host 10.9.0.1:8765");
  EXPECT_EQ(same.status, 2) << same.output;
  EXPECT_NE(same.output.find("--host '10.9.0.1:8765' is host 10.9.0.1:8765 again"),
            std::string::npos)
      << same.output;
}

}  // namespace
}  // namespace diobench
