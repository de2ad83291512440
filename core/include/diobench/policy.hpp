// The policy model: OpenZFS's `direct` dataset property as a pure function
// from a request to the path that serves it. This is the one place the
// policy table of docs/design.md §3.2 is written down; the engine routes by it, the
// zfs backend predicts with it, the tests and the reports read it.
//
// Source of the rules: OpenZFS 2.3 Direct I/O (PR 10018, man zfsprops
// `direct`), the loop-device fix (PR 17006), and, for 2.4, commit
// 734eba251d (PR 17218, "Wire O_DIRECT also to Uncached I/O"). Each
// semantics is read from zfs_setup_direct() in module/zfs/zfs_vnops.c at
// the tags zfs-2.3.2 and zfs-2.4.0 (docs/design.md §3.2 has the table).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace diobench {

enum class Policy { Disabled, Standard, Always };
// 2.3: misaligned O_DIRECT under `standard` fails with EINVAL; whatever the
//      policy wanted direct but cannot be goes through the ARC and stays
//      cached there (Fallback).
// 2.4: every request that carries O_DIRECT (the app's, or `always`'s) and
//      cannot go direct is served by the ARC as uncached I/O (Uncached),
//      misaligned ones too unless zfs_dio_strict=1 (then EINVAL again).
enum class Semantics { V2_3, V2_4 };
enum class Direction { Read, Write };

// Where a request (or its bytes) went. See docs/design.md §3.1 and §5.
enum class Path {
  Direct,    // entirely on the Direct I/O path
  Buffered,  // buffered because the policy says so
  Fallback,  // the policy wanted direct, the request was served buffered
  Split,     // write: record-aligned middle direct, head/tail buffered
  Einval,    // rejected (2.3 `standard`, or 2.4 with zfs_dio_strict=1: misaligned O_DIRECT)
  Uncached,  // 2.4: through the ARC, which drops the data once served
};

// Every bucket, in the order tables and files list them (Uncached last:
// it came with 2.4, and older files do not have it).
inline constexpr std::array<Path, 6> kAllPaths{Path::Direct, Path::Buffered, Path::Fallback,
                                               Path::Split,  Path::Einval,   Path::Uncached};

std::string_view to_string(Policy p);
std::string_view to_string(Semantics s);
std::string_view to_string(Direction d);
std::string_view to_string(Path p);
std::optional<Policy> parse_policy(std::string_view text);
std::optional<Semantics> parse_semantics(std::string_view text);

// The module's rules as one axis value: "2.3", "2.4", or "2.4-strict"
// (2.4 with zfs_dio_strict=1; 2.3 has no such parameter). The profile's
// semantics axis, the stored cell and the reports use this text.
std::string semantics_label(Semantics semantics, bool dio_strict);
struct ModuleRules {
  Semantics semantics = Semantics::V2_3;
  bool dio_strict = false;
};
std::optional<ModuleRules> parse_semantics_label(std::string_view text);

// How the kernel's loop driver passes a request to its backing file when
// the loop device's direct I/O is off. Until Linux commit f2fed441c69b
// ("loop: stop using vfs_iter_{read,write} for buffered I/O", 6.15) it
// called vfs_iter_read/write once per page of the request; since, it
// hands the file the whole request in one buffered call. The stable
// series took it too: Debian's changelog of linux-image 6.12.117 lists it
// under 6.12.25, the 6.14.4 review series carried it; Debian's 6.1.192
// does not have it. The qemu lane measured both: 1 MiB writes through a
// dio-off loop device under `always` stay in the ARC on 6.1.0-57 and go
// direct on 6.12.95 and 6.12.117.
enum class LoopBuffered { PerPage, WholeRequest };
std::string_view to_string(LoopBuffered b);
std::optional<LoopBuffered> parse_loop_buffered(std::string_view text);

// Which of the two a kernel does, from its release ("6.12.117+deb13-amd64")
// or uname's line ("Linux 6.1.0-57-amd64 #1 SMP ..."): 6.15 and later,
// 6.14.4 and later 6.14, 6.12.25 and later 6.12 hand the whole request;
// every other release (6.1, and 6.6 which was not checked) page by page.
// A text with no version in it counts as the newest kernels do.
LoopBuffered loop_buffered_of_kernel(std::string_view release);

// Both sizes must be powers of two (as they are in ZFS and the kernel).
struct PolicyConfig {
  Policy policy = Policy::Standard;
  Semantics semantics = Semantics::V2_3;
  std::uint64_t recordsize = 128 * 1024;  // the dataset's recordsize
  std::uint64_t page_size = 4096;         // alignment unit of Direct I/O
  // The module parameter zfs_dio_strict (2.4 on; 2.3 has none and is
  // always strict under `standard`): misaligned app O_DIRECT fails.
  bool dio_strict = false;
  // The kernel's loop driver with its direct I/O off (loop cells only).
  LoopBuffered loop_buffered = LoopBuffered::PerPage;
};

