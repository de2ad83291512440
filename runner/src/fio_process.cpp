#include "diobench/runner/fio_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <csignal>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "diobench/runner/cpu_usage.hpp"
#include "diobench/runner/interrupt.hpp"

namespace diobench {

namespace {
std::string tail_of(const std::string& file, std::size_t max_bytes) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}
}  // namespace

FioExit run_fio(const FioInvocation& invocation) {
  const char* env = std::getenv("DIOBENCH_FIO");
  const std::string fio = !invocation.program.empty() ? invocation.program
                          : env && *env                ? env
                                                       : "fio";
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(fio.c_str()));
  for (const std::string& a : invocation.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const int log_fd = ::open(invocation.log_file.c_str(),
                            O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    throw std::system_error(errno, std::generic_category(), invocation.log_file);
  }
  int exec_pipe[2];  // reports an exec failure back to the parent
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) {
    ::close(log_fd);
    throw std::system_error(errno, std::generic_category(), "pipe");
  }
  const std::optional<double> idle_before = system_idle_seconds();
  const auto window_start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    ::close(exec_pipe[0]);
    ::close(exec_pipe[1]);
    throw std::system_error(err, std::generic_category(), "fork");
  }
  if (pid == 0) {
    setpgid(0, 0);  // Ctrl-C reaches diobench, which decides (interrupt.hpp)
    // If diobench dies (kill -9), fio must not run on against a target that
    // `diobench restore` is about to take away. (Jobs are threads: job.fio.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(127);  // the parent died before prctl
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    for (const std::string& e : invocation.env) putenv(const_cast<char*>(e.c_str()));
    execvp(argv[0], argv.data());
    const int err = errno;
    (void)!write(exec_pipe[1], &err, sizeof err);
    _exit(127);
  }
  ::close(log_fd);
  ::close(exec_pipe[1]);
  InterruptGuard::set_child(pid, invocation.first_signal_stops);
  // A signal that came before the child was registered still stops it.
  if (invocation.first_signal_stops && InterruptGuard::requested()) kill(pid, SIGTERM);
  int exec_err = 0;
  const bool exec_failed = read(exec_pipe[0], &exec_err, sizeof exec_err) == sizeof exec_err;
  ::close(exec_pipe[0]);
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  const std::optional<double> idle_after = system_idle_seconds();
  const double window_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
  InterruptGuard::set_child(0);
  if (exec_failed) {
    throw std::system_error(exec_err, std::generic_category(),
                            "cannot run " + fio + " (run scripts/setup and scripts/build)");
  }
  FioExit exit;
  exit.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  exit.log = tail_of(invocation.log_file, 2000);
  if (idle_before && idle_after) {
    exit.cpu_busy_s = busy_seconds(window_s, sysconf(_SC_NPROCESSORS_ONLN), *idle_before, *idle_after);
  }
  exit.cpu_window_s = window_s;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  exit.child_cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  return exit;
}

}  // namespace diobench
