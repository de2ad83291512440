// fio's JSON as fio 3.33 wrote it (fixtures/fio-randrw.json: a 1-second
// 4k randrw psync job recorded on this machine type).
#include "diobench/fio_result.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

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

// fio 3.33 as a client of two fio servers (fio --client=HOSTFILE), each in
// a network namespace of this machine running a 2 s randread job through
// our engine: fixtures/fio-client/two-hosts.json. In one-host-lost.json the
// first server was killed mid-run: fio printed "client: host=... disconnected"
// before the JSON, which holds the other host only and no "All clients".
TEST(FioResult, ReadsEveryServersJobsAndTheAggregateApart) {
  const FioResult r = read_fio_json(std::string(DIOBENCH_FIXTURES) + "/fio-client/two-hosts.json");
  EXPECT_TRUE(r.from_servers());
  ASSERT_EQ(r.jobs.size(), 2u);
  EXPECT_EQ(r.hosts(), (std::vector<std::string>{"10.231.2.2,8765", "10.231.1.2,8765"}));
  ASSERT_EQ(r.all_clients.size(), 1u);
  EXPECT_EQ(r.all_clients[0].name, "All clients");
  EXPECT_TRUE(r.all_clients[0].host.empty());
  // The aggregate is the sum of the hosts' bytes, not one of them.
  EXPECT_EQ(r.all_clients[0].read.io_bytes, r.jobs[0].read.io_bytes + r.jobs[1].read.io_bytes);
  EXPECT_GT(r.jobs[0].read.total_ios, 0u);
  EXPECT_GT(r.jobs[1].read.total_ios, 0u);
}

TEST(FioResult, ALostServerHasNoJobs) {
  const FioResult r =
      read_fio_json(std::string(DIOBENCH_FIXTURES) + "/fio-client/one-host-lost.json");
  EXPECT_EQ(r.hosts(), (std::vector<std::string>{"10.231.2.2,8765"}));
  EXPECT_TRUE(r.all_clients.empty());
  EXPECT_EQ(r.first_error(), 0);
}

TEST(FioResult, ALocalRunHasNoHosts) {
  const FioResult r = read_fio_json(kFixture);
  EXPECT_FALSE(r.from_servers());
  EXPECT_TRUE(r.hosts().empty());
  EXPECT_TRUE(r.all_clients.empty());
}

TEST(FioResult, AServersJobWithoutItsHostIsAClearError) {
  EXPECT_THROW(parse_fio_json(R"({"client_stats": [{"jobname": "j"}]})", "d"), FioResultError);
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
