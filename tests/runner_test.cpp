// `diobench run` end to end, as a user runs it: the real binary, the
// real fio and engine, real loop devices; then results.db, the machine's
// loop devices and the scratch area are inspected from the outside.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "diobench/loop_device.hpp"
#include "diobench/scratch.hpp"
#include "loops.hpp"
#include "small_filesystem.hpp"
#include "test_files.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;
using test::loops_under;

struct Exit {
  int status = -1;
  std::string output;
};

// With `uid` (and the same gid), the child drops root first.
pid_t start_diobench(const std::vector<std::string>& args, const std::string& log,
                     std::optional<uid_t> uid = std::nullopt) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (uid && (setgroups(0, nullptr) != 0 || setresgid(*uid, *uid, *uid) != 0 ||
                setresuid(*uid, *uid, *uid) != 0)) {
      _exit(126);
    }
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    setpgid(0, 0);  // our own group: a terminal's Ctrl-C here is not its
    std::vector<char*> argv{const_cast<char*>(DIOBENCH_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

Exit wait_diobench(pid_t pid, const std::string& log) {
  int status = 0;
  waitpid(pid, &status, 0);
  Exit e;
  e.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(log);
  std::stringstream s;
  s << in.rdbuf();
  e.output = s.str();
  return e;
}

// Runs build/diobench with `args`; with `kill_after`, sends `sig` to it
// (and only it) after that long.
Exit diobench(const std::vector<std::string>& args, const std::string& log,
              std::chrono::milliseconds kill_after = std::chrono::milliseconds(0),
              int sig = SIGKILL) {
  const pid_t pid = start_diobench(args, log);
  if (kill_after.count() > 0) {
    std::this_thread::sleep_for(kill_after);
    kill(pid, sig);
  }
  return wait_diobench(pid, log);
}

// Runs build/diobench with `args` and kills it (SIGKILL) as soon as
// `moment()` holds, polled every 20 ms (or lets it finish if it never does).
Exit diobench_killed_when(const std::vector<std::string>& args, const std::string& log,
                          const std::function<bool()>& moment) {
  const pid_t pid = start_diobench(args, log);
  for (;;) {
    siginfo_t info{};
    waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (info.si_pid != 0 || moment()) break;  // it ended by itself, or now
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  return wait_diobench(pid, log);
}

std::vector<std::string> data_files_in(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".dat") files.push_back(e.path().filename().string());
  }
  return files;
}

// One SQL query's rows, columns joined with '|'.
std::vector<std::string> query(const std::string& db, const std::string& sql) {
  sqlite3* h = nullptr;
  std::vector<std::string> rows;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(h);
    return {"(cannot open " + db + ")"};
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row += (i ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      rows.push_back(row);
    }
  } else {
    rows.push_back(std::string("(bad query: ") + sqlite3_errmsg(h) + ")");
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return rows;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = "/var/tmp/diobench-runner-test-" + std::to_string(getpid()) + "-" + info->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
    scratch_ = root_ + "/scratch";
    runs_ = root_ + "/runs";
  }
  void TearDown() override {
    // Whatever a failed test left: restore it, then check nothing remains.
    for (const auto& r : {runs_ + "/a", runs_ + "/b"}) {
      if (fs::exists(r + "/journal.jsonl")) diobench({"restore", r}, root_ + "/teardown.log");
    }
    EXPECT_TRUE(loops_under(root_).empty()) << "loop device left behind";
    fs::remove_all(root_);
  }
  void expect_stopped_cleanly(const Exit& e, const std::string& out, int sig);
  std::vector<std::string> run_args(const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> a{"run", "--profile", "smoke", "--dir", scratch_, "--out", out};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::string root_, scratch_, runs_;
};

TEST_F(RunnerTest, SmokeRunStoresEveryRepetitionAndCleansUp) {
  const std::string out = runs_ + "/a";
  // What the caller adds to the system information (the qemu lane does).
  setenv("DIOBENCH_SYSINFO_VM_ACCELERATOR", "tcg", 1);
  const Exit e = diobench(run_args(out, {"--filter", "workload=randread-4k"}), root_ + "/run.log");
  unsetenv("DIOBENCH_SYSINFO_VM_ACCELERATOR");
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string db = out + "/results.db";
  EXPECT_EQ(query(db, "SELECT count(*) FROM repetitions WHERE status = 'ok'"),
            std::vector<std::string>{"9"});
  EXPECT_EQ(query(db, "SELECT value FROM system_info WHERE key = 'vm.accelerator'"),
            std::vector<std::string>{"tcg"});
  EXPECT_EQ(query(db, "SELECT status FROM runs"), std::vector<std::string>{"complete"});
  EXPECT_EQ(query(db,
                  "SELECT count(*) FROM metrics WHERE direction = 'read' AND iops > 0 "
                  "AND p99_ns > 0 AND io_bytes > 0"),
            std::vector<std::string>{"9"});
  // The engine's split agrees with the policy table for buffered 4k reads
  // on page-aligned buffers: always -> all direct, disabled -> all
  // buffered; standard -> buffered, except through a loop device with dio
  // on, whose driver (modelled on the emulated backend) asks for O_DIRECT.
  EXPECT_EQ(query(db,
                  "SELECT c.policy, pc.path FROM path_counters pc"
                  " JOIN repetitions r ON r.id = pc.repetition_id JOIN cells c ON c.id = r.cell_id"
                  " WHERE pc.direction = 'read' AND pc.requests > 0 GROUP BY c.policy, pc.path"
                  " ORDER BY c.policy"),
            (std::vector<std::string>{"always|direct", "disabled|buffered", "standard|buffered",
                                      "standard|direct"}));
  // Every counted request is one fio completed, or more (verify-free job).
  EXPECT_EQ(query(db,
                  "SELECT count(*) FROM metrics m JOIN (SELECT repetition_id, sum(requests) AS n"
                  " FROM path_counters WHERE direction = 'read' GROUP BY repetition_id) p"
                  " ON p.repetition_id = m.repetition_id WHERE p.n < m.total_ios"),
            std::vector<std::string>{"0"});
  // The bytes below were measured: the storage device, and each loop device.
  EXPECT_EQ(query(db, "SELECT count(DISTINCT repetition_id) FROM device_io WHERE role = 'storage'"),
            std::vector<std::string>{"9"});
  EXPECT_EQ(query(db, "SELECT count(*) FROM device_io WHERE role = 'loop'"),
            std::vector<std::string>{"6"});
  EXPECT_FALSE(query(db, "SELECT value FROM system_info WHERE key = 'kernel'").empty());
  // The CPU of each repetition: the machine's busy time cannot exceed
  // every CPU busy for the whole window, and fio, which did I/O, used
  // some. /proc/stat counts in ticks, sampled: the comparisons allow a
  // tick per CPU at each end of the window, and fio's exact time 5% of
  // sampling error against the machine's ticks.
  const double cpus = static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN));
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto cpu = query(db, "SELECT cpu_busy_s, cpu_window_s, fio_cpu_s FROM repetitions");
  ASSERT_EQ(cpu.size(), 9u);
  for (const std::string& row : cpu) {
    double busy = -1, window = -1, fio = -1;
    ASSERT_EQ(std::sscanf(row.c_str(), "%lf|%lf|%lf", &busy, &window, &fio), 3) << row;
    EXPECT_GT(window, 2.0) << row << ": the window holds fio's ramp + runtime (1 + 2 s)";
    EXPECT_GT(busy, 0) << row;
    EXPECT_LE(busy, window * cpus + 2 * cpus * tick) << row;
    EXPECT_GT(fio, 0) << row;
    EXPECT_LE(fio, busy * 1.05 + 2 * cpus * tick) << row;
  }
  // Raw files as fio wrote them, beside the index.
  for (const auto& row : query(db, "SELECT fio_json, counters_file FROM repetitions")) {
    const auto bar = row.find('|');
    EXPECT_TRUE(fs::exists(out + "/" + row.substr(0, bar))) << row;
    EXPECT_TRUE(fs::exists(out + "/" + row.substr(bar + 1))) << row;
  }
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_TRUE(data_files_in(scratch_).empty()) << "scratch file left";
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl")) << "journal left";
}

