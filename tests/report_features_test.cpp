// diobench report / compare / bench-table on recorded runs with what the
// qemu lane and the bench drivers add: Google Benchmark results in the run
// (fixtures/bench, recorded with build/bench/diobench-bench), each fio
// cell against its device ceiling, latency-vs-IOPS curves of a capacity
// sweep (fixtures/run-capacity), the emulated-CPU banner (zfsvm.json), and
// cells during which the guest crashed (a 'crash' repetition).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using diobench::test::count;
using diobench::test::Exit;
using diobench::test::png_colours;
using diobench::test::shell;
using diobench::test::slurp;

const std::string kBinary = DIOBENCH_BINARY;
const fs::path kFixtures = DIOBENCH_FIXTURES;
constexpr const char* kBanner = "emulated CPU: compare only within the same run";
constexpr const char* kExcerpt =
    "BUG: kernel NULL pointer dereference, address: 00000000000000b0\n"
    "RIP: 0010:zfs_uio_get_dio_pages_alloc+0x5f/0x2c0 [zfs]";
constexpr const char* kCrashedCell = "randread-4k.always.loop-dio-on.buffered.psync";

// A private copy of a recorded run, removed at the end of the test.
class RunCopy {
 public:
  RunCopy(const std::string& fixture, const std::string& tag)
      : dir_(fs::temp_directory_path() / ("diobench-" + tag + "-" + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::copy(kFixtures / fixture, dir_, fs::copy_options::recursive);
  }
  ~RunCopy() { fs::remove_all(dir_); }
  const fs::path& dir() const { return dir_; }
  fs::path report(const std::string& file) const { return dir_ / "report" / file; }
  void add_bench(const std::string& fixture) const {
    fs::create_directories(dir_ / "bench");
    fs::copy_file(kFixtures / "bench" / fixture, dir_ / "bench" / "bench.json");
  }
  void sql(const std::string& statements) const {
    const Exit e = shell("sqlite3 " + (dir_ / "results.db").string() + " \"" + statements + "\"");
    ASSERT_EQ(e.status, 0) << e.output;
  }

 private:
  fs::path dir_;
};

// cells.csv as rows of column -> value (fields may be quoted).
std::vector<std::map<std::string, std::string>> read_csv(const fs::path& file) {
  const std::string text = slurp(file);
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  rows.pop_back();  // after the last newline
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    EXPECT_EQ(rows[r].size(), rows[0].size()) << "row " << r << " of " << file;
    std::map<std::string, std::string> m;
    for (std::size_t i = 0; i < rows[0].size() && i < rows[r].size(); ++i)
      m[rows[0][i]] = rows[r][i];
    out.push_back(m);
  }
  return out;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// A recorded bench JSON (Google Benchmark writes an uncomputable counter
// as a bare NaN, which JSON parsers refuse).
nlohmann::json bench_json(const std::string& fixture) {
  std::string text = slurp(kFixtures / "bench" / fixture);
  for (std::size_t at; (at = text.find(":NaN")) != std::string::npos;) text.replace(at, 4, ":null");
  for (std::size_t at; (at = text.find(": NaN")) != std::string::npos;)
    text.replace(at, 5, ": null");
  return nlohmann::json::parse(text);
}

// The repetitions' values of one key for one driver, straight from the JSON.
std::vector<double> bench_values(const std::string& fixture, const std::string& run_name,
                                 const std::string& key) {
  std::vector<double> v;
  const nlohmann::json doc = bench_json(fixture);
  for (const auto& r : doc["benchmarks"]) {
    if (r["run_name"] == run_name && r["run_type"] == "iteration" && r.contains(key) &&
        r[key].is_number()) {
      v.push_back(r[key].get<double>());
    }
  }
  return v;
}

std::vector<std::string> families_in(const std::string& fixture) {
  std::vector<std::string> f;
  const nlohmann::json doc = bench_json(fixture);
  for (const auto& r : doc["benchmarks"]) {
    const std::string name = r["run_name"];
    const std::string family = name.substr(0, name.find('/'));
    if (std::find(f.begin(), f.end(), family) == f.end()) f.push_back(family);
  }
  return f;
}

Exit report(const RunCopy& run) { return shell(kBinary + " report " + run.dir().string()); }

TEST(ReportBench, TheRunsBenchmarkResultsAreInTheReport) {
  RunCopy run("run-randread", "bench-report");
  run.add_bench("bench-4k-64k.json");
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string md = slurp(run.report("report.md"));
  const std::string html = slurp(run.report("index.html"));
  // (a) the per-request cost at 4k and the comparisons at 4k and 64k.
  EXPECT_NE(md.find("## Per-request cost (Google Benchmark drivers)"), std::string::npos);
  const auto cold =
      bench_values("bench-4k-64k.json", "ColdFile/DirectRead/bs:4096/manual_time", "real_time");
  ASSERT_EQ(cold.size(), 6u);
  char median[32];
  std::snprintf(median, sizeof median, "%.1f", median_of(cold));
  EXPECT_NE(md.find("| O_DIRECT read, file | `ColdFile/DirectRead/bs:4096` | " +
                    std::string(median) + " |"),
            std::string::npos)
      << "the median of the six repetitions, " << median << "\n"
      << md;
  EXPECT_NE(md.find("| loop tax: loop dio on vs O_DIRECT on the file | 4096 |"), std::string::npos);
  EXPECT_NE(md.find("| loop tax: loop dio on vs O_DIRECT on the file | 65536 |"),
            std::string::npos);
  EXPECT_NE(md.find("(stand-in file)"), std::string::npos)
      << "on_block_device = 0 in this recording";
  EXPECT_NE(html.find("<table id=\"request-cost\">"), std::string::npos);
  EXPECT_NE(html.find("<table id=\"bench-comparisons-sizes\">"), std::string::npos);
  // (b) a table per driver family, every instance in it.
  const auto families = families_in("bench-4k-64k.json");
  EXPECT_GE(families.size(), 6u);
  for (const std::string& f : families) {
    EXPECT_NE(md.find("### Driver family " + f + "\n"), std::string::npos) << f;
    EXPECT_NE(html.find("<table id=\"bench-family-" + f + "\">"), std::string::npos) << f;
  }
  EXPECT_NE(md.find("| `UringFile/DirectRead/fixed:1/qd:32/bs:4096` | 6 |"), std::string::npos);
  EXPECT_EQ(md.find("Drivers that failed"), std::string::npos)
      << "nothing failed in this recording";

  // Each fio cell (4k random reads, psync: total depth 1) against the QD1
  // ceiling: its median IOPS over the ceiling's median IOPS.
  const double ceiling = median_of(bench_values("bench-4k-64k.json",
                                                "Ceiling/DirectRead/seq:0/qd:1/bs:4096/manual_time",
                                                "items_per_second"));
  const auto cells = read_csv(run.report("cells.csv"));
  ASSERT_EQ(cells.size(), 9u);
  for (const auto& c : cells) {
    ASSERT_FALSE(c.at("ceiling_fraction").empty()) << c.at("cell");
    EXPECT_NEAR(std::stod(c.at("ceiling_fraction")), std::stod(c.at("iops_median")) / ceiling, 1e-3)
        << c.at("cell");
    EXPECT_EQ(c.at("ceiling"), "O_DIRECT random 4k QD1 (stand-in file)");
  }
  EXPECT_EQ(count(md, "of O_DIRECT random 4k QD1 (stand-in file) |"), 9u) << md;
  EXPECT_NE(html.find("<th>of ceiling</th>"), std::string::npos);
}

TEST(ReportBench, FailedDriversShowTheirErrorNeverANumber) {
  RunCopy run("run-randread", "bench-errors");
  run.add_bench("bench-ceiling-error.json");
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string md = slurp(run.report("report.md"));
  const std::string error = "open /var/tmp/benchfix/no-such-device: No such file or directory";
  EXPECT_NE(md.find("### Drivers that failed"), std::string::npos) << md;
  EXPECT_NE(md.find("| `Ceiling/DirectRead/seq:0/qd:1/bs:4096` | " + error + " |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| `Ceiling/DirectRead/seq:0/qd:1/bs:4096` | 0 | error: " + error + " |"),
            std::string::npos);
  EXPECT_NE(md.find("| ceiling: O_DIRECT random read, QD1 | "
                    "`Ceiling/DirectRead/seq:0/qd:1/bs:4096` | error: " +
                    error + " |"),
            std::string::npos);
  // The cells have no ceiling to be held against, and say why.
  for (const auto& c : read_csv(run.report("cells.csv")))
    EXPECT_TRUE(c.at("ceiling_fraction").empty());
  EXPECT_NE(
      md.find("for 9 cells: the ceiling Ceiling/DirectRead/seq:0/qd:1/bs:4096 failed: " + error),
      std::string::npos)
      << md;
}

TEST(ReportBench, AnUnreadableBenchFileIsSaidNotFatal) {
  RunCopy run("run-randread", "bench-broken");
  fs::create_directories(run.dir() / "bench");
  std::ofstream(run.dir() / "bench" / "bench.json")
      << "{\"context\": {}, \"benchmarks\": [{\"name\"";
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("bench/bench.json: not JSON"), std::string::npos) << e.output;
  EXPECT_NE(slurp(run.report("report.md")).find("could not be read"), std::string::npos);
}

