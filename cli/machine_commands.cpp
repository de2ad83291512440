// The commands that act on this machine: restore (undo what a killed run
// left), host (a fleet run's set-up here), crashed (record a dead guest).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "diobench/policy.hpp"
#include "diobench/runner/crash_record.hpp"
#include "diobench/runner/fleet.hpp"
#include "diobench/runner/fleet_run.hpp"
#include "diobench/runner/host_side.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/runner/plan_file.hpp"

namespace diobench::cli {
namespace {

// A fleet run's hosts (runner/fleet_run.hpp): each undoes its own journal.
// nullopt for a local run; else the count of hosts that could not.
std::optional<int> restore_on_hosts(const std::string& dir) {
  const diobench::PlanFile plan = [&] {
    try {
      return diobench::read_plan((fs::path(dir) / "plan.json").string());
    } catch (const std::invalid_argument&) {
      return diobench::PlanFile{};  // no plan (yet): not a fleet run to restore
    }
  }();
  if (plan.hosts.empty()) return std::nullopt;
  const auto problems = diobench::restore_fleet(dir, (fs::path(self_dir()) / "diobench").string());
  std::cout << dir << ": " << plan.hosts.size() - problems.size() << " of " << plan.hosts.size()
            << " hosts restored\n";
  for (const std::string& p : problems) std::cout << "  problem: " << p << "\n";
  return static_cast<int>(problems.size());
}

}  // namespace

int cmd_restore(const std::vector<std::string>& args) {
  std::vector<std::string> dirs;
  std::string runs;
  po::options_description desc(
      "Usage: diobench restore [RUNDIR...] [--runs DIR]\n\n"
      "Undoes what interrupted runs left (loop devices, scratch files, dataset\n"
      "properties, an exported pool), from each run directory's undo journal.\n"
      "Without RUNDIR: every run directory under /var/tmp/diobench-runs (or --runs\n"
      "DIR) with a journal. A journal is acted on only when it is a regular file\n"
      "(not a link) of the user running diobench with mode 0600, in a directory of\n"
      "that user not writable by group or others; each one refused is named on\n"
      "stderr with the reason. An undo that fails is not recorded: run restore\n"
      "again to retry it.\n\n"
      "Exit status: 0 all undone; 1 something could not be undone, or a journal\n"
      "found without RUNDIR was refused; 2 a RUNDIR (or --runs DIR) missing or\n"
      "refused (without --runs, no /var/tmp/diobench-runs is nothing to restore).\n\nOptions");
  desc.add_options()("help,h", "this text")(
      "runs", po::value(&runs)->default_value("/var/tmp/diobench-runs"),
      "where to look for run directories when no RUNDIR is given")("rundir", po::value(&dirs),
                                                                   "run directories");
  const po::variables_map vm = parse("restore", desc, args, "rundir", -1);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  const bool named = !dirs.empty();
  if (named && !vm["runs"].defaulted()) throw UsageError("--runs goes without RUNDIR");
  int status = kOk;
  if (!named) {
    std::error_code ec;
    if (!vm["runs"].defaulted() && !fs::exists(fs::symlink_status(runs, ec)))
      throw UsageError("invalid --runs value '" + runs + "' (not found)");
    try {
      diobench::JournalSearch found = diobench::find_journals(runs);
      for (const std::string& why : found.refused) {
        std::cerr << "diobench: restore: " << why << "; left alone\n";
        status = kFailed;
      }
      dirs = std::move(found.run_dirs);
    } catch (const diobench::JournalRefused& e) {
      throw UsageError(e.what());
    }
  }
  for (const std::string& d : dirs) {
    const fs::path journal = fs::path(d) / "journal.jsonl";
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(d, ec)))
      throw UsageError("run directory '" + d + "' not found");
    if (const auto problems = restore_on_hosts(d); problems) {
      status = std::max(status, *problems ? kFailed : kOk);
    }
    if (!fs::exists(fs::symlink_status(journal, ec))) {
      std::cout << d << ": nothing to restore\n";
      continue;
    }
    diobench::RestoreReport r;
    try {
      // A fleet host's run directory goes as a finished run's would.
      const auto host = diobench::host_paths_of(d);
      r = host ? diobench::host_finish(*host) : diobench::restore_journal(journal.string());
    } catch (const diobench::JournalRefused& e) {
      std::cerr << "diobench: restore: " << e.what() << "; left alone\n";
      status = named ? kUsage : std::max(status, kFailed);
      continue;
    }
    std::cout << d << ": detached " << r.detached.size() << " loop device(s), removed "
              << r.removed.size() << " scratch file(s) or directories\n";
    for (const auto& what : r.reset) std::cout << "  restored: " << what << "\n";
    for (const auto& what : r.destroyed)
      std::cout << "  destroyed: dataset " << what << " (made by the run)\n";
    for (const auto& line : r.skipped) {
      std::cerr << "diobench: restore: " << journal.string()
                << ": skipped a line that is not a journal entry (" << line << ")\n";
    }
    for (const auto& p : r.problems) {
      std::cout << "  problem: " << p << "\n";
      status = std::max(status, kFailed);
    }
  }
  return status;
}