TEST_F(RunnerTest, KillNineThenRestoreThenResume) {
  const std::string out = runs_ + "/a";
  const auto args = run_args(
      out, {"--filter", "workload=randread-4k", "--filter", "policy=always", "--repetitions", "2"});
  // Somewhere inside the run: after set-up, before the end (6 x ~3.5 s).
  std::mt19937 rng(std::random_device{}());
  const auto when = std::chrono::milliseconds(std::uniform_int_distribution<int>(1500, 12000)(rng));
  const Exit killed = diobench(args, root_ + "/killed.log", when, SIGKILL);
  ASSERT_EQ(killed.status, 128 + SIGKILL) << "killed after " << when.count() << " ms\n"
                                          << killed.output;
  ASSERT_TRUE(fs::exists(out + "/journal.jsonl"));

  const Exit restored = diobench({"restore", out}, root_ + "/restore.log");
  EXPECT_EQ(restored.status, 0) << restored.output;
  EXPECT_TRUE(loops_under(root_).empty()) << restored.output;
  EXPECT_TRUE(data_files_in(scratch_).empty()) << restored.output;
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl"));

  const Exit resumed = diobench({"run", "--resume", out}, root_ + "/resume.log");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(query(out + "/results.db",
                  "SELECT count(*), count(DISTINCT cell_id || '/' || repetition) FROM repetitions"
                  " WHERE status = 'ok'"),
            std::vector<std::string>{"6|6"});
  // The summary covers the whole run, not only what the resume ran: each
  // of the three cells with both repetitions.
  std::size_t complete_rows = 0;
  std::istringstream lines(resumed.output);
  for (std::string line; std::getline(lines, line);) {
    complete_rows += std::regex_search(
        line, std::regex(R"(^randread-4k\s+always\s+(file|loop dio on|loop dio off)\s+2\s)"));
  }
  EXPECT_EQ(complete_rows, 3u) << resumed.output;
  // Resuming a finished run is harmless: nothing to do, success.
  const Exit again = diobench({"run", "--resume", out}, root_ + "/again.log");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_NE(again.output.find("0 to go"), std::string::npos) << again.output;
  EXPECT_TRUE(data_files_in(scratch_).empty());
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_TRUE(data_files_in(scratch_).empty());
}

// The machine dies during a repetition (here: SIGKILL while current.json
// names one, as a guest kernel's panic would stop everything); the host
// records it from the console log, and --resume skips that cell.
TEST_F(RunnerTest, AMachineDeathIsRecordedAsCrashAndResumeSkipsTheCell) {
  const std::string out = runs_ + "/a";
  const auto args = run_args(
      out, {"--filter", "workload=randread-4k", "--filter", "policy=always", "--repetitions", "2"});
  const std::string current = out + "/current.json";
  const Exit killed =
      diobench_killed_when(args, root_ + "/killed.log", [&] { return fs::exists(current); });
  ASSERT_EQ(killed.status, 128 + SIGKILL) << killed.output;
  ASSERT_TRUE(fs::exists(current)) << killed.output;
  std::string running;
  {
    std::ifstream in(current);
    running = nlohmann::json::parse(in).at("cell").get<std::string>();
  }
  const std::string console = root_ + "/console.log";
  std::ofstream(console)
      << "[    5.1] zfs: module loaded\n"
      << "randread-4k  always  loop dio on  0  -  [crash: [ 9.9] BUG: an old one]\n"
      << "[   14.2] BUG: kernel NULL pointer dereference, address: 0000000000000008\n"
      << "[   14.2] RIP: 0010:zfs_uio_get_dio_pages_alloc+0x5c/0x2f0 [zfs]\n";

  const Exit crashed = diobench({"crashed", out, "--console", console}, root_ + "/crashed.log");
  ASSERT_EQ(crashed.status, 0) << crashed.output;
  EXPECT_NE(crashed.output.find(running), std::string::npos) << crashed.output;
  EXPECT_FALSE(fs::exists(current));
  const auto rows =
      query(out + "/results.db",
            "SELECT c.name, r.message FROM repetitions r JOIN cells c ON c.id = r.cell_id"
            " WHERE r.status = 'crash'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].substr(0, rows[0].find('|')), running);
  EXPECT_NE(rows[0].find("BUG: kernel NULL pointer dereference"), std::string::npos) << rows[0];
  EXPECT_NE(rows[0].find("zfs_uio_get_dio_pages_alloc"), std::string::npos) << rows[0];
  EXPECT_EQ(rows[0].find("module loaded"), std::string::npos)
      << "the excerpt starts at the failure";
  EXPECT_EQ(rows[0].find("an old one"), std::string::npos) << "a line quoting a crash is not one";
  // Nothing is running any more: a second report of the same death is refused.
  EXPECT_EQ(diobench({"crashed", out, "--console", console}, root_ + "/again.log").status, 2);

  const std::string crashed_ok_sql =
      "SELECT count(*) FROM repetitions r JOIN cells c ON c.id = r.cell_id"
      " WHERE c.name = '" +
      running + "' AND r.status = 'ok'";
  const auto crashed_ok_before = query(out + "/results.db", crashed_ok_sql);
  ASSERT_EQ(diobench({"restore", out}, root_ + "/restore.log").status, 0);
  const Exit resumed = diobench({"run", "--resume", out}, root_ + "/resume.log");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("crashed the machine"), std::string::npos) << resumed.output;
  // The crashed cell ran no more; the other two finished both repetitions.
  EXPECT_EQ(query(out + "/results.db", crashed_ok_sql), crashed_ok_before);
  EXPECT_EQ(query(out + "/results.db",
                  "SELECT count(*) FROM repetitions r JOIN cells c ON c.id = r.cell_id"
                  " WHERE c.name <> '" +
                      running + "' AND r.status = 'ok'"),
            std::vector<std::string>{"4"});
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_TRUE(data_files_in(scratch_).empty());
}

