// Many hosts (docs/design.md §7.9): a repetition runs on every host at the
// same moment through ONE `fio --client=HOSTFILE JOB` (fio's own
// client/server mode: `fio --server` on each host), and each host's
// set-up (scratch file, cache drop and its check, the undo journal, the
// engine's sidecar) is done on that host by `diobench host ...` over ssh.
// No daemon or protocol of ours: fio's for the measurement, ssh's for the
// commands around it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diobench/fio_result.hpp"

namespace diobench {

// fio's default server port (fio's server.h, FIO_NET_PORT).
inline constexpr unsigned kFioServerPort = 8765;

// The name results.db gives fio's sum over every host of a repetition:
// fio's own name for it, which no host name can be.
inline constexpr const char* kAllHosts = kFioAllClients;

// One host of a fleet: HOST[:PORT] (a host name or IPv4 address) or
// [ADDR][:PORT] (an IPv6 address, bracketed as in URLs and ssh).
struct HostSpec {
  std::string name;  // the host name, IPv4 address, or IPv6 address (inet_ntop's form, no brackets)
  unsigned port = kFioServerPort;
  bool ipv6() const { return name.find(':') != std::string::npos; }
  // "HOST:PORT" or "[ADDR]:PORT": how results.db, the progress line,
  // reports and the run's file names name it (a Linux file name
  // component: no '/'; one spelling per host).
  std::string label() const {
    return (ipv6() ? "[" + name + "]" : name) + ":" + std::to_string(port);
  }
  // "HOST,PORT" or "ip6:ADDR,PORT": what fio's --client takes (and a line
  // of its host file; fio's server.c, fio_server_parse_string).
  std::string fio_name() const { return (ipv6() ? "ip6:" : "") + fio_result_name(); }
  // "HOST,PORT" or "ADDR,PORT": how fio's JSON names the host
  // (FioJobResult::host: its "hostname", the text given to --client
  // without the "ip6:" prefix and the port, and its "port").
  std::string fio_result_name() const { return name + "," + std::to_string(port); }
};

// HOST[:PORT] or [ADDR][:PORT]; throws std::invalid_argument naming the
// text (exit 2).
HostSpec parse_host_spec(const std::string& text);
// A list of them, each host at most once (a name given twice is refused,
// with another port too: two servers of one host would share its files).
std::vector<HostSpec> parse_host_specs(const std::vector<std::string>& texts);

// How the runner reaches a host for its set-up: the ssh command as words
// (no shell on this side), the host's name appended, then the remote
// command, each argument quoted for the remote shell.
struct HostShell {
  std::vector<std::string> ssh = {"ssh", "-o", "BatchMode=yes"};
  std::string diobench;  // the diobench binary on the hosts (same path everywhere)
  // "ssh -F FILE" and the like, split on white space; throws
  // std::invalid_argument for an empty command.
  static std::vector<std::string> split_command(const std::string& text);
  // Whether the command is ssh itself (not a wrapper of the user's).
  bool is_ssh() const;
  // One connection per host for all of a run's commands (ssh's
  // ControlMaster, its sockets in DIR, a master ending 60 s after its last
  // use): options given with --ssh come first, and ssh keeps an option's
  // first value, so `-o ControlMaster=no` there turns this off.
  void share_connections(const std::string& dir);
};

// One command's outcome on one host.
struct HostReply {
  bool ok = false;
  std::string output;  // its standard output
  std::string error;   // why not: ssh's or the command's own message
};

// `diobench host ARGS...` on every host at once (one ssh each, started
// together and waited for); the replies in the hosts' order. Each host's
// standard error goes to LOG_DIR/LABEL.log (HostSpec::label; kept: the last command's).
std::vector<HostReply> on_every_host(const HostShell& shell, const std::vector<HostSpec>& hosts,
                                     const std::vector<std::string>& args, double timeout_s,
                                     const std::string& log_dir);

// Where a run keeps its things on a host, inside the scratch area DIR
// given with --dir (the same path on every host): the scratch file, and a
// directory of the run's own with the host's undo journal and the
// engine's sidecar. `run` is the run directory's name.
struct HostPaths {
  std::string dir, run;
  std::string file_name() const { return "run-" + run + ".dat"; }
  std::string file() const { return dir + "/" + file_name(); }
  std::string run_dir() const { return dir + "/host-" + run; }
  std::string journal() const { return run_dir() + "/journal.jsonl"; }
  std::string counters() const { return run_dir() + "/counters.jsonl"; }
  // The repetition's devices and their counters before fio (host_prepare).
  std::string devices() const { return run_dir() + "/devices.json"; }
  // Throws std::invalid_argument unless dir is absolute and run a plain
  // name (letters, digits, '-', '_', '.', not starting with '.').
  void check() const;
};

// A single-quoted word for a POSIX shell ('it'\''s').
std::string shell_quote(const std::string& word);

// The job template with every ${NAME} of `values` replaced: the job each
// server parses (a server expands ${NAME} from ITS environment, not the
// client's, so the coordinator sends the values written out).
std::string render_job(const std::string& job_template,
                       const std::map<std::string, std::string>& values);

// What fio as a client said of a host it lost ("client: host=H
// disconnected" and the like): the lines of `log` naming `host` (its
// address), or "" when there are none.
std::string fio_host_message(const std::string& log, const std::string& host);

}  // namespace diobench
