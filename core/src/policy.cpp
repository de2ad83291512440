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

Route whole(const Request& request, Path path, bool direct) {
  Route r;
  r.path = path;
  r.segments[0] = Segment{request.offset, request.length, 0, direct};
  r.segment_count = 1;
  return r;
}

// A page-aligned request the policy wants on the direct path. Reads need
// only page alignment; writes go direct one whole record at a time, so
// the record-aligned middle is direct and any head or tail is buffered.
Route direct_route(const PolicyConfig& config, const Request& request) {
  if (request.direction == Direction::Read) {
    return whole(request, Path::Direct, true);
  }
  const std::uint64_t end = request.offset + request.length;
  const std::uint64_t mid_begin = round_up(request.offset, config.recordsize);
  const std::uint64_t mid_end = round_down(end, config.recordsize);
  if (mid_end <= mid_begin) {  // not one whole record: all of it buffered
    return whole(request, Path::Fallback, false);
  }
  if (mid_begin == request.offset && mid_end == end) {
    return whole(request, Path::Direct, true);
  }
  Route r;
  r.path = Path::Split;
  auto add = [&](std::uint64_t from, std::uint64_t to, bool direct) {
    if (to > from) {
      r.segments[r.segment_count++] = Segment{from, to - from, from - request.offset, direct};
    }
  };
  add(request.offset, mid_begin, false);
  add(mid_begin, mid_end, true);
  add(mid_end, end, false);
  return r;
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

std::uint64_t Route::direct_bytes() const {
  std::uint64_t n = 0;
  for (unsigned i = 0; i < segment_count; ++i) {
    if (segments[i].direct) n += segments[i].length;
  }
  return n;
}

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
  switch (config.policy) {
    case Policy::Disabled:  // O_DIRECT is silently ignored
      return whole(request, Path::Buffered, false);
    case Policy::Standard:
      if (!request.app_direct) return whole(request, Path::Buffered, false);
      if (page_aligned(config, request)) return direct_route(config, request);
      if (config.semantics == Semantics::V2_3) {
        Route r;
        r.path = Path::Einval;
        return r;
      }
      return whole(request, Path::Fallback, false);
    case Policy::Always:
      if (page_aligned(config, request)) return direct_route(config, request);
      return whole(request, Path::Fallback, false);
  }
  return whole(request, Path::Buffered, false);
}

LoopExpectation loop_backing_route(const PolicyConfig& config, const Request& request,
                                   bool loop_dio) noexcept {
  LoopExpectation e;
  if (loop_dio) {
    // Kernel bvec direct I/O on the request's own range; the pages are
    // the block layer's, so only offset and length decide alignment.
    Request below{request.direction, request.offset, request.length, 0, true};
    const Route r = route(config, below);
    e.path = r.path;
    e.requests = 1;
    e.direct_bytes = r.direct_bytes();
    e.buffered_bytes = r.buffered_bytes();
    return e;
  }
  // Buffered loop: one page-sized, page-aligned request per page, no
  // O_DIRECT; `always` turns each page into its own direct request.
  const std::uint64_t page = config.page_size;
  const std::uint64_t first = round_down(request.offset, page);
  const std::uint64_t last = round_up(request.offset + request.length, page);
  e.requests = (last - first) / page;
  if (e.requests == 0) return e;
  const Route r = route(config, Request{request.direction, first, page, 0, false});
  e.path = r.path;
  e.direct_bytes = r.direct_bytes() * e.requests;
  e.buffered_bytes = r.buffered_bytes() * e.requests;
  return e;
}

Route loop_model_route(const PolicyConfig& config, const Request& request, bool loop_dio) noexcept {
  const bool aligned = page_aligned(config, request);
  if (loop_dio) {
    Request below = request;
    below.app_direct = true;  // the loop driver opens its file O_DIRECT
    const Route r = route(config, below);
    // Only a misaligned app buffer gets here as EINVAL: serve it buffered.
    return r.path == Path::Einval ? whole(request, Path::Fallback, false) : r;
  }
  if (!aligned) return whole(request, Path::Buffered, false);
  const Request page{request.direction, request.offset, config.page_size, request.buffer, false};
  const Route per_page = route(config, page);
  if (per_page.direct_bytes() == 0) return whole(request, per_page.path, false);
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