// A profile's [bench] section runs the Google Benchmark drivers after the
// matrix; their JSON lands in the run directory. A kill -9 while they run
// leaves their loop device and files, which `diobench restore` removes.
TEST_F(RunnerTest, BenchSectionRunsTheDriversIntoTheRunDirectory) {
  const std::string profiles = root_ + "/profiles";
  fs::create_directories(profiles);
  fs::copy_file(std::string(DIOBENCH_SOURCE_DIR) + "/profiles/job.fio", profiles + "/job.fio");
  {
    std::ifstream in(std::string(DIOBENCH_SOURCE_DIR) + "/profiles/smoke.ini");
    std::ofstream out(profiles + "/with-bench.ini");
    out << in.rdbuf()
        << "\n[bench]\ndrivers = ^(HotFile/BufferedRead|LoopRead/DirectRead)/.*bs:4096/\n"
        << "repetitions = 2\nmin_time = 0.01\nfile_size = 64\n";
  }
  const std::vector<std::string> one_cell{
      "--filter", "workload=randread-4k", "--filter", "policy=always", "--filter", "target=file"};
  auto args = [&](const std::string& out) {
    std::vector<std::string> a{
        "run", "--profile", profiles + "/with-bench.ini", "--dir", scratch_, "--out", out};
    a.insert(a.end(), one_cell.begin(), one_cell.end());
    return a;
  };
  const std::string out = runs_ + "/a";
  const Exit e = diobench(args(out), root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  std::ifstream in(out + "/bench/bench.json");
  ASSERT_TRUE(in) << e.output;
  std::stringstream text;
  text << in.rdbuf();
  // Google Benchmark writes a counter's undefined cv as a bare NaN.
  const nlohmann::json j = nlohmann::json::parse(std::regex_replace(
      text.str(), std::regex(R"(: -?(nan|inf)\b)", std::regex::icase), ": null"));
  std::map<std::string, int> iterations;  // run name -> repetitions seen
  for (const auto& b : j.at("benchmarks")) {
    ASSERT_FALSE(b.value("error_occurred", false)) << b.dump();
    if (b.value("run_type", "") == "iteration") ++iterations[b.at("run_name").get<std::string>()];
  }
  EXPECT_EQ(iterations,
            (std::map<std::string, int>{{"HotFile/BufferedRead/bs:4096/manual_time", 2},
                                        {"LoopRead/DirectRead/dio:0/bs:4096/manual_time", 2},
                                        {"LoopRead/DirectRead/dio:1/bs:4096/manual_time", 2}}));
  EXPECT_TRUE(fs::exists(out + "/bench/bench.log"));
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl"));
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_EQ(fs::exists(scratch_ + "/bench-a"), false);

  // Killed while the drivers hold a loop device: restore takes it all back.
  const std::string killed_out = runs_ + "/b";
  const Exit killed = diobench_killed_when(args(killed_out), root_ + "/killed.log", [&] {
    return !loops_under(scratch_ + "/bench-b").empty();
  });
  ASSERT_EQ(killed.status, 128 + SIGKILL) << killed.output;
  const Exit restored = diobench({"restore", killed_out}, root_ + "/restore.log");
  EXPECT_EQ(restored.status, 0) << restored.output;
  EXPECT_TRUE(loops_under(root_).empty()) << restored.output;
  EXPECT_FALSE(fs::exists(scratch_ + "/bench-b")) << restored.output;
  EXPECT_FALSE(fs::exists(killed_out + "/bench/bench.json"));
}

// Without root: the file cells run, the loop cells are skipped, each with
// the reason, and the run still succeeds.
TEST_F(RunnerTest, NotRootRunsTheFileCellsAndSkipsTheLoopCellsSayingWhy) {
  constexpr uid_t kNobody = 65534;
  fs::create_directories(runs_);
  for (const std::string& d : {root_, runs_}) ASSERT_EQ(chown(d.c_str(), kNobody, kNobody), 0);
  // A build tree under a directory only root may enter cannot be tested
  // this way (the binary or the engine would not load): say so, not fail.
  const Exit where = wait_diobench(start_diobench({"engine-path"}, root_ + "/where.log", kNobody),
                                   root_ + "/where.log");
  if (where.status != 0)
    GTEST_SKIP() << "nobody cannot run " << DIOBENCH_BINARY << ": " << where.output;
  const std::string out = runs_ + "/a";
  const pid_t pid = start_diobench(
      run_args(out, {"--filter", "workload=randread-4k", "--filter", "policy=always"}),
      root_ + "/run.log", kNobody);
  const Exit e = wait_diobench(pid, root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(query(out + "/results.db",
                  "SELECT c.target, r.status, r.message FROM repetitions r"
                  " JOIN cells c ON c.id = r.cell_id ORDER BY c.target, c.loop_dio"),
            (std::vector<std::string>{
                "file|ok|", "loop|skipped|loop devices need root (run as root for the loop cells)",
                "loop|skipped|loop devices need root (run as root for the loop cells)"}));
  EXPECT_EQ(e.output.find("nan"), std::string::npos) << e.output;
  EXPECT_TRUE(data_files_in(scratch_).empty());
}

// A dio-on loop cell the kernel refuses (a 512-byte loop device over a
// scratch file on ext4 on 4096-byte sectors, whose dio alignment is 4096:
// loop_device_test.cpp) never runs buffered: its repetition fails with the
// kernel's reason, the dio-off cell runs, and the report's outcome says it.
TEST_F(RunnerTest, ALoopDioTheKernelRefusesIsTheCellsOutcomeWithTheReason) {
  SmallFileSystem sectors4k(512, 4096);
  scratch_ = sectors4k.mount_point() + "/scratch";
  const std::string out = runs_ + "/a", db = out + "/results.db";
  const Exit e = diobench(run_args(out, {"--filter", "workload=randread-4k", "--filter",
                                         "policy=standard", "--filter", "target=loop"}),
                          root_ + "/run.log");
  const std::vector<std::string> rows =
      query(db,
            "SELECT c.loop_dio, r.status, r.message FROM repetitions r"
            " JOIN cells c ON c.id = r.cell_id ORDER BY c.loop_dio");
  ASSERT_EQ(rows.size(), 2u) << e.output;
  std::fprintf(stderr, "note: run exit %d; %s\n", e.status, rows[1].c_str());
  EXPECT_EQ(rows[0], "off|ok|") << e.output;
  EXPECT_EQ(rows[1].rfind("on|failed|", 0), 0u) << rows[1];
  for (const std::string& part :
       {std::string("loop direct I/O refused by the kernel"), std::string("loop block size 512"),
        std::string("offset 4096"), std::string("kernel ")}) {
    EXPECT_NE(rows[1].find(part), std::string::npos) << "no '" << part << "' in " << rows[1];
  }
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_TRUE(loops_under(sectors4k.mount_point()).empty());
  const Exit report = diobench({"report", out}, root_ + "/report.log");
  ASSERT_EQ(report.status, 0) << report.output;
  std::ifstream csv(out + "/report/cells.csv");
  std::stringstream text;
  text << csv.rdbuf();
  EXPECT_NE(text.str().find("LOOP DIO REFUSED"), std::string::npos) << text.str();
}

// Buffered writes to a loop device land in its page cache first; the bytes
// the repetition moved below must include them (the runner flushes after
// fio, before reading the counters), or a write cell looks like no I/O
// (on ZFS: no direct writes where the policy expects them).
TEST_F(RunnerTest, BufferedWritesThroughALoopDeviceAreCountedBelow) {
  const std::string out = runs_ + "/a";
  const Exit e = diobench(run_args(out, {"--filter", "workload=write-1m", "--filter", "target=loop",
                                         "--filter", "policy=disabled"}),
                          root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  // Per repetition: what fio wrote, and what the storage below passed on
  // (on the emulated backend the model of the loop driver writes into the
  // backing file's page cache, not through /dev/loopN).
  const auto rows = query(out + "/results.db",
                          "SELECT m.io_bytes, d.write_bytes FROM metrics m"
                          " JOIN device_io d ON d.repetition_id = m.repetition_id"
                          " WHERE m.direction = 'write' AND d.role = 'storage'");
  ASSERT_EQ(rows.size(), 2u);
  for (const std::string& row : rows) {
    const auto bar = row.find('|');
    const double asked = std::stod(row.substr(0, bar)), below = std::stod(row.substr(bar + 1));
    EXPECT_GT(asked, 0) << row;
    // Sequential writes wrap the 256 MiB target many times in the page
    // cache: every block is dirty at the end, and flushing moves each once.
    const double distinct = std::min(asked, 256.0 * 1024 * 1024);
    EXPECT_GE(below, distinct) << "fio wrote " << asked << " bytes, the storage below moved "
                               << below;
  }
}

// The repetitions' fio processes whose parent is `parent` (/proc/PID/stat:
// "pid (comm) state ppid").
std::vector<pid_t> fio_children_of(pid_t parent) {
  std::vector<pid_t> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');
    const auto open = line.find('(');
    if (close == std::string::npos || open == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent || line.substr(open + 1, close - open - 1) != "fio") continue;
    // A repetition's fio writes into the run's raw/ directory (not `fio
    // --version` for the system information).
    std::ifstream cmdline(e.path() / "cmdline");
    std::string arg;
    while (std::getline(cmdline, arg, '\0')) {
      if (arg.rfind("--output=", 0) == 0 && arg.find("/raw/") != std::string::npos) {
        found.push_back(static_cast<pid_t>(std::stol(name)));
      }
    }
  }
  return found;
}

// A hung fio (stopped here, as a wedged device would hold it) is killed
// when its time is up: ramp 1 s + runtime 2 s + 60 s to start and exit.
// Its repetition is recorded as failed saying so, leaves no JSON under the
// final name, and the run goes on to the next repetition.
TEST_F(RunnerTest, AHungFioIsKilledItsRepetitionFailsAndTheRunGoesOn) {
  const std::string out = runs_ + "/a";
  const std::string log = root_ + "/run.log";
  const pid_t pid = start_diobench(
      run_args(out, {"--filter", "workload=randread-4k", "--filter", "policy=disabled", "--filter",
                     "target=file", "--repetitions", "2"}),
      log);
  std::optional<pid_t> stopped;
  const auto begin = std::chrono::steady_clock::now();
  while (!stopped && std::chrono::steady_clock::now() - begin < std::chrono::seconds(60)) {
    for (pid_t fio : fio_children_of(pid)) {
      if (kill(fio, SIGSTOP) == 0) stopped = fio;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(stopped) << "no fio started";
  const Exit e = wait_diobench(pid, log);
  EXPECT_EQ(e.status, 1) << e.output;  // a repetition failed
  EXPECT_NE(kill(*stopped, 0), 0) << "the stopped fio still exists";
  const std::string db = out + "/results.db";
  EXPECT_EQ(query(db, "SELECT status FROM repetitions ORDER BY position"),
            (std::vector<std::string>{"failed", "ok"}));
  const auto message = query(db, "SELECT message FROM repetitions WHERE status = 'failed'");
  ASSERT_EQ(message.size(), 1u);
  EXPECT_EQ(message[0].rfind("fio timed out after 63 s", 0), 0u) << message[0];
  for (const std::string& row : query(db, "SELECT status, fio_json FROM repetitions")) {
    const auto bar = row.find('|');
    EXPECT_EQ(fs::exists(out + "/" + row.substr(bar + 1)), row.substr(0, bar) == "ok") << row;
  }
  EXPECT_EQ(query(db, "SELECT status FROM runs"), std::vector<std::string>{"failed"});
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_TRUE(data_files_in(scratch_).empty());
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl"));
}

TEST_F(RunnerTest, SigintAndSigtermStopAfterTheRepetitionAndCleanUp) {
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string out = runs_ + (sig == SIGINT ? "/a" : "/b");
    const Exit e = diobench(run_args(out, {"--filter", "workload=randread-4k"}), root_ + "/run.log",
                            std::chrono::milliseconds(5000), sig);
    SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
    expect_stopped_cleanly(e, out, sig);
  }
}

void RunnerTest::expect_stopped_cleanly(const Exit& e, const std::string& out, int sig) {
  EXPECT_EQ(e.status, 128 + sig) << e.output;
  // Repetitions finished before the signal (and the one it let finish) are kept.
  EXPECT_GE(
      std::stoi(
          query(out + "/results.db", "SELECT count(*) FROM repetitions WHERE status = 'ok'").at(0)),
      1);
  EXPECT_NE(e.output.find("--resume"), std::string::npos) << e.output;
  EXPECT_EQ(query(out + "/results.db", "SELECT status FROM runs"),
            std::vector<std::string>{"interrupted"});
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_TRUE(data_files_in(scratch_).empty());
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl"));
}

// Repetitions per cell, "cell-suffix:count" in cell order.
std::vector<std::string> repetitions_per_cell(const std::string& db) {
  return query(
      db,
      "SELECT substr(c.name, length('randread-4k.') + 1) || ':' || count(r.id) FROM cells c"
      " LEFT JOIN repetitions r ON r.cell_id = c.id AND r.status = 'ok'"
      " GROUP BY c.id ORDER BY c.name");
}

// --until-decided adds repetitions only to the cells of the comparisons
// the verdict leaves open (here: always's two loop cells, always's file
// cell, disabled's loop dio off cell; not disabled's file and loop dio on
// cells), up to the cap; the decision goes on through --resume with a
// higher cap, and through kill -9, restore and --resume.
TEST_F(RunnerTest, UntilDecidedGrowsOnlyTheOpenComparisonsAndResumeContinues) {
  const std::string out = runs_ + "/a", db = out + "/results.db";
  const Exit e = diobench(
      run_args(out, {"--filter", "workload=randread-4k", "--filter", "policy=always", "--filter",
                     "policy=disabled", "--until-decided", "--max-repetitions", "2"}),
      root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  const std::vector<std::string> capped_at_2{
      "always.file.buffered.psync:2",           "always.loop-dio-off.buffered.psync:2",
      "always.loop-dio-on.buffered.psync:2",    "disabled.file.buffered.psync:1",
      "disabled.loop-dio-off.buffered.psync:2", "disabled.loop-dio-on.buffered.psync:1"};
  EXPECT_EQ(repetitions_per_cell(db), capped_at_2);
  // Stopped on the cap: which comparisons are open and what each would take.
  EXPECT_NE(
      e.output.find(
          "stopped: the open comparisons' cells have the most repetitions allowed (2 per cell)"),
      std::string::npos)
      << e.output;
  std::size_t open_lines = 0;
  std::istringstream lines(e.output);
  for (std::string line; std::getline(lines, line);) {
    open_lines += std::regex_search(
        line,
        std::regex(
            R"(^  randread-4k psync, (loop tax|degradation), (throughput|p99 latency): randread-4k\.always\.loop-dio-o(n|ff)\.buffered\.psync vs .*: about \d+ repetitions per cell \(\d+ more in all, about \d+(:\d\d)+\)$)"));
  }
  EXPECT_EQ(open_lines, 8u) << e.output;
  {
    std::ifstream in(out + "/plan.json");
    const nlohmann::json plan = nlohmann::json::parse(in);
    EXPECT_EQ(plan.at("until_decided").at("max_repetitions"), 2) << plan.dump();
  }

  // A new cap on --resume: the same four cells grow on.
  const Exit resumed =
      diobench({"run", "--resume", out, "--max-repetitions", "3"}, root_ + "/resume.log");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  auto capped_at = [&](const std::string& n) {
    std::vector<std::string> rows = capped_at_2;
    for (std::string& r : rows) {
      if (r.back() == '2') r.back() = n[0];
    }
    return rows;
  };
  EXPECT_EQ(repetitions_per_cell(db), capped_at("3"));

  // Killed during a batch (repetition 4 of a cell running), restored, resumed.
  const std::string current = out + "/current.json";
  const Exit killed = diobench_killed_when(
      {"run", "--resume", out, "--max-repetitions", "4"}, root_ + "/killed.log", [&] {
        std::ifstream in(current);
        std::string text((std::istreambuf_iterator<char>(in)), {});
        return text.find("\"repetition\":4") != std::string::npos;
      });
  ASSERT_EQ(killed.status, 128 + SIGKILL) << killed.output;
  ASSERT_EQ(diobench({"restore", out}, root_ + "/restore.log").status, 0);
  EXPECT_TRUE(loops_under(root_).empty());
  const Exit finished = diobench({"run", "--resume", out}, root_ + "/finish.log");
  ASSERT_EQ(finished.status, 0) << finished.output;
  EXPECT_EQ(repetitions_per_cell(db), capped_at("4"));
  EXPECT_TRUE(data_files_in(scratch_).empty());
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl"));
}

// A budget smaller than the run: the base repetitions all run, the
// decision stops when the next repetition would not fit, and says what
// is open.
TEST_F(RunnerTest, UntilDecidedStopsOnTheBudgetNamingWhatIsOpen) {
  const std::string out = runs_ + "/a";
  const Exit e =
      diobench(run_args(out, {"--filter", "workload=randread-4k", "--filter", "policy=always",
                              "--filter", "policy=disabled", "--until-decided", "--budget", "40s"}),
               root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(
      query(
          out + "/results.db",
          "SELECT count(DISTINCT cell_id) FROM repetitions WHERE status = 'ok' AND repetition = 1"),
      std::vector<std::string>{"6"});
  EXPECT_TRUE(
      std::regex_search(e.output, std::regex(R"(stopped: budget 0:40 reached \(\d+:\d\d used\))")))
      << e.output;
  EXPECT_NE(e.output.find("still open"), std::string::npos) << e.output;
  EXPECT_EQ(e.output.find("INCONCLUSIVE"), std::string::npos) << e.output;
}

TEST_F(RunnerTest, WritesNeverTouchAFileTheRunnerDidNotCreate) {
  { ScratchArea area(scratch_); }                       // an area diobench owns...
  const std::string canary = scratch_ + "/canary.bin";  // ...holding a file it did not make
  std::string bytes(1 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : bytes) c = static_cast<char>(rng());
  std::ofstream(canary, std::ios::binary) << bytes;
  const Exit e =
      diobench(run_args(runs_ + "/a", {"--filter", "workload=write-1m", "--filter", "target=file"}),
               root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  std::ifstream in(canary, std::ios::binary);
  std::stringstream after;
  after << in.rdbuf();
  EXPECT_TRUE(after.str() == bytes) << "the canary changed";
}

TEST_F(RunnerTest, ForeignScratchDirectoryIsRefused) {
  fs::create_directories(scratch_);
  std::ofstream(scratch_ + "/someone-elses.txt") << "keep me\n";
  const Exit e =
      diobench(run_args(runs_ + "/a", {"--filter", "workload=write-1m"}), root_ + "/run.log");
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find(scratch_), std::string::npos) << e.output;
  EXPECT_TRUE(fs::exists(scratch_ + "/someone-elses.txt"));
}

// An undo journal as restore finds it: written with `mode` in `dir`.
void write_journal(const std::string& dir, const std::string& text, mode_t mode) {
  fs::create_directories(dir);
  const std::string path = dir + "/journal.jsonl";
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

std::string scratch_file_entry(const std::string& file) {
  return R"({"op":"scratch_file","path":")" + file + "\"}\n";
}

// Without RUNDIR, restore looks at every run directory: it acts only on
// journals nobody else could have written, and names each one it refuses.
TEST_F(RunnerTest, RestoreWithoutRunDirActsOnlyOnTrustedJournals) {
  ScratchArea area(scratch_);
  fs::create_directories(runs_);
  ::chmod(runs_.c_str(), 0755);
  auto planted = [&](const std::string& name, mode_t mode) {
    const std::string file = area.create_file(name + ".dat", 4096);
    write_journal(runs_ + "/" + name, scratch_file_entry(file), mode);
    return file;
  };
  const std::string good = planted("good", 0600);
  const std::string readable = planted("readable", 0644);
  const std::string open = planted("open", 0600);
  ::chmod((runs_ + "/open").c_str(), 0777);
  const std::string theirs = planted("theirs", 0600);
  ASSERT_EQ(::chown((runs_ + "/theirs/journal.jsonl").c_str(), 65534, 65534), 0);
  const std::string linked = area.create_file("linked.dat", 4096);
  write_journal(root_ + "/elsewhere", scratch_file_entry(linked), 0600);
  fs::create_directory_symlink(root_ + "/elsewhere", runs_ + "/linked");

  const Exit e = diobench({"restore", "--runs", runs_}, root_ + "/restore.log");
  EXPECT_EQ(e.status, 1) << e.output;
  EXPECT_FALSE(fs::exists(good)) << e.output;
  for (const std::string& file : {readable, open, theirs, linked}) {
    EXPECT_TRUE(fs::exists(file)) << file << " removed on an untrusted journal\n" << e.output;
  }
  for (const std::string& said : {runs_ + "/readable/journal.jsonl: its mode is 0644, not 0600",
                                  runs_ + "/open: it is writable by group or others (mode 0777)",
                                  runs_ + "/theirs/journal.jsonl: it is owned by uid 65534",
                                  runs_ + "/linked: a symbolic link"}) {
    EXPECT_NE(e.output.find(said), std::string::npos) << said << "\n" << e.output;
  }
}

// A run directory named on the command line that restore cannot trust is
// bad input: exit 2 naming it, nothing undone.
TEST_F(RunnerTest, RestoreOfANamedUntrustedRunDirExitsTwoNamingIt) {
  ScratchArea area(scratch_);
  const std::string file = area.create_file("a.dat", 4096);
  write_journal(runs_ + "/a", scratch_file_entry(file), 0644);
  ::chmod((runs_ + "/a").c_str(), 0755);
  Exit e = diobench({"restore", runs_ + "/a"}, root_ + "/restore.log");
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find(runs_ + "/a/journal.jsonl: its mode is 0644"), std::string::npos)
      << e.output;
  EXPECT_TRUE(fs::exists(file));

  ::chmod((runs_ + "/a/journal.jsonl").c_str(), 0600);
  ::chmod((runs_ + "/a").c_str(), 0775);
  e = diobench({"restore", runs_ + "/a"}, root_ + "/restore.log");
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find(runs_ + "/a: it is writable by group or others (mode 0775)"),
            std::string::npos)
      << e.output;
  EXPECT_TRUE(fs::exists(file));

  ::chmod((runs_ + "/a").c_str(), 0755);
  e = diobench({"restore", runs_ + "/a"}, root_ + "/restore.log");
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_FALSE(fs::exists(file));
}

// An undo that failed is not recorded: the next restore tries it again.
// A loop device this test holds open cannot be let go by the kernel.
TEST_F(RunnerTest, RestoreRetriesALoopDeviceItCouldNotDetach) {
  ScratchArea area(scratch_);
  const std::string file = area.create_file("loop.dat", 1 << 20);
  std::optional<LoopDevice> held;
  held.emplace(file, LoopOptions{});
  const std::string journal = runs_ + "/a/journal.jsonl";
  write_journal(runs_ + "/a", R"({"op":"loop","backing":")" + file + "\"}\n", 0600);

  const Exit first = diobench({"restore", runs_ + "/a"}, root_ + "/restore.log");
  EXPECT_EQ(first.status, 1) << first.output;
  EXPECT_NE(first.output.find("still attached"), std::string::npos) << first.output;
  std::ifstream in(journal);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().find("\"undo\""), std::string::npos)
      << "an undo recorded for a loop device still attached:\n"
      << text.str();

  const Exit second = diobench({"restore", runs_ + "/a"}, root_ + "/restore.log");
  EXPECT_EQ(second.status, 1) << second.output;
  EXPECT_NE(second.output.find("still attached"), std::string::npos) << second.output;
  EXPECT_TRUE(fs::exists(journal)) << second.output;

  held.reset();  // let go
  const Exit third = diobench({"restore", runs_ + "/a"}, root_ + "/restore.log");
  EXPECT_EQ(third.status, 0) << third.output;
  EXPECT_FALSE(fs::exists(journal)) << third.output;
  EXPECT_TRUE(loops_under(root_).empty());
}

// Free space is checked before the data file is written: exit 2 with the
// numbers and the path, nothing left on the file system.
TEST_F(RunnerTest, RunRefusesAScratchAreaWithoutRoomForTheDataFile) {
  SmallFileSystem small(64);
  const std::string scratch = small.mount_point() + "/scratch";
  const Exit e = diobench({"run", "--profile", "smoke", "--dir", scratch, "--out", runs_ + "/a",
                           "--filter", "workload=write-1m", "--filter", "target=file"},
                          root_ + "/run.log");
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find("needed 268435456 bytes (256 MiB), available "), std::string::npos)
      << e.output;
  EXPECT_NE(e.output.find(scratch + "/run-a.dat"), std::string::npos) << e.output;
  EXPECT_TRUE(data_files_in(scratch).empty());
  EXPECT_FALSE(fs::exists(runs_ + "/a/journal.jsonl"));
}