TEST(BenchTable, MarkdownFromABareFile) {
  const std::string file = (kFixtures / "bench" / "bench-4k-64k.json").string();
  const Exit at4k = shell(kBinary + " bench-table " + file);
  ASSERT_EQ(at4k.status, 0) << at4k.output;
  EXPECT_NE(at4k.output.find("| `ColdFile/DirectRead/bs:4096` |"), std::string::npos)
      << at4k.output;
  EXPECT_EQ(at4k.output.find("| 65536 |"), std::string::npos) << "other sizes only with --sizes";
  const Exit sizes = shell(kBinary + " bench-table " + file + " --sizes");
  ASSERT_EQ(sizes.status, 0) << sizes.output;
  EXPECT_NE(sizes.output.find("| `always`: fallback vs direct, cold | 65536 |"), std::string::npos);
  const Exit at64k = shell(kBinary + " bench-table " + file + " --bs 64k");
  ASSERT_EQ(at64k.status, 0) << at64k.output;
  EXPECT_NE(at64k.output.find("Block size 65536 bytes"), std::string::npos);
  EXPECT_NE(at64k.output.find("| O_DIRECT read, file | `ColdFile/DirectRead/bs:65536` |"),
            std::string::npos);

  const fs::path bad =
      fs::temp_directory_path() / ("diobench-bad-bench-" + std::to_string(getpid()) + ".json");
  for (const std::string& text :
       {std::string("fio-3.33 said something\n{"), std::string("{\"benchmarks\": 1}")}) {
    std::ofstream(bad) << text;
    const Exit e = shell(kBinary + " bench-table " + bad.string());
    EXPECT_EQ(e.status, 2) << e.output;
    EXPECT_NE(e.output.find(bad.string()), std::string::npos) << e.output;
  }
  fs::remove(bad);
  const Exit missing = shell(kBinary + " bench-table /nonexistent/bench.json");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.output.find("/nonexistent/bench.json"), std::string::npos) << missing.output;
  const Exit bs = shell(kBinary + " bench-table " + file + " --bs 4q");
  EXPECT_EQ(bs.status, 2);
  EXPECT_NE(bs.output.find("'4q'"), std::string::npos) << bs.output;
}

