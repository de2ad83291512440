#include "diobench/runner/fleet_run.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diobench/durable_file.hpp"
#include "diobench/runner/arc_check.hpp"
#include "diobench/runner/fio_process.hpp"
#include "diobench/runner/plan_file.hpp"
#include "diobench/runner/timing.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

// ssh and `diobench host` start in well under this; preparing also writes
// the scratch file the first time, at a floor of 8 MiB/s.
double host_command_limit_s(std::uint64_t write_bytes) {
  return 60 + static_cast<double>(write_bytes) / (8 << 20);
}

RepetitionRecord& fail(RepetitionRecord& rec, const std::string& why) {
  rec.status = "failed";
  rec.message = why;
  return rec;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string text_before_json(const std::string& file) {
  std::ifstream in(file);
  std::string text, line;
  while (std::getline(in, line) && line.find('{') == std::string::npos) text += line + "\n";
  return text;
}

PathCounters counters_of(const std::string& sidecar) {
  PathCounters total;
  std::istringstream in(sidecar);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) total += parse_sidecar_line(line).counters;
  }
  return total;
}

// A host that is ready for the repetition, and what fio opens there (its
// scratch file, or the loop device it attached).
struct ReadyHost {
  HostSpec host;
  std::string target;
};

// The job each host runs, the cell's values written out with that host's
// target (RAW.HOST:PORT.fio, kept in the run directory), and one fio
// client for all of them: `--client=HOST,PORT JOB` per host.
FioInvocation fleet_invocation(const Cell& cell, const Profile& p, const FleetSettings& fleet,
                               const std::vector<ReadyHost>& hosts, const std::string& base) {
  std::ifstream in(p.job_template);
  std::stringstream job;
  job << in.rdbuf();
  FioInvocation fio;
  const char* env = std::getenv("DIOBENCH_FIO");
  fio.program = env && *env ? env : "fio";  // a client: the job's own thread=1 applies on the hosts
  fio.args = {"--output-format=json+"};
  for (const ReadyHost& h : hosts) {
    const auto values = job_values(cell, p, fleet.engine, h.target, fleet.paths.counters());
    const std::string file = base + "." + h.host.label() + ".fio";
    // A server may still start the job after its client is gone (a killed
    // run): it must not make a scratch file that restore has removed.
    write_file_durably(file, render_job(job.str(), values) +
                                 "; fleet run: the host made the file (diobench host prepare)\n"
                                 "allow_file_create=0\n");
    fio.args.push_back("--client=" + h.host.fio_name());
    fio.args.push_back(file);
  }
  fio.log_file = base + ".log";
  fio.output_file = base + ".json";
  FioWork work;
  work.ramp_s = p.ramp_s;
  work.runtime_s = p.runtime_s;
  work.time_based = true;
  fio.timeout_s = fio_time_limit_s(work);
  return fio;
}

// `diobench host prepare` for the cell, as words.
std::vector<std::string> prepare_args(const Cell& cell, const Profile& profile,
                                      const FleetSettings& fleet) {
  std::vector<std::string> args = {"prepare",
                                   "--dir",
                                   fleet.paths.dir,
                                   "--run",
                                   fleet.paths.run,
                                   "--size",
                                   std::to_string(profile.size),
                                   "--engine",
                                   fleet.engine,
                                   "--rw",
                                   cell.workload.rw,
                                   "--bs",
                                   cell.workload.bs,
                                   "--app-direct",
                                   cell.app_direct ? "on" : "off"};
  if (cell.loop_dio) {
    args.push_back("--loop-dio");
    args.push_back(*cell.loop_dio ? "on" : "off");
  }
  if (fleet.force_unsafe) args.push_back("--force-unsafe");
  if (fleet.zfs) {
    args.insert(
        args.end(),
        {"--dataset", fleet.zfs->dataset, "--work-dataset", fleet.zfs->work_dataset, "--policy",
         std::string(to_string(cell.policy)), "--arc-drop", fleet.zfs->arc_drop});
  }
  return args;
}

