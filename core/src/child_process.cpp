#include "diobench/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace diobench {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The file `program` names: itself when it holds a '/', else the first
// executable regular file of that name in $PATH (an empty entry, meaning
// the working directory, is skipped).
std::string resolve_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* env = std::getenv("PATH");
  const std::string path =
      env && *env ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  throw_errno(ENOENT, "cannot run " + program + ": not found in $PATH");
}

// The parent's environment with `added` (NAME=value) set over it.
std::vector<std::string> child_environment(const std::vector<std::string>& added) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
  for (char** e = environ; e && *e; ++e) {
    const std::string entry(*e);
    const bool replaced = std::any_of(added.begin(), added.end(), [&](const std::string& a) {
      return name_of(a) == name_of(entry);
    });
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), added.begin(), added.end());
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (std::string& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

// What the child does between fork and exec: only async-signal-safe calls
// (the parent may have threads: fio runs our engine's zfs queries). On any
// failure it reports errno through `report_fd` and exits 127.
struct ChildSetup {
  pid_t parent = 0;
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  int report_fd = -1;
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;

  [[noreturn]] void fail() const {
    const int err = errno;
    (void)!::write(report_fd, &err, sizeof err);
    ::_exit(127);
  }

  [[noreturn]] void run() const {
    // Signals were blocked around fork; the parent's handlers must not run
    // here, and what the parent ignores must not stay ignored in the child.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    ::setpgid(0, 0);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail();
    // The parent may have died before prctl: then nobody owns this child
    // (it was handed to init or a subreaper) and the signal never comes.
    if (::getppid() != parent) ::_exit(127);
    if (::dup2(stdin_fd, STDIN_FILENO) < 0 || ::dup2(stdout_fd, STDOUT_FILENO) < 0 ||
        ::dup2(stderr_fd, STDERR_FILENO) < 0) {
      fail();
    }
    // None of our descriptors (scratch files, loop devices, pipes of
    // other children) go into the program.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(path, argv, envp);
    fail();
  }
};

}  // namespace

std::string ChildExit::reason() const {
  char text[96];
  if (timed_out) {
    std::snprintf(text, sizeof text, "timed out after %g s", timeout_s);
  } else if (signal != 0) {
    const char* name = sigabbrev_np(signal);
    std::snprintf(text, sizeof text, "killed by signal %d (SIG%s)", signal, name ? name : "?");
  } else if (status != 0) {
    std::snprintf(text, sizeof text, "exited with status %d", status);
  } else {
    return "";
  }
  return text;
}

// Over 100 lines on purpose: from the first descriptor opened for the
// child to the report of its exec, every failure must close exactly the
// descriptors opened so far (`opened`) and reap what was forked; one
// function keeps that ownership in one place instead of passing raw
// descriptors between steps.
ChildProcess::ChildProcess(const ChildCommand& command) : command_(command) {
  if (command_.argv.empty()) throw std::invalid_argument("a child process needs a program");
  if (!(command_.timeout_s > 0) || !std::isfinite(command_.timeout_s)) {
    throw std::invalid_argument("a child process needs a time limit (" + command_.argv[0] + ")");
  }
  const std::string path = resolve_program(command_.argv[0]);
  std::vector<std::string> argv_strings = command_.argv;
  std::vector<std::string> env_strings = child_environment(command_.env);
  const std::vector<char*> argv = pointers(argv_strings);
  const std::vector<char*> envp = pointers(env_strings);

  // Every descriptor the child gets, opened before fork (and closed on any
  // failure by `opened`).
  std::vector<int> opened;
  auto cleanup = [&] {
    for (int& fd : opened) close_fd(fd);
  };
  auto open_or_throw = [&](int fd, const std::string& what) {
    if (fd < 0) {
      const int err = errno;
      cleanup();
      throw_errno(err, what);
    }
    opened.push_back(fd);
    return fd;
  };
  const int null_fd = open_or_throw(::open("/dev/null", O_RDWR | O_CLOEXEC), "/dev/null");
  int log_fd = null_fd;
  if (!command_.log_file.empty()) {
    log_fd = open_or_throw(::open(command_.log_file.c_str(),
                                  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644),
                           command_.log_file);
  }
  ChildSetup setup;
  setup.stdin_fd = null_fd;
  setup.stdout_fd = log_fd;
  setup.stderr_fd = log_fd;
  if (command_.input) {
    // A socket rather than a pipe: a child that stops reading makes our
    // send() fail with EPIPE (MSG_NOSIGNAL), not kill us with SIGPIPE.
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      open_or_throw(-1, "socketpair");
    }
    opened.push_back(pair[0]);
    opened.push_back(pair[1]);
    ::shutdown(pair[0], SHUT_WR);
    ::shutdown(pair[1], SHUT_RD);
    setup.stdin_fd = pair[0];
    input_fd_ = pair[1];
  }
  if (command_.capture_output) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) open_or_throw(-1, "pipe");
    opened.push_back(out[0]);
    opened.push_back(out[1]);
    setup.stdout_fd = out[1];
    output_fd_ = out[0];
  }
  int report[2];  // the child's errno when exec fails; closed by a good exec
  if (::pipe2(report, O_CLOEXEC) != 0) open_or_throw(-1, "pipe");
  setup.report_fd = report[1];
  setup.parent = ::getpid();
  setup.path = path.c_str();
  setup.argv = argv.data();
  setup.envp = envp.data();

  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_ = ::fork();
  if (pid_ == 0) setup.run();
  const int fork_err = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  started_ = now_s();
  ::close(report[1]);
  // Our ends stay; the child's ends close now.
  for (int& fd : opened) {
    if (fd != input_fd_ && fd != output_fd_) close_fd(fd);
  }
  if (pid_ < 0) {
    ::close(report[0]);
    close_fd(input_fd_);
    close_fd(output_fd_);
    throw_errno(fork_err, "fork");
  }
  int exec_err = 0;
  ssize_t n;
  while ((n = ::read(report[0], &exec_err, sizeof exec_err)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  // -1 on an old kernel: wait_exited polls then. (glibc 2.36's
  // <sys/pidfd.h> lacks C linkage for C++, hence the system call.)
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (n == sizeof exec_err) {
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    close_fd(pidfd_);
    close_fd(input_fd_);
    close_fd(output_fd_);
    throw_errno(exec_err, "cannot run " + command_.argv[0]);
  }
  if (input_fd_ >= 0) ::fcntl(input_fd_, F_SETFL, O_NONBLOCK);
}

ChildProcess::~ChildProcess() {
  if (!reaped_ && !vanished_ && pid_ > 0) {
    kill_group(SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(pidfd_);
  close_fd(input_fd_);
  close_fd(output_fd_);
}

// The whole group: whatever the child started in it goes too. Safe before
// the child is reaped (its pid, the group's id, cannot be reused yet).
void ChildProcess::kill_group(int signal) const {
  if (vanished_) return;
  if (::kill(-pid_, signal) != 0) ::kill(pid_, signal);
}

bool ChildProcess::wait_exited(double seconds) {
  const double until = now_s() + seconds;
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
      if (info.si_pid == pid_) return true;
    } else if (errno == ECHILD) {
      // The caller has SIGCHLD ignored: the kernel reaped it already, and
      // its number may be someone else's now; it must not be signalled.
      vanished_ = true;
      return true;
    }
    const double left = until - now_s();
    if (left <= 0) return false;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::ceil(left * 1000)));
    } else {
      ::usleep(static_cast<useconds_t>(std::min(left, 0.02) * 1e6));
    }
  }
}

