#include "diobench/runner/fio_process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "diobench/child_process.hpp"
#include "diobench/durable_file.hpp"
#include "diobench/runner/cpu_usage.hpp"
#include "diobench/runner/interrupt.hpp"
#include "diobench/units.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

constexpr double kStartAndExitS = 60;
constexpr double kFloorBytesPerS = 1024.0 * 1024.0;

std::string tail_of(const std::string& file, std::size_t max_bytes) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

// fio's time values: a number of seconds, or with a unit (us, ms, s, m, h, d).
std::optional<double> parse_seconds(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v >= 0)) return std::nullopt;
  const std::string unit(end);
  if (unit.empty() || unit == "s") return v;
  if (unit == "us") return v / 1e6;
  if (unit == "ms") return v / 1e3;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  if (unit == "d") return v * 86400;
  return std::nullopt;
}

}  // namespace

std::optional<FioWork> fio_work_from_args(const std::vector<std::string>& args) {
  FioWork w;
  std::optional<std::uint64_t> size, io_size;
  std::uint64_t loops = 1, numjobs = 1;
  bool verify = false, do_verify = true;
  for (const std::string& a : args) {
    if (a.rfind("--", 0) != 0) continue;
    const auto eq = a.find('=');
    const std::string key = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (key == "runtime") {
      w.runtime_s = parse_seconds(value);
    } else if (key == "ramp_time") {
      w.ramp_s = parse_seconds(value).value_or(0);
    } else if (key == "time_based") {
      w.time_based = value.empty() || value != "0";
    } else if (key == "size") {
      size = parse_size(value);
    } else if (key == "io_size") {
      io_size = parse_size(value);
    } else if (key == "loops") {
      loops = std::max<std::uint64_t>(1, std::strtoull(value.c_str(), nullptr, 10));
    } else if (key == "numjobs") {
      numjobs = std::max<std::uint64_t>(1, std::strtoull(value.c_str(), nullptr, 10));
    } else if (key == "verify") {
      verify = value != "0" && value != "null";
    } else if (key == "do_verify") {
      do_verify = value != "0";
    }
  }
  if (!w.runtime_s && !size && !io_size) return std::nullopt;
  if (io_size || size) w.bytes = io_size.value_or(size.value_or(0)) * loops * numjobs;
  if (verify && do_verify) w.verify_bytes = size.value_or(0) * numjobs;
  return w;
}

double fio_time_limit_s(const FioWork& w) {
  double run = 0;
  const std::optional<double> by_bytes =
      w.bytes ? std::optional<double>(static_cast<double>(*w.bytes) / kFloorBytesPerS)
              : std::nullopt;
  if (w.time_based && w.runtime_s) {
    run = *w.runtime_s;
  } else if (w.runtime_s && by_bytes) {
    run = std::min(*w.runtime_s, *by_bytes);
  } else {
    run = w.runtime_s.value_or(by_bytes.value_or(0));
  }
  const double verify = static_cast<double>(w.verify_bytes) / kFloorBytesPerS;
  return std::ceil(kStartAndExitS + w.ramp_s + run + verify);
}

double bench_drivers_time_limit_s(const std::string& program, const std::vector<std::string>& args,
                                  unsigned repetitions, double min_time_s, unsigned file_size_mib) {
  ChildCommand list;
  list.argv = {program};
  for (const std::string& a : args) {
    if (a.rfind("--benchmark_out", 0) != 0) list.argv.push_back(a);
  }
  list.argv.push_back("--benchmark_list_tests=true");
  list.capture_output = true;
  list.timeout_s = 60;
  const ChildExit listed = run_child(list);
  // Not listed: as many as 32, more than the suite has.
  const auto drivers = static_cast<double>(
      !listed.ok() ? 32
                   : std::max<std::ptrdiff_t>(
                         1, std::count(listed.output.begin(), listed.output.end(), '\n')));
  const double per_driver = repetitions * (4 * min_time_s + 2) + file_size_mib / 4.0;
  return std::ceil(120 + drivers * per_driver);
}

FioExit run_fio(const FioInvocation& invocation) {
  const char* env = std::getenv("DIOBENCH_FIO");
  const bool is_fio = invocation.program.empty();
  ChildCommand command;
  command.argv.push_back(!is_fio ? invocation.program : env && *env ? env : "fio");
  // fio's default runs each job as a forked process that calls setsid():
  // out of the group a time limit kills, and without the parent-death
  // signal (fork clears it), so it would outlive a killed diobench. As
  // threads of one process, every job ends with it.
  if (is_fio) command.argv.push_back("--thread");
  command.argv.insert(command.argv.end(), invocation.args.begin(), invocation.args.end());
  const std::string partial =
      invocation.output_file.empty() ? "" : invocation.output_file + ".partial";
  if (!partial.empty()) {
    std::error_code ec;
    fs::remove(partial, ec);
    command.argv.push_back("--output=" + partial);
  }
  command.env = invocation.env;
  command.log_file = invocation.log_file;
  command.timeout_s = invocation.timeout_s;
  if (command.timeout_s <= 0) {
    const std::optional<FioWork> work = fio_work_from_args(invocation.args);
    if (!work) {
      throw std::invalid_argument("no time limit for " + command.argv[0] +
                                  ": its options name neither a runtime nor a size");
    }
    command.timeout_s = fio_time_limit_s(*work);
  }

  const std::optional<double> idle_before = system_idle_seconds();
  const auto window_start = std::chrono::steady_clock::now();
  ChildExit child;
  try {
    ChildProcess process(command);
    InterruptGuard::set_child(process.pid(), invocation.first_signal_stops);
    // A signal that came before the child was registered still stops it.
    if (invocation.first_signal_stops && InterruptGuard::requested())
      ::kill(process.pid(), SIGTERM);
    child = process.wait();
    InterruptGuard::set_child(0);
  } catch (const std::system_error& e) {
    InterruptGuard::set_child(0);
    if (e.code().value() == ENOENT || e.code().value() == EACCES) {
      throw std::system_error(e.code(),
                              std::string(e.what()) + " (run scripts/setup and scripts/build)");
    }
    throw;
  }
  const std::optional<double> idle_after = system_idle_seconds();
  const double window_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();

  FioExit exit;
  exit.status = child.status;
  exit.timed_out = child.timed_out;
  exit.reason = child.reason();
  exit.log = tail_of(invocation.log_file, 2000);
  if (idle_before && idle_after) {
    exit.cpu_busy_s =
        busy_seconds(window_s, sysconf(_SC_NPROCESSORS_ONLN), *idle_before, *idle_after);
  }
  exit.cpu_window_s = window_s;
  exit.child_cpu_s = child.cpu_s;
  if (!partial.empty() && exit.ok()) {
    try {
      publish_file_durably(partial, invocation.output_file);
    } catch (const std::exception& e) {
      exit.status = exit.status ? exit.status : 1;
      exit.reason = std::string("its output could not be put in place: ") + e.what();
    }
  }
  return exit;
}

}  // namespace diobench