// fio's JSON of a run that lost a host: fio exits 1, yet what the other
// hosts reported is complete. Put in place as when fio exits 0.
std::optional<FioResult> fleet_result(const FioExit& exit, const std::string& json,
                                      std::string& why) {
  const std::string partial = json + ".partial";
  if (!exit.ok() && (exit.timed_out || exit.status != 1 || !fs::exists(partial))) {
    why = "fio " + exit.reason + ": " + exit.log;
    return std::nullopt;
  }
  try {
    if (!exit.ok()) publish_file_durably(partial, json);
    return read_fio_json(json);
  } catch (const std::exception& e) {
    why = e.what();
    return std::nullopt;
  }
}

// What a host's `diobench host counters` gave back: the engine's sidecar
// and what its block devices moved, or why there is nothing.
struct HostCounters {
  std::string sidecar;
  std::vector<DeviceIo> devices;
  // zfs backend: the pool's iostats and the ARC's deltas, the ARC's data
  // size around its drop.
  std::map<std::string, std::uint64_t> zfs_iostats, arcstats;
  std::optional<std::uint64_t> arc_data_before, arc_data_after;
  std::string error;  // empty: read
};

std::optional<std::uint64_t> optional_count(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return j.at(key).get<std::uint64_t>();
}

HostCounters read_host_counters(const HostReply& reply) {
  if (!reply.ok) {
    HostCounters c;
    c.error = "the host's counters could not be fetched: " + reply.error;
    return c;
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(reply.output);
    HostCounters c;
    c.sidecar = j.at("sidecar");
    for (const nlohmann::json& d : j.at("devices")) {
      c.devices.push_back({d.at("device"), d.at("role"), d.at("read_bytes"), d.at("write_bytes")});
    }
    using Counts = std::map<std::string, std::uint64_t>;
    if (j.contains("zfs_iostats")) c.zfs_iostats = j.at("zfs_iostats").get<Counts>();
    if (j.contains("arcstats")) c.arcstats = j.at("arcstats").get<Counts>();
    c.arc_data_before = optional_count(j, "arc_data_before");
    c.arc_data_after = optional_count(j, "arc_data_after");
    return c;
  } catch (const std::exception& e) {
    HostCounters c;
    c.error = std::string("the host's counters could not be read: ") + e.what();
    return c;
  }
}

// zfs backend: what the pool and the ARC say of the path, checked as a
// local run checks it (the pool's deltas: none when the host read none).
void check_below(RepetitionRecord& rec) {
  check_zfs_repetition(
      rec, rec.zfs_iostats.empty() ? std::nullopt : std::optional(PoolIoStats{rec.zfs_iostats}));
}

// The sum over the hosts of what lay below fio: every host's devices,
// named with it; on zfs the pools' and the ARCs' deltas added.
void add_below(RepetitionRecord& sum, const RepetitionRecord& host, const std::string& label) {
  for (DeviceIo d : host.devices) {
    d.device = label + "/" + d.device;
    sum.devices.push_back(d);
  }
  for (const auto& [name, delta] : host.zfs_iostats) sum.zfs_iostats[name] += delta;
  for (const auto& [name, delta] : host.arcstats) sum.arcstats[name] += delta;
  auto add = [](std::optional<std::uint64_t>& to, const std::optional<std::uint64_t>& v) {
    if (v) to = to.value_or(0) + *v;
  };
  add(sum.arc_data_before, host.arc_data_before);
  add(sum.arc_data_after, host.arc_data_after);
}

// A host's row from fio's result and the counters its host gave back.
void host_row(RepetitionRecord& rec, const HostSpec& host, const FioResult& fio,
              const std::string& said_by_fio, const HostCounters& counters) {
  std::optional<FioResult> mine = host_view(fio, host.fio_result_name(), 0);
  if (!mine) {
    const std::string said = fio_host_message(said_by_fio, host.name);
    fail(rec, "fio has no result from this host" + (said.empty() ? "" : ": " + said));
    return;
  }
  if (const int err = mine->first_error()) {
    fail(rec, "fio reported error " + std::to_string(err) + " (" + std::strerror(err) + ")");
    return;
  }
  std::uint64_t ios = 0;
  for (const FioJobResult& j : mine->jobs) ios += j.read.total_ios + j.write.total_ios;
  if (ios == 0) {  // no error, nothing measured: never an ok row
    fail(rec, "fio reports no I/O from this host");
    return;
  }
  if (!counters.error.empty()) {
    fail(rec, counters.error);
    return;
  }
  rec.fio = std::move(mine);
  rec.counters = counters_of(counters.sidecar);
  rec.devices = counters.devices;
  rec.zfs_iostats = counters.zfs_iostats;
  rec.arcstats = counters.arcstats;
  rec.arc_data_before = counters.arc_data_before;
  rec.arc_data_after = counters.arc_data_after;
  check_below(rec);
  rec.status = "ok";
}