// The filesystem under the run directory fills up during the run (fio's
// stand-in fills it before the second repetition's fio): the run stops
// there, says why and how to go on, cleans up, and keeps the repetition
// finished before; once space is freed, --resume finishes the run.
TEST_F(RunnerTest, AFullFileSystemStopsTheRunKeepingWhatIsDone) {
  SmallFileSystem small(64);
  const std::string out = small.mount_point() + "/runs/a", db = out + "/results.db";
  const std::string filler = small.mount_point() + "/filler", count = root_ + "/fio-count";
  const std::string fio = root_ + "/fio-then-full";
  std::ofstream(fio) << "#!/bin/bash\n"
                     << "case \" $* \" in *' --version '*) exec fio \"$@\" ;; esac\n"
                     << "n=$(( $(cat " << count << " 2>/dev/null || echo 0) + 1 )); echo $n > "
                     << count
                     << "\n"
                     // In 4 KiB writes and rounds: ext4 keeps some room for
                     // delayed allocation until the data is written back.
                     << "if [ $n -eq 2 ]; then for i in 1 2 3; do\n"
                     << "  dd if=/dev/zero of=" << filler
                     << ".$i bs=4k status=none 2>/dev/null; sync -f " << filler << ".1\n"
                     << "done; fi\n"
                     << "exec fio \"$@\"\n";
  fs::permissions(fio, fs::perms::owner_all);
  setenv("DIOBENCH_FIO", fio.c_str(), 1);
  const std::vector<std::string> filters{"--filter", "workload=randread-4k", "--filter",
                                         "target=file"};
  const Exit e = diobench(run_args(out, filters), root_ + "/run.log");
  unsetenv("DIOBENCH_FIO");
  EXPECT_EQ(e.status, 1) << e.output;
  EXPECT_NE(e.output.find("stopped: no space left ("), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("1 not run: stopped"), std::string::npos) << e.output;
  EXPECT_EQ(e.output.find("no space left ("), e.output.rfind("no space left ("))
      << "the reason is said more than once:\n"
      << e.output;
  EXPECT_NE(e.output.find("diobench run --resume " + out), std::string::npos) << e.output;
  EXPECT_TRUE(data_files_in(scratch_).empty()) << "scratch file left";
  EXPECT_TRUE(loops_under(root_).empty());
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl")) << "journal left";
  for (const char* i : {".1", ".2", ".3"}) fs::remove(filler + i);
  EXPECT_EQ(query(db, "SELECT count(*) FROM repetitions WHERE status = 'ok'"),
            std::vector<std::string>{"1"});
  const Exit resumed = diobench({"run", "--resume", out}, root_ + "/resume.log");
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(query(db, "SELECT count(*) FROM repetitions WHERE status = 'ok'"),
            std::vector<std::string>{"3"});
  EXPECT_EQ(query(db, "SELECT status FROM runs ORDER BY rowid DESC LIMIT 1"),
            std::vector<std::string>{"complete"});
}

}  // namespace
}  // namespace diobench