TEST(ReportCapacity, LatencyAgainstIopsCurvesAreRealPictures) {
  RunCopy run("run-capacity", "capacity");
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(e.output.find("gnuplot reported"), std::string::npos) << e.output;
  const std::string name = "capacity-randread-4k-uring";
  EXPECT_NE(slurp(run.report("report.md")).find("](" + name + ".png)"), std::string::npos);
  const std::string svg = slurp(run.report(name + ".svg"));
  EXPECT_NE(svg.find("Completion latency against IOPS"), std::string::npos);
  EXPECT_NE(svg.find("IOPS (median of the repetitions)"), std::string::npos);
  EXPECT_NE(svg.find("completion latency (us)"), std::string::npos);
  // Four curves (policy x target) of p99 and four of p50, in the legend.
  for (const char* key : {"standard, file p99", "always, loop dio on p50"}) {
    EXPECT_NE(svg.find(key), std::string::npos) << key;
  }
  EXPECT_GT(count(svg, "<path"), 30u) << "curves drawn, not an empty frame";
  EXPECT_NE(svg.find(">64x2<"), std::string::npos) << "points labelled with iodepth x numjobs";
  EXPECT_NE(slurp(run.report("index.html")).find("Completion latency against IOPS"),
            std::string::npos);
  int w = 0, h = 0;
  EXPECT_GT(png_colours(run.report(name + ".png"), &w, &h), 8u);
  EXPECT_EQ(w, 960);
  EXPECT_EQ(h, 480);

  // A run that sweeps nothing gets no such figure.
  RunCopy flat("run-randread", "no-sweep");
  ASSERT_EQ(report(flat).status, 0);
  for (const auto& f : fs::directory_iterator(flat.dir() / "report")) {
    EXPECT_NE(f.path().filename().string().rfind("capacity-", 0), 0u) << f.path();
  }
}

