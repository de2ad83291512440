// `diobench host ...`: what a fleet run (fleet.hpp) asks each host to do
// over ssh, done on that host with the same rules as a local run: the
// scratch area's marker and checks, the undo journal written before each
// change, the cache dropped and checked. Errors are thrown with the
// reason; the command line prints it on stderr, which ssh carries back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diobench/runner/fleet.hpp"
#include "diobench/runner/journal.hpp"

namespace diobench {

// What one repetition asks of a host.
struct HostCell {
  std::uint64_t size = 0;        // the scratch file's bytes
  std::string engine;            // the engine's path (fio loads it on the host)
  std::string rw, bs;            // the workload (fio's rw= and bs=)
  bool app_direct = true;        // the workload's fio direct= (the crash guard asks)
  std::optional<bool> loop_dio;  // a loop cell: its loop device's direct I/O
  bool force_unsafe = false;     // attach a loop device the crash guard refuses
  // zfs backend (empty: emulated): the user's dataset on this host and the
  // child of it the run works in (work_dataset.hpp: made the first time,
  // with the run's token); the cell's direct= set on the child; the ARC
  // emptied before each repetition by export + import ("export") or not
  // ("none").
  std::string dataset, work_dataset, policy, arc_drop = "none";
  bool on_zfs() const { return !dataset.empty(); }
};

// Before each repetition: the engine must exist here (fio loads an
// external engine on the server's side); the scratch area and the run's
// own directory in it; the scratch file of `size` bytes (made the first
// time, journaled first: in the scratch area, or on zfs in the run's
// child dataset, made the first time too); on zfs the ARC emptied (when
// asked) and the cell's direct= set on the child; for a loop cell its
// loop device, journaled then attached through the crash guard with the
// cell's direct I/O and left attached for fio; the cached pages of the
// file (and device) dropped and checked; the block devices' counters read
// (the file's device or the pool's disks, and the loop device), on zfs
// the pool's iostats and the ARC's counters too, and the engine's sidecar
// of the last repetition gone.
// Returns what fio opens on this host: the scratch file or the loop
// device. Throws with the reason.
std::string host_prepare(const HostPaths& paths, const HostCell& cell);

// After each repetition: written data pushed to storage, what the block
// devices moved since host_prepare, the loop device detached (the undo
// journaled), and the engine's sidecar, removed. As JSON:
// {"sidecar": TEXT, "devices": [{"device","role","read_bytes","write_bytes"}]},
// on zfs with "zfs_iostats" and "arcstats" (name -> delta, arc_check.hpp)
// and "arc_data_before"/"arc_data_after" when the ARC was emptied.
std::string host_take_counters(const HostPaths& paths);

// At the end (or `diobench restore DIR/host-NAME` on the host after a
// lost run): everything the host's journal holds undone (the loop device
// detached, the scratch file removed, on zfs the child dataset destroyed), then the journal and the
// run's directory removed once all is undone. Returns what was done and what could not be.
RestoreReport host_finish(const HostPaths& paths);

// The run whose host directory `dir` is (DIR/host-NAME inside a scratch
// area of diobench's); nullopt for any other directory.
std::optional<HostPaths> host_paths_of(const std::string& dir);

}  // namespace diobench
