// Synchronous drivers: one request at a time, routed by the policy model and
// issued by RoutedFile exactly as the fio engine's psync mode does, so the
// per-request cost measured here is the engine's own (route() included).
//
//   HotFile/BufferedRead                 page cache hot
//   ColdFile/BufferedRead                page cache dropped, readahead off
//   ColdFile/DirectRead                  O_DIRECT
//   WriteFile/DirectWrite                O_DIRECT
//   LoopRead/DirectRead/dio:{0,1}        O_DIRECT on /dev/loopN, cold backing
//   ColdFile/AlwaysAlignedDirect         `always`, page-aligned: direct
//   ColdFile/AlwaysMisalignedFallback    `always`, misaligned: fallback
//   HotFile/Standard23EinvalRetry        2.3 `standard`: EINVAL, retry
//   HotFile/Standard23KernelEinvalRetry  the same, paying a real EINVAL
//   HotFile/Standard24Fallback           2.4 `standard`: served uncached
//                                        (RWF_DONTCACHE; the name predates it)
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

#include "aligned_buffer.hpp"
#include "block_order.hpp"
#include "diobench/page_cache.hpp"
#include "diobench/policy.hpp"
#include "diobench/routed_file.hpp"
#include "request_timing.hpp"
#include "run_control.hpp"
#include "workspace.hpp"

namespace diobench::bench {
namespace {

using diobench::Direction;
using diobench::Path;
using diobench::Policy;
using diobench::PolicyConfig;
using diobench::Semantics;

constexpr std::size_t kPage = 4096;
// Where a misaligned request's buffer starts past a page boundary: 16 is
// what malloc guarantees, the usual reason an application's buffer is not
// page-aligned. (Also below ext4's 512-byte O_DIRECT alignment, so the
// kernel itself refuses it with EINVAL, which one driver relies on.)
constexpr std::size_t kMisalignment = 16;

// What an application does when its O_DIRECT request fails with EINVAL.
enum class EinvalRetry {
  kNone,      // it does not: the request must not be refused
  kEmulated,  // retry without O_DIRECT; the refusal came from route()
  kKernel,    // ... and first pay the kernel's own refusal (a real syscall)
};

// One driver's requests: how they are shaped and what route() must say.
struct RequestPlan {
  PolicyConfig config;
  Direction direction = Direction::Read;
  bool app_direct = false;
  std::size_t misalign = 0;
  Path expect = Path::Buffered;  // the first route() of each request
  EinvalRetry retry = EinvalRetry::kNone;
  const char* label = "";
};

PolicyConfig Config(Policy policy, Semantics semantics = Semantics::V2_3,
                    std::uint64_t recordsize = 128 * 1024) {
  PolicyConfig c;
  c.policy = policy;
  c.semantics = semantics;
  c.recordsize = recordsize;
  return c;
}

const RequestPlan kBufferedRead{
    .config = Config(Policy::Standard), .expect = Path::Buffered, .label = "buffered"};
const RequestPlan kDirectRead{.config = Config(Policy::Standard),
                              .app_direct = true,
                              .expect = Path::Direct,
                              .label = "direct"};
// ZFS writes direct one whole record at a time (the rest goes buffered);
// a dataset with recordsize=4k makes every page-aligned write direct, which
// is the path this driver is about.
const RequestPlan kDirectWrite{.config = Config(Policy::Standard, Semantics::V2_3, 4096),
                               .direction = Direction::Write,
                               .app_direct = true,
                               .expect = Path::Direct,
                               .label = "direct (recordsize=4k)"};
// Under `always` the application does not ask for O_DIRECT at all.
const RequestPlan kAlwaysAligned{.config = Config(Policy::Always),
                                 .expect = Path::Direct,
                                 .label = "always, page-aligned: direct"};
const RequestPlan kAlwaysMisaligned{.config = Config(Policy::Always),
                                    .misalign = kMisalignment,
                                    .expect = Path::Fallback,
                                    .label = "always, buffer at page+16: fallback"};
const RequestPlan kStandard23Retry{
    .config = Config(Policy::Standard, Semantics::V2_3),
    .app_direct = true,
    .misalign = kMisalignment,
    .expect = Path::Einval,
    .retry = EinvalRetry::kEmulated,
    .label = "2.3 standard, buffer at page+16: einval, retried buffered"};
const RequestPlan kStandard23KernelRetry{
    .config = Config(Policy::Standard, Semantics::V2_3),
    .app_direct = true,
    .misalign = kMisalignment,
    .expect = Path::Einval,
    .retry = EinvalRetry::kKernel,
    .label =
        "2.3 standard, buffer at page+16: kernel EINVAL, retried "
        "buffered"};
const RequestPlan kStandard24Fallback{.config = Config(Policy::Standard, Semantics::V2_4),
                                      .app_direct = true,
                                      .misalign = kMisalignment,
                                      .expect = Path::Uncached,
                                      .label = "2.4 standard, buffer at page+16: uncached"};

enum class Cache {
  kAny,   // O_DIRECT targets: the page cache is not on the path
  kCold,  // dropped before the run and whenever a pass wraps
  kHot,   // every page resident before the run
};

std::uint64_t Seed() {
  // Each run visits the blocks in a new order, so neither our page cache
  // nor a cache below the guest (the host's) is warmed by the previous run.
  static std::uint64_t runs = 0;
  return (static_cast<std::uint64_t>(getpid()) << 32) ^ ++runs;
}

// Size of a regular file or block device open on `fd` (0 on error).
std::uint64_t TargetBytes(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return 0;
  if (S_ISREG(st.st_mode)) return static_cast<std::uint64_t>(st.st_size);
  std::uint64_t bytes = 0;
  const off_t end = lseek(fd, 0, SEEK_END);  // block devices: their size
  if (end > 0) bytes = static_cast<std::uint64_t>(end);
  lseek(fd, 0, SEEK_SET);
  return bytes;
}

// The state of one run of a synchronous driver, made in SetUp and released
// in TearDown, both outside the timed loop.
class RoutedFixture : public benchmark::Fixture {
 public:
  using benchmark::Fixture::SetUp;
  using benchmark::Fixture::TearDown;