namespace diobench {
namespace {

// The zfs backend against stand-ins: a `zfs` command on PATH that keeps
// properties in files (and logs every set), and a pool iostats kstat that
// never moves. The real thing runs in the qemu lane (scripts/zfs-vm).
class ZfsBackendTest : public RunnerTest {
 protected:
  void SetUp() override {
    RunnerTest::SetUp();
    state_ = root_ + "/zfs-state";
    fs::create_directories(state_ + "/tank/ds");
    fs::create_directories(root_ + "/bin");
    fs::create_directories(root_ + "/kstat/tank");
    fs::create_directories(root_ + "/mnt");
    std::ofstream(state_ + "/tank/ds/direct") << "standard\n";
    std::ofstream(state_ + "/tank/ds/mountpoint") << root_ + "/mnt\n";
    std::ofstream(root_ + "/kstat/tank/iostats")
        << "70 1 0x01 8 2176 0 0\nname type data\ndirect_read_count 4 0\n"
           "direct_read_bytes 4 0\narc_read_count 4 100\narc_read_bytes 4 409600\n"
           "direct_write_count 4 0\ndirect_write_bytes 4 0\n";
    // The stand-in `zfs`: a dataset is a directory under the state
    // directory, a property a file in it (a child without its own file
    // inherits its parent's value; a user property, one with a colon, is
    // "-" where unset); `create` and `destroy` make and remove a child and
    // its mount directory; every change is logged.
    const std::string zfs = root_ + "/bin/zfs";
    std::ofstream(zfs) << "#!/bin/bash\nstate=" << state_ << "\n"
                       << R"SH(ds=${@: -1}
value_of() {  # DATASET PROPERTY -> "value<TAB>source"
  local d=$1 p=$2 v
  [ -d "$state/$d" ] || return 1
  if [ -f "$state/$d/$p" ]; then
    printf '%s\t%s\n' "$(cat "$state/$d/$p")" "$(cat "$state/$d/$p.source" 2>/dev/null || echo local)"
    return
  fi
  case $p in
    name) printf '%s\t-\n' "$d"; return ;;
    *:*) printf -- '-\t-\n'; return ;;
  esac
  [ "$d" != "${d%/*}" ] || return 1
  v=$(value_of "${d%/*}" "$p") || return 1
  [ "$p" = mountpoint ] && v="${v%%$'\t'*}/${d##*/}"
  printf '%s\tinherited from %s\n' "${v%%$'\t'*}" "${d%/*}"
}
case $1 in
  get) v=$(value_of "$ds" "${@: -2:1}") || exit 1
       if [ "$4" = value,source ]; then echo "$v"; else echo "${v%%$'\t'*}"; fi ;;
  set) [ -d "$state/$ds" ] || exit 1
       echo "${2#*=}" > "$state/$ds/${2%%=*}"; echo local > "$state/$ds/${2%%=*}.source"
       echo "set $2 $ds" >> "$state/log" ;;
  inherit) echo standard > "$state/$ds/$2"; echo default > "$state/$ds/$2.source"
           echo "inherit $2 $ds" >> "$state/log" ;;
  create) [ -d "$state/${ds%/*}" ] && [ ! -e "$state/$ds" ] || exit 1
          mkdir "$state/$ds"; shift
          while [ "$1" = -o ]; do echo "${2#*=}" > "$state/$ds/${2%%=*}"; shift 2; done
          m=$(value_of "$ds" mountpoint) && mkdir -p "${m%%$'\t'*}" || exit 1
          echo "create $ds" >> "$state/log" ;;
  destroy) m=$(value_of "$ds" mountpoint) || exit 1
           rm -rf "${m%%$'\t'*}" "$state/$ds"; echo "destroy $ds" >> "$state/log" ;;
  *) exit 1 ;;
