// fio's JSON as fio 3.33 wrote it (fixtures/fio-randrw.json: a 1-second
// 4k randrw psync job recorded on this machine type).
#include "diobench/fio_result.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace diobench {
namespace {

const std::string kFixture = std::string(DIOBENCH_FIXTURES) + "/fio-randrw.json";

std::string fixture_text() {
  std::ifstream in(kFixture);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FioResult, ReadsTheRecordedRun) {
  const FioResult r = read_fio_json(kFixture);
  EXPECT_EQ(r.fio_version, "fio-3.33");
  ASSERT_EQ(r.jobs.size(), 1u);
  const FioJobResult& job = r.jobs[0];
  EXPECT_EQ(job.name, "fixture");
  EXPECT_EQ(job.error, 0);
  EXPECT_EQ(job.read.io_bytes, 60956672u);
  EXPECT_EQ(job.read.total_ios, 14882u);
  EXPECT_EQ(job.read.io_bytes, job.read.total_ios * 4096);
  EXPECT_DOUBLE_EQ(job.read.percentile_ns(99.0), 89600.0);
  EXPECT_EQ(job.write.total_ios, 14820u);
  EXPECT_TRUE(std::isnan(job.read.percentile_ns(42.0)));
  EXPECT_EQ(r.first_error(), 0);
}

TEST(FioResult, SkipsTextBeforeTheJson) {
  const FioResult r =
      parse_fio_json("fio: some warning\nnote: something else\n" + fixture_text(), "x");
  EXPECT_EQ(r.jobs.size(), 1u);
}

TEST(FioResult, TruncatedJsonIsAClearError) {
  const std::string text = fixture_text();
  try {
    parse_fio_json(text.substr(0, text.size() / 2), "half.json");
    FAIL() << "no error";
  } catch (const FioResultError& e) {
    EXPECT_NE(std::string(e.what()).find("half.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos);
  }
}

TEST(FioResult, MissingPiecesAreClearErrors) {
  EXPECT_THROW(parse_fio_json("fio: nothing here", "a"), FioResultError);
  EXPECT_THROW(parse_fio_json("{\"jobs\": []}", "b"), FioResultError);
  EXPECT_THROW(parse_fio_json("{\"jobs\": [{\"jobname\": \"x\"}]}", "c"), FioResultError);
  EXPECT_THROW(read_fio_json("/nonexistent/fio.json"), FioResultError);
}

}  // namespace
}  // namespace diobench