// fio 3.33 gives the "All clients" sum no latency percentiles: they are
// computed from the hosts' histograms added (json+ bins), at the
// percentiles fio gave the hosts, the way fio computes its own.
void add_sum_percentiles(const std::vector<FioJobResult>& hosts, FioJobResult& sum) {
  if (hosts.empty()) return;
  for (auto part : {&FioJobResult::read, &FioJobResult::write}) {
    DirectionResult& d = sum.*part;
    if (!d.clat_percentiles_ns.empty()) continue;
    std::map<std::uint64_t, std::uint64_t> bins;
    for (const FioJobResult& h : hosts) {
      for (const auto& [ns, count] : (h.*part).clat_bins) bins[ns] += count;
    }
    std::vector<double> at;
    for (const auto& [p, ns] : (hosts.front().*part).clat_percentiles_ns) at.push_back(p);
    d.clat_percentiles_ns = percentiles_from_bins(bins, at);
  }
}

}  // namespace

std::optional<FioResult> host_view(const FioResult& all, const std::string& host,
                                   std::size_t host_count) {
  FioResult view;
  view.fio_version = all.fio_version;
  if (host == kAllHosts) {
    view.jobs = all.all_clients;
    if (view.jobs.empty() && host_count == 1) view.jobs = all.jobs;
    if (!all.all_clients.empty()) add_sum_percentiles(all.jobs, view.jobs.front());
  } else {
    for (const FioJobResult& job : all.jobs) {
      if (job.host == host) view.jobs.push_back(job);
    }
  }
  if (view.jobs.empty()) return std::nullopt;
  return view;
}

std::vector<RepetitionRecord> fleet_rows(const RepetitionRecord& like, const FleetSettings& fleet) {
  std::vector<RepetitionRecord> rows;
  for (const HostSpec& h : fleet.hosts) {
    rows.push_back(like);
    rows.back().host = h.label();
  }
  rows.push_back(like);
  rows.back().host = kAllHosts;
  return rows;
}