esac
)SH";
    fs::permissions(zfs, fs::perms::owner_all);
    // A pool that can be exported and imported (the ARC is emptied that
    // way by default), on a device that does not need to exist.
    const std::string zpool = root_ + "/bin/zpool";
    std::ofstream(zpool)
        << "#!/bin/bash\nstate=" << state_ << "\n"
        << "echo \"$*\" >> \"$state/zpool.log\"\n"
           "case $1 in\n"
           "  list) [ \"$2\" = -vHP ] && printf 'tank\\n\\t/dev/fake-a1\\n' || echo tank ;;\n"
           "  export|import) ;;\n"
           "  *) exit 1 ;;\n"
           "esac\n";
    fs::permissions(zpool, fs::perms::owner_all);
    std::ofstream(root_ + "/kstat/arcstats")
        << "13 1 0x01 147 39984 0 0\nname type data\ndemand_data_hits 4 1000\n"
           "demand_data_misses 4 200\nuncached_hits 4 0\nprefetch_data_hits 4 7\n";
    setenv("PATH", (root_ + "/bin:" + getenv("PATH")).c_str(), 1);
    setenv("DIOBENCH_KSTAT_ROOT", (root_ + "/kstat").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("DIOBENCH_KSTAT_ROOT");
    unsetenv("DIOBENCH_MOUNTS");
    unsetenv("DIOBENCH_FIO");
    std::string path = getenv("PATH");
    setenv("PATH", path.substr(path.find(':') + 1).c_str(), 1);
    RunnerTest::TearDown();
  }
  std::string read(const std::string& name) {
    std::ifstream in(state_ + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The dataset a run worked in, from its plan.
  static std::string work_dataset_of(const std::string& out) {
    return nlohmann::json::parse(test::slurp(out + "/plan.json")).value("work_dataset", "");
  }
  std::vector<std::string> zfs_args(const std::string& out, const std::string& policy = "") {
    std::vector<std::string> a{"run",
                               "--profile",
                               "smoke",
                               "--backend",
                               "zfs",
                               "--dataset",
                               "tank/ds",
                               "--out",
                               out,
                               "--filter",
                               "workload=randread-4k",
                               "--filter",
                               "target=file"};
    if (!policy.empty()) a.insert(a.end(), {"--filter", "policy=" + policy});
    return a;
  }
  std::string state_;
};

TEST_F(ZfsBackendTest, SetsThePolicyPerRepetitionRestoresItAndChecksTheSplit) {
  const std::string out = runs_ + "/a";
  const Exit e = diobench(zfs_args(out), root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  // The run made a child of the dataset, set the policies there, and
  // destroyed it; the user's dataset was never changed.
  const std::string log = read("log");
  const std::string child = work_dataset_of(out);
  EXPECT_EQ(child.rfind("tank/ds/diobench-", 0), 0u) << child;
  for (const std::string& p : {"create " + child, "set direct=disabled " + child,
                               "set direct=always " + child, "destroy " + child}) {
    EXPECT_NE(log.find(p), std::string::npos) << p << " not in:\n" << log;
  }
  EXPECT_EQ(log.find(" tank/ds\n"), std::string::npos) << log;
  EXPECT_EQ(read("tank/ds/direct"), "standard\n");
  EXPECT_FALSE(fs::exists(state_ + "/" + child)) << "the child dataset is left";
  EXPECT_TRUE(fs::is_empty(root_ + "/mnt")) << "its mount directory is left";
  const auto info =
      query(out + "/results.db", "SELECT value FROM system_info WHERE key = 'runner.dataset'");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].rfind(child + " (a child of tank/ds", 0), 0u) << info[0];
  const std::string db = out + "/results.db";
  // Nothing moved in the (static) kstat: where the engine expected direct
  // reads (always), the run flags a contradiction; elsewhere it agrees.
  EXPECT_EQ(
      query(db,
            "SELECT c.policy, r.split_check FROM repetitions r JOIN cells c ON c.id = r.cell_id"
            " ORDER BY c.policy"),
      (std::vector<std::string>{"always|contradicts", "disabled|agrees", "standard|agrees"}));
  EXPECT_EQ(query(db, "SELECT count(DISTINCT repetition_id) FROM zfs_iostats"),
            std::vector<std::string>{"3"});
  EXPECT_EQ(query(db, "SELECT DISTINCT backend FROM cells"), std::vector<std::string>{"zfs"});
}

