// A cell of the matrix: one value on every axis of the matrix (docs/design.md §6).
// A cell is what gets repeated, compared and reported.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "diobench/policy.hpp"
#include "diobench/target.hpp"

namespace diobench {

// fio's own parameters of a cell.
struct Workload {
  std::string name;  // the profile's section name, e.g. "randread-4k"
  std::string rw;    // fio rw=
  std::string bs;    // fio bs= (fio's syntax: 4k, 1m, 4608)
  unsigned iodepth = 1;
  unsigned numjobs = 1;
  unsigned rwmixread = 0;  // 0: not a mixed workload
  bool reads() const;      // the workload issues reads
  bool writes() const;     // ... writes
};

struct Cell {
  std::string backend = "emulated";  // emulated | zfs
  Policy policy = Policy::Standard;
  TargetKind target = TargetKind::File;  // File or Loop
  std::optional<bool> loop_dio;          // Loop only
  bool app_direct = false;               // fio direct=
  std::string submit = "psync";          // psync | uring
  Semantics semantics = Semantics::V2_3;
  bool dio_strict = false;  // zfs_dio_strict=1 (2.4 only): the axis value "2.4-strict"
  std::uint64_t recordsize = 128 * 1024;
  Workload workload;

  // Unique within a run and usable as a file name, e.g.
  // "randread-4k.always.loop-dio-on.buffered.psync".
  std::string name() const;
  std::string target_label() const;  // "file", "loop dio on", "loop dio off"
  // A loop cell whose requests reach the dataset's Direct I/O path (the
  // model's loop_workload_takes_direct_path): the patched fallback path.
  // Under the running kernel's loop driver, or the one named.
  bool loop_takes_direct_path() const;
  bool loop_takes_direct_path(LoopBuffered loop_buffered) const;
  // One value per axis, as text; the keys are the axis names of --filter.
  nlohmann::json axes() const;
};

// The axes a filter may name, in display order.
const char* const* axis_names();

}  // namespace diobench
