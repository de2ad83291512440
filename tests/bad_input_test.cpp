// Inputs the fuzz targets (fuzz/) found that a parser did not refuse the
// way its header says: an exception of another type escaped (the command
// line then exited 1 with nlohmann's message instead of 2 naming the
// file), or a number was converted with undefined behaviour. Each is
// refused now with the parser's own error, naming where it came from.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "diobench/fio_result.hpp"
#include "diobench/path_counters.hpp"
#include "diobench/reports/bench_results.hpp"
#include "diobench/runner/crash_record.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/runner/plan_file.hpp"
#include "diobench/runner/profile.hpp"

namespace diobench {
namespace {

// Runs `parse` and expects exactly the exception type `Error` with
// `origin` in its message; any other exception, or none, fails.
template <class Error, class Parse>
void expect_refused(Parse parse, const std::string& origin, const std::string& input) {
  try {
    parse();
    ADD_FAILURE() << "accepted: " << input;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(origin), std::string::npos)
        << "message does not name " << origin << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "refused with the wrong exception type (" << e.what() << "): " << input;
  }
}

// fio's JSON around one direction's fields.
std::string fio_json(const std::string& read_fields, const std::string& job_extra = "") {
  const std::string side =
      R"({"io_bytes": 4096, "total_ios": 1, "bw_bytes": 4096, "iops": 1, "runtime": 1000,
          "clat_ns": {"mean": 1.5}, "lat_ns": {"mean": 2.5})";
  return R"({"fio version": "fio-3.33", "jobs": [{"jobname": "j")" + job_extra + R"(, "read": )" +
         (read_fields.empty() ? side + "}" : read_fields) + R"(, "write": )" + side + "}}]}";
}

void expect_fio_refused(const std::string& text) {
  expect_refused<FioResultError>([&] { parse_fio_json(text, "rep1.json"); }, "rep1.json", text);
}

TEST(BadInput, FioJsonTheFixtureShapeIsAccepted) {
  const FioResult r = parse_fio_json(fio_json(""), "rep1.json");
  EXPECT_EQ(r.jobs.at(0).read.io_bytes, 4096u);
}

TEST(BadInput, FioJsonCountsMustBeWholeNumbersInRange) {
  for (const char* bad : {"1e300", "-1", "4096.5", "18446744073709551616"}) {
    expect_fio_refused(fio_json(std::string(R"({"io_bytes": )") + bad +
                                R"(, "total_ios": 1, "bw_bytes": 4096, "iops": 1, "runtime": 1000,
                                   "clat_ns": {"mean": 1.5}, "lat_ns": {"mean": 2.5}})"));
  }
  expect_fio_refused(fio_json("", R"(, "error": 1e300)"));
  expect_fio_refused(fio_json("", R"(, "error": 4294967296)"));
}

// The fuzzer's find: nlohmann's parser reports a number beyond a double's
// range (5e9220) with out_of_range, not parse_error, and it escaped.
TEST(BadInput, FioJsonNumberBeyondADoubleIsRefused) {
  expect_fio_refused(fio_json("", R"(, "eta": 5e9220)"));
}

TEST(BadInput, FioJsonPercentileKeysMustBeNumbers) {
  for (const char* key : {"x", "1e999", "nan", "99.0abc", ""}) {
    expect_fio_refused(fio_json(std::string(R"({"io_bytes": 4096, "total_ios": 1, "bw_bytes": 4096,
        "iops": 1, "runtime": 1000, "clat_ns": {"mean": 1.5, "percentile": {")") +
                                key + R"(": 1}}, "lat_ns": {"mean": 2.5}})"));
  }
}

// One sidecar line as the engine writes it, with `target` and `read` free.
std::string sidecar(const std::string& jobnum, const std::string& target_extra = "") {
  std::string side = "{";
  for (const char* path : {"direct", "buffered", "fallback", "split", "einval"}) {
    side += std::string(side.size() > 1 ? ", " : "") + "\"" + path +
            "\": {\"requests\": 1, \"bytes\": 4096}";
  }
  side += "}";
  return R"({"job": "j", "jobnum": )" + jobnum +
         R"(, "policy": "standard", "semantics": "2.3", "submit": "psync", "target": {"kind": "loop", "path": "/dev/loop0")" +
         target_extra + R"(}, "read": )" + side + R"(, "write": )" + side + "}";
}