void write_zfsvm(const fs::path& dir, bool tcg) {
  nlohmann::json j = {{"accelerator", tcg ? "tcg" : "kvm"},
                      {"emulated_cpu", tcg},
                      {"guest_kernel", "6.1.0-56-amd64"},
                      {"zfs_package", "2.3.2-2~bpo12+2"},
                      {"zfs_variant", "fixed"},
                      {"guest", {{"zfs_module", "2.3.2-2~bpo12+2"}}},
                      {"qemu", "QEMU emulator version 7.2.22"}};
  std::ofstream(dir / "zfsvm.json") << j.dump(2);
}

TEST(ReportGuest, AnEmulatedCpuIsBannered) {
  RunCopy tcg("run-randread", "tcg");
  write_zfsvm(tcg.dir(), true);
  const Exit e = report(tcg);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find(kBanner), std::string::npos) << "on the verdict printed on stdout";
  const std::string md = slurp(tcg.report("report.md"));
  const std::string html = slurp(tcg.report("index.html"));
  EXPECT_NE(md.find(kBanner), std::string::npos);
  EXPECT_NE(html.find(kBanner), std::string::npos);
  EXPECT_NE(md.find("| zfsvm.accelerator | tcg (emulated CPU) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| zfsvm.guest_kernel | 6.1.0-56-amd64 |"), std::string::npos);
  EXPECT_NE(md.find("| zfsvm.zfs_version | 2.3.2-2~bpo12+2 |"), std::string::npos);
  EXPECT_NE(html.find("<td>zfsvm.accelerator</td><td>tcg (emulated CPU)</td>"), std::string::npos);

  RunCopy kvm("run-randread", "kvm");
  write_zfsvm(kvm.dir(), false);
  const Exit k = report(kvm);
  ASSERT_EQ(k.status, 0) << k.output;
  EXPECT_EQ(k.output.find(kBanner), std::string::npos);
  EXPECT_EQ(slurp(kvm.report("report.md")).find(kBanner), std::string::npos);
  EXPECT_NE(slurp(kvm.report("report.md")).find("| zfsvm.accelerator | kvm |"), std::string::npos);

  // compare warns when either side is emulated, and when the accelerators differ.
  const Exit c = shell(kBinary + " compare " + kvm.dir().string() + " " + tcg.dir().string());
  ASSERT_EQ(c.status, 0) << c.output;
  EXPECT_NE(c.output.find(kBanner), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("differ in accelerator: A kvm, B tcg"), std::string::npos) << c.output;
  const Exit csv =
      shell(kBinary + " compare --format csv " + tcg.dir().string() + " " + tcg.dir().string());
  ASSERT_EQ(csv.status, 0) << csv.output;
  EXPECT_NE(csv.output.find("warning: " + std::string(kBanner)), std::string::npos) << csv.output;
  EXPECT_EQ(csv.output.find("differ in accelerator"), std::string::npos);
}

TEST(ReportGuest, ABrokenZfsvmJsonIsAClearError) {
  RunCopy run("run-randread", "zfsvm-broken");
  std::ofstream(run.dir() / "zfsvm.json") << "{\"accelerator\": ";
  const Exit e = report(run);
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find("zfsvm.json: not JSON"), std::string::npos) << e.output;
}

