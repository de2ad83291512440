// A run directory as the reports see it: its cells and, per cell, the
// measured repetitions, read back from results.db.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "diobench/check/path_judgement.hpp"
#include "diobench/path_counters.hpp"

namespace diobench {

// Bad input for a report (missing or empty run, unreadable index): the
// command line turns it into exit status 2.
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RepetitionData {
  unsigned repetition = 0;
  // Where the run put it among all repetitions (the plan's position: the
  // order they ran in, added repetitions after the base ones).
  std::uint64_t position = 0;
  double throughput = 0;  // bytes/s, reads + writes
  double iops = 0;
  // Completion latency percentiles (ns) of the workload's main direction
  // (reads for read and mixed workloads), as fio computed them.
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0;
  std::map<double, double> percentiles;  // the whole list fio reported (ns)
  // The main direction's bytes: what fio moved, and what the storage below
  // the scratch area moved in the same direction (whole-device counters:
  // other activity on the machine counts too).
  std::uint64_t bytes_asked = 0;
  double runtime_ms = 0;  // fio's, without the ramp
  std::uint64_t device_bytes = 0;
  bool device_measured = false;
  // zfs backend: the pool's own count of bytes it read or wrote for the
  // workload (iostats: ARC misses + direct), and for loop targets the bytes
  // the loop device passed on; both over the whole fio run, ramp included.
  std::uint64_t pool_bytes = 0;
  bool pool_measured = false;
  std::uint64_t loop_bytes = 0;
  bool loop_measured = false;
  // zfs backend: the same iostats per direction and path (direct_<dir>_bytes
  // and arc_<dir>_bytes; ARC bytes are misses: what went to disk through
  // the ARC); pool_bytes is the main direction's two added.
  PathBytes pool_read, pool_write;
  const PathBytes& pool(Direction d) const { return d == Direction::Read ? pool_read : pool_write; }
  // Below / asked over the same time window, or 0 when unknown: what the
  // storage below moved (pool iostats on zfs, else the block devices) over
  // what the workload asked in that window (the loop device's bytes for a
  // loop target, else fio's bytes scaled up to include the ramp, or as
  // they are when the ramp is unknown).
  double amplification(double ramp_s) const;
  // `below` bytes over what the workload asked in the same window (as for
  // amplification), or 0 when either is unknown: e.g. the main direction's
  // direct bytes alone, or its ARC bytes alone.
  double per_byte_asked(double below, double ramp_s) const;
  // The same-window rule: fio counts no bytes during its ramp, but the
  // counters read around fio (block devices, pool, /proc/stat) run through
  // it; `bytes` fio counted, scaled by (ramp + runtime) / runtime, is what
  // moved over the whole window at the measured rate (as it is when the
  // ramp or the runtime is unknown).
  double in_window(double bytes, double ramp_s) const;
  std::uint64_t bytes_total = 0;  // every direction's bytes, as fio counted them

  // CPU over fio's lifetime, when the run recorded it (results.db's
  // repetitions.cpu_busy_s, cpu_window_s, fio_cpu_s; older runs have none):
  // every CPU's non-idle seconds from /proc/stat (kernel threads of the
  // loop driver and of ZFS included), that window's wall seconds, and
  // fio's own user + system seconds.
  std::optional<double> cpu_busy_s, cpu_window_s, fio_cpu_s;
  // CPU seconds per GiB moved in the same window (every direction), or
  // nullopt when the CPU time or the bytes are unknown.
  std::optional<double> cpu_per_gib(const std::optional<double>& cpu_s, double ramp_s) const;
  // zfs backend: "ok", or a sentence flagging a repetition in which the
  // ARC served what the model expects from disk; empty when not checked.
  std::string arc_check;
  PathCounters counters;
  std::string split_check;  // zfs backend: agrees | contradicts
};

struct CellData {
  std::string name;
  std::map<std::string, std::string> axes;  // the cells table's columns
  std::vector<RepetitionData> repetitions;  // status ok only
  unsigned failed = 0, skipped = 0;
  std::vector<std::string> messages;  // of failed / skipped repetitions
  // Repetitions during which the qemu guest crashed (status 'crash'), and
  // the guest console's excerpt (BUG / Oops lines) of each.
  unsigned crashed = 0;
  std::vector<std::string> crash_excerpts;
  // The loop driver of the kernel the run was made on (its system
  // information): page by page or whole requests with dio off.
  LoopBuffered loop_buffered = LoopBuffered::PerPage;
  std::string axis(const std::string& key) const;
  bool reads() const;  // main direction is read
};

// What scripts/zfs-vm recorded about the qemu guest a run was made in
// (RUNDIR/zfsvm.json).
struct GuestLane {
  std::string accelerator;  // kvm | tcg
  bool emulated_cpu = false;
  std::string guest_kernel, zfs_version, zfs_variant;
};

// A loop cell of the emulated backend: served by the engine's model of the
// loop driver on the backing file (the policy acts where ZFS applies it),
// not by the kernel's loop driver.
bool emulated_loop_cell(const CellData& cell);
inline constexpr const char* kLoopModelScope =
    "Emulated backend: no ZFS here. A loop cell is the engine's model of the loop driver: it "
    "issues on the backing file the requests OpenZFS would receive from a loop device (dio on: "
    "the same range with O_DIRECT; dio off: one 4 KiB page at a time, or on kernels that hand "
    "whole requests (6.12.25+, 6.15+: docs/design.md §4.1) the same range buffered) and applies "
    "the `direct` "
    "policy to those, as ZFS does. It measures what the policy's choices cost on this "
    "filesystem, not the kernel's loop driver and not ZFS's code: the real answer comes from "
    "the zfs backend (scripts/zfs-vm).";

// The banner a run on an emulated CPU carries: its numbers are only
// comparable with one another.
inline constexpr const char* kEmulatedCpuBanner = "emulated CPU: compare only within the same run";

struct BenchResults;

struct RunData {
  std::string dir;
  std::string profile, backend, status;
  double ramp_s = -1;  // the profile's ramp (RUNDIR/profile.ini); -1 unknown
  std::uint64_t seed = 0;
  std::vector<CellData> cells;
  std::map<std::string, std::string> system;  // zfsvm.json's facts as zfsvm.* keys
  std::optional<GuestLane> guest;             // from zfsvm.json
  bool emulated_cpu() const { return guest && guest->emulated_cpu; }
  // RUNDIR/bench/bench.json (Google Benchmark drivers), when the run has
  // one; bench_problem says why it could not be read.
  std::shared_ptr<const BenchResults> bench;
  std::string bench_problem;
  // A fleet run's hosts (HOST:PORT, in the order their rows were first
  // stored); empty for a run on one machine. `host` says whose rows the
  // cells hold: "" each repetition's own (this machine's, or in a fleet
  // run fio's sum over the hosts, "All clients"), else that host's alone.
  std::vector<std::string> hosts;
  std::string host;
  bool fleet() const { return !hosts.empty(); }
};

// Throws ReportError naming the directory or file for anything unusable
// (an unreadable bench.json only sets bench_problem: the fio results stand
// on their own). Reads each repetition's own row: in a fleet run fio's
// sum over the hosts.
RunData load_run(const std::string& dir);
// One host of a fleet run: its rows instead of the sum's, named by its
// label (HOST:PORT) or, when no other host shares it, by its name alone.
// Throws ReportError naming the value when the run is not a fleet run or
// has no such host (listing the hosts it has); with Measured::Optional a
// host that measured nothing is no error (the report lists its failures).
enum class Measured { Required, Optional };
RunData load_host_view(const std::string& dir, const std::string& host,
                       Measured measured = Measured::Required);

}  // namespace diobench
