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
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "diobench/loop_device.hpp"
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
                      {"image", "bookworm-6.1-2.3.2"},
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
  EXPECT_NE(md.find("| zfsvm.image | bookworm-6.1-2.3.2 |"), std::string::npos) << md;
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
// loop device passed on in the same window (the 32x of docs/design.md §3.5: each 4 KiB
// read of a record-sized block moves its 128 KiB record).
TEST(ReportAmplification, ZfsUsesThePoolsIostatsOverTheLoopDevicesBytes) {
  RunCopy run("run-randread", "zfs-amplification");
  const std::string cell = "randread-4k.always.loop-dio-off.buffered.psync";
  const std::string reps =
      "SELECT r.id FROM repetitions r JOIN cells c ON c.id = r.cell_id"
      " WHERE c.name = '" +
      cell + "'";
  run.sql(
      "UPDATE cells SET backend = 'zfs';"
      "DELETE FROM device_io WHERE role = 'loop' AND repetition_id IN (" +
      reps +
      ");"
      "INSERT INTO device_io(repetition_id, device, role, read_bytes, write_bytes)"
      " SELECT id, 'loop9', 'loop', 1048576, 0 FROM (" +
      reps +
      ");"
      "INSERT INTO zfs_iostats(repetition_id, name, delta)"
      " SELECT id, 'direct_read_bytes', 33554432 FROM (" +
      reps +
      ");"
      "INSERT INTO zfs_iostats(repetition_id, name, delta)"
      " SELECT id, 'direct_write_bytes', 999999999 FROM (" +
      reps + ");");
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string md = slurp(run.report("report.md"));
  EXPECT_NE(md.find("- `" + cell +
                    "`: the storage below moved 32.0x the bytes asked. Likely cause: "
                    "requests smaller than the record (4k < 128k) on a direct path"),
            std::string::npos)
      << md;
  unsigned rows = 0;
  for (const auto& c : read_csv(run.report("cells.csv"))) {
    if (c.at("cell") == cell) {
      ++rows;
      EXPECT_EQ(c.at("amplification"), "32.000");
    }
  }
  EXPECT_EQ(rows, 1u) << cell << " rows in cells.csv";
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
  EXPECT_EQ(std::count_if(cells.begin(), cells.end(),
                          [](const auto& c) { return c.at("cell") == kCrashedCell; }),
            1)
      << kCrashedCell << " rows in cells.csv";
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

// A dio-on loop cell the kernel kept buffered did not run: its outcome
// says so and the report gives the reason (core loop_device.hpp).
TEST(ReportLoopRefusal, ARefusedCellShowsTheKernelsReason) {
  RunCopy run("run-randread", "refused");
  const std::string reason =
      diobench::loop_dio_refusal_text("/dev/loop3", "/tank/diobench/target.dat", 512,
                                      diobench::DioAlign{true, 512, 131072}, EINVAL, "6.15.2");
  std::string sql_quoted;  // the reason says "the file's": SQL doubles the quote
  for (char ch : reason) sql_quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
  const std::string ids =
      "(SELECT r.id FROM repetitions r JOIN cells c ON c.id = r.cell_id WHERE c.name = '" +
      std::string(kCrashedCell) + "')";
  run.sql("DELETE FROM metrics WHERE repetition_id IN " + ids +
          "; DELETE FROM percentiles WHERE repetition_id IN " + ids +
          "; DELETE FROM path_counters WHERE repetition_id IN " + ids +
          "; DELETE FROM device_io WHERE repetition_id IN " + ids +
          "; UPDATE repetitions SET status = 'failed', message = '" + sql_quoted +
          "' WHERE id IN " + ids);
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  for (const auto& c : read_csv(run.report("cells.csv"))) {
    EXPECT_EQ(c.at("outcome"), c.at("cell") == kCrashedCell ? "LOOP DIO REFUSED" : "ok")
        << c.at("cell");
  }
  const std::string md = slurp(run.report("report.md"));
  EXPECT_NE(md.find("## Loop direct I/O refused"), std::string::npos) << md;
  EXPECT_NE(md.find("```\n" + reason + "\n```"), std::string::npos) << md;
  EXPECT_EQ(count(md, "offset 131072"), 1u) << "each distinct reason once";
  const std::string html = slurp(run.report("index.html"));
  EXPECT_NE(html.find("LOOP DIO REFUSED"), std::string::npos);
  EXPECT_NE(html.find("kernel 6.15.2"), std::string::npos);
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

// ---- The answer first, the forest plot, CPU per GiB (issue 10, part 3) ----

// A run with a known answer, built on the recorded cells of run-randread:
// twelve repetitions per cell (three for standard.loop-dio-on, too few to
// decide), the same small spread in every cell, so the ratios of medians
// are exactly the factors below; and the CPU columns the runner records.
constexpr int kReps = 12;
constexpr double kRampS = 1, kRuntimeMs = 2000;  // run-randread's profile.ini: ramp = 1
constexpr double kBaseBps = 104857600, kBaseP99 = 100000;
struct Factors {
  double throughput, p99, cpu_per_gib, fio_cpu_per_gib;
};
Factors factors_of(const std::string& cell) {
  if (cell.find(".always.loop-dio-on.") != std::string::npos) return {2.0, 0.5, 1.2, 0.3};   // PASS
  if (cell.find(".always.loop-dio-off.") != std::string::npos) return {0.6, 1.7, 0.8, 0.3};  // FAIL
  return {1.0, 1.0, 0.8, 0.3};
}
double spread(int rep) { return 1 + 0.01 * ((rep * 5) % 7 - 3) / 3.0; }  // within ±1%
std::vector<double> spreads(int n) {
  std::vector<double> v;
  for (int r = 1; r <= n; ++r) v.push_back(spread(r));
  return v;
}

void make_decided_run(const RunCopy& run, bool cpu_columns = true) {
  std::string sql =
      "DELETE FROM metrics; DELETE FROM percentiles; DELETE FROM path_counters; DELETE FROM "
      "device_io;"
      "DELETE FROM repetitions;";
  if (cpu_columns) {
    sql +=
        "ALTER TABLE repetitions ADD COLUMN cpu_busy_s REAL; ALTER TABLE repetitions ADD COLUMN "
        "cpu_window_s REAL; ALTER TABLE repetitions ADD COLUMN fio_cpu_s REAL;"
        "ALTER TABLE repetitions ADD COLUMN arc_check TEXT;";
  }
  const std::string names = shell("sqlite3 " + (run.dir() / "results.db").string() +
                                  " 'SELECT id || \" \" || name FROM cells'")
                                .output;
  std::istringstream in(names);
  int id = 0, rep_id = 0;
  std::string name;
  while (in >> id >> name) {
    const Factors f = factors_of(name);
    const int reps = name.find(".standard.loop-dio-on.") != std::string::npos ? 3 : kReps;
    for (int r = 1; r <= reps; ++r) {
      const double bps = kBaseBps * f.throughput * spread(r);
      const double bytes = bps * kRuntimeMs / 1000;
      const double gib_window = bytes * (kRuntimeMs + 1000 * kRampS) / kRuntimeMs / 1073741824.0;
      const std::string rid = std::to_string(++rep_id);
      sql +=
          "INSERT INTO repetitions(id, cell_id, repetition, position, status" +
          std::string(cpu_columns ? ", cpu_busy_s, cpu_window_s, fio_cpu_s" : "") + ") VALUES(" +
          rid + ", " + std::to_string(id) + ", " + std::to_string(r) + ", " + rid + ", 'ok'" +
          (cpu_columns ? ", " + std::to_string(f.cpu_per_gib * gib_window * spread(r)) + ", 3.2, " +
                             std::to_string(f.fio_cpu_per_gib * gib_window * spread(r))
                       : std::string()) +
          ");";
      sql +=
          "INSERT INTO metrics(repetition_id, direction, io_bytes, bw_bytes, iops, runtime_ms, "
          "p50_ns,"
          " p90_ns, p99_ns, p999_ns) VALUES(" +
          rid + ", 'read', " + std::to_string(std::llround(bytes)) + ", " + std::to_string(bps) +
          ", " + std::to_string(bps / 4096) + ", " + std::to_string(kRuntimeMs) +
          ", 10000, 20000, " + std::to_string(kBaseP99 * f.p99 * spread(r)) + ", 400000);";
    }
  }
  run.sql(sql);
}

std::size_t position(const std::string& text, const std::string& what) {
  const std::size_t at = text.find(what);
  EXPECT_NE(at, std::string::npos) << "missing: " << what;
  return at;
}

constexpr const char* kPassLine =
    "4k random reads at queue depth 1 (psync, buffered application) through the loop-driver model, "
    "`always`, "
    "dio on, against the native file (same policy): 2.00x faster";
constexpr const char* kFailLine =
    "4k random reads at queue depth 1 (psync, buffered application) through the loop-driver model, "
    "`always`, "
    "dio off, against the buffered loop path (`disabled`, dio off): 40.0% slower";

TEST(ReportAnswer, StdoutOpensWithTheAnswerInWords) {
  RunCopy run("run-randread", "answer-stdout");
  make_decided_run(run);
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string& out = e.output;
  EXPECT_EQ(out.rfind("The answer: does the fallback path cost little? (threshold 5%)\n", 0), 0u)
      << out;
  // Six answers: each fallback cell against the file and the buffered loop.
  const std::size_t pass = position(out, std::string("  ") + kPassLine);
  EXPECT_NE(out.find("p99 latency 50.0% lower", pass), std::string::npos);
  EXPECT_NE(out.find("— PASS at 5%", pass), std::string::npos);
  const std::size_t fail = position(out, std::string("  ") + kFailLine);
  EXPECT_NE(out.find("and p99 latency 1.70x as long", fail), std::string::npos);
  EXPECT_LT(out.find("— FAIL at 5%", fail), out.find('\n', fail));
  const std::size_t open =
      position(out, "through the loop-driver model, `standard`, dio on, against the native file");
  EXPECT_NE(out.substr(open, out.find('\n', open) - open)
                .find("still open at 5%: about 5 repetitions per cell"),
            std::string::npos)
      << "three repetitions: the open answer says what would decide it";
  const std::size_t counts =
      position(out, "2 PASS, 2 FAIL, 2 still open (6 answers from 12 comparisons)");
  EXPECT_LT(counts, position(out, "Verdict, comparison by comparison"))
      << "the answer before the table";
  // The rows of the table agree with the counts.
  EXPECT_EQ(count(out, "  PASS  "), 4u) << out;
  EXPECT_EQ(count(out, "  FAIL  "), 4u) << out;
  // Effects are ratios in words, never a negative cost ("-100.0%").
  EXPECT_FALSE(std::regex_search(out, std::regex("-[0-9]+\\.[0-9]%"))) << out;
  EXPECT_NE(out.find("2.00x faster"), std::string::npos);
}

TEST(ReportAnswer, MarkdownAndHtmlOpenWithTheAnswerThenTheForestPlot) {
  RunCopy run("run-randread", "answer-files");
  make_decided_run(run);
  ASSERT_EQ(report(run).status, 0);
  const std::string md = slurp(run.report("report.md"));
  const std::size_t answer = position(md, "## The answer: does the fallback path cost little?");
  const std::size_t first_line = position(md, std::string("- ") + kPassLine);
  const std::size_t counts = position(md, "**2 PASS, 2 FAIL, 2 still open");
  const std::size_t forest = position(md, "](forest.png)");
  const std::size_t table = position(md, "## Verdict, comparison by comparison");
  EXPECT_LT(answer, first_line);
  EXPECT_LT(first_line, counts);
  EXPECT_LT(counts, forest);
  EXPECT_LT(forest, table);
  EXPECT_EQ(md.find("!["), md.rfind("![", forest)) << "the forest plot is the first figure";
  EXPECT_LT(table, position(md, "## Cells")) << "the long tables stay, below";
  EXPECT_FALSE(std::regex_search(md, std::regex("-[0-9]+\\.[0-9]%")));

  const std::string html = slurp(run.report("index.html"));
  const std::size_t h_answer = position(html, "<div id=\"answer\">");
  const std::size_t h_forest = position(html, "<figure id=\"forest-plot\"><svg");
  EXPECT_LT(h_answer, h_forest);
  EXPECT_LT(h_forest, position(html, "<table id=\"verdict\">"));
  EXPECT_EQ(html.find("<svg"), h_forest + std::string("<figure id=\"forest-plot\">").size())
      << "the forest plot is the first figure";
  EXPECT_EQ(count(html, "<li class=\"PASS\">"), 2u);
  EXPECT_EQ(count(html, "<li class=\"FAIL\">"), 2u);
  EXPECT_EQ(count(html, "<li class=\"INCONCLUSIVE\">"), 2u);
  EXPECT_NE(html.find("<code>always</code>, dio on, against the native file"), std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"PASS\">"), 4u) << "the verdict table, a row per comparison";
}

TEST(ReportAnswer, TheForestPlotHasARowPerComparisonColouredByOutcome) {
  RunCopy run("run-randread", "forest");
  make_decided_run(run);
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(e.output.find("gnuplot reported"), std::string::npos) << e.output;
  const std::string svg = slurp(run.report("forest.svg"));
  // Twelve rows labelled in words, each metric of each answer.
  for (const char* label : {"4k rand read QD1: always, loop dio on vs file · throughput",
                            "4k rand read QD1: always, loop dio off vs buffered loop · p99",
                            "4k rand read QD1: standard, loop dio on vs file · p99"}) {
    EXPECT_NE(svg.find(label), std::string::npos) << label;
  }
  EXPECT_EQ(count(svg, " · throughput<"), 6u);
  EXPECT_EQ(count(svg, " · p99<"), 6u);
  // Bars in the outcomes' colours, and the shaded threshold band.
  // (gnuplot draws a point per row, in its row's colour)
  EXPECT_EQ(count(svg, "color='rgb( 34, 136,  51)'/>"), 4u) << "PASS";
  EXPECT_EQ(count(svg, "color='rgb(204,  51,  17)'/>"), 4u) << "FAIL";
  EXPECT_EQ(count(svg, "color='rgb(221, 153,  34)'/>"), 4u) << "still open";
  EXPECT_NE(svg.find("rgb(228, 228, 228)"), std::string::npos) << "the ±5% band";
  int w = 0, h = 0;
  EXPECT_GT(png_colours(run.report("forest.png"), &w, &h), 8u);
  EXPECT_EQ(w, 820);
  EXPECT_EQ(h, 150 + 22 * 12) << "a row per comparison";

  // A crashed fallback cell is a row that says CRASH.
  RunCopy crashed("run-randread", "forest-crash");
  crash_cell(crashed, kCrashedCell);
  ASSERT_EQ(report(crashed).status, 0);
  const std::string csvg = slurp(crashed.report("forest.svg"));
  EXPECT_EQ(count(csvg, ">CRASH</tspan>"), 5u) << "its four comparisons' rows and the legend";
  EXPECT_NE(slurp(crashed.report("report.md")).find("— CRASH"), std::string::npos);
}

// Values of one cell's row in cells.csv.
std::map<std::string, std::string> csv_row(const fs::path& file, const std::string& key,
                                           const std::string& value) {
  for (const auto& row : read_csv(file)) {
    if (row.count(key) && row.at(key) == value) return row;
  }
  ADD_FAILURE() << "no row with " << key << " = " << value << " in " << file;
  return {};
}

TEST(ReportCpu, CpuPerGibPerCellAndPerComparison) {
  RunCopy run("run-randread", "cpu");
  make_decided_run(run);
  ASSERT_EQ(report(run).status, 0);
  // Per cell: the CPU seconds over the GiB moved in fio's whole window
  // (its bytes scaled by (ramp + runtime) / runtime), median of the reps.
  const double m = median_of(spreads(kReps));
  const auto on =
      csv_row(run.report("cells.csv"), "cell", "randread-4k.always.loop-dio-on.buffered.psync");
  EXPECT_EQ(on.at("cpu_repetitions"), "12");
  EXPECT_NEAR(std::stod(on.at("cpu_s_per_GiB")), 1.2 * m, 1e-4);
  EXPECT_NEAR(std::stod(on.at("fio_cpu_s_per_GiB")), 0.3 * m, 1e-4);
  EXPECT_LE(std::stod(on.at("cpu_s_per_GiB_ci_low")), std::stod(on.at("cpu_s_per_GiB")));
  EXPECT_GE(std::stod(on.at("cpu_s_per_GiB_ci_high")), std::stod(on.at("cpu_s_per_GiB")));
  EXPECT_GT(std::stod(on.at("cpu_s_per_GiB_ci_high")), std::stod(on.at("cpu_s_per_GiB_ci_low")));
  const auto file =
      csv_row(run.report("cells.csv"), "cell", "randread-4k.always.file.buffered.psync");
  EXPECT_NEAR(std::stod(file.at("cpu_s_per_GiB")), 0.8 * m, 1e-4);
  // Per comparison: the fallback's CPU per GiB over its reference's.
  bool seen = false;
  for (const auto& c : read_csv(run.report("comparisons.csv"))) {
    if (c.at("subject") != "randread-4k.always.loop-dio-on.buffered.psync" ||
        c.at("kind") != "loop tax")
      continue;
    seen = true;
    EXPECT_NEAR(std::stod(c.at("cpu_ratio")), 1.5, 1e-6);
    EXPECT_LE(std::stod(c.at("cpu_ratio_low")), 1.5);
    EXPECT_GE(std::stod(c.at("cpu_ratio_high")), 1.5);
  }
  EXPECT_TRUE(seen);
  const std::string md = slurp(run.report("report.md"));
  EXPECT_NE(md.find("; CPU per GiB 1.50x the reference's ["), std::string::npos) << "in the answer";
  EXPECT_NE(md.find("| 1.50x ["), std::string::npos) << "in the verdict table";
  EXPECT_NE(md.find("| CPU s/GiB, all CPUs | CPU s/GiB, fio |"), std::string::npos);
  const std::string html = slurp(run.report("index.html"));
  EXPECT_NE(html.find("<th>CPU s/GiB, all CPUs</th><th>CPU s/GiB, fio</th>"), std::string::npos);
  EXPECT_NE(html.find("<th>CPU per GiB, fallback / reference [95%]</th>"), std::string::npos);

  // A run recorded before the CPU columns: unknown, said so, no numbers.
  RunCopy old("run-randread", "cpu-old");
  make_decided_run(old, false);
  ASSERT_EQ(report(old).status, 0);
  for (const auto& c : read_csv(old.report("cells.csv"))) {
    EXPECT_EQ(c.at("cpu_repetitions"), "0");
    EXPECT_TRUE(c.at("cpu_s_per_GiB").empty());
  }
  EXPECT_NE(slurp(old.report("report.md")).find("CPU s/GiB: not recorded in this run"),
            std::string::npos);
  EXPECT_EQ(slurp(old.report("report.md")).find("CPU per GiB 1."), std::string::npos);
}

TEST(ReportAnswer, AnEmulatedCpuRunsAnswerCarriesTheBanner) {
  RunCopy run("run-randread", "answer-tcg");
  make_decided_run(run);
  write_zfsvm(run.dir(), true);
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(e.output.rfind(std::string("*** ") + kBanner + " ***\nThe answer:", 0), 0u) << e.output;
  const std::string md = slurp(run.report("report.md"));
  const std::size_t heading = position(md, "## The answer:");
  const std::size_t banner = position(md, std::string("> **") + kBanner);
  EXPECT_LT(heading, banner);
  EXPECT_LT(banner, position(md, std::string("- ") + kPassLine));
  const std::string html = slurp(run.report("index.html"));
  EXPECT_LT(position(html, "<div id=\"answer\">"), position(html, "<p class=\"banner\">"));
  EXPECT_LT(position(html, "<p class=\"banner\">"), position(html, "<ul id=\"answer-lines\">"));
}

// Names from profiles reach gnuplot's titles: a backquoted command in one
// must stay text (gnuplot runs what is backquoted in double-quoted strings).
TEST(ReportFigures, AWorkloadNameCannotRunACommandThroughGnuplot) {
  RunCopy run("run-randread", "gnuplot-injection");
  const fs::path witness = run.dir() / "witness";
  // char(96) is the backquote, kept out of the shell that runs sqlite3.
  run.sql("UPDATE cells SET workload = 'rr' || char(96) || 'touch " + witness.string() +
          "' || char(96) || 'x';");
  ASSERT_FALSE(fs::exists(witness));
  ASSERT_NE(shell("sqlite3 " + (run.dir() / "results.db").string() +
                  " 'SELECT workload FROM cells LIMIT 1'")
                .output.find("`touch"),
            std::string::npos);
  const Exit e = report(run);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_TRUE(fs::exists(run.report("index.html")));
  EXPECT_FALSE(fs::exists(witness)) << "gnuplot ran the backquoted command in a workload name";
}

// An emulated run's loop cells are the engine's model of the loop driver:
// the answer says so in its words and in a note; a zfs run's loop cells are
// real loop devices and carry no such note.
TEST(ReportAnswer, EmulatedLoopCellsSayTheyAreTheLoopDriverModel) {
  const std::string kLoopModelScope = "A loop cell is the engine's model of the loop driver";
  RunCopy emulated("run-randread", "answer-loop-model");
  make_decided_run(emulated);
  Exit e = report(emulated);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_NE(e.output.find(kLoopModelScope), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("through the loop-driver model, `always`, dio on"), std::string::npos);
  EXPECT_NE(slurp(emulated.report("report.md")).find(kLoopModelScope), std::string::npos);

  RunCopy zfs("run-randread", "answer-loop-zfs");
  make_decided_run(zfs);
  zfs.sql("UPDATE cells SET backend = 'zfs';");
  e = report(zfs);
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(e.output.find(kLoopModelScope), std::string::npos) << e.output;
  EXPECT_EQ(e.output.find("loop-driver model"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("through a loop device, `always`, dio on"), std::string::npos)
      << e.output;
}

// Where the page puts things, as Chromium lays it out in a 1400x900
// window: a copy of the page with a script that writes the boxes of the
// answer, the forest plot and every table into the DOM it dumps.
struct Box {
  double top = -1, bottom = -1, left = -1, right = -1;
};
std::map<std::string, Box> first_screen_boxes(const fs::path& html, const fs::path& work) {
  std::string page = slurp(html);
  const std::string probe =
      "<script>window.addEventListener('load',()=>{const o=[];const box=(k,e)=>{if(!e)return;"
      "const r=e.getBoundingClientRect();o.push(k+' '+r.top+' '+r.bottom+' '+r.left+' '+r.right);};"
      "box('answer',document.getElementById('answer-lines'));"
      "box('forest',document.querySelector('#forest-plot svg'));"
      "document.querySelectorAll('table').forEach((t,i)=>box('table'+i,t));"
      "const p=document.createElement('pre');p.id='probe';p.textContent=o.join('\\n');"
      "document.body.appendChild(p);});</script>";
  page.insert(page.rfind("</body>"), probe);
  const fs::path copy = work / "probe.html";
  std::ofstream(copy) << page;
  const Exit dom = shell(
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
      (work / "chromium-probe").string() + " --window-size=1400,900 --dump-dom file://" +
      copy.string());
  EXPECT_EQ(dom.status, 0) << dom.output;
  std::map<std::string, Box> boxes;
  const std::size_t start = dom.output.find("<pre id=\"probe\">");
  EXPECT_NE(start, std::string::npos) << dom.output.substr(0, 2000);
  if (start == std::string::npos) return boxes;
  std::istringstream in(
      dom.output.substr(start + 16, dom.output.find("</pre>", start) - start - 16));
  std::string key;
  Box b;
  while (in >> key >> b.top >> b.bottom >> b.left >> b.right) boxes[key] = b;
  return boxes;
}

// Pixels of one colour inside a box of a screenshot.
std::size_t pixels_of(const fs::path& png, unsigned rgb, const Box& box) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, png.c_str())) return 0;
  image.format = PNG_FORMAT_RGB;
  std::string px(PNG_IMAGE_SIZE(image), '\0');
  if (!png_image_finish_read(&image, nullptr, px.data(), 0, nullptr)) return 0;
  std::size_t n = 0;
  const auto from = [](double v) { return static_cast<unsigned>(std::max(0.0, v)); };
  for (unsigned y = from(box.top); y < image.height && y < box.bottom; ++y) {
    for (unsigned x = from(box.left); x < image.width && x < box.right; ++x) {
      const std::size_t i = 3 * (static_cast<std::size_t>(y) * image.width + x);
      const unsigned colour = static_cast<unsigned>(
          (unsigned char)px[i] << 16 | (unsigned char)px[i + 1] << 8 | (unsigned char)px[i + 2]);
      n += colour == rgb;
    }
  }
  return n;
}