// --arc-drop export: before each repetition the pool is exported and
// imported from its own devices, the ARC's data_size recorded around it;
// a pool a killed run left exported is imported again by restore.
TEST_F(ZfsBackendTest, ArcDropExportsAndImportsThePoolAndRestoreBringsItBack) {
  std::ofstream(root_ + "/kstat/arcstats")
      << "13 1 0x01 147 39984 0 0\nname type data\nsize 4 600000000\ndata_size 4 536870912\n";
  // The pool's "disk": any real block device of this machine, so that its
  // counters can be read (the bytes a zfs run moved are its vdevs').
  std::string disk;
  for (const auto& e : fs::directory_iterator("/sys/class/block")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("loop", 0) == 0 || name.rfind("ram", 0) == 0 || name.rfind("zram", 0) == 0)
      continue;
    if (fs::exists("/dev/" + name)) {
      disk = name;
      break;
    }
  }
  ASSERT_FALSE(disk.empty()) << "no block device to stand in for a vdev";
  const std::string zpool = root_ + "/bin/zpool";
  std::ofstream(zpool)
      << "#!/bin/bash\nstate=" << state_ << "\nkstat=" << root_ << "/kstat\n"
      << "echo \"$*\" >> \"$state/zpool.log\"\n"
         "case $1 in\n"
         "  list) [ -f \"$state/exported\" ] && exit 1\n"
         "        if [ \"$2\" = -vHP ]; then printf 'tank\\n\\tmirror-0\\n\\t\\t/dev/"
      << disk
      << "\\n\\t\\t/dev/fake-b1\\n';"
         " else echo tank; fi ;;\n"
         "  export) touch \"$state/exported\"\n"
         "          printf '13 1 0x01\\nname type data\\ndata_size 4 4096\\n' > "
         "\"$kstat/arcstats\" ;;\n"
         "  import) rm -f \"$state/exported\" ;;\n"
         "  *) exit 1 ;;\n"
         "esac\n";
  fs::permissions(zpool, fs::perms::owner_all);
  const std::string out = runs_ + "/a";
  auto args = zfs_args(out);
  args.insert(args.end(), {"--arc-drop", "export"});
  const Exit e = diobench(args, root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string log = read("zpool.log");
  std::size_t exports = 0, imports = 0;
  for (std::size_t at = 0; (at = log.find("export tank", at)) != std::string::npos; ++at) ++exports;
  for (std::size_t at = 0;
       (at = log.find("import -d /dev/" + disk + " -d /dev/fake-b1 tank", at)) != std::string::npos;
       ++at) {
    ++imports;
  }
  EXPECT_EQ(exports, 3u) << log;
  EXPECT_EQ(imports, 3u) << log;
  EXPECT_FALSE(fs::exists(state_ + "/exported"));
  const auto rows =
      query(out + "/results.db",
            "SELECT arc_data_before, arc_data_after FROM repetitions ORDER BY position");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "536870912|4096");
  EXPECT_EQ(rows[1], "4096|4096");
  // The vdev that exists is the storage whose bytes are counted.
  EXPECT_EQ(query(out + "/results.db",
                  "SELECT DISTINCT device, count(*) FROM device_io WHERE role = 'storage'"),
            std::vector<std::string>{disk + "|3"});

  // A run killed between export and import: the journal says so.
  const std::string killed = runs_ + "/b";
  fs::create_directories(killed);
  std::ofstream(killed + "/journal.jsonl")
      << R"({"op":"pool_export","pool":"tank","devices":["/dev/fake-a1","/dev/fake-b1"]})"
      << "\n";
  ::chmod((killed + "/journal.jsonl").c_str(), 0600);  // as diobench writes its journals
  std::ofstream(state_ + "/exported") << "";
  const Exit restored = diobench({"restore", killed}, root_ + "/restore.log");
  EXPECT_EQ(restored.status, 0) << restored.output;
  EXPECT_FALSE(fs::exists(state_ + "/exported")) << restored.output;
  EXPECT_FALSE(fs::exists(killed + "/journal.jsonl"));
}

// By default the ARC is emptied (pool exported and imported) before each
// repetition, and the system information says so; the ARC's counters are
// kept per repetition, and a repetition whose demand hits show the ARC
// served reads the model sends to disk (here: fio's stand-in makes the
// ARC "hit" ten million times, more reads than 3 s of fio make) is flagged; one that sends none
// there is not checked.
TEST_F(ZfsBackendTest, TheArcIsEmptiedByDefaultAndAWarmArcIsFlagged) {
  const std::string fio = root_ + "/bin/fio-then-arc-hits";
  std::ofstream(fio) << "#!/bin/bash\n"
                     << "fio \"$@\"; rc=$?\n"
                     << "f=" << root_ << "/kstat/arcstats\n"
                     << "awk '$1 == \"demand_data_hits\" { $3 += 10000000 } { print }' \"$f\" > "
                        "\"$f.new\" && mv \"$f.new\" \"$f\"\n"
                     << "exit $rc\n";
  fs::permissions(fio, fs::perms::owner_all);
  setenv("DIOBENCH_FIO", fio.c_str(), 1);
  const std::string out = runs_ + "/a", db = out + "/results.db";
  const Exit e = diobench(zfs_args(out), root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string log = read("zpool.log");
  std::size_t exports = 0;
  for (std::size_t at = 0; (at = log.find("export tank", at)) != std::string::npos; ++at) ++exports;
  EXPECT_EQ(exports, 3u) << log;
  const auto info = query(db, "SELECT value FROM system_info WHERE key = 'runner.arc_drop'");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].rfind("export (the default", 0), 0u) << info[0];
  EXPECT_EQ(
      query(db, "SELECT name, min(delta), max(delta) FROM arcstats GROUP BY name ORDER BY name"),
      (std::vector<std::string>{"demand_data_hits|10000000|10000000", "demand_data_misses|0|0",
                                "uncached_hits|0|0"}));
  const auto checks = query(db,
                            "SELECT c.policy, coalesce(r.arc_check, 'NULL') FROM repetitions r"
                            " JOIN cells c ON c.id = r.cell_id ORDER BY c.policy");
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].rfind("always|the ARC served 10000000 demand data reads", 0), 0u)
      << checks[0];
  EXPECT_EQ(checks[1], "disabled|NULL");
  EXPECT_EQ(checks[2], "standard|NULL");
}

// Where exporting the pool would take away more than the dataset under
// test, the run is refused with the reason (exit 2), and --arc-drop none
// opts out, said in the system information.
TEST_F(ZfsBackendTest, EmptyingTheArcIsRefusedWhereThePoolDoesNotAllowItUnlessOptedOut) {
  const std::string mounts = root_ + "/mounts";
  std::ofstream(mounts) << "/dev/vda1 / ext4 rw 0 0\ntank/ds " << root_ << "/mnt zfs rw 0 0\n"
                        << "tank/home /home zfs rw 0 0\n";
  setenv("DIOBENCH_MOUNTS", mounts.c_str(), 1);
  const Exit refused = diobench(zfs_args(runs_ + "/a"), root_ + "/refused.log");
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_NE(refused.output.find("would unmount tank/home (on /home)"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("--arc-drop none"), std::string::npos) << refused.output;
  auto args = zfs_args(runs_ + "/b", "always");
  args.insert(args.end(), {"--arc-drop", "none"});
  const Exit e = diobench(args, root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_EQ(read("zpool.log").find("export"), std::string::npos) << read("zpool.log");
  const auto info =
      query(runs_ + "/b/results.db", "SELECT value FROM system_info WHERE key = 'runner.arc_drop'");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].rfind("none (opted out", 0), 0u) << info[0];
}