std::vector<RepetitionRecord> run_fleet_repetition(const Cell& cell, unsigned repetition,
                                                   unsigned position, const Profile& profile,
                                                   const FleetSettings& fleet) {
  RepetitionRecord like = starting_repetition(cell, repetition, position);
  like.status = "failed";
  const std::string rel = raw_files_base(cell, repetition);
  const std::string base = (fs::path(fleet.run_dir) / rel).string();
  fs::create_directories(fs::path(base).parent_path());
  const std::string logs = base + ".hosts.d";
  fs::create_directories(logs);
  like.fio_json = rel + ".json";
  std::vector<RepetitionRecord> rows = fleet_rows(like, fleet);
  RepetitionRecord& sum = rows.back();

  // 1. Every host prepares itself at once: scratch file, cache drop and check.
  const auto drop_start = Clock::now();
  const std::vector<HostReply> prepared =
      on_every_host(fleet.shell, fleet.hosts, prepare_args(cell, profile, fleet),
                    host_command_limit_s(profile.size), logs);
  std::vector<ReadyHost> ready;
  for (std::size_t i = 0; i < fleet.hosts.size(); ++i) {
    rows[i].cache_drop_ms = ms_since(drop_start);
    if (prepared[i].ok) {
      ready.push_back({fleet.hosts[i], first_line(prepared[i].output)});
    } else {
      fail(rows[i], "set-up on the host failed: " + prepared[i].error);
    }
  }
  // 2. One fio client runs the job on every prepared host at the same moment.
  std::optional<FioResult> fio;
  std::string why = "no host could be set up";
  FioExit exit;
  const auto fio_start = Clock::now();
  if (!ready.empty()) {
    exit = run_fio(fleet_invocation(cell, profile, fleet, ready, base));
    fio = fleet_result(exit, base + ".json", why);
  }
  const double fio_ms = ms_since(fio_start);
  // 3. Each host's sidecar back, and each row from what fio said of it.
  std::vector<HostCounters> counters;
  for (const HostReply& reply :
       on_every_host(fleet.shell, fleet.hosts,
                     {"counters", "--dir", fleet.paths.dir, "--run", fleet.paths.run},
                     host_command_limit_s(0), logs)) {
    counters.push_back(read_host_counters(reply));
  }
  // fio's lines about lost hosts: in its messages, and in the output file
  // before the JSON ("client: host=H disconnected").
  const std::string said_by_fio = exit.log + "\n" + text_before_json(base + ".json");
  PathCounters total;
  std::string lost, all_sidecars;
  for (std::size_t i = 0; i < fleet.hosts.size(); ++i) {
    RepetitionRecord& rec = rows[i];
    rec.fio_ms = fio_ms;
    if (prepared[i].ok && !fio) fail(rec, why);
    if (prepared[i].ok && fio) host_row(rec, fleet.hosts[i], *fio, said_by_fio, counters[i]);
    if (rec.status == "ok") {
      rec.counters_file = rel + "." + fleet.hosts[i].label() + ".counters.jsonl";
      write_file_durably((fs::path(fleet.run_dir) / rec.counters_file).string(),
                         counters[i].sidecar);
      total += *rec.counters;
      all_sidecars += counters[i].sidecar;
      add_below(sum, rec, fleet.hosts[i].label());
    } else {
      lost += (lost.empty() ? "" : ", ") + fleet.hosts[i].label();
    }
    rec.finished = utc_timestamp();
  }
  // 4. fio's sum over the hosts, when every host reported.
  sum.fio_ms = fio_ms;
  sum.cpu_busy_s = exit.cpu_busy_s;
  sum.cpu_window_s = exit.cpu_window_s;
  sum.fio_cpu_s = exit.child_cpu_s;
  if (!lost.empty()) {
    fail(sum, "not every host measured (failed: " + lost + ")");
  } else if (fio && (sum.fio = host_view(*fio, kAllHosts, fleet.hosts.size()))) {
    sum.counters = total;
    check_below(sum);
    sum.counters_file = rel + ".all.counters.jsonl";  // every host's lines: read back, they sum
    write_file_durably((fs::path(fleet.run_dir) / sum.counters_file).string(), all_sidecars);
    sum.status = "ok";
  } else {
    fail(sum, "fio gave no sum over the hosts");
  }
  sum.finished = utc_timestamp();
  return rows;
}

std::vector<std::string> finish_fleet(const FleetSettings& fleet) {
  const std::string logs = (fs::path(fleet.run_dir) / "hosts").string();
  fs::create_directories(logs);
  const std::vector<HostReply> replies = on_every_host(
      fleet.shell, fleet.hosts, {"finish", "--dir", fleet.paths.dir, "--run", fleet.paths.run},
      host_command_limit_s(0), logs);
  std::vector<std::string> problems;
  for (std::size_t i = 0; i < fleet.hosts.size(); ++i) {
    if (!replies[i].ok) problems.push_back(fleet.hosts[i].label() + ": " + replies[i].error);
  }
  return problems;
}

std::vector<std::string> restore_fleet(const std::string& run_dir, const std::string& diobench) {
  const fs::path plan_path = fs::path(run_dir) / "plan.json";
  if (!fs::exists(plan_path)) return {};
  const PlanFile plan = read_plan(plan_path.string());
  if (plan.hosts.empty()) return {};
  FleetSettings fleet;
  fleet.hosts = parse_host_specs(plan.hosts);
  if (!plan.ssh.empty()) fleet.shell.ssh = HostShell::split_command(plan.ssh);
  fleet.shell.diobench = diobench;
  fleet.paths = HostPaths{plan.scratch_dir, fs::absolute(run_dir).filename().string()};
  fleet.paths.check();
  fleet.run_dir = fs::absolute(run_dir).string();
  return finish_fleet(fleet);
}

}  // namespace diobench