TEST(ReportFirstScreen, AnswerAndForestPlotFillTheFirstScreenNotATable) {
  RunCopy run("run-randread", "first-screen");
  make_decided_run(run);
  ASSERT_EQ(report(run).status, 0);
  const auto boxes = first_screen_boxes(run.report("index.html"), run.dir());
  ASSERT_TRUE(boxes.count("answer") && boxes.count("forest"))
      << "answer and forest plot are laid out";
  const Box answer = boxes.at("answer"), forest = boxes.at("forest");
  EXPECT_LT(answer.top, 300) << "the answer starts near the top";
  EXPECT_LT(forest.top, 300) << "so does the forest plot";
  EXPECT_LE(forest.bottom, 900) << "the whole forest plot is on the first screen";
  EXPECT_GT(forest.bottom - forest.top, 300) << "drawn at a readable size";
  for (const auto& [key, box] : boxes) {
    if (key.rfind("table", 0) == 0) {
      EXPECT_GE(box.top, 900) << key << " is on the first screen";
    }
  }
  // The screenshot a reviewer sees: the plot's bars in the PASS and FAIL
  // colours inside the plot's box (the answer's markers in the same
  // colours are outside it). DIOBENCH_KEEP_SCREENSHOT=FILE keeps a copy.
  const fs::path shot = run.dir() / "first-screen.png";
  const Exit s = shell(
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
      (run.dir() / "chromium-shot").string() + " --window-size=1400,900 --screenshot=" +
      shot.string() + " file://" + run.report("index.html").string());
  ASSERT_EQ(s.status, 0) << s.output;
  int w = 0, h = 0;
  png_colours(shot, &w, &h);
  EXPECT_EQ(w, 1400);
  EXPECT_EQ(h, 900);
  EXPECT_GT(pixels_of(shot, 0xcc3311, forest), 50u) << "FAIL bars drawn in the plot's box";
  EXPECT_GT(pixels_of(shot, 0x228833, forest), 50u) << "PASS bars drawn in the plot's box";
  if (const char* keep = std::getenv("DIOBENCH_KEEP_SCREENSHOT"))
    fs::copy_file(shot, keep, fs::copy_options::overwrite_existing);
}

}  // namespace
