// The one way the suite starts a program (child_process.hpp), and fio
// through it (fio_process.hpp): no shell, its own group, a time limit that
// kills a hung child, and nothing that outlives a killed parent.
#include "diobench/child_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "diobench/runner/fio_process.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Processes whose command line holds `marker` as one of its arguments.
std::vector<pid_t> processes_with_argument(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    std::string arg;
    while (std::getline(in, arg, '\0')) {
      if (arg.find(marker) != std::string::npos) {
        found.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
    }
  }
  return found;
}

// Waits up to `seconds` for no process to carry `marker`; those left.
std::vector<pid_t> wait_until_gone(const std::string& marker, double seconds) {
  const auto start = Clock::now();
  std::vector<pid_t> left = processes_with_argument(marker);
  while (!left.empty() && seconds_since(start) < seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = processes_with_argument(marker);
  }
  return left;
}

// A number no other process has on its command line (for `sleep`).
std::string unique_seconds() {
  return std::to_string(1000 + getpid() % 1000) + "." + std::to_string(std::rand() % 1000 + 1000);
}

ChildCommand command(std::vector<std::string> argv, double timeout_s = 30) {
  ChildCommand c;
  c.argv = std::move(argv);
  c.timeout_s = timeout_s;
  return c;
}

TEST(ChildProcess, ArgumentsReachTheProgramAsTheyAreWithNoShell) {
  ChildCommand c = command({"printf", "%s|", "$(echo no)", "a b", "`id`;"});
  c.capture_output = true;
  const ChildExit e = run_child(c);
  EXPECT_TRUE(e.ok()) << e.reason();
  EXPECT_EQ(e.output, "$(echo no)|a b|`id`;|");
}

TEST(ChildProcess, InputGoesInAndOutputComesBackWhole) {
  std::string input;
  for (int i = 0; input.size() < 3 * 1024 * 1024; ++i) input += std::to_string(i) + "\n";
  ChildCommand c = command({"cat"});
  c.input = input;
  c.capture_output = true;
  const ChildExit e = run_child(c);
  EXPECT_TRUE(e.ok()) << e.reason();
  EXPECT_EQ(e.output.size(), input.size());
  EXPECT_TRUE(e.output == input);
}

TEST(ChildProcess, AChildThatStopsReadingItsInputDoesNotKillUs) {
  ChildCommand c = command({"head", "-c", "10"});
  c.input = std::string(8 * 1024 * 1024, 'x');  // far more than a pipe holds
  c.capture_output = true;
  const ChildExit e = run_child(c);
  EXPECT_TRUE(e.ok()) << e.reason();
  EXPECT_EQ(e.output, std::string(10, 'x'));
}

TEST(ChildProcess, EnvironmentIsAddedAndTheLogFileGetsBothStreams) {
  const std::string log = "/tmp/diobench-child-test-" + std::to_string(getpid()) + ".log";
  ChildCommand c = command({"sh", "-c", "echo out $DIOBENCH_CHILD_TEST; echo err >&2"});
  c.env = {"DIOBENCH_CHILD_TEST=value"};
  c.log_file = log;
  EXPECT_TRUE(run_child(c).ok());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "out value\nerr\n");
  fs::remove(log);
}

TEST(ChildProcess, TheLogFileIsNeverWrittenThroughALink) {
  const std::string dir = "/tmp/diobench-child-test-" + std::to_string(getpid());
  fs::create_directories(dir);
  std::ofstream(dir + "/victim") << "keep";
  fs::create_symlink(dir + "/victim", dir + "/log");
  ChildCommand c = command({"true"});
  c.log_file = dir + "/log";
  EXPECT_THROW(run_child(c), std::system_error);
  std::ifstream in(dir + "/victim");
  std::string kept;
  in >> kept;
  EXPECT_EQ(kept, "keep");
  fs::remove_all(dir);
}

TEST(ChildProcess, ExitStatusAndSignalAreTheReason) {
  EXPECT_EQ(run_child(command({"sh", "-c", "exit 3"})).reason(), "exited with status 3");
  const ChildExit killed = run_child(command({"sh", "-c", "kill -SEGV $$"}));
  EXPECT_EQ(killed.status, 128 + SIGSEGV);
  EXPECT_EQ(killed.reason(), "killed by signal 11 (SIGSEGV)");
  EXPECT_EQ(run_child(command({"true"})).reason(), "");
  // ssh's own failures exit 255: a status, not signal 127.
  EXPECT_EQ(run_child(command({"sh", "-c", "exit 255"})).reason(), "exited with status 255");
}

TEST(ChildProcess, ItRunsInAProcessGroupOfItsOwn) {
  ChildCommand c = command({"sh", "-c", "cut -d' ' -f5 /proc/$$/stat; echo $$"});
  c.capture_output = true;
  const ChildExit e = run_child(c);
  std::istringstream in(e.output);
  long pgid = 0, pid = 0;
  in >> pgid >> pid;
  EXPECT_EQ(pgid, pid) << e.output;
  EXPECT_NE(pgid, static_cast<long>(getpgrp()));
}