struct Request {
  Direction direction = Direction::Read;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uintptr_t buffer = 0;  // address of the user buffer
  bool app_direct = false;    // the application opened with O_DIRECT
  // The range has pages in the page cache (the file is mmap'ed there):
  // ZFS then keeps it off the direct path. The engine cannot know this
  // and leaves it false; the rule is here so the table is whole.
  bool mapped = false;
};

// A contiguous piece of a request and how it is served. Trivial on
// purpose: a Route is built once per request and only its first
// segment_count segments are ever written or read.
struct Segment {
  std::uint64_t offset;  // file offset
  std::uint64_t length;
  std::uint64_t buffer_offset;  // into the request's buffer
  bool direct;
  bool uncached;  // not direct, and served without keeping the data cached
};

// The decision for one request: its bucket and the pieces to issue (at
// most three: buffered head, direct middle, buffered tail). Einval has
// no segments.
struct Route {
  Path path = Path::Buffered;
  unsigned segment_count = 0;
  std::array<Segment, 3> segments;  // valid up to segment_count
  // Non-zero: each direct segment is issued as separate requests of this
  // many bytes (the loop driver's page-by-page requests with dio off).
  std::uint64_t direct_piece = 0;

  std::uint64_t direct_bytes() const;
  // Bytes not on the direct path (through the ARC, kept or not).
  std::uint64_t buffered_bytes() const;
  // Of those, the ones served uncached.
  std::uint64_t uncached_bytes() const;
};

// How the non-direct part of a Split is served: kept in the ARC (2.3) or
// uncached (2.4: the head and tail carry O_DIRECT, dmu_write_uio_dnode
// passes DMU_UNCACHEDIO with them). The one copy of that rule for counts
// that keep a Split's bytes as direct + buffered only.
bool split_rest_uncached(Semantics semantics) noexcept;

// True when buffer, offset and length are all multiples of the page size.
bool page_aligned(const PolicyConfig& config, const Request& request) noexcept;

// The policy table of `config.semantics`. Pure and allocation-free:
// called once per request.
Route route(const PolicyConfig& config, const Request& request) noexcept;

// What the loop driver hands the file below it for one request it
// received, when that file lives on a dataset with `config`: with dio on
// the same range as kernel-originated O_DIRECT on page-aligned kernel
// pages; with dio off the same range buffered (config.loop_buffered
// WholeRequest) or one page-sized buffered request per page (PerPage).
// Used to predict the split on the zfs backend (the fixed 2.3.1 path).
struct LoopExpectation {
  Path path = Path::Buffered;
  std::uint64_t requests = 0;  // requests the backing file sees
  std::uint64_t direct_bytes = 0;
  std::uint64_t buffered_bytes = 0;  // through the ARC
  std::uint64_t uncached_bytes = 0;  // of those, served uncached (2.4)
};
LoopExpectation loop_backing_route(const PolicyConfig& config, const Request& request,
                                   bool loop_dio) noexcept;

// The emulated backend's model of the loop driver (a filesystem other than
// ZFS cannot apply `direct` to what the kernel's loop driver sends its
// backing file, so the engine issues those requests itself): what to
// issue on the backing file for one request the loop device received.
// With dio on: the same range as O_DIRECT. With dio off and the kernel
// handing whole requests: the same range as a buffered request, which the
// policy routes. With dio off page by page: the page-sized requests,
// buffered, or, where the policy sends a page direct (`always`), one
// direct request per page (Route::direct_piece). Its
// buckets are loop_backing_route's. Left out of the model: the loop
// device's own page cache and the hand-off to the loop worker thread. A
// buffer the kernel could not use for O_DIRECT (a loop device's pages are
// always aligned; a misaligned app buffer is not) is served buffered.
Route loop_model_route(const PolicyConfig& config, const Request& request, bool loop_dio) noexcept;

// The one rule for "does this loop cell reach the patched fallback path":
// true when the loop driver's kernel-originated requests to its backing
// file take the dataset's Direct I/O path (the crash of OpenZFS 2.3.0,
// issue 16956, fixed by PR 17006). Decided by loop_backing_route for a
// request of `request_bytes` in `direction`: with loop dio off a kernel
// that hands the file one page at a time (PerPage) sends reads direct
// under `always` but keeps writes smaller than a record in the ARC (the
// qemu lane showed 1 MiB writes through a dio-off loop device survive the
// unfixed build on 6.1); one that hands whole requests sends 1 MiB writes
// direct as well.
// The verdict, the crash guard and the zfs split check all ask this.
bool loop_requests_take_direct_path(const PolicyConfig& config, Direction direction,
                                    std::uint64_t request_bytes, bool loop_dio);

// fio's rw= value: which directions a workload issues.
bool rw_reads(std::string_view fio_rw);
bool rw_writes(std::string_view fio_rw);

// The same rule for a whole fio workload (rw= and bs= as fio spells them):
// true when any direction it issues takes the direct path. A bs= the rule
// cannot read (ranges, per-direction lists) counts as direct: the crash
// guard must err on the side of refusing.
bool loop_workload_takes_direct_path(const PolicyConfig& config, std::string_view fio_rw,
                                     std::string_view fio_bs, bool loop_dio);

}  // namespace diobench