void expect_sidecar_refused(const std::string& line) {
  expect_refused<std::invalid_argument>([&] { parse_sidecar_line(line); }, "counters", line);
}

TEST(BadInput, SidecarTheEngineShapeIsAccepted) {
  EXPECT_EQ(parse_sidecar_line(sidecar("3", R"(, "loop_dio": true)")).jobnum, 3);
}

TEST(BadInput, SidecarIsRefusedWithInvalidArgumentOnly) {
  for (
      const std::string& line :
      {std::string("[1]"), std::string("5"), std::string("{\"job\": 5}"), std::string("not json"),
       sidecar("\"3\""), sidecar("1e300"), sidecar("-1e300"), sidecar("4294967296"),
       sidecar("1", R"(, "loop_dio": true, "logical_block_size": 1e300)"),
       sidecar("1", R"(, "loop_dio": 1)"),
       // The fuzzer's first find: "target" misspelt, nlohmann's out_of_range escaped.
       std::string(
           R"({"job": "j", "jobnum": 0, "policy": "standard", "semantics": "2.3", "submit": "psync", "targed": {}})")}) {
    expect_sidecar_refused(line);
  }
}

void expect_plan_refused(const std::string& text) {
  expect_refused<std::invalid_argument>([&] { parse_plan(text, "run/plan.json"); }, "run/plan.json",
                                        text);
}

std::string plan(const std::string& repetitions, const std::string& extra = "") {
  return R"({"backend": "emulated", "scratch_dir": "/var/tmp/diobench", "filters": [],
             "repetitions": )" +
         repetitions + R"(, "seed": 7)" + extra + "}";
}

TEST(BadInput, PlanTheRunnerShapeIsAccepted) {
  EXPECT_EQ(parse_plan(plan("3"), "run/plan.json").repetitions, 3u);
}

TEST(BadInput, PlanNumbersMustBeWholeAndInRange) {
  for (const char* n : {"1e300", "-1", "2.5", "4294967296"}) expect_plan_refused(plan(n));
  expect_plan_refused(plan(
      "1", R"(, "until_decided": {"budget_s": 60, "max_repetitions": 1e300, "threshold": 0.05})"));
  expect_plan_refused(
      R"({"backend": "emulated", "scratch_dir": "/x", "filters": [], "repetitions": 1, "seed": -5})");
}

void expect_current_refused(const std::string& text) {
  expect_refused<std::invalid_argument>([&] { parse_running(text, "run/current.json"); },
                                        "run/current.json", text);
}

TEST(BadInput, CurrentTheRunnerShapeIsAccepted) {
  EXPECT_EQ(parse_running(R"({"cell": "c", "repetition": 2, "position": 5})", "run/current.json")
                .position,
            5u);
}

// The fuzzer's find: an empty current.json gave std::runtime_error, which
// `diobench crashed` reported with exit 1 instead of 2.
TEST(BadInput, CurrentIsRefusedAsBadInput) {
  for (const char* text :
       {"", "{", "[]", R"({"cell": "c"})", R"({"cell": "c", "repetition": 1e300})",
        R"({"cell": "c", "repetition": -1})",
        R"({"cell": "c", "repetition": 1, "position": 2.5})"}) {
    expect_current_refused(text);
  }
}

void expect_bench_refused(const std::string& text) {
  expect_refused<ReportError>([&] { parse_bench_results(text, "bench/bench.json"); },
                              "bench/bench.json", text);
}

std::string bench_row(const std::string& extra) {
  return R"({"benchmarks": [{"run_name": "Ceiling/DirectRead/bs:4096", "real_time": 10, "time_unit": "us")" +
         extra + "}]}";
}

TEST(BadInput, BenchTheGoogleBenchmarkShapeIsAccepted) {
  EXPECT_EQ(parse_bench_results(bench_row(R"(, "run_type": "iteration")"), "bench/bench.json")
                .drivers.size(),
            1u);
}

