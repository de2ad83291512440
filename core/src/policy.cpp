#include "diobench/policy.hpp"

#include "diobench/units.hpp"

namespace diobench {

namespace {

// Page and record sizes are powers of two (PolicyConfig), so alignment is
// a mask, not a division: this runs once per request.
constexpr std::uint64_t round_up(std::uint64_t v, std::uint64_t unit) {
  return (v + unit - 1) & ~(unit - 1);
}
constexpr std::uint64_t round_down(std::uint64_t v, std::uint64_t unit) { return v & ~(unit - 1); }

Route whole(const Request& request, Path path, bool direct, bool uncached = false) {
  Route r;
  r.path = path;
  r.segments[0] = Segment{request.offset, request.length, 0, direct, uncached};
  r.segment_count = 1;
  return r;
}

// The whole request through the ARC although the policy wanted it direct:
// kept cached in 2.3 (Fallback), uncached in 2.4.
Route through_arc(const PolicyConfig& config, const Request& request) {
  return config.semantics == Semantics::V2_3 ? whole(request, Path::Fallback, false)
                                             : whole(request, Path::Uncached, false, true);
}

// A page-aligned request that goes direct. Reads need only page
// alignment; writes go direct one whole record at a time
// (dmu_write_uio_dnode), so the record-aligned middle is direct and any
// head or tail goes through the ARC (uncached in 2.4).
Route direct_route(const PolicyConfig& config, const Request& request) {
  if (request.direction == Direction::Read) {
    return whole(request, Path::Direct, true);
  }
  const std::uint64_t end = request.offset + request.length;
  const std::uint64_t mid_begin = round_up(request.offset, config.recordsize);
  const std::uint64_t mid_end = round_down(end, config.recordsize);
  if (mid_end <= mid_begin) {  // not one whole record: all of it through the ARC
    return through_arc(config, request);
  }
  if (mid_begin == request.offset && mid_end == end) {
    return whole(request, Path::Direct, true);
  }
  Route r;
  r.path = Path::Split;
  const bool rest_uncached = split_rest_uncached(config.semantics);
  auto add = [&](std::uint64_t from, std::uint64_t to, bool direct) {
    if (to > from) {
      r.segments[r.segment_count++] =
          Segment{from, to - from, from - request.offset, direct, !direct && rest_uncached};
    }
  };
  add(request.offset, mid_begin, false);
  add(mid_begin, mid_end, true);
  add(mid_end, end, false);
  return r;
}

// OpenZFS 2.3 (zfs-2.3.2, zfs_vnops.c: zfs_setup_direct): `disabled` and
// an mmap'ed range clear O_DIRECT (so no EINVAL either); `always` sets it
// on page-aligned requests (writes only of at least a block) and clears
// it on misaligned ones; an O_DIRECT request left misaligned is EINVAL.
Route route_2_3(const PolicyConfig& config, const Request& request) {
  switch (config.policy) {
    case Policy::Disabled:  // O_DIRECT is silently ignored
      return whole(request, Path::Buffered, false);
    case Policy::Standard:
      if (!request.app_direct) return whole(request, Path::Buffered, false);
      if (request.mapped) return through_arc(config, request);
      if (page_aligned(config, request)) return direct_route(config, request);
      return Route{Path::Einval, 0, {}, 0};
    case Policy::Always:
      if (request.mapped || !page_aligned(config, request)) return through_arc(config, request);
      return direct_route(config, request);
  }
  return whole(request, Path::Buffered, false);
}

// OpenZFS 2.4 (zfs-2.4.0, zfs_vnops.c: zfs_setup_direct, commit
// 734eba251d): `always` adds O_DIRECT to every request; a request without
// it is cached as before. With it, in this order: `disabled` (or
// zfs_dio_enabled=0) -> uncached; misaligned -> EINVAL if the app asked
// for O_DIRECT and zfs_dio_strict=1, else uncached; an mmap'ed range ->
// uncached; a write shorter than a block -> uncached; else direct
// (zfs_read / zfs_write pass DMU_UNCACHEDIO whenever O_DIRECT is set, so
// what the direct path leaves to the ARC is uncached too).
Route route_2_4(const PolicyConfig& config, const Request& request) {
  const bool o_direct = request.app_direct || config.policy == Policy::Always;
  if (!o_direct) return whole(request, Path::Buffered, false);
  if (config.policy == Policy::Disabled) return through_arc(config, request);
  if (!page_aligned(config, request)) {
    if (request.app_direct && config.dio_strict) return Route{Path::Einval, 0, {}, 0};
    return through_arc(config, request);
  }
  if (request.mapped) return through_arc(config, request);
  if (request.direction == Direction::Write && request.length < config.recordsize) {
    return through_arc(config, request);
  }
  return direct_route(config, request);
}

}  // namespace

std::string_view to_string(Policy p) {
  switch (p) {
    case Policy::Disabled:
      return "disabled";
    case Policy::Standard:
      return "standard";
    case Policy::Always:
      return "always";
  }
  return "?";
}

std::string_view to_string(Semantics s) { return s == Semantics::V2_3 ? "2.3" : "2.4"; }

std::string_view to_string(Direction d) { return d == Direction::Read ? "read" : "write"; }

std::string_view to_string(Path p) {
  switch (p) {
    case Path::Direct:
      return "direct";
    case Path::Buffered:
      return "buffered";
    case Path::Fallback:
      return "fallback";
    case Path::Split:
      return "split";
    case Path::Einval:
      return "einval";
    case Path::Uncached:
      return "uncached";
  }
  return "?";
}

std::optional<Policy> parse_policy(std::string_view text) {
  for (Policy p : {Policy::Disabled, Policy::Standard, Policy::Always}) {
    if (text == to_string(p)) return p;
  }
  return std::nullopt;
}

std::optional<Semantics> parse_semantics(std::string_view text) {
  for (Semantics s : {Semantics::V2_3, Semantics::V2_4}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

std::string_view to_string(LoopBuffered b) {
  return b == LoopBuffered::PerPage ? "per-page" : "whole-request";
}

std::optional<LoopBuffered> parse_loop_buffered(std::string_view text) {
  for (LoopBuffered b : {LoopBuffered::PerPage, LoopBuffered::WholeRequest}) {
    if (text == to_string(b)) return b;
  }
  return std::nullopt;
}

namespace {

struct KernelVersion {
  unsigned major = 0, minor = 0, patch = 0;  // 0.0.0: none found
};

// The first word that starts with a digit, read as MAJOR.MINOR[.PATCH]
// ("6.12.117+deb13-amd64", or uname's "Linux 6.1.0-57-amd64 #1 ...").
KernelVersion kernel_version(std::string_view text) {
  const auto digit = [&](std::size_t at) { return text[at] >= '0' && text[at] <= '9'; };
  std::size_t at = 0;
  while (at < text.size() && !(digit(at) && (at == 0 || text[at - 1] == ' '))) ++at;
  unsigned part[3] = {0, 0, 0};
  for (unsigned& p : part) {
    if (at >= text.size() || !digit(at)) break;
    while (at < text.size() && digit(at)) p = p * 10 + static_cast<unsigned>(text[at++] - '0');
    if (at >= text.size() || text[at] != '.') break;
    ++at;
  }
  return {part[0], part[1], part[2]};
}

}  // namespace

LoopBuffered loop_buffered_of_kernel(std::string_view release) {
  const KernelVersion v = kernel_version(release);
  if (v.major == 0) return LoopBuffered::WholeRequest;  // no version in it
  const bool whole = v.major > 6 || (v.major == 6 && v.minor >= 15) ||
                     (v.major == 6 && v.minor == 14 && v.patch >= 4) ||
                     (v.major == 6 && v.minor == 12 && v.patch >= 25);
  return whole ? LoopBuffered::WholeRequest : LoopBuffered::PerPage;
}

std::string semantics_label(Semantics semantics, bool dio_strict) {
  std::string s(to_string(semantics));
  if (semantics == Semantics::V2_4 && dio_strict) s += "-strict";
  return s;
}

std::optional<ModuleRules> parse_semantics_label(std::string_view text) {
  if (text == "2.4-strict") return ModuleRules{Semantics::V2_4, true};
  const auto s = parse_semantics(text);
  if (!s) return std::nullopt;
  return ModuleRules{*s, false};
}

std::uint64_t Route::direct_bytes() const {
  std::uint64_t n = 0;
  for (unsigned i = 0; i < segment_count; ++i) {
    if (segments[i].direct) n += segments[i].length;
  }
  return n;
}

std::uint64_t Route::uncached_bytes() const {
  std::uint64_t n = 0;
  for (unsigned i = 0; i < segment_count; ++i) {
    if (segments[i].uncached) n += segments[i].length;
  }
  return n;
}

bool split_rest_uncached(Semantics semantics) noexcept { return semantics == Semantics::V2_4; }

std::uint64_t Route::buffered_bytes() const {
  std::uint64_t n = 0;
  for (unsigned i = 0; i < segment_count; ++i) {
    if (!segments[i].direct) n += segments[i].length;
  }
  return n;
}

bool page_aligned(const PolicyConfig& config, const Request& request) noexcept {
  const std::uint64_t mask = config.page_size - 1;
  return ((request.buffer | request.offset | request.length) & mask) == 0;
}

Route route(const PolicyConfig& config, const Request& request) noexcept {
  if (request.length == 0) return whole(request, Path::Buffered, false);
  return config.semantics == Semantics::V2_3 ? route_2_3(config, request)
                                             : route_2_4(config, request);
}

LoopExpectation loop_backing_route(const PolicyConfig& config, const Request& request,
                                   bool loop_dio) noexcept {
  LoopExpectation e;
  if (loop_dio || config.loop_buffered == LoopBuffered::WholeRequest) {
    // One request on the request's own range, on the block layer's pages
    // (only offset and length decide alignment): kernel bvec O_DIRECT
    // with dio on, a buffered call the policy routes with dio off.
    Request below{request.direction, request.offset, request.length, 0, loop_dio};
    const Route r = route(config, below);
    e.path = r.path;
    e.requests = 1;
    e.direct_bytes = r.direct_bytes();
    e.buffered_bytes = r.buffered_bytes();
    e.uncached_bytes = r.uncached_bytes();
    return e;
  }
  // Buffered loop, page by page: one page-sized, page-aligned request per
  // page, no O_DIRECT; `always` turns each page into its own direct request.
  const std::uint64_t page = config.page_size;
  const std::uint64_t first = round_down(request.offset, page);
  const std::uint64_t last = round_up(request.offset + request.length, page);
  e.requests = (last - first) / page;
  if (e.requests == 0) return e;
  const Route r = route(config, Request{request.direction, first, page, 0, false});
  e.path = r.path;
  e.direct_bytes = r.direct_bytes() * e.requests;
  e.buffered_bytes = r.buffered_bytes() * e.requests;
  e.uncached_bytes = r.uncached_bytes() * e.requests;
  return e;
}

Route loop_model_route(const PolicyConfig& config, const Request& request, bool loop_dio) noexcept {
  const bool aligned = page_aligned(config, request);
  if (loop_dio) {
    Request below = request;
    below.app_direct = true;  // the loop driver opens its file O_DIRECT
    const Route r = route(config, below);
    // Only a misaligned app buffer gets here as EINVAL: serve it through
    // the ARC, as the policy would a request it cannot send direct.
    return r.path == Path::Einval ? through_arc(config, request) : r;
  }
  if (!aligned) return whole(request, Path::Buffered, false);
  if (config.loop_buffered == LoopBuffered::WholeRequest) {
    Request below = request;
    below.app_direct = false;  // a buffered call on the whole range
    return route(config, below);
  }
  const Request page{request.direction, request.offset, config.page_size, request.buffer, false};
  const Route per_page = route(config, page);
  if (per_page.direct_bytes() == 0) {
    return whole(request, per_page.path, false, per_page.uncached_bytes() > 0);
  }
  Route r = whole(request, Path::Direct, true);
  r.direct_piece = config.page_size;
  return r;
}

bool loop_requests_take_direct_path(const PolicyConfig& config, Direction direction,
                                    std::uint64_t request_bytes, bool loop_dio) {
  // A page-aligned request of that size at the start of a record: the
  // loop driver's own requests are on kernel pages, always aligned.
  const Request request{direction, 0, request_bytes, 0, false};
  return loop_backing_route(config, request, loop_dio).direct_bytes > 0;
}

bool rw_reads(std::string_view fio_rw) {
  return fio_rw.find("read") != std::string_view::npos || fio_rw == "rw" || fio_rw == "randrw";
}

bool rw_writes(std::string_view fio_rw) {
  return fio_rw.find("write") != std::string_view::npos || fio_rw == "rw" || fio_rw == "randrw" ||
         fio_rw == "trim";
}

bool loop_workload_takes_direct_path(const PolicyConfig& config, std::string_view fio_rw,
                                     std::string_view fio_bs, bool loop_dio) {
  const std::optional<std::uint64_t> bs = parse_size(fio_bs);
  if (!bs || *bs == 0) return config.policy != Policy::Disabled;
  return (rw_reads(fio_rw) &&
          loop_requests_take_direct_path(config, Direction::Read, *bs, loop_dio)) ||
         (rw_writes(fio_rw) &&
          loop_requests_take_direct_path(config, Direction::Write, *bs, loop_dio));
}

}  // namespace diobench