// The guest crashed during every repetition of one fallback-path cell,
// as the runner records it: status 'crash', the console excerpt as message,
// no metrics.
void crash_cell(const RunCopy& run, const std::string& cell) {
  const std::string ids =
      "(SELECT r.id FROM repetitions r JOIN cells c ON c.id = r.cell_id WHERE c.name = '" + cell +
      "')";
  run.sql("DELETE FROM metrics WHERE repetition_id IN " + ids +
          "; DELETE FROM percentiles WHERE repetition_id IN " + ids +
          "; DELETE FROM path_counters WHERE repetition_id IN " + ids +
          "; DELETE FROM device_io WHERE repetition_id IN " + ids +
          "; UPDATE repetitions SET status = 'crash', "
          "message = '" +
          kExcerpt + "' WHERE id IN " + ids);
}

// On the zfs backend amplification is the pool's iostats over what the
// loop device passed on in the same window (DESIGN.md's 32x: each 4 KiB
// read of a record-sized block moves its 128 KiB record).
TEST(ReportAmplification, ZfsUsesThePoolsIostatsOverTheLoopDevicesBytes) {
  RunCopy run("run-randread", "zfs-amplification");
  const std::string cell = "randread-4k.always.loop-dio-off.buffered.psync";
  const std::string reps = "SELECT r.id FROM repetitions r JOIN cells c ON c.id = r.cell_id"
                           " WHERE c.name = '" + cell + "'";
  run.sql("UPDATE cells SET backend = 'zfs';"
          "DELETE FROM device_io WHERE role = 'loop' AND repetition_id IN (" + reps + ");"
          "INSERT INTO device_io(repetition_id, device, role, read_bytes, write_bytes)"
          " SELECT id, 'loop9', 'loop', 1048576, 0 FROM (" + reps + ");"
          "INSERT INTO zfs_iostats(repetition_id, name, delta)"
          " SELECT id, 'direct_read_bytes', 33554432 FROM (" + reps + ");"
          "INSERT INTO zfs_iostats(repetition_id, name, delta)"
          " SELECT id, 'direct_write_bytes', 999999999 FROM (" + reps + ");");
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string md = slurp(run.report("report.md"));
  EXPECT_NE(md.find("- `" + cell + "`: the storage below moved 32.0x the bytes asked. Likely cause: "
                    "requests smaller than the record (4k < 128k) on a direct path"),
            std::string::npos)
      << md;
  for (const auto& c : read_csv(run.report("cells.csv"))) {
    if (c.at("cell") == cell) {
      EXPECT_EQ(c.at("amplification"), "32.000");
    }
  }
}