  void TearDown(benchmark::State&) override {
    file_.close();
    if (cache_fd_ >= 0) close(cache_fd_);
    cache_fd_ = -1;
    buffer_.Reset();
    order_ = BlockOrder();
  }

 protected:
  // Opens `target` as the engine does (a buffered and an O_DIRECT
  // descriptor), puts `cache_file` (the target itself, or a loop device's
  // backing file) in the `cache` state, and lays out the run. Failures
  // fail the run; the loop in Run() then does nothing.
  void Prepare(benchmark::State& state, const std::string& target, int flags, Cache cache,
               const std::string& cache_file, std::uint64_t block_bytes) {
    if (FailIfInterrupted(state)) return;
    bs_ = block_bytes;
    cache_ = cache;
    try {
      file_ = diobench::RoutedFile::open_emulated(target, flags);
    } catch (const std::exception& e) {
      Fail(state, e.what());
      return;
    }
    const std::uint64_t bytes = TargetBytes(file_.buffered_fd());
    if (bytes < bs_) {
      Fail(state, target + " is smaller than one " + std::to_string(bs_) + "-byte block");
      return;
    }
    int err = 0;
    // Slack for the misaligned variants, which start kMisalignment in.
    if (!buffer_.Allocate(bs_ + kPage, kPage, &err)) {
      FailErrno(state, "allocate a " + std::to_string(bs_) + "-byte buffer", err);
      return;
    }
    order_ = BlockOrder(bytes, bs_, BlockOrder::Kind::Shuffled, Seed());
    if (cache == Cache::kAny) return;

    cache_fd_ = open(cache_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (cache_fd_ < 0) {
      FailErrno(state, "open " + cache_file, errno);
      return;
    }
    const std::uint64_t cache_bytes = TargetBytes(cache_fd_);
    if (cache == Cache::kCold) {
      if ((err = diobench::drop_cached_pages(cache_fd_)) != 0) {
        FailErrno(state, "drop the page cache of " + cache_file, err);
        return;
      }
      // Our own descriptor only; a loop device reads through its own.
      if ((err = posix_fadvise(file_.buffered_fd(), 0, 0, POSIX_FADV_RANDOM)) != 0) {
        FailErrno(state, "posix_fadvise RANDOM on " + target, err);
        return;
      }
    }
    // Proof, not assumption: what mincore says is resident now. A hot file
    // that lost pages (another driver's memory, or the first run) is read
    // through and counted again.
    std::uint64_t resident = 0, total = 0;
    if ((err = diobench::count_resident(cache_fd_, cache_bytes, &resident, &total)) != 0) {
      FailErrno(state, "mincore " + cache_file, err);
      return;
    }
    if (cache == Cache::kHot && resident < total) {
      if ((err = diobench::read_through(cache_fd_, cache_bytes)) != 0 ||
          (err = diobench::count_resident(cache_fd_, cache_bytes, &resident, &total)) != 0) {
        FailErrno(state, "read " + cache_file + " into the page cache", err);
        return;
      }
    }
    const double pct =
        total ? 100.0 * static_cast<double>(resident) / static_cast<double>(total) : 0.0;
    state.counters["cached_pct_at_start"] = pct;
    if ((cache == Cache::kCold && pct > 1.0) || (cache == Cache::kHot && pct < 99.0)) {
      Fail(state, "page cache of " + cache_file + " is " + std::to_string(pct) +
                      "% resident after " + (cache == Cache::kCold ? "dropping it" : "reading it") +
                      " (mapped elsewhere, or memory pressure?)");
    }
  }

  // The timed loop: one routed request per iteration.
  void Run(benchmark::State& state, const RequestPlan& plan) {
    char* const buf = buffer_.data() + plan.misalign;
    RequestClock clock(state);
    for (auto _ : state) {
      if (FailIfInterrupted(state)) break;
      bool wrapped = false;
      const std::uint64_t offset = order_.Next(&wrapped);
      if (wrapped && cache_ == Cache::kCold) {
        // Every block was read once: make the next pass cold again. Not
        // timed (manual timing), which is why the drivers time themselves.
        if (const int err = diobench::drop_cached_pages(cache_fd_)) {
          FailErrno(state, "drop the page cache", err);
          break;
        }
      }
      diobench::Request request{plan.direction, offset, bs_, reinterpret_cast<std::uintptr_t>(buf),
                                plan.app_direct};

      const std::uint64_t start = NowNs();
      const diobench::Route first = diobench::route(plan.config, request);
      diobench::Route chosen = first;
      int kernel_errno = 0;
      if (first.path == Path::Einval && plan.retry != EinvalRetry::kNone) {
        if (plan.retry == EinvalRetry::kKernel) {
          // The O_DIRECT attempt the application made before learning it
          // was refused; on ZFS 2.3 the refusal is a syscall like this.
          kernel_errno =
              pread(file_.direct_fd(), buf, bs_, static_cast<off_t>(offset)) < 0 ? errno : 0;
        }
        request.app_direct = false;  // the application's buffered retry
        chosen = diobench::route(plan.config, request);
      }
      std::uint64_t resid = 0;
      const int err =
          chosen.path == Path::Einval ? EINVAL : file_.issue(chosen, plan.direction, buf, &resid);
      const std::uint64_t elapsed = NowNs() - start;

      if (first.path != plan.expect) {
        Fail(state, std::string("route() chose ") + std::string(diobench::to_string(first.path)) +
                        ", this driver measures " + std::string(diobench::to_string(plan.expect)));
        break;
      }
      if (plan.retry == EinvalRetry::kKernel && kernel_errno != EINVAL) {
        Fail(state, kernel_errno == 0
                        ? "the kernel accepted a misaligned O_DIRECT read "
                          "here, so its EINVAL cannot be measured"
                        : std::string("misaligned O_DIRECT read: ") + std::strerror(kernel_errno) +
                              " (expected Invalid argument)");
        break;
      }
      if (err != 0) {
        FailErrno(state,
                  std::string(diobench::to_string(plan.direction)) + " of " + std::to_string(bs_) +
                      " bytes at " + std::to_string(offset),
                  err);
        break;
      }
      if (resid != 0) {
        Fail(state, "short " + std::string(diobench::to_string(plan.direction)) + " at " +
                        std::to_string(offset) + ": " + std::to_string(resid) +
                        " bytes not transferred");
        break;
      }
      clock.Iteration(state, elapsed);
      clock.Request(elapsed);
    }
    if (state.error_occurred()) return;
    clock.Publish(state, bs_);
    state.SetLabel(plan.label);
  }

  diobench::RoutedFile file_;
  int cache_fd_ = -1;
  Cache cache_ = Cache::kAny;
  std::uint64_t bs_ = 0;
  AlignedBuffer buffer_;
  BlockOrder order_;
};

// Runs `make` for the workspace path it returns, failing the run with the
// workspace's message when that set-up failed.
template <class Make>
bool WorkspacePath(benchmark::State& state, Make make, std::string* path) {
  try {
    *path = make(TheWorkspace());
    return true;
  } catch (const std::exception& e) {
    Fail(state, e.what());
    return false;
  }
}

// A small file kept entirely in the page cache. Args: bs.
class HotFile : public RoutedFixture {
 public:
  using RoutedFixture::SetUp;
  void SetUp(benchmark::State& state) override {
    std::string path;
    if (!WorkspacePath(
            state, [](Workspace& w) { return w.HotFile(); }, &path))
      return;
    Prepare(state, path, O_RDONLY, Cache::kHot, path, static_cast<std::uint64_t>(state.range(0)));
  }
};

// The large data file with its page cache dropped. Args: bs.
class ColdFile : public RoutedFixture {
 public:
  using RoutedFixture::SetUp;
  void SetUp(benchmark::State& state) override {
    std::string path;
    if (!WorkspacePath(
            state, [](Workspace& w) { return w.DataFile(); }, &path))
      return;
    Prepare(state, path, O_RDONLY, Cache::kCold, path, static_cast<std::uint64_t>(state.range(0)));
  }
};

// The write file (overwritten in place: blocks already allocated, so the
// writes measure the data path, not the allocator). Args: bs.
class WriteFile : public RoutedFixture {
 public:
  using RoutedFixture::SetUp;
  void SetUp(benchmark::State& state) override {
    std::string path;
    if (!WorkspacePath(
            state, [](Workspace& w) { return w.WriteFile(); }, &path))
      return;
    Prepare(state, path, O_RDWR, Cache::kAny, path, static_cast<std::uint64_t>(state.range(0)));
  }
};

// /dev/loopN over the data file, read with O_DIRECT (so the loop device's
// own page cache is not on the path); the backing file's cache is dropped,
// which matters for dio:0, the loop driver's buffered mode. Args: dio, bs.
class LoopRead : public RoutedFixture {
 public:
  using RoutedFixture::SetUp;
  void SetUp(benchmark::State& state) override {
    const bool dio = state.range(0) != 0;
    std::string device, backing;
    if (!WorkspacePath(
            state, [dio](Workspace& w) { return w.Loop(dio).path(); }, &device) ||
        !WorkspacePath(
            state, [](Workspace& w) { return w.DataFile(); }, &backing))
      return;
    Prepare(state, device, O_RDONLY, Cache::kCold, backing,
            static_cast<std::uint64_t>(state.range(1)));
  }
};

}  // namespace

BENCHMARK_DEFINE_F(HotFile, BufferedRead)(benchmark::State& state) { Run(state, kBufferedRead); }
BENCHMARK_REGISTER_F(HotFile, BufferedRead)->Apply(RequestDefaults)->Apply(AllBlockSizes);

BENCHMARK_DEFINE_F(ColdFile, BufferedRead)(benchmark::State& state) { Run(state, kBufferedRead); }
BENCHMARK_REGISTER_F(ColdFile, BufferedRead)->Apply(RequestDefaults)->Apply(AllBlockSizes);

BENCHMARK_DEFINE_F(ColdFile, DirectRead)(benchmark::State& state) { Run(state, kDirectRead); }
BENCHMARK_REGISTER_F(ColdFile, DirectRead)->Apply(RequestDefaults)->Apply(AllBlockSizes);

BENCHMARK_DEFINE_F(WriteFile, DirectWrite)(benchmark::State& state) { Run(state, kDirectWrite); }
BENCHMARK_REGISTER_F(WriteFile, DirectWrite)->Apply(RequestDefaults)->Apply(AllBlockSizes);

BENCHMARK_DEFINE_F(LoopRead, DirectRead)(benchmark::State& state) { Run(state, kDirectRead); }
BENCHMARK_REGISTER_F(LoopRead, DirectRead)
    ->Apply(RequestDefaults)
    ->ArgNames({"dio", "bs"})
    ->ArgsProduct({{0, 1}, kLoopReadSizes});

BENCHMARK_DEFINE_F(ColdFile, AlwaysAlignedDirect)(benchmark::State& state) {
  Run(state, kAlwaysAligned);
}
BENCHMARK_REGISTER_F(ColdFile, AlwaysAlignedDirect)->Apply(RequestDefaults)->Apply(AllBlockSizes);

BENCHMARK_DEFINE_F(ColdFile, AlwaysMisalignedFallback)
(benchmark::State& state) { Run(state, kAlwaysMisaligned); }
BENCHMARK_REGISTER_F(ColdFile, AlwaysMisalignedFallback)
    ->Apply(RequestDefaults)
    ->Apply(AllBlockSizes);

// The 2.3-vs-2.4 comparison runs hot: both end in a buffered read, so the
// cache-hot copy is the smallest background the EINVAL round trip can be
// seen against.
BENCHMARK_DEFINE_F(HotFile, Standard23EinvalRetry)(benchmark::State& state) {
  Run(state, kStandard23Retry);
}
BENCHMARK_REGISTER_F(HotFile, Standard23EinvalRetry)->Apply(RequestDefaults)->Apply(FewBlockSizes);

BENCHMARK_DEFINE_F(HotFile, Standard23KernelEinvalRetry)
(benchmark::State& state) { Run(state, kStandard23KernelRetry); }
BENCHMARK_REGISTER_F(HotFile, Standard23KernelEinvalRetry)
    ->Apply(RequestDefaults)
    ->Apply(FewBlockSizes);

BENCHMARK_DEFINE_F(HotFile, Standard24Fallback)(benchmark::State& state) {
  Run(state, kStandard24Fallback);
}
BENCHMARK_REGISTER_F(HotFile, Standard24Fallback)->Apply(RequestDefaults)->Apply(FewBlockSizes);

}  // namespace diobench::bench
