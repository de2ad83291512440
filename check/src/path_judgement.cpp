#include "diobench/check/path_judgement.hpp"

#include <cmath>

#include "diobench/units.hpp"

namespace diobench {

std::string_view to_string(PathClass c) {
  switch (c) {
    case PathClass::Direct:
      return "direct";
    case PathClass::Arc:
      return "ARC";
    case PathClass::Mixed:
      return "mixed";
    case PathClass::None:
      return "none";
  }
  return "?";
}

PathClass classify(const PathBytes& bytes) {
  if (bytes.direct > 0) {
    return bytes.arc * kArcToleranceDivisor <= bytes.direct ? PathClass::Direct : PathClass::Mixed;
  }
  return bytes.arc > 0 ? PathClass::Arc : PathClass::None;
}

PathClass Prediction::path_class() const {
  if (direct_bytes > 0 && buffered_bytes > 0) return PathClass::Mixed;
  if (direct_bytes > 0) return PathClass::Direct;
  return path == Path::Einval ? PathClass::None : PathClass::Arc;
}

std::string Prediction::text() const {
  switch (path) {
    case Path::Direct:
      return "direct";
    case Path::Buffered:
      return "ARC (buffered)";
    case Path::Fallback:
      return "ARC (fallback)";
    case Path::Uncached:
      return "ARC (uncached)";
    case Path::Einval:
      return "EINVAL";
    case Path::Split: {
      const double share = 100.0 * static_cast<double>(direct_bytes) /
                           static_cast<double>(direct_bytes + buffered_bytes);
      return "split " + std::to_string(static_cast<int>(std::lround(share))) + "% direct" +
             (uncached_bytes ? ", rest uncached" : "");
    }
  }
  return "?";
}

std::optional<Prediction> predict(const CellShape& cell, Direction direction) {
  const std::optional<std::uint64_t> bs = parse_size(cell.bs);
  if (!bs || *bs == 0) return std::nullopt;
  Prediction p;
  if (cell.loop) {
    // The loop driver's requests are on its own (aligned) pages.
    const LoopExpectation e =
        loop_backing_route(cell.config, Request{direction, 0, *bs, 0, false}, cell.loop_dio);
    p.path = e.path;
    p.direct_bytes = e.direct_bytes;
    p.buffered_bytes = e.buffered_bytes;
    p.uncached_bytes = e.uncached_bytes;
    return p;
  }
  const std::uintptr_t buffer = cell.buffer_aligned ? 0 : 512;
  const Route r = route(cell.config, Request{direction, 0, *bs, buffer, cell.app_direct});
  p.path = r.path;
  p.direct_bytes = r.direct_bytes();
  p.buffered_bytes = r.buffered_bytes();
  p.uncached_bytes = r.uncached_bytes();
  return p;
}

std::optional<ArcKeeping> arc_keeping(const std::map<std::string, std::uint64_t>& deltas) {
  const auto mru = deltas.find("mru_data"), mfu = deltas.find("mfu_data");
  if (mru == deltas.end() || mfu == deltas.end()) return std::nullopt;
  ArcKeeping k;
  k.kept_data = mru->second + mfu->second;
  if (const auto hits = deltas.find("uncached_hits"); hits != deltas.end()) {
    k.uncached_hits = hits->second;
  }
  return k;
}

std::string uncached_disagreement(const CellShape& cell, const PathBytes& observed,
                                  const ArcKeeping& arc) {
  if (!rw_reads(cell.rw)) return "";
  const std::optional<Prediction> p = predict(cell, Direction::Read);
  if (!p || !p->all_uncached()) return "";
  if (observed.arc == 0) {
    return "reads: the model predicts uncached ARC reads, the pool shows none through the ARC";
  }
  if (arc.kept_data * kArcToleranceDivisor <= observed.arc) return "";
  return "reads: the model predicts uncached, but the ARC kept " + std::to_string(arc.kept_data) +
         " B of data (mru_data + mfu_data) of the " + std::to_string(observed.arc) +
         " B read through it: served cached";
}

std::string disagreement(const CellShape& cell, Direction direction, const PathBytes& observed) {
  const std::string dir(to_string(direction));
  const bool issued = direction == Direction::Read ? rw_reads(cell.rw) : rw_writes(cell.rw);
  if (!issued) {
    return observed.direct == 0
               ? ""
               : "unexpected direct " + dir + " I/O (" + std::to_string(observed.direct) +
                     " B): the workload issues no " + dir + "s";
  }
  const std::optional<Prediction> p = predict(cell, direction);
  if (!p) return "bs=" + cell.bs + " is not one request size: the model cannot predict it";
  if (p->path == Path::Einval) {
    return observed.direct == 0 ? ""
                                : "expected EINVAL, but " + std::to_string(observed.direct) +
                                      " B went on the direct path";
  }
  const PathClass seen = classify(observed);
  if (seen == p->path_class()) return "";
  // the loop device's page cache cuts what it writes back (kToleranceText)
  const bool cut_by_page_cache = cell.loop && !cell.app_direct;
  if (cut_by_page_cache && p->path_class() == PathClass::Direct && seen == PathClass::Mixed)
    return "";
  const std::string predicted(to_string(p->path_class()));
  return dir + "s: the model predicts " + predicted +
         (p->text() == predicted ? "" : " (" + p->text() + ")") + ", the pool shows " +
         std::string(to_string(seen));
}

}  // namespace diobench
