#include "diobench/path_counters.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_files.hpp"

namespace diobench {
namespace {

JobCounters sample() {
  JobCounters job;
  job.job = "j";
  job.jobnum = 3;
  job.config = PolicyConfig{Policy::Always, Semantics::V2_4, 128 * 1024, 4096};
  job.submit = "uring";
  job.backend = "emulated";
  job.target.kind = TargetKind::Loop;
  job.target.path = "/dev/loop7";
  job.target.fs_type = "ext4";
  job.target.loop = LoopInfo{"/var/tmp/x", true, 4096};
  Route split = route(job.config, Request{Direction::Write, 0, 192 * 1024, 0, false});
  job.counters.count(Direction::Write, split, 192 * 1024);
  Route direct = route(job.config, Request{Direction::Read, 0, 4096, 0, false});
  job.counters.count(Direction::Read, direct, 4096);
  job.counters.count(Direction::Read, direct, 4096);
  return job;
}

TEST(PathCounters, SidecarLineHasTheContractShape) {
  const nlohmann::json j = nlohmann::json::parse(sidecar_line(sample()));
  EXPECT_EQ(j["policy"], "always");
  EXPECT_EQ(j["semantics"], "2.4");
  EXPECT_EQ(j["submit"], "uring");
  EXPECT_EQ(j["target"]["kind"], "loop");
  EXPECT_EQ(j["target"]["loop_dio"], true);
  EXPECT_EQ(j["read"]["direct"]["requests"], 2);
  EXPECT_EQ(j["read"]["direct"]["bytes"], 8192);
  EXPECT_EQ(j["write"]["split"]["requests"], 1);
  EXPECT_EQ(j["write"]["split"]["direct_bytes"], 128 * 1024);
  EXPECT_EQ(j["write"]["split"]["buffered_bytes"], 64 * 1024);
  for (const char* b : {"direct", "buffered", "fallback", "split", "einval"}) {
    EXPECT_TRUE(j["read"].contains(b)) << b;
    EXPECT_TRUE(j["write"].contains(b)) << b;
  }
}

TEST(PathCounters, RoundTripsThroughTheSidecar) {
  const JobCounters in = sample();
  const JobCounters out = parse_sidecar_line(sidecar_line(in));
  EXPECT_EQ(out.jobnum, 3);
  EXPECT_EQ(out.config.policy, Policy::Always);
  ASSERT_TRUE(out.target.loop.has_value());
  EXPECT_EQ(out.target.loop->logical_block_size, 4096u);
  EXPECT_EQ(out.counters.bucket(Direction::Write, Path::Split).direct_bytes, 128u * 1024);
  EXPECT_EQ(out.counters.requests(Direction::Read), 2u);
}

TEST(PathCounters, BadLinesAreRejected) {
  EXPECT_ANY_THROW(parse_sidecar_line("{\"job\":\"x\"}"));
  EXPECT_ANY_THROW(parse_sidecar_line("not json"));
  std::string line = sidecar_line(sample());
  line.replace(line.find("always"), 6, "sloppy");
  EXPECT_ANY_THROW(parse_sidecar_line(line));
}

// Parallel writers (fio's numjobs as processes) must never interleave.
TEST(PathCounters, ParallelAppendsStayWholeLines) {
  const std::string file =
      std::filesystem::temp_directory_path() / ("diobench-sidecar-" + std::to_string(getpid()));
  std::filesystem::remove(file);
  const std::string line = sidecar_line(sample());
  constexpr int kWriters = 8, kLines = 200;
  for (int w = 0; w < kWriters; ++w) {
    if (fork() == 0) {
      for (int i = 0; i < kLines; ++i) {
        if (append_sidecar(file, line) != 0) _exit(1);
      }
      _exit(0);
    }
  }
  for (int w = 0; w < kWriters; ++w) {
    int status = 0;
    wait(&status);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::ifstream in(file);
  std::string got;
  int n = 0;
  while (std::getline(in, got)) {
    EXPECT_EQ(got + "\n", line);
    ++n;
  }
  EXPECT_EQ(n, kWriters * kLines);
  std::filesystem::remove(file);
}

TEST(PathCounters, SharesOfRequests) {
  PathCounters c;
  c.count(Direction::Read, Path::Direct, 3, 3 * 4096, 0);
  c.count(Direction::Read, Path::Fallback, 1, 0, 4096);
  EXPECT_EQ(c.shares(Direction::Read), "direct 75% fallback 25%");
  EXPECT_EQ(c.shares(Direction::Write), "-");
}

// 2.4's bucket: in the shares, through the sidecar and back, with the
// engine's strictness and its way of issuing uncached I/O; a line from
// before the bucket existed reads with it empty.
TEST(PathCounters, UncachedBucketRoundTrips) {
  JobCounters job;
  job.job = "j";
  job.submit = "uring";
  job.backend = "emulated";
  job.config.semantics = Semantics::V2_4;
  job.config.dio_strict = true;
  job.uncached_io = "RWF_DONTCACHE";
  job.target.path = "/x";
  job.counters.count(Direction::Read, Path::Uncached, 3, 0, 3 * 4096);
  job.counters.count(Direction::Read, Path::Direct, 1, 4096, 0);
  EXPECT_EQ(job.counters.shares(Direction::Read), "direct 25% uncached 75%");
  const std::string line = sidecar_line(job);
  const JobCounters back = parse_sidecar_line(line);
  EXPECT_EQ(back.counters.bucket(Direction::Read, Path::Uncached).requests, 3u);
  EXPECT_EQ(back.counters.bucket(Direction::Read, Path::Uncached).bytes, 3u * 4096);
  EXPECT_TRUE(back.config.dio_strict);
  EXPECT_EQ(back.uncached_io, "RWF_DONTCACHE");
  nlohmann::json old = nlohmann::json::parse(line);
  old["read"].erase("uncached");
  old["write"].erase("uncached");
  old.erase("dio_strict");
  old.erase("uncached_io");
  const JobCounters older = parse_sidecar_line(old.dump());
  EXPECT_EQ(older.counters.bucket(Direction::Read, Path::Uncached).requests, 0u);
  EXPECT_EQ(older.counters.bucket(Direction::Read, Path::Direct).requests, 1u);
  EXPECT_FALSE(older.config.dio_strict);
  // Only "uncached" may be missing: the other buckets are required.
  old["read"].erase("split");
  EXPECT_THROW(parse_sidecar_line(old.dump()), std::invalid_argument);
}

TEST(PathCounters, AppendReportsErrors) {
  EXPECT_EQ(append_sidecar("/nonexistent-dir/x.jsonl", "{}\n"), ENOENT);
}

// Root appends here: a planted symlink, FIFO or foreign file is refused
// and left as it was; a new file is private.
TEST(PathCounters, AppendRefusesWhatItDidNotCreate) {
  const test::TempDir temp("diobench-sidecar");
  const std::filesystem::path& dir = temp.path();
  const std::string victim = dir / "victim", link = dir / "link.jsonl", fifo = dir / "fifo.jsonl",
                    foreign = dir / "foreign.jsonl", fresh = dir / "fresh.jsonl";
  { std::ofstream(victim) << "keep\n"; }
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
  EXPECT_EQ(append_sidecar(link, "{}\n"), ELOOP);
  EXPECT_EQ(std::filesystem::file_size(victim), 5u) << "the append followed the symlink";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const int fifo_err = append_sidecar(fifo, "{}\n");  // must not hang
  EXPECT_TRUE(fifo_err == ENXIO || fifo_err == EINVAL) << std::strerror(fifo_err);
  { std::ofstream(foreign) << ""; }
  ASSERT_EQ(chown(foreign.c_str(), 65534, 65534), 0);
  EXPECT_EQ(append_sidecar(foreign, "{}\n"), EPERM);
  EXPECT_EQ(std::filesystem::file_size(foreign), 0u);
  ASSERT_EQ(append_sidecar(fresh, "{}\n"), 0);
  struct stat st {};
  ASSERT_EQ(stat(fresh.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

}  // namespace
}  // namespace diobench