TEST(ChildProcess, NoneOfOurDescriptorsReachIt) {
  const int null_fd = ::open("/dev/null", O_RDONLY);
  const int fd = ::fcntl(null_fd, F_DUPFD, 100);  // without O_CLOEXEC
  ::close(null_fd);
  ASSERT_GE(fd, 100);
  ChildCommand c = command({"ls", "/proc/self/fd"});
  c.capture_output = true;
  const ChildExit e = run_child(c);
  ::close(fd);
  // 0, 1, 2, and the directory ls reads.
  std::istringstream in(e.output);
  std::vector<int> fds;
  for (int n; in >> n;) fds.push_back(n);
  EXPECT_LE(fds.size(), 4u) << e.output;
  for (int n : fds) EXPECT_NE(n, fd) << e.output;
}

TEST(ChildProcess, AProgramThatCannotRunIsAnErrorNamingIt) {
  try {
    run_child(command({"diobench-no-such-program"}));
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find("diobench-no-such-program"), std::string::npos);
  }
  EXPECT_THROW(run_child(command({"/etc/hostname"})), std::system_error);  // not executable
  EXPECT_THROW(run_child(command({"true"}, 0)), std::invalid_argument);    // no time limit
}

TEST(ChildProcess, AHungChildIsKilledWhenItsTimeIsUp) {
  const std::string marker = unique_seconds();
  const auto start = Clock::now();
  const ChildExit e = run_child(command({"sleep", marker}, 1));
  EXPECT_TRUE(e.timed_out);
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.reason(), "timed out after 1 s");
  EXPECT_EQ(e.status, 128 + SIGTERM);
  EXPECT_LT(seconds_since(start), 4);
  EXPECT_TRUE(processes_with_argument(marker).empty());
}

TEST(ChildProcess, AStoppedChildIsKilledWhenItsTimeIsUp) {
  const std::string marker = unique_seconds();
  ChildProcess child(command({"sleep", marker}, 1));
  ASSERT_EQ(::kill(child.pid(), SIGSTOP), 0);
  const auto start = Clock::now();
  const ChildExit e = child.wait();
  EXPECT_TRUE(e.timed_out);
  EXPECT_LT(seconds_since(start), 4);
  EXPECT_TRUE(processes_with_argument(marker).empty());
}

TEST(ChildProcess, AChildIgnoringSigtermIsKilledWithWhatItStartedInItsGroup) {
  const std::string marker = unique_seconds();
  ChildCommand c = command({"sh", "-c", "trap '' TERM; sleep " + marker + " & sleep " + marker}, 1);
  c.grace_s = 1;
  const auto start = Clock::now();
  const ChildExit e = run_child(c);
  EXPECT_TRUE(e.timed_out);
  EXPECT_EQ(e.status, 128 + SIGKILL);
  EXPECT_LT(seconds_since(start), 5);
  EXPECT_TRUE(wait_until_gone(marker, 2).empty()) << "the background sleep survived";
}

// Runs `start` in a child process of ours (as diobench or a test binary
// runs fio), kills that process with SIGKILL once `ready` holds, and
// returns the processes carrying `marker` still there after `seconds`.
std::vector<pid_t> survivors_of_killed_parent(const std::function<void()>& start,
                                              const std::function<bool()>& ready,
                                              const std::string& marker, double seconds) {
  const pid_t parent = fork();
  if (parent == 0) {
    start();
    _exit(0);
  }
  const auto begin = Clock::now();
  while (!ready() && seconds_since(begin) < 30) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // at work
  ::kill(parent, SIGKILL);
  int status;
  waitpid(parent, &status, 0);
  return wait_until_gone(marker, seconds);
}

TEST(ChildProcess, AChildDiesWithItsParent) {
  const std::string marker = unique_seconds();
  const auto left = survivors_of_killed_parent(
      [&] {
        run_child(command({"sleep", marker}, 600));
      },
      [&] { return !processes_with_argument(marker).empty(); }, marker, 3);
  EXPECT_TRUE(left.empty()) << left.size() << " left, first pid " << left.front();
  for (pid_t p : left) ::kill(p, SIGKILL);
}

// fio on a file of its own, in its default mode (a forked process per job,
// which calls setsid()): killing the process that started fio must end
// every fio process within seconds. A job process once ran on for two
// hours after a killed test binary.
TEST(FioProcess, EveryFioProcessDiesWithTheProcessThatStartedIt) {
  char dir_template[] = "/var/tmp/diobench-child-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string marker = dir + "/data";
  const auto left = survivors_of_killed_parent(
      [&] {
        FioInvocation fio;
        fio.args = {
            "--name=survivor",   "--filename=" + marker, "--ioengine=psync", "--rw=randread",
            "--size=1m",         "--numjobs=2",          "--time_based",     "--runtime=600",
            "--output=/dev/null"};
        fio.log_file = dir + "/fio.log";
        run_fio(fio);
      },
      [&] {
        std::error_code ec;
        return !processes_with_argument(marker).empty() && fs::file_size(marker, ec) == 1024 * 1024;
      },
      marker, 5);
  EXPECT_TRUE(left.empty()) << left.size() << " fio processes left, first pid " << left.front();
  for (pid_t p : left) ::kill(p, SIGKILL);
  fs::remove_all(dir);
}

