// Starting another program, the one way the suite does it (fio, the bench
// drivers, zfs and zpool, gnuplot):
//
// - no shell: the arguments go to the program as they are (argv), so no
//   name from a profile or a dataset is ever read as shell syntax;
// - a process group of its own (a terminal's Ctrl-C reaches diobench,
//   which decides), and every descriptor of ours closed in it;
// - killed with us: the kernel sends it SIGKILL when the thread that
//   started it ends (PR_SET_PDEATHSIG), and a child whose parent died
//   before that was set exits at once instead of running on unowned;
// - a deadline: a child still running when its time limit is up gets
//   SIGTERM (and SIGCONT, in case it was stopped), then SIGKILL, the whole
//   group, and the exit says "timed out after N s".
//
// The parent-death signal belongs to the starting THREAD, not the process:
// start and wait from one thread that outlives the child.
//
// What the signal cannot reach: a process the child starts that leaves its
// group and has no parent-death signal of its own (fio in its default
// process mode forks every job, and each job calls setsid()). Such a child
// must be asked to keep its work in itself (fio: --thread).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace diobench {

struct ChildCommand {
  // argv[0] is a path, or a program name looked up in $PATH (or, without
  // one, the system directories /usr/local/sbin ... /bin).
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value, set in the child's environment
  double timeout_s = 0;          // the time limit, > 0, from what it was asked to do
  double grace_s = 5;            // from SIGTERM to SIGKILL when the time is up
  // Its standard error (and standard output when not captured) go to this
  // file, created afresh and never through a symbolic link; empty: /dev/null.
  std::string log_file;
  bool capture_output = false;  // standard output read into ChildExit::output
  // Written to its standard input, which is then closed; without it the
  // standard input is /dev/null.
  std::optional<std::string> input;
};

struct ChildExit {
  int status = 0;          // exit status, or 128 + the signal that ended it
  int signal = 0;          // the signal that ended it (0: it exited; ssh's 255 is no signal)
  bool timed_out = false;  // killed because its time limit was up
  double timeout_s = 0;
  std::string output;  // its standard output, with capture_output
  double wall_s = 0;   // from start to exit
  double cpu_s = 0;    // its user + system time, with the children it waited for
  bool ok() const { return !timed_out && status == 0; }
  // "timed out after N s", "exited with status N", "killed by signal N
  // (NAME)"; empty when it exited 0.
  std::string reason() const;
};

// A running child. The destructor kills (the group) and reaps a child that
// was not waited for.
class ChildProcess {
 public:
  // Starts it; throws std::invalid_argument for an empty argv or a time
  // limit that is not positive, std::system_error when it cannot be run
  // (not found, not executable, no log file).
  explicit ChildProcess(const ChildCommand& command);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Feeds the input, collects the output, and waits until the child ends
  // or its time is up (then kills the group); reaps it. Once.
  ChildExit wait();

 private:
  void kill_group(int signal) const;
  bool wait_exited(double seconds);  // true once the child has exited (not reaped)
  ChildExit reap(ChildExit exit);

  ChildCommand command_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int input_fd_ = -1;   // our end of its standard input
  int output_fd_ = -1;  // our end of its standard output
  double started_ = 0;  // steady clock, seconds
  bool reaped_ = false;
  bool vanished_ = false;  // reaped by the kernel (SIGCHLD ignored)
};

// Starts `command` and waits for it.
ChildExit run_child(const ChildCommand& command);

}  // namespace diobench
