// zfs backend: whether the ARC served what the model expects from disk.
// An O_DIRECT read of a block already in the ARC is served from the ARC,
// not the direct path (seen on OpenZFS 2.3.2 in the qemu lane: aligned
// O_DIRECT reads under `always` right after other reads of the same range
// made no direct read and no ARC miss), so a repetition on a warm ARC can
// measure the ARC while its split says "direct".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diobench/path_counters.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/runner/result_store.hpp"
#include "diobench/zfs.hpp"

namespace diobench {

// The arcstats entries kept per repetition (their deltas, a gauge that
// shrank counting 0): the demand data hits and misses, the data the ARC
// kept (mru_data, mfu_data) and every uncached_* entry the module has:
// `diobench check` proves uncached reads from them (path_judgement.hpp).
std::map<std::string, std::uint64_t> arc_deltas(const PoolIoStats& before,
                                                const PoolIoStats& after);

// nullopt (not checked) when the model sends no read to disk by the
// direct path; "ok"; or a sentence saying how many demand reads the ARC
// served against the direct reads the model expected. A hit count above
// 5% of those reads (and above 16, for the metadata and odd blocks a
// cold ARC serves too) flags it.
std::optional<std::string> check_arc(const PathCounters& expected,
                                     const std::map<std::string, std::uint64_t>& deltas);

// What the pool's iostats say about the path, against what the engine
// expected: "agrees" when direct bytes moved where it expected some and
// none where it expected none, else "contradicts". (Sizes differ
// legitimately: a 4k direct read moves a whole record.)
std::string check_split(const PathCounters& expected, const PoolIoStats& delta);

// The zfs backend's checks of a repetition that ran (a local run's, a
// fleet host's, or a fleet's sum): the ARC's deltas against the engine's
// direct reads (check_arc) and, when the pool's iostats were read, their
// split against the engine's (check_split), with the message when they
// contradict it. Needs rec.counters.
void check_zfs_repetition(RepetitionRecord& rec, const std::optional<PoolIoStats>& pool_delta);

// The ARC emptied by exporting and importing `pool` (from `devices`,
// pool_devices), each step journaled first; `file`, on a dataset of the
// pool, must be back after the import. Returns why not when the export
// failed (nothing changed); throws std::runtime_error when the import
// failed (the journal keeps it for `diobench restore`) or `file` is gone.
std::optional<std::string> empty_arc_by_export(Journal& journal, const std::string& pool,
                                               const std::vector<std::string>& devices,
                                               const std::string& file);

// Whether emptying the ARC by exporting the pool is safe here, or why not:
// the pool's devices must be listable (to import it again from them), and
// exporting must not take away anything but the dataset under test: no
// other mounted dataset of the pool, not the run directory. Mounts from
// /proc/self/mounts, or $DIOBENCH_MOUNTS (tests).
std::optional<std::string> arc_export_refusal(const std::string& pool, const std::string& dataset,
                                              const std::string& run_dir);

}  // namespace diobench