namespace {

// The zfs options of `host prepare`: all of them or none; exit 2 naming
// a bad one.
void check_zfs_cell(const diobench::HostCell& cell) {
  if (cell.dataset.empty()) {
    if (!cell.work_dataset.empty() || !cell.policy.empty()) {
      throw UsageError("host prepare: --work-dataset and --policy go with --dataset");
    }
    return;
  }
  if (cell.work_dataset.empty() || cell.policy.empty()) {
    throw UsageError("host prepare: --dataset needs --work-dataset and --policy");
  }
  if (!diobench::parse_policy(cell.policy)) {
    throw UsageError("invalid --policy '" + cell.policy +
                     "' (expected disabled, standard or always)");
  }
  if (cell.arc_drop != "export" && cell.arc_drop != "none") {
    throw UsageError("invalid --arc-drop '" + cell.arc_drop + "' (expected export or none)");
  }
}

}  // namespace

// `diobench host ACTION`: a fleet run's set-up on this host, asked over
// ssh by the machine running fio as the client (runner/fleet_run.hpp).
int cmd_host(const std::vector<std::string>& args) {
  std::string action, dir, run, loop_dio, app_direct;
  diobench::HostCell cell;
  po::options_description desc(
      "Usage: diobench host prepare|counters|finish --dir DIR --run NAME [options]\n\n"
      "What a fleet run (`diobench run --host ...`) asks each host to do over ssh:\n"
      "prepare (before each repetition: the engine must exist here; the scratch file\n"
      "in DIR, made and journaled the first time, or with --dataset in the run's child\n"
      "dataset --work-dataset, made the first time, with the ARC emptied (--arc-drop\n"
      "export) and the cell's --policy set as its direct=; a loop cell's loop device attached\n"
      "with its direct I/O and left attached; the cache dropped and checked; the block\n"
      "devices' counters read; prints what fio opens here), counters (after it: print\n"
      "what the devices moved and the engine's sidecar as JSON, the loop device\n"
      "detached), finish (at the end: undo what the host's journal,\n"
      "DIR/host-NAME/journal.jsonl, holds). After a killed run, `diobench restore\n"
      "DIR/host-NAME` on the host does the same.\n\nOptions");
  desc.add_options()("help,h", "this text")("dir", po::value(&dir), "the scratch area")(
      "run", po::value(&run), "the run directory's name")("size", po::value(&cell.size),
                                                          "prepare: the scratch file's bytes")(
      "engine", po::value(&cell.engine), "prepare: the engine's path, to check")(
      "rw", po::value(&cell.rw), "prepare: the workload's fio rw=")(
      "bs", po::value(&cell.bs), "prepare: the workload's fio bs=")(
      "loop-dio", po::value(&loop_dio), "prepare: on|off, a loop cell's loop device direct I/O")(
      "app-direct", po::value(&app_direct)->default_value("on"),
      "prepare: on|off, the workload's fio direct= (the crash guard asks)")(
      "force-unsafe", po::bool_switch(&cell.force_unsafe),
      "prepare: attach a loop device the crash guard refuses")(
      "dataset", po::value(&cell.dataset), "prepare, zfs backend: POOL/DATASET on this host")(
      "work-dataset", po::value(&cell.work_dataset),
      "prepare, zfs backend: the run's child of --dataset to work in (DATASET/diobench-HEX)")(
      "policy", po::value(&cell.policy), "prepare, zfs backend: disabled, standard or always")(
      "arc-drop", po::value(&cell.arc_drop)->default_value("none"),
      "prepare, zfs backend: export (empty the ARC by zpool export + import) or none")(
      "action", po::value(&action), "prepare, counters or finish");
  const po::variables_map vm = parse("host", desc, args, "action", 1);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  const diobench::HostPaths paths{dir, run};
  try {
    paths.check();
    if (action == "prepare") {
      if (cell.size == 0 || cell.engine.empty() || cell.rw.empty() || cell.bs.empty()) {
        throw UsageError("host prepare: give --size, --engine, --rw and --bs");
      }
      if (vm.count("loop-dio")) {
        if (loop_dio != "on" && loop_dio != "off") {
          throw UsageError("invalid --loop-dio '" + loop_dio + "' (expected on or off)");
        }
        cell.loop_dio = loop_dio == "on";
      }
      if (app_direct != "on" && app_direct != "off") {
        throw UsageError("invalid --app-direct '" + app_direct + "' (expected on or off)");
      }
      cell.app_direct = app_direct == "on";
      check_zfs_cell(cell);
      std::cout << diobench::host_prepare(paths, cell) << "\n";
      return kOk;
    }
    if (action == "counters") {
      std::cout << diobench::host_take_counters(paths);
      return kOk;
    }
    if (action == "finish") {
      const diobench::RestoreReport r = diobench::host_finish(paths);
      for (const std::string& p : r.problems) std::cerr << "diobench: host finish: " << p << "\n";
      return r.problems.empty() ? kOk : kFailed;
    }
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  throw UsageError("invalid host action '" + action + "' (expected prepare, counters or finish)");
}

int cmd_crashed(const std::vector<std::string>& args) {
  std::string dir, console, reason;
  po::options_description desc(
      "Usage: diobench crashed RUNDIR [--console FILE] [--reason TEXT]\n\n"
      "Records that the machine running RUNDIR died during the repetition named in\n"
      "RUNDIR/current.json: stores it with the outcome `crash` and, as its message,\n"
      "the kernel's failure report found in the console log FILE (and/or TEXT,\n"
      "e.g. \"guest timeout after 600 s\"). `diobench run --resume RUNDIR` then\n"
      "skips that cell. Exit 2 when nothing was running.\n\nOptions");
  desc.add_options()("help,h", "this text")("console", po::value(&console),
                                            "the serial console log of the machine that died")(
      "reason", po::value(&reason), "what else is known (e.g. a timeout)")(
      "rundir", po::value(&dir), "the run directory");
  const po::variables_map vm = parse("crashed", desc, args, "rundir", 1);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  if (dir.empty())
    throw UsageError("crashed: a run directory is needed (see: diobench crashed --help)");
  if (!fs::is_directory(dir)) throw UsageError("run directory '" + dir + "' not found");
  std::string text;
  if (!console.empty()) {
    std::ifstream in(console, std::ios::binary);
    if (!in) throw UsageError("console log '" + console + "' cannot be read");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  if (console.empty() && reason.empty()) {
    throw UsageError("crashed: give --console FILE, --reason TEXT or both");
  }
  try {
    const diobench::CrashOutcome c = diobench::record_crash(dir, text, reason);
    std::cout << dir << ": " << c.repetition.cell << " repetition " << c.repetition.repetition
              << " recorded as CRASH\n";
    const std::string first = c.message.substr(0, c.message.find('\n'));
    std::cout << "  " << first << "\n";
    return kOk;
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace diobench::cli