ChildExit ChildProcess::wait() {
  if (reaped_) throw std::logic_error("child process waited for twice");
  ChildExit exit;
  exit.timeout_s = command_.timeout_s;
  const double deadline = started_ + command_.timeout_s;
  std::size_t sent = 0;
  const std::string no_input;
  const std::string& input = command_.input ? *command_.input : no_input;
  if (input_fd_ >= 0 && input.empty()) close_fd(input_fd_);
  bool exited = false;
  // Feed and drain until the child has exited and its output is closed
  // (by it, or by whatever else it left in its group, killed below).
  while (!exited || output_fd_ >= 0) {
    const double left = deadline - now_s();
    if (left <= 0) {
      exit.timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    int exited_slot = -1, in_slot = -1, out_slot = -1;
    if (!exited && pidfd_ >= 0) {
      exited_slot = static_cast<int>(n);
      fds[n++] = {pidfd_, POLLIN, 0};
    }
    if (input_fd_ >= 0) {
      in_slot = static_cast<int>(n);
      fds[n++] = {input_fd_, POLLOUT, 0};
    }
    if (output_fd_ >= 0) {
      out_slot = static_cast<int>(n);
      fds[n++] = {output_fd_, POLLIN, 0};
    }
    // Without a pidfd (an old kernel) the exit is looked for every 20 ms.
    const double tick = pidfd_ >= 0 || exited ? left : std::min(left, 0.02);
    const int ready = ::poll(fds, n, static_cast<int>(std::ceil(tick * 1000)));
    if (ready < 0 && errno != EINTR) throw_errno(errno, "poll");
    if (in_slot >= 0 && fds[in_slot].revents) {
      const ssize_t w = ::send(input_fd_, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
      if (w > 0) sent += static_cast<std::size_t>(w);
      // EPIPE: it stopped reading; its exit status will say why.
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == input.size()) close_fd(input_fd_);
    }
    if (out_slot >= 0 && fds[out_slot].revents) {
      char buffer[4096];
      const ssize_t r = ::read(output_fd_, buffer, sizeof buffer);
      if (r > 0) {
        exit.output.append(buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        close_fd(output_fd_);
      }
    }
    if (!exited && (exited_slot < 0 || fds[exited_slot].revents)) {
      exited = wait_exited(0);
      // Anything it left behind in its group holds no claim on us.
      if (exited) kill_group(SIGKILL);
    }
  }
  if (exit.timed_out && !exited) {
    kill_group(SIGTERM);
    kill_group(SIGCONT);  // a stopped child acts on SIGTERM only once continued
    if (!wait_exited(command_.grace_s)) kill_group(SIGKILL);
  }
  close_fd(input_fd_);
  close_fd(output_fd_);
  return reap(exit);
}

ChildExit ChildProcess::reap(ChildExit exit) {
  int status = 0;
  struct rusage usage {};
  pid_t waited = -1;
  while (!vanished_ && (waited = ::wait4(pid_, &status, 0, &usage)) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  close_fd(pidfd_);
  exit.wall_s = now_s() - started_;
  // ECHILD: the caller set SIGCHLD to be ignored, and the status is gone.
  if (waited == pid_) {
    exit.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    exit.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  exit.cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  return exit;
}

ChildExit run_child(const ChildCommand& command) {
  ChildProcess child(command);
  return child.wait();
}

}  // namespace diobench
