// Every rule of the policy table (docs/design.md §3.2-3.3), for both semantics, as rows.
#include "diobench/policy.hpp"

#include <gtest/gtest.h>

#include <ostream>

namespace diobench {
namespace {

constexpr std::uint64_t K = 1024;
constexpr std::uint64_t kRecord = 128 * K;
constexpr std::uintptr_t kAligned = 0x10000;     // page-aligned buffer
constexpr std::uintptr_t kMisaligned = 0x10010;  // fio's default heap buffer

struct Row {
  const char* rule;
  Policy policy;
  Semantics semantics;
  Direction direction;
  bool app_direct;
  std::uintptr_t buffer;
  std::uint64_t offset;
  std::uint64_t length;
  Path expected;
  std::uint64_t direct_bytes;
  std::uint64_t buffered_bytes;
};

std::ostream& operator<<(std::ostream& os, const Row& r) { return os << r.rule; }

constexpr auto R = Direction::Read;
constexpr auto W = Direction::Write;
constexpr auto V23 = Semantics::V2_3;
constexpr auto V24 = Semantics::V2_4;

const Row kTable[] = {
    // disabled: everything buffered, O_DIRECT silently ignored
    {"disabled ignores O_DIRECT on reads", Policy::Disabled, V23, R, true, kAligned, 0, 4 * K,
     Path::Buffered, 0, 4 * K},
    {"disabled ignores O_DIRECT on writes", Policy::Disabled, V23, W, true, kAligned, 0, kRecord,
     Path::Buffered, 0, kRecord},
    {"disabled buffered read", Policy::Disabled, V23, R, false, kAligned, 0, 4 * K, Path::Buffered,
     0, 4 * K},
    {"disabled misaligned O_DIRECT is not an error", Policy::Disabled, V23, R, true, kMisaligned,
     512, 4 * K + 512, Path::Buffered, 0, 4 * K + 512},
    // standard
    {"standard without O_DIRECT is buffered", Policy::Standard, V23, R, false, kAligned, 0, 4 * K,
     Path::Buffered, 0, 4 * K},
    {"standard buffered write", Policy::Standard, V23, W, false, kAligned, 0, kRecord,
     Path::Buffered, 0, kRecord},
    {"standard aligned O_DIRECT read goes direct", Policy::Standard, V23, R, true, kAligned, 8 * K,
     4 * K, Path::Direct, 4 * K, 0},
    {"standard reads need no record alignment", Policy::Standard, V23, R, true, kAligned, 4 * K,
     12 * K, Path::Direct, 12 * K, 0},
    {"standard whole-record O_DIRECT write goes direct", Policy::Standard, V23, W, true, kAligned,
     kRecord, 2 * kRecord, Path::Direct, 2 * kRecord, 0},
    {"standard 1.5 records: head direct, tail buffered", Policy::Standard, V23, W, true, kAligned,
     0, kRecord + 64 * K, Path::Split, kRecord, 64 * K},
    {"standard unaligned head and tail around a record", Policy::Standard, V23, W, true, kAligned,
     64 * K, 2 * kRecord, Path::Split, kRecord, kRecord},
    {"standard sub-record O_DIRECT write is served buffered", Policy::Standard, V23, W, true,
     kAligned, 0, 4 * K, Path::Fallback, 0, 4 * K},
    {"standard 2.3 misaligned length is EINVAL", Policy::Standard, V23, R, true, kAligned, 0,
     4 * K + 512, Path::Einval, 0, 0},
    {"standard 2.3 misaligned offset is EINVAL", Policy::Standard, V23, W, true, kAligned, 512,
     kRecord, Path::Einval, 0, 0},
    {"standard 2.3 misaligned buffer is EINVAL", Policy::Standard, V23, R, true, kMisaligned, 0,
     4 * K, Path::Einval, 0, 0},
    // always
    {"always aligned read without O_DIRECT goes direct", Policy::Always, V23, R, false, kAligned,
     4 * K, 4 * K, Path::Direct, 4 * K, 0},
    {"always aligned O_DIRECT read goes direct", Policy::Always, V24, R, true, kAligned, 0, 128 * K,
     Path::Direct, 128 * K, 0},
    {"always misaligned length falls back", Policy::Always, V23, R, false, kAligned, 0, 4 * K + 512,
     Path::Fallback, 0, 4 * K + 512},
    {"always misaligned O_DIRECT falls back, no EINVAL (2.3)", Policy::Always, V23, R, true,
     kAligned, 512, 4 * K, Path::Fallback, 0, 4 * K},
    {"always misaligned buffer falls back", Policy::Always, V23, R, false, kMisaligned, 0, 4 * K,
     Path::Fallback, 0, 4 * K},
    {"always whole-record write without O_DIRECT goes direct", Policy::Always, V23, W, false,
     kAligned, 0, kRecord, Path::Direct, kRecord, 0},
    {"always 1.5 records split", Policy::Always, V23, W, false, kAligned, 0, kRecord + 64 * K,
     Path::Split, kRecord, 64 * K},
    {"always sub-record write falls back", Policy::Always, V23, W, false, kAligned, 4 * K, 8 * K,
     Path::Fallback, 0, 8 * K},
    {"always misaligned write falls back", Policy::Always, V23, W, true, kAligned, 0, kRecord + 512,
     Path::Fallback, 0, kRecord + 512},
};

class PolicyTable : public ::testing::TestWithParam<Row> {};

TEST_P(PolicyTable, RoutesAsTheTableSays) {
  const Row& row = GetParam();
  PolicyConfig config{row.policy, row.semantics, kRecord, 4096};
  const Route r =
      route(config, Request{row.direction, row.offset, row.length, row.buffer, row.app_direct});
  EXPECT_EQ(to_string(r.path), to_string(row.expected));
  EXPECT_EQ(r.direct_bytes(), row.direct_bytes);
  EXPECT_EQ(r.buffered_bytes(), row.buffered_bytes);
  EXPECT_EQ(r.uncached_bytes(), 0u) << "2.3 has no uncached path";
  // Segments tile the request in order, each on one side of the policy.
  std::uint64_t at = row.offset;
  for (unsigned i = 0; i < r.segment_count; ++i) {
    EXPECT_EQ(r.segments[i].offset, at);
    EXPECT_EQ(r.segments[i].buffer_offset, at - row.offset);
    at += r.segments[i].length;
  }
  if (row.expected != Path::Einval) {
    EXPECT_EQ(at, row.offset + row.length);
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, PolicyTable, ::testing::ValuesIn(kTable), [](const auto& info) {
  std::string name = info.param.rule;
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
});

// OpenZFS 2.4 (zfs-2.4.0), our reading of module/zfs/zfs_vnops.c,
// zfs_setup_direct(): `always` adds O_DIRECT to every request; a request
// with O_DIRECT that cannot go direct is served by the ARC as uncached
// I/O (zfs_read/zfs_write then pass DMU_UNCACHEDIO). One row per branch.
struct Row24 {
  const char* rule;
  Policy policy;
  bool strict;  // zfs_dio_strict=1
  Direction direction;
  bool app_direct;
  bool mapped;
  std::uintptr_t buffer;
  std::uint64_t offset;
  std::uint64_t length;
  Path expected;
  std::uint64_t direct_bytes;
  std::uint64_t uncached_bytes;  // the rest is through the ARC, cached
};
std::ostream& operator<<(std::ostream& os, const Row24& r) { return os << r.rule; }

const Row24 k24Table[] = {
    // No O_DIRECT on the request (the `(ioflag & O_DIRECT) == 0` branch).
    {"standard without O_DIRECT stays cached", Policy::Standard, false, R, false, false, kAligned,
     0, 4 * K, Path::Buffered, 0, 0},
    {"disabled without O_DIRECT stays cached", Policy::Disabled, false, W, false, false,
     kMisaligned, 512, 4 * K, Path::Buffered, 0, 0},
    // `!zfs_dio_enabled || os_direct == ZFS_DIRECT_DISABLED`: uncached.
    {"disabled O_DIRECT read is uncached", Policy::Disabled, false, R, true, false, kAligned, 0,
     kRecord, Path::Uncached, 0, kRecord},
    {"disabled O_DIRECT write is uncached", Policy::Disabled, false, W, true, false, kAligned, 0,
     kRecord, Path::Uncached, 0, kRecord},
    {"disabled misaligned O_DIRECT is uncached even when strict", Policy::Disabled, true, R, true,
     false, kMisaligned, 0, 4 * K, Path::Uncached, 0, 4 * K},
    // Misaligned: uncached, or EINVAL if the app asked and strict is set.
    {"standard misaligned length is uncached", Policy::Standard, false, R, true, false, kAligned, 0,
     4 * K + 512, Path::Uncached, 0, 4 * K + 512},
    {"standard misaligned buffer is uncached", Policy::Standard, false, W, true, false, kMisaligned,
     0, kRecord, Path::Uncached, 0, kRecord},
    {"standard misaligned offset strict is EINVAL", Policy::Standard, true, R, true, false,
     kAligned, 512, 4 * K, Path::Einval, 0, 0},
    {"always misaligned without O_DIRECT is uncached even when strict", Policy::Always, true, R,
     false, false, kMisaligned, 0, 4 * K, Path::Uncached, 0, 4 * K},
    {"always misaligned app O_DIRECT strict is EINVAL", Policy::Always, true, W, true, false,
     kAligned, 0, kRecord + 512, Path::Einval, 0, 0},
    {"always misaligned app O_DIRECT not strict is uncached", Policy::Always, false, W, true, false,
     kAligned, 0, kRecord + 512, Path::Uncached, 0, kRecord + 512},
    // zn_has_cached_data: an mmap'ed range is uncached.
    {"standard mmaped range is uncached", Policy::Standard, false, R, true, true, kAligned, 0,
     kRecord, Path::Uncached, 0, kRecord},
    {"always mmaped range is uncached", Policy::Always, false, W, false, true, kAligned, 0, kRecord,
     Path::Uncached, 0, kRecord},
    // `rw == UIO_WRITE && resid < z_blksz`: a short write is uncached.
    {"standard sub-record O_DIRECT write is uncached", Policy::Standard, false, W, true, false,
     kAligned, 0, 4 * K, Path::Uncached, 0, 4 * K},
    {"always sub-record write is uncached", Policy::Always, false, W, false, false, kAligned, 4 * K,
     8 * K, Path::Uncached, 0, 8 * K},
    // Direct: reads page-aligned, writes record by record
    // (dmu_write_uio_dnode), the head and tail uncached.
    {"standard aligned O_DIRECT read goes direct", Policy::Standard, true, R, true, false, kAligned,
     4 * K, 4 * K, Path::Direct, 4 * K, 0},
    {"always aligned read without O_DIRECT goes direct", Policy::Always, false, R, false, false,
     kAligned, 0, kRecord, Path::Direct, kRecord, 0},
    {"standard whole-record write goes direct", Policy::Standard, false, W, true, false, kAligned,
     kRecord, 2 * kRecord, Path::Direct, 2 * kRecord, 0},
    {"always 1.5 records: record direct, tail uncached", Policy::Always, false, W, false, false,
     kAligned, 0, kRecord + 64 * K, Path::Split, kRecord, 64 * K},
    {"standard record-sized write across a boundary is uncached", Policy::Standard, false, W, true,
     false, kAligned, 4 * K, kRecord, Path::Uncached, 0, kRecord},
};

class PolicyTable24 : public ::testing::TestWithParam<Row24> {};

TEST_P(PolicyTable24, RoutesAsZfs240Does) {
  const Row24& row = GetParam();
  PolicyConfig config{row.policy, V24, kRecord, 4096, row.strict};
  Request request{row.direction, row.offset, row.length, row.buffer, row.app_direct};
  request.mapped = row.mapped;
  const Route r = route(config, request);
  EXPECT_EQ(to_string(r.path), to_string(row.expected));
  EXPECT_EQ(r.direct_bytes(), row.direct_bytes);
  EXPECT_EQ(r.uncached_bytes(), row.uncached_bytes);
  if (row.expected != Path::Einval) {
    // 2.4 never keeps in the ARC what was meant to bypass it.
    EXPECT_EQ(r.direct_bytes() + r.buffered_bytes(), row.length);
    if (row.expected != Path::Buffered) {
      EXPECT_EQ(r.buffered_bytes(), r.uncached_bytes());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, PolicyTable24, ::testing::ValuesIn(k24Table), [](const auto& info) {
  std::string name = info.param.rule;
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
});

// 2.3 (zfs-2.3.2, zfs_setup_direct): an mmap'ed range clears O_DIRECT
// before the alignment check, so it is never EINVAL and never direct.
TEST(Policy, Mapped23GoesThroughTheArcWithoutEinval) {
  PolicyConfig config{Policy::Standard, V23, kRecord, 4096};
  Request misaligned{R, 512, 4 * K, kAligned, true};
  misaligned.mapped = true;
  EXPECT_EQ(route(config, misaligned).path, Path::Fallback);
  config.policy = Policy::Always;
  Request aligned{R, 0, kRecord, kAligned, false};
  aligned.mapped = true;
  EXPECT_EQ(route(config, aligned).path, Path::Fallback);
  aligned.mapped = false;
  EXPECT_EQ(route(config, aligned).path, Path::Direct);
}

// zfs_dio_strict is a 2.4 parameter: under 2.3 misaligned O_DIRECT is
// EINVAL under `standard` and cached under `always` whatever it says.
TEST(Policy, StrictChangesNothingIn23) {
  for (bool strict : {false, true}) {
    PolicyConfig config{Policy::Standard, V23, kRecord, 4096, strict};
    EXPECT_EQ(route(config, Request{R, 512, 4 * K, kAligned, true}).path, Path::Einval);
    config.policy = Policy::Always;
    EXPECT_EQ(route(config, Request{R, 512, 4 * K, kAligned, true}).path, Path::Fallback);
  }
}

TEST(Policy, SemanticsLabelsRoundTrip) {
  EXPECT_EQ(semantics_label(V23, false), "2.3");
  EXPECT_EQ(semantics_label(V23, true), "2.3");  // no such parameter in 2.3
  EXPECT_EQ(semantics_label(V24, false), "2.4");
  EXPECT_EQ(semantics_label(V24, true), "2.4-strict");
  const auto strict = parse_semantics_label("2.4-strict");
  ASSERT_TRUE(strict.has_value());
  EXPECT_EQ(strict->semantics, V24);
  EXPECT_TRUE(strict->dio_strict);
  EXPECT_FALSE(parse_semantics_label("2.4-strict ").has_value());
  EXPECT_FALSE(parse_semantics_label("2.3-strict").has_value());
  EXPECT_FALSE(parse_semantics_label("2.4")->dio_strict);
}

// The loop driver under 2.4: its own O_DIRECT over `disabled` is uncached;
// with dio off, `always` turns each page write (under a record) uncached.
TEST(LoopBacking, Semantics24) {
  PolicyConfig c{Policy::Disabled, V24, kRecord, 4096};
  const Request read128k{R, 0, kRecord, kAligned, false};
  EXPECT_EQ(loop_backing_route(c, read128k, true).path, Path::Uncached);
  EXPECT_EQ(loop_backing_route(c, read128k, false).path, Path::Buffered);
  c.policy = Policy::Always;
  const Request write1m{W, 0, 8 * kRecord, kAligned, false};
  const LoopExpectation paged = loop_backing_route(c, write1m, false);
  EXPECT_EQ(paged.path, Path::Uncached);
  EXPECT_EQ(paged.requests, 256u);
  EXPECT_EQ(paged.direct_bytes, 0u);
  const Route model = loop_model_route(c, write1m, false);
  EXPECT_EQ(model.path, Path::Uncached);
  EXPECT_EQ(model.uncached_bytes(), 8 * kRecord);
  // A misaligned app buffer through a dio-on loop device: uncached, not EINVAL.
  c.policy = Policy::Standard;
  c.dio_strict = true;
  const Request odd{R, 0, kRecord, kAligned + 8, false};
  EXPECT_EQ(loop_model_route(c, odd, true).path, Path::Uncached);
}

TEST(Policy, SplitRestIsUncachedOnlyIn24) {
  EXPECT_FALSE(split_rest_uncached(V23));
  EXPECT_TRUE(split_rest_uncached(V24));
  PolicyConfig config{Policy::Always, V24, kRecord, 4096};
  const Route r = route(config, Request{W, 64 * K, 2 * kRecord, kAligned, false});
  ASSERT_EQ(r.segment_count, 3u);
  EXPECT_TRUE(r.segments[0].uncached && !r.segments[1].uncached && r.segments[2].uncached);
}

TEST(Policy, SplitSegmentsAreHeadDirectMiddleTail) {
  PolicyConfig config{Policy::Always, V23, kRecord, 4096};
  const Route r = route(config, Request{W, 64 * K, 2 * kRecord, kAligned, false});
  ASSERT_EQ(r.segment_count, 3u);
  EXPECT_FALSE(r.segments[0].direct);
  EXPECT_EQ(r.segments[0].length, 64 * K);
  EXPECT_TRUE(r.segments[1].direct);
  EXPECT_EQ(r.segments[1].offset, kRecord);
  EXPECT_EQ(r.segments[1].length, kRecord);
  EXPECT_FALSE(r.segments[2].direct);
  EXPECT_EQ(r.segments[2].offset, 2 * kRecord);
}

TEST(Policy, RecordsizeChangesTheSplit) {
  PolicyConfig small{Policy::Always, V23, 4 * K, 4096};
  EXPECT_EQ(route(small, Request{W, 0, 4 * K, kAligned, false}).path, Path::Direct);
  PolicyConfig large{Policy::Always, V23, 1024 * K, 4096};
  EXPECT_EQ(route(large, Request{W, 0, kRecord, kAligned, false}).path, Path::Fallback);
}

TEST(Policy, NamesRoundTrip) {
  for (Policy p : {Policy::Disabled, Policy::Standard, Policy::Always}) {
    EXPECT_EQ(parse_policy(to_string(p)), p);
  }
  EXPECT_EQ(parse_semantics("2.4"), Semantics::V2_4);
  for (Path p : kAllPaths) EXPECT_NE(to_string(p), "?");
  EXPECT_EQ(to_string(Path::Uncached), "uncached");
  EXPECT_FALSE(parse_policy("Always").has_value());
  EXPECT_FALSE(parse_semantics("2.5").has_value());
}

// What the loop driver's requests do on the dataset below it: docs/design.md §3.5's
// ground truth observed on OpenZFS 2.3.2.
TEST(LoopBacking, MatchesGroundTruth) {
  const Request read128k{R, 0, kRecord, kAligned, false};
  PolicyConfig c{Policy::Disabled, V23, kRecord, 4096};
  EXPECT_EQ(loop_backing_route(c, read128k, false).path, Path::Buffered);
  EXPECT_EQ(loop_backing_route(c, read128k, true).path, Path::Buffered);
  c.policy = Policy::Standard;
  EXPECT_EQ(loop_backing_route(c, read128k, false).path, Path::Buffered);
  EXPECT_EQ(loop_backing_route(c, read128k, true).path, Path::Direct);
  c.policy = Policy::Always;
  EXPECT_EQ(loop_backing_route(c, read128k, true).path, Path::Direct);
  const LoopExpectation paged = loop_backing_route(c, read128k, false);
  EXPECT_EQ(paged.path, Path::Direct);
  EXPECT_EQ(paged.requests, 32u);  // one page at a time: the 32x case
  EXPECT_EQ(paged.direct_bytes, kRecord);
}

TEST(LoopBacking, CrashGuardCells) {
  PolicyConfig c;
  const auto direct = [&](Policy p, Direction d, std::uint64_t bytes, bool dio) {
    c.policy = p;
    return loop_requests_take_direct_path(c, d, bytes, dio);
  };
  for (Direction d : {Direction::Read, Direction::Write}) {
    EXPECT_FALSE(direct(Policy::Disabled, d, kRecord, true));
    EXPECT_FALSE(direct(Policy::Standard, d, kRecord, false));
    EXPECT_TRUE(direct(Policy::Standard, d, kRecord, true));
    EXPECT_TRUE(direct(Policy::Always, d, kRecord, true));
  }
  // dio off: the file sees pages. Reads of a page go direct under always;
  // a page-sized write is under a record and stays buffered.
  EXPECT_TRUE(direct(Policy::Always, Direction::Read, 1 << 20, false));
  EXPECT_FALSE(direct(Policy::Always, Direction::Write, 1 << 20, false));
  c.recordsize = 4096;
  EXPECT_TRUE(direct(Policy::Always, Direction::Write, 1 << 20, false));
  // dio on: a 4 KiB write under a 128 KiB record is not direct.
  c.recordsize = kRecord;
  EXPECT_FALSE(direct(Policy::Always, Direction::Write, 4096, true));
}

// The emulated backend's loop model issues what loop_backing_route counts.
TEST(LoopModel, IssuesWhatTheBackingFileWouldSee) {
  PolicyConfig c;
  const Request read128k{Direction::Read, kRecord, kRecord, kAligned, false};
  c.policy = Policy::Always;
  Route r = loop_model_route(c, read128k, false);  // dio off: page by page, direct
  EXPECT_EQ(r.path, Path::Direct);
  EXPECT_EQ(r.direct_piece, 4096u);
  EXPECT_EQ(r.direct_bytes(), kRecord);
  r = loop_model_route(c, read128k, true);  // dio on: one direct request
  EXPECT_EQ(r.path, Path::Direct);
  EXPECT_EQ(r.direct_piece, 0u);
  const Request write1m{Direction::Write, 0, 8 * kRecord, kAligned, false};
  r = loop_model_route(c, write1m, false);  // pages under a record: buffered
  EXPECT_EQ(r.path, Path::Fallback);
  EXPECT_EQ(r.direct_bytes(), 0u);
  c.policy = Policy::Standard;  // the loop driver's own O_DIRECT counts
  EXPECT_EQ(loop_model_route(c, read128k, true).path, Path::Direct);
  EXPECT_EQ(loop_model_route(c, read128k, false).path, Path::Buffered);
  c.policy = Policy::Disabled;
  EXPECT_EQ(loop_model_route(c, read128k, true).path, Path::Buffered);
  // A misaligned app buffer: never EINVAL to the app, served buffered.
  c.policy = Policy::Standard;
  const Request odd{Direction::Read, 0, kRecord, kAligned + 8, false};
  EXPECT_EQ(loop_model_route(c, odd, true).path, Path::Fallback);
  for (bool dio : {false, true}) {
    for (Policy p : {Policy::Disabled, Policy::Standard, Policy::Always}) {
      c.policy = p;
      const LoopExpectation e = loop_backing_route(c, read128k, dio);
      EXPECT_EQ(loop_model_route(c, read128k, dio).direct_bytes(), e.direct_bytes);
    }
  }
}

// A kernel with Linux commit f2fed441c69b hands its backing file the
// whole request with dio off: the policy routes the range as one buffered
// request (measured in the qemu lane on 6.12: 1 MiB writes under `always`
// go direct, where 6.1's page-by-page driver keeps them in the ARC).
TEST(LoopBacking, WholeRequestKernelsRouteTheRange) {
  PolicyConfig c;
  c.policy = Policy::Always;
  c.loop_buffered = LoopBuffered::WholeRequest;
  const Request write1m{Direction::Write, 0, 8 * kRecord, kAligned, false};
  const LoopExpectation e = loop_backing_route(c, write1m, false);
  EXPECT_EQ(e.path, Path::Direct);
  EXPECT_EQ(e.requests, 1u);
  EXPECT_EQ(e.direct_bytes, 8 * kRecord);
  EXPECT_TRUE(loop_workload_takes_direct_path(c, "write", "1m", false));
  // under a record: through the ARC, as an app's write would be
  EXPECT_FALSE(loop_workload_takes_direct_path(c, "randwrite", "4k", false));
  const Route r = loop_model_route(c, write1m, false);
  EXPECT_EQ(r.path, Path::Direct);
  EXPECT_EQ(r.direct_piece, 0u);  // one request, not page by page
  EXPECT_EQ(r.direct_bytes(), e.direct_bytes);
  // Without O_DIRECT `standard` keeps it buffered, as on the older driver.
  c.policy = Policy::Standard;
  EXPECT_EQ(loop_backing_route(c, write1m, false).path, Path::Buffered);
  EXPECT_EQ(loop_model_route(c, write1m, false).path, Path::Buffered);
  // A record-misaligned 1 MiB write: record-aligned middle direct.
  c.policy = Policy::Always;
  const Request shifted{Direction::Write, 4096, 8 * kRecord, kAligned, false};
  const LoopExpectation split = loop_backing_route(c, shifted, false);
  EXPECT_EQ(split.path, Path::Split);
  EXPECT_EQ(split.direct_bytes, 7 * kRecord);
  EXPECT_EQ(split.buffered_bytes, kRecord);
}

TEST(LoopBacking, KernelReleasesThatHandWholeRequests) {
  const auto whole = [](std::string_view r) {
    return loop_buffered_of_kernel(r) == LoopBuffered::WholeRequest;
  };
  EXPECT_FALSE(whole("6.1.0-57-amd64"));  // Debian's 6.1.192: measured page by page
  EXPECT_FALSE(whole("Linux 6.1.0-57-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3"));
  EXPECT_FALSE(whole("6.12.24"));
  EXPECT_TRUE(whole("6.12.25"));
  EXPECT_TRUE(whole("6.12.95+deb12-amd64"));
  EXPECT_TRUE(whole("Linux 6.12.117+deb13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1"));
  EXPECT_FALSE(whole("6.14.3"));
  EXPECT_TRUE(whole("6.14.4"));
  EXPECT_TRUE(whole("6.15.0"));
  EXPECT_TRUE(whole("6.18.44-cloud-amd64"));
  EXPECT_TRUE(whole("7.3.4+deb13-amd64"));
  EXPECT_EQ(parse_loop_buffered(to_string(LoopBuffered::WholeRequest)), LoopBuffered::WholeRequest);
  EXPECT_EQ(parse_loop_buffered(to_string(LoopBuffered::PerPage)), LoopBuffered::PerPage);
  EXPECT_FALSE(parse_loop_buffered("sometimes").has_value());
}

TEST(LoopBacking, WorkloadRuleCoversEveryDirectionItIssues) {
  PolicyConfig c;
  c.policy = Policy::Always;
  EXPECT_FALSE(loop_workload_takes_direct_path(c, "write", "1m", false));
  EXPECT_TRUE(loop_workload_takes_direct_path(c, "randrw", "1m", false));
  EXPECT_TRUE(loop_workload_takes_direct_path(c, "read", "128k", false));
  // A size the rule cannot read counts as direct (the guard refuses).
  EXPECT_TRUE(loop_workload_takes_direct_path(c, "write", "4k-1m", false));
  c.policy = Policy::Disabled;
  EXPECT_FALSE(loop_workload_takes_direct_path(c, "write", "4k-1m", true));
  EXPECT_TRUE(rw_reads("randread") && rw_reads("rw") && !rw_reads("write"));
  EXPECT_TRUE(rw_writes("randwrite") && rw_writes("randrw") && !rw_writes("read"));
}

}  // namespace
}  // namespace diobench
