// The one judgement of `diobench check`: what the policy model predicts
// for a cell's requests, and whether the bytes the pool counted on each
// path agree with it. The prediction is the model's (core policy.hpp:
// route for a file, loop_backing_route for a loop device); nothing here
// restates a policy rule.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "diobench/policy.hpp"

namespace diobench {

// How one direction's bytes divided between the pool's two paths, as its
// iostats kstat counts them: direct_<dir>_bytes and arc_<dir>_bytes (ARC
// misses only: what went to disk through the ARC).
struct PathBytes {
  std::uint64_t direct = 0;
  std::uint64_t arc = 0;
};

// The shape of a split, the unit of comparison. Byte counts themselves do
// not compare: a 4k direct read moves a whole record, a partial write
// dirties one.
enum class PathClass {
  Direct,  // on the direct path (with at most the tolerance through the ARC)
  Arc,     // through the ARC only
  Mixed,   // both, beyond the tolerance
  None,    // neither
};
std::string_view to_string(PathClass c);

// The tolerance, in one place: a direction counts as Direct when its ARC
// bytes are at most 1/16 of its direct bytes, because a read on a cold
// ARC also misses on the blocks that lead to the data (indirect blocks,
// dnodes), which go through the ARC whatever the policy. Direct bytes
// have no tolerance: one byte on the direct path makes the class Direct
// or Mixed.
inline constexpr std::uint64_t kArcToleranceDivisor = 16;
inline constexpr const char* kToleranceText =
    "tolerance: a direction is 'direct' when its ARC bytes are at most 1/16 of its "
    "direct bytes (a cold read also misses on indirect blocks and dnodes, which always go "
    "through the ARC); byte counts are not compared, only the shape of the split (a 4k "
    "direct read moves a whole record; a partial write dirties one); a direction the "
    "workload does not issue must show no direct bytes (a partial write reads its record "
    "through the ARC, never directly); a loop cell without O_DIRECT reaches the loop driver "
    "through the loop device's page cache, whose writeback hands it pieces that may cut "
    "records, and a piece with a partial record goes through the ARC: there a 'direct' "
    "prediction is met by 'direct' or 'mixed', never by ARC alone (qemu lane, OpenZFS "
    "2.3.2: 1 MiB writes through loop dio on, a quarter of the bytes through the ARC)";
PathClass classify(const PathBytes& bytes);

// What a cell is, as far as the model is concerned.
struct CellShape {
  PolicyConfig config;
  bool loop = false;           // through a loop device (else the file itself)
  bool loop_dio = false;       // the loop device's direct-io mode
  bool app_direct = false;     // fio direct=1 (else a loop cell goes through its page cache)
  bool buffer_aligned = true;  // fio's buffers page-aligned (iomem_align=4k)
  std::string rw, bs;          // fio's rw= and bs=
};

// The model's route for one of the cell's requests in `direction` (a
// request of bs bytes at a record boundary: the offset fio's block
// alignment gives the first one); nullopt when bs is not one size.
struct Prediction {
  Path path = Path::Buffered;
  std::uint64_t direct_bytes = 0, buffered_bytes = 0;  // per request
  std::uint64_t uncached_bytes = 0;                    // of buffered_bytes, served uncached (2.4)
  PathClass path_class() const;
  // "direct", "ARC (fallback)", "ARC (uncached)", "split 67% direct", "EINVAL"
  std::string text() const;
  // Everything that goes through the ARC goes uncached.
  bool all_uncached() const { return buffered_bytes > 0 && uncached_bytes == buffered_bytes; }
};
std::optional<Prediction> predict(const CellShape& cell, Direction direction);

// One direction of one observation, judged: empty when it agrees with the
// model, else why not. A direction the workload does not issue agrees
// when it moved nothing on the direct path. An EINVAL prediction agrees
// when nothing moved on the direct path (the caller checks that the
// request failed).
std::string disagreement(const CellShape& cell, Direction direction, const PathBytes& observed);

// What the ARC kept of a direction's reads, from arcstats deltas around
// the workload (the runner's arc_deltas; the ARC emptied before it):
// data that came to stay is counted in mru_data and mfu_data; an
// uncached buffer (arc_uncached, in arc.c at zfs-2.3.2 and zfs-2.4.0) is
// dropped when its reader lets it go (remove_reference: a non-prefetch
// header in arc_uncached goes to arc_anon and is destroyed), and
// prefetched ones hit there count in uncached_hits.
struct ArcKeeping {
  std::uint64_t kept_data = 0;      // growth of mru_data + mfu_data, bytes
  std::uint64_t uncached_hits = 0;  // uncached_hits delta
};
// nullopt when arcstats lack mru_data or mfu_data (not measured).
std::optional<ArcKeeping> arc_keeping(const std::map<std::string, std::uint64_t>& deltas);

// The proof of the uncached path, as iostats prove the direct one: where
// the model sends a cell's reads through the ARC uncached, the pool must
// show them through the ARC (iostats, `observed`) and the ARC must have
// kept at most 1/16 of those bytes (kArcToleranceDivisor). Empty when it
// agrees or the model predicts no uncached reads; else why not. Writes
// are not judged: their data waits in anon (dirty) buffers until the txg
// syncs, cached or not, so what the ARC kept right after fio says nothing.
std::string uncached_disagreement(const CellShape& cell, const PathBytes& observed,
                                  const ArcKeeping& arc);

}  // namespace diobench