TEST(BadInput, BenchFieldsOfTheWrongTypeAreRefused) {
  for (const char* extra :
       {R"(, "run_type": 5)", R"(, "error_occurred": "yes")", R"(, "time_unit": 1)",
        R"(, "error_occurred": true, "error_message": 5)"}) {
    expect_bench_refused(bench_row(extra));
  }
  expect_bench_refused(
      R"({"context": {"load_avg": ["high"]}, "benchmarks": [{"run_name": "a", "real_time": 1}]})");
}

// Found with -timeout=10: 4 x 6 x 199 x 64 workload variants times the
// default matrix, 2.75 million cells, took minutes and gigabytes before
// anything was said. Refused now, naming the key.
TEST(BadInput, ProfileMatrixOfMillionsOfCellsIsRefused) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("diobench-bad-input-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "job.fio") << "[global]\n";
  const std::string path = (dir / "big.ini").string();
  std::string depths, jobs;
  for (int i = 1; i < 200; ++i) depths += " " + std::to_string(i);
  for (int i = 1; i <= 64; ++i) jobs += " " + std::to_string(i);
  const std::string text =
      "[workload.a]\nrw = read write randread randwrite\nbs = 4k 8k 16k 32k 64k 128k\n"
      "iodepth =" +
      depths + "\nnumjobs =" + jobs + "\n";
  expect_refused<ProfileError>([&] { parse_profile(text, path, "emulated"); }, path, "big.ini");
  // 10,000 cells is still a profile (4 x 5 x 500: 4 workload variants, ...).
  EXPECT_EQ(
      parse_profile("[matrix]\npolicy = always\ntarget = file\n[workload.a]\nrw = read write\n"
                    "iodepth = 1 2 3 4 5\nnumjobs = 1 2\n",
                    path, "emulated")
          .cells.size(),
      20u);
  fs::remove_all(dir);
}

// restore read every parsed line with e.value("op", "") and the like,
// which throws for a line that is JSON but not an object, or a field of
// another type: restore stopped with nlohmann's message (exit 1).
TEST(BadInput, JournalKeepsOnlyEntriesRestoreCanRead) {
  const std::string good = R"({"op": "loop", "backing": "/var/tmp/diobench/x.dat"})";
  const auto entries = Journal::parse(
      "5\n[1]\n\"loop\"\n{\"op\": 5}\n{\"path\": \"/x\"}\n"
      R"({"op": "loop", "backing": 7})"
      "\n"
      R"({"op": "zfs_property", "dataset": "d", "property": "direct", "old": "x", "inherit": "yes"})"
      "\n"
      R"({"op": "pool_export", "pool": "p", "devices": ["/dev/a", 1]})"
      "\n" +
      good + "\n" + R"({"op": "undo", "of": "lo)");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0], nlohmann::json::parse(good));
  // A number beyond a double's range is out_of_range to nlohmann, not a
  // parse error: skipped like any line that is not an entry.
  EXPECT_EQ(Journal::parse(R"({"op": "loop", "backing": "/x", "n": 1e999})"
                           "\n" +
                           good + "\n")
                .size(),
            1u);
}

}  // namespace
}  // namespace diobench

namespace diobench {
namespace {

// Found by scripts/fuzz (profile target): a [bench] drivers value with a
// back-reference of twenty digits made libstdc++'s regex compiler
// overflow a long (undefined behaviour under UBSan). Such values are
// refused before any regex is built; real filters still pass.
TEST(BadInput, BenchDriversWithHugeNumbersOrBackReferencesAreRefused) {
  EXPECT_FALSE(BenchSettings::valid_drivers("\\11111111111111111111"));
  EXPECT_FALSE(BenchSettings::valid_drivers("a{11111111111111111111}"));
  EXPECT_FALSE(BenchSettings::valid_drivers("(a)\\1"));
  EXPECT_TRUE(BenchSettings::valid_drivers("bs:1048576/"));
  EXPECT_TRUE(BenchSettings::valid_drivers("a{2,3}"));
  EXPECT_TRUE(BenchSettings::valid_drivers("\\d+"));
}

}  // namespace
}  // namespace diobench