TEST(FioProcess, AHungFioIsKilledAndLeavesNoJsonUnderItsName) {
  char dir_template[] = "/var/tmp/diobench-child-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  FioInvocation fio;
  fio.args = {"--name=hung",      "--filename=" + dir + "/data",
              "--ioengine=psync", "--rw=randread",
              "--size=1m",        "--time_based",
              "--runtime=600",    "--output-format=json"};
  fio.output_file = dir + "/fio.json";
  fio.log_file = dir + "/fio.log";
  fio.timeout_s = 3;
  std::thread stopper([&] {
    // fio, once it is at work on its file: stopped, as a hung fio is.
    const auto begin = Clock::now();
    std::error_code ec;
    while (seconds_since(begin) < 3 && (processes_with_argument(dir + "/data").empty() ||
                                        fs::file_size(dir + "/data", ec) != 1024 * 1024)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (pid_t p : processes_with_argument(dir + "/data")) ::kill(p, SIGSTOP);
  });
  const auto start = Clock::now();
  const FioExit e = run_fio(fio);
  stopper.join();
  EXPECT_TRUE(e.timed_out);
  EXPECT_EQ(e.reason, "timed out after 3 s");
  EXPECT_LT(seconds_since(start), 3 + 5 + 2);
  EXPECT_FALSE(fs::exists(fio.output_file)) << "a killed fio's JSON looks finished";
  EXPECT_TRUE(wait_until_gone(dir + "/data", 2).empty());
  fs::remove_all(dir);
}

TEST(FioProcess, AFailedFioLeavesNoJsonUnderItsNameAndAGoodOneDoes) {
  char dir_template[] = "/var/tmp/diobench-child-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  FioInvocation fio;
  fs::create_directory(dir + "/a-directory");
  fio.args = {"--name=bad",       "--filename=" + dir + "/a-directory",
              "--ioengine=psync", "--rw=read",
              "--size=1m",        "--output-format=json"};
  fio.output_file = dir + "/fio.json";
  fio.log_file = dir + "/fio.log";
  // Its file is a directory: fio writes its JSON (with the error) and
  // exits non-zero.
  const FioExit bad = run_fio(fio);
  EXPECT_FALSE(bad.ok()) << bad.log;
  EXPECT_NE(bad.reason.find("exited with status"), std::string::npos) << bad.reason;
  EXPECT_TRUE(fs::exists(fio.output_file + ".partial"))
      << "fio wrote no JSON: the case is not tested";
  EXPECT_FALSE(fs::exists(fio.output_file));

  fio.args = {"--name=good", "--filename=" + dir + "/data", "--ioengine=psync", "--rw=read",
              "--size=1m",   "--output-format=json"};
  const FioExit good = run_fio(fio);
  EXPECT_TRUE(good.ok()) << good.reason << good.log;
  EXPECT_TRUE(fs::exists(fio.output_file));
  EXPECT_FALSE(fs::exists(fio.output_file + ".partial"));
  fs::remove_all(dir);
}

TEST(FioProcess, TheTimeLimitFollowsWhatFioIsAskedToDo) {
  FioWork timed;
  timed.ramp_s = 1;
  timed.runtime_s = 2;
  timed.time_based = true;
  EXPECT_EQ(fio_time_limit_s(timed), 63);
  // Not time based: 64 MiB at the 1 MiB/s floor, or the runtime if shorter.
  const auto sized = fio_work_from_args({"--size=16m", "--loops=2", "--numjobs=2"});
  ASSERT_TRUE(sized);
  EXPECT_EQ(fio_time_limit_s(*sized), 60 + 64);
  const auto capped =
      fio_work_from_args({"--size=16m", "--loops=2", "--numjobs=2", "--runtime=10"});
  EXPECT_EQ(fio_time_limit_s(*capped), 60 + 10);
  // A verify phase reads the file back: 8 MiB more at the floor.
  const auto verified =
      fio_work_from_args({"--size=8m", "--verify=md5", "--time_based", "--runtime=3m"});
  EXPECT_EQ(fio_time_limit_s(*verified), 60 + 180 + 8);
  EXPECT_FALSE(fio_work_from_args({"--name=x", "job.fio"}));
  FioInvocation none;
  none.args = {"job.fio"};
  none.log_file = "/dev/null";
  EXPECT_THROW(run_fio(none), std::invalid_argument);
}

}  // namespace
}  // namespace diobench