TEST(ReportCrash, ACrashedCellShowsCrashWithItsExcerpt) {
  RunCopy run("run-randread", "crash");
  crash_cell(run, kCrashedCell);
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  // stdout: the verdict rows of the crashed fallback cell, and the excerpt.
  EXPECT_EQ(count(e.output, "CRASH [the fallback-path cell crashed the guest]"), 4u) << e.output;
  EXPECT_NE(e.output.find(std::string("CRASH  ") + kCrashedCell + " (3 repetitions)"),
            std::string::npos)
      << e.output;
  EXPECT_NE(e.output.find("zfs_uio_get_dio_pages_alloc"), std::string::npos);
  // cells.csv: outcome CRASH with the excerpt, no metrics; the rest ok.
  const auto cells = read_csv(run.report("cells.csv"));
  ASSERT_EQ(cells.size(), 9u);
  for (const auto& c : cells) {
    if (c.at("cell") == kCrashedCell) {
      EXPECT_EQ(c.at("outcome"), "CRASH");
      EXPECT_EQ(c.at("crash_excerpt"), kExcerpt);
      EXPECT_EQ(c.at("repetitions"), "0");
      EXPECT_EQ(c.at("throughput_median_Bps"), "-");
    } else {
      EXPECT_EQ(c.at("outcome"), "ok") << c.at("cell");
      EXPECT_NE(c.at("throughput_median_Bps"), "-");
    }
  }
  const std::string md = slurp(run.report("report.md"));
  EXPECT_NE(md.find(std::string("| ") + kCrashedCell +
                    " | CRASH | 3 crashed | `BUG: kernel NULL pointer"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("## Crashes"), std::string::npos);
  EXPECT_NE(md.find(std::string("```\n") + kExcerpt + "\n```"), std::string::npos) << md;
  const std::string html = slurp(run.report("index.html"));
  EXPECT_NE(
      html.find("<tr class=\"CRASH\"><td>" + std::string(kCrashedCell) + "</td><td>CRASH</td>"),
      std::string::npos);
  EXPECT_NE(html.find("RIP: 0010:zfs_uio_get_dio_pages_alloc"), std::string::npos);

  // Every cell crashed: still a report, not an error.
  RunCopy all("run-randread", "crash-all");
  all.sql(
      "DELETE FROM metrics; DELETE FROM percentiles; DELETE FROM path_counters; DELETE FROM "
      "device_io; "
      "UPDATE repetitions SET status = 'crash', message = 'Oops: 0000 [#1] PREEMPT SMP'");
  const Exit a = report(all);
  EXPECT_EQ(a.status, 0) << a.output;
  EXPECT_EQ(count(slurp(all.report("cells.csv")), ",CRASH,"), 9u);
}

TEST(CompareCrash, CrashedCellsAreListedWithTheirRun) {
  RunCopy fixed("run-randread", "ab-fixed");
  RunCopy unfixed("run-randread", "ab-unfixed");
  crash_cell(unfixed, kCrashedCell);
  const Exit e = shell(kBinary + " compare " + fixed.dir().string() + " " + unfixed.dir().string());
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find("Geometric mean over 8 matching cells"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("## Cells that crashed the guest"), std::string::npos);
  EXPECT_NE(e.output.find(std::string("| ") + kCrashedCell +
                          " | B | `BUG: kernel NULL pointer dereference"),
            std::string::npos)
      << e.output;
  EXPECT_EQ(e.output.find("Only in"), std::string::npos) << "a crashed cell is not a missing one";
  const Exit j = shell(kBinary + " compare --format json " + unfixed.dir().string() + " " +
                       fixed.dir().string());
  ASSERT_EQ(j.status, 0) << j.output;
  const auto doc = nlohmann::json::parse(j.output);
  ASSERT_EQ(doc["crashed"].size(), 1u);
  EXPECT_EQ(doc["crashed"][0]["cell"], kCrashedCell);
  EXPECT_TRUE(doc["crashed"][0]["in_a"].get<bool>());
  EXPECT_FALSE(doc["crashed"][0]["in_b"].get<bool>());
  EXPECT_EQ(doc["cells"].size(), 8u);
}

// Everything at once (benchmark tables, a crashed cell, the banner) as a
// browser renders it: Debian's Chromium, headless, no console errors.
TEST(ReportHtml, BenchCrashAndBannerRenderInChromium) {
  RunCopy run("run-randread", "html-all");
  run.add_bench("bench-4k-64k.json");
  write_zfsvm(run.dir(), true);
  crash_cell(run, kCrashedCell);
  ASSERT_EQ(report(run).status, 0);
  const fs::path html = run.report("index.html");
  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" +
      (run.dir() / "chromium-profile").string() + " --window-size=1280,3000 ";
  const Exit dom =
      shell(chromium + "--enable-logging=stderr --v=0 --dump-dom file://" + html.string());
  ASSERT_EQ(dom.status, 0) << dom.output;
  for (const char* id :
       {"verdict", "cells", "request-cost", "bench-comparisons", "bench-family-Ceiling"}) {
    EXPECT_NE(dom.output.find("<table id=\"" + std::string(id) + "\">"), std::string::npos) << id;
  }
  EXPECT_NE(dom.output.find("<p class=\"banner\">" + std::string(kBanner) + "</p>"),
            std::string::npos);
  EXPECT_NE(dom.output.find("class=\"CRASH\""), std::string::npos);
  EXPECT_EQ(dom.output.find("CONSOLE"), std::string::npos) << "console messages:\n" << dom.output;
}

}  // namespace
