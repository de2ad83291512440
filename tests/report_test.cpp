// diobench report on a run recorded here (fixtures/run-randread): the
// files it writes, that its figures are real pictures, and that the HTML
// renders in a real browser (headless Chromium) without console errors.
#include <gtest/gtest.h>
#include <png.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "report_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using diobench::test::Exit;
using diobench::test::png_colours;
using diobench::test::shell;
using diobench::test::slurp;

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("diobench-report-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(DIOBENCH_FIXTURES "/run-randread", dir_ / "run");
    result_ = shell(std::string(DIOBENCH_BINARY) + " report " + (dir_ / "run").string() +
                    " --out " + (dir_ / "out").string());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path out() { return dir_ / "out"; }
  static inline fs::path dir_;
  static inline Exit result_;
};

TEST_F(ReportTest, WritesEverythingAndPrintsTheVerdict) {
  ASSERT_EQ(result_.status, 0) << result_.output;
  EXPECT_EQ(result_.output.find("gnuplot reported"), std::string::npos) << result_.output;
  EXPECT_EQ(result_.output.rfind("The answer: does the fallback path cost little?", 0), 0u)
      << "stdout opens with the answer:\n"
      << result_.output;
  EXPECT_NE(result_.output.find("Verdict, comparison by comparison"), std::string::npos);
  // Three fallback-path cells x {loop tax, degradation} x {throughput, p99}.
  std::size_t rows = 0;
  for (std::size_t at = 0; (at = result_.output.find("randread-4k psync", at)) != std::string::npos;
       ++at)
    ++rows;
  EXPECT_EQ(rows, 12u) << result_.output;
  for (const char* f : {"index.html", "report.md", "cells.csv"}) {
    EXPECT_TRUE(fs::exists(out() / f)) << f;
  }
  const std::string csv = slurp(out() / "cells.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 10) << "a header and nine cells";
  const std::string md = slurp(out() / "report.md");
  EXPECT_NE(md.find("![Throughput, randread-4k psync](throughput-randread-4k-psync.png)"),
            std::string::npos);
  EXPECT_NE(md.find("## System"), std::string::npos);
}

TEST_F(ReportTest, FiguresAreRealPictures) {
  ASSERT_EQ(result_.status, 0) << result_.output;
  for (const char* name :
       {"throughput-randread-4k-psync", "latency-randread-4k-psync", "path-split"}) {
    // (the forest plot has a size of its own: ReportAnswer tests it)
    const std::string svg = slurp(out() / (std::string(name) + ".svg"));
    EXPECT_NE(svg.find("<svg"), std::string::npos) << name;
    // Data drawn as paths with coordinates, not an empty frame.
    std::size_t paths = 0;
    for (std::size_t at = 0; (at = svg.find("<path", at)) != std::string::npos; ++at) ++paths;
    EXPECT_GT(paths, 10u) << name;
    int w = 0, h = 0;
    const std::size_t colours = png_colours(out() / (std::string(name) + ".png"), &w, &h);
    EXPECT_EQ(w, 960) << name;
    EXPECT_EQ(h, 480) << name;
    EXPECT_GT(colours, 8u) << name << ": blank or nearly blank";
  }
}

// The page as a browser renders it: Debian's Chromium, headless.
TEST_F(ReportTest, HtmlRendersInChromiumWithoutConsoleErrors) {
  ASSERT_EQ(result_.status, 0) << result_.output;
  const fs::path html = out() / "index.html";
  const std::string page = slurp(html);
  EXPECT_EQ(page.find("<link"), std::string::npos) << "self-contained: no external stylesheet";
  EXPECT_EQ(page.find("<img"), std::string::npos) << "self-contained: figures inline";
  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" +
      (dir_ / "profile").string() + " --window-size=1280,3000 ";
  const Exit dom =
      shell(chromium + "--enable-logging=stderr --v=0 --dump-dom file://" + html.string());
  ASSERT_EQ(dom.status, 0) << dom.output;
  EXPECT_NE(dom.output.find("<table id=\"verdict\">"), std::string::npos);
  const bool has_outcome = dom.output.find("class=\"PASS\"") != std::string::npos ||
                           dom.output.find("class=\"FAIL\"") != std::string::npos ||
                           dom.output.find("class=\"INCONCLUSIVE\"") != std::string::npos;
  EXPECT_TRUE(has_outcome) << "the verdict table has outcome rows";
  std::size_t svgs = 0;
  for (std::size_t at = 0; (at = dom.output.find("<svg", at)) != std::string::npos; ++at) ++svgs;
  EXPECT_EQ(svgs, 4u) << "the forest plot and the three figures are in the rendered DOM";
  EXPECT_EQ(dom.output.find("CONSOLE"), std::string::npos) << "console messages:\n" << dom.output;

  const fs::path shot = dir_ / "page.png";
  const Exit screenshot =
      shell(chromium + "--screenshot=" + shot.string() + " file://" + html.string());
  ASSERT_EQ(screenshot.status, 0) << screenshot.output;
  int w = 0, h = 0;
  EXPECT_GT(png_colours(shot, &w, &h), 50u) << "the page rendered text and figures";
  EXPECT_EQ(w, 1280);
}

}  // namespace

namespace {

// A profile that leaves a target out (capacity.ini has no loop dio off):
// the figures draw what there is, gnuplot has nothing to complain about.
TEST(ReportInput, AMissingTargetIsNoProblemForTheFigures) {
  const fs::path dir =
      fs::temp_directory_path() / ("diobench-no-dio-off-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::copy(DIOBENCH_FIXTURES "/run-randread", dir);
  ASSERT_EQ(shell("sqlite3 " + (dir / "results.db").string() +
                  " \"DELETE FROM repetitions WHERE cell_id IN (SELECT id FROM cells WHERE"
                  " loop_dio = 'off'); DELETE FROM cells WHERE loop_dio = 'off'\"")
                .status,
            0);
  const Exit e = shell(std::string(DIOBENCH_BINARY) + " report " + dir.string());
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(e.output.find("gnuplot reported"), std::string::npos) << e.output;
  EXPECT_TRUE(fs::exists(dir / "report" / "throughput-randread-4k-psync.png"));
  fs::remove_all(dir);
}

TEST(ReportInput, AnEmptyRunIsAClearErrorNotACrash) {
  const fs::path dir =
      fs::temp_directory_path() / ("diobench-empty-run-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::copy(DIOBENCH_FIXTURES "/run-randread", dir);
  ASSERT_EQ(shell("sqlite3 " + (dir / "results.db").string() + " 'DELETE FROM repetitions'").status,
            0);
  const Exit e = shell(std::string(DIOBENCH_BINARY) + " report " + dir.string());
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find("no measured repetition"), std::string::npos) << e.output;
  fs::remove_all(dir);
}

}  // namespace