// A property the dataset inherited (here: its default) is handed back to
// inheritance at the end, not pinned as a local value.
TEST_F(ZfsBackendTest, AnInheritedPropertyIsInheritedAgainNotSetLocally) {
  std::ofstream(state_ + "/tank/ds/direct.source") << "default\n";
  const std::string out = runs_ + "/a";
  auto args = zfs_args(out);
  args.push_back("--in-place");
  const Exit e = diobench(args, root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  const std::string log = read("log");
  EXPECT_NE(log.find("direct=always"), std::string::npos) << log;
  EXPECT_NE(log.find("inherit direct"), std::string::npos) << log;
  EXPECT_EQ(read("tank/ds/direct.source"), "default\n") << log;
  EXPECT_EQ(read("tank/ds/direct"), "standard\n");
}

// --in-place: the user's dataset's property, set back by restore after a
// kill -9 in the middle of a repetition.
TEST_F(ZfsBackendTest, RestoreSetsThePropertyBackAfterKillNine) {
  const std::string out = runs_ + "/a";
  auto args = zfs_args(out, "always");
  args.push_back("--in-place");
  // Killed as soon as the policy is set: inside the repetition.
  const Exit killed = diobench_killed_when(args, root_ + "/run.log",
                                           [&] { return read("tank/ds/direct") == "always\n"; });
  ASSERT_EQ(killed.status, 128 + SIGKILL) << killed.output;
  const Exit restored = diobench({"restore", out}, root_ + "/restore.log");
  EXPECT_EQ(restored.status, 0) << restored.output;
  EXPECT_EQ(read("tank/ds/direct"), "standard\n") << restored.output;
  EXPECT_TRUE(data_files_in(root_ + "/mnt/diobench").empty());
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl"));
}

// The child a killed run left is destroyed by restore (its property with
// it); a run resumed without restore takes the same child up again and
// destroys it at its end.
TEST_F(ZfsBackendTest, AKilledRunsChildDatasetIsDestroyedByRestoreOrTakenUpByResume) {
  const std::string out = runs_ + "/a";
  // Killed as soon as the policy is set on the child: inside the repetition.
  const auto policy_set = [&](const std::string& run) {
    return [this, run] {
      const std::string child = fs::exists(run + "/plan.json") ? work_dataset_of(run) : "";
      return !child.empty() && read(child + "/direct") == "always\n";
    };
  };
  Exit killed = diobench_killed_when(zfs_args(out, "always"), root_ + "/run.log", policy_set(out));
  ASSERT_EQ(killed.status, 128 + SIGKILL) << killed.output;
  const std::string child = work_dataset_of(out);
  EXPECT_EQ(read(child + "/diobench:run"), child.substr(child.rfind('/') + 1) + "\n");
  const Exit restored = diobench({"restore", out}, root_ + "/restore.log");
  EXPECT_EQ(restored.status, 0) << restored.output;
  EXPECT_NE(restored.output.find("destroyed: dataset " + child), std::string::npos)
      << restored.output;
  EXPECT_FALSE(fs::exists(state_ + "/" + child));
  EXPECT_TRUE(fs::is_empty(root_ + "/mnt"));
  EXPECT_EQ(read("tank/ds/direct"), "standard\n");
  EXPECT_FALSE(fs::exists(out + "/journal.jsonl"));

  const std::string out2 = runs_ + "/b";
  killed = diobench_killed_when(zfs_args(out2, "always"), root_ + "/run2.log", policy_set(out2));
  ASSERT_EQ(killed.status, 128 + SIGKILL) << killed.output;
  const std::string child2 = work_dataset_of(out2);
  ASSERT_TRUE(fs::exists(state_ + "/" + child2));
  const Exit resumed = diobench({"run", "--resume", out2}, root_ + "/resume.log");
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(read("log").find("create " + child2), read("log").rfind("create " + child2))
      << "created twice:\n"
      << read("log");
  EXPECT_FALSE(fs::exists(state_ + "/" + child2)) << resumed.output;
  EXPECT_FALSE(fs::exists(out2 + "/journal.jsonl")) << resumed.output;
  EXPECT_EQ(query(out2 + "/results.db", "SELECT count(*) FROM repetitions WHERE status = 'ok'"),
            std::vector<std::string>{"1"});
}

// Restore destroys a dataset only while it carries the run's token: one
// of the same name that is not the run's stays, and restore says so.
TEST_F(ZfsBackendTest, RestoreLeavesADatasetTheRunDidNotMake) {
  const std::string killed = runs_ + "/k";
  fs::create_directories(killed);
  std::ofstream(killed + "/journal.jsonl")
      << R"({"op":"zfs_dataset","dataset":"tank/ds/diobench-00000000000000aa","token":"diobench-00000000000000aa"})"
      << "\n";
  ::chmod((killed + "/journal.jsonl").c_str(), 0600);
  fs::create_directories(state_ + "/tank/ds/diobench-00000000000000aa");
  std::ofstream(state_ + "/tank/ds/diobench-00000000000000aa/diobench:run") << "someone-else\n";
  const Exit restored = diobench({"restore", killed}, root_ + "/restore.log");
  EXPECT_EQ(restored.status, 1) << restored.output;
  EXPECT_NE(restored.output.find("not ours, left alone"), std::string::npos) << restored.output;
  EXPECT_TRUE(fs::exists(state_ + "/tank/ds/diobench-00000000000000aa"));
  EXPECT_TRUE(fs::exists(killed + "/journal.jsonl"));
  // Gone by other means: nothing left to undo.
  fs::remove_all(state_ + "/tank/ds/diobench-00000000000000aa");
  const Exit again = diobench({"restore", killed}, root_ + "/restore2.log");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_FALSE(fs::exists(killed + "/journal.jsonl"));
}

// A resumed run creates and destroys only a child of the shape it makes:
// a plan.json naming another dataset is refused (exit 2, naming it).
TEST_F(ZfsBackendTest, AResumedPlanNamingAnotherWorkDatasetIsRefused) {
  const std::string out = runs_ + "/a";
  const Exit e = diobench(zfs_args(out, "disabled"), root_ + "/run.log");
  ASSERT_EQ(e.status, 0) << e.output;
  auto plan = nlohmann::json::parse(test::slurp(out + "/plan.json"));
  plan["work_dataset"] = "tank/home";
  std::ofstream(out + "/plan.json") << plan.dump();
  const Exit resumed = diobench({"run", "--resume", out}, root_ + "/resume.log");
  EXPECT_EQ(resumed.status, 2) << resumed.output;
  EXPECT_NE(
      resumed.output.find("work_dataset 'tank/home' is not a child diobench makes of 'tank/ds'"),
      std::string::npos)
      << resumed.output;
  EXPECT_EQ(read("log").find("tank/home"), std::string::npos) << read("log");
}

// A fleet host's side on the zfs backend (`diobench host`, host_side.hpp):
// the run's child dataset made the first time and kept between
// repetitions, each cell's policy set on it, the scratch file on it, the
// pool's and the ARC's counters sent back, and everything undone by
// finish; the user's dataset never changed.
TEST_F(ZfsBackendTest, AFleetHostWorksInItsOwnChildDatasetAndUndoesIt) {
  const std::string child = "tank/ds/diobench-0123456789abcdef";
  const std::string dir = root_ + "/host-scratch";
  std::string engine = diobench({"engine-path"}, root_ + "/engine.log").output;
  engine = engine.substr(0, engine.find('\n'));
  auto prepare = [&](const std::string& policy) {
    return diobench(
        {"host",      "prepare",  "--dir",          dir,    "--run",    "r1",   "--size",
         "1048576",   "--engine", engine,           "--rw", "randread", "--bs", "4k",
         "--dataset", "tank/ds",  "--work-dataset", child,  "--policy", policy},
        root_ + "/prepare.log");
  };
  const Exit first = prepare("always");
  ASSERT_EQ(first.status, 0) << first.output;
  const std::string file = root_ + "/mnt/diobench-0123456789abcdef/diobench/run-r1.dat";
  EXPECT_EQ(first.output, file + "\n");
  EXPECT_EQ(fs::file_size(file), 1048576u);
  const Exit counters =
      diobench({"host", "counters", "--dir", dir, "--run", "r1"}, root_ + "/counters.log");
  ASSERT_EQ(counters.status, 0) << counters.output;
  const nlohmann::json reply = nlohmann::json::parse(counters.output);
  EXPECT_TRUE(reply.at("zfs_iostats").contains("direct_read_bytes")) << counters.output;
  EXPECT_TRUE(reply.at("arcstats").contains("demand_data_hits")) << counters.output;
  ASSERT_EQ(prepare("disabled").status, 0);
  const std::string log = read("log");
  EXPECT_EQ(log, "create " + child + "\nset direct=always " + child + "\nset direct=disabled " +
                     child + "\n");
  const Exit finish =
      diobench({"host", "finish", "--dir", dir, "--run", "r1"}, root_ + "/finish.log");
  EXPECT_EQ(finish.status, 0) << finish.output;
  EXPECT_NE(read("log").find("destroy " + child), std::string::npos) << read("log");
  EXPECT_FALSE(fs::exists(state_ + "/" + child)) << "the child dataset is left";
  EXPECT_EQ(read("tank/ds/direct"), "standard\n");
  EXPECT_EQ(fs::directory_iterator(dir)->path().filename(), ".diobench-scratch");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST_F(ZfsBackendTest, ADatasetWithoutDirectIsRefused) {
  fs::remove(state_ + "/tank/ds/direct");
  const Exit e = diobench(zfs_args(runs_ + "/a"), root_ + "/run.log");
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find("tank/ds"), std::string::npos) << e.output;
}

}  // namespace
}  // namespace diobench
