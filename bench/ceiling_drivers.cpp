// The roofline: what no path can beat on this machine.
//
//   Ceiling/Memcpy/bs      memory-copy bandwidth, the limit of every buffered
//                          path (a page-cache hit is a copy to the user)
//   Ceiling/DirectRead/seq/qd/bs
//                          O_DIRECT reads with registered buffers, the limit
//                          of every direct path: of the block device under
//                          the scratch directory, opened read-only and never
//                          written; where that cannot be opened, of the
//                          large data file (the label and the
//                          on_block_device counter say which)
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

#include "aligned_buffer.hpp"
#include "block_order.hpp"
#include "request_timing.hpp"
#include "run_control.hpp"
#include "uring_reads.hpp"
#include "workspace.hpp"

namespace diobench::bench {
namespace {

// Larger than any last-level cache, so the copy streams from memory as a
// cold page-cache hit does; the destination is reused, as a user buffer is.
constexpr std::size_t kMemcpySource = std::size_t{256} << 20;

// Args: bs.
class Memory : public benchmark::Fixture {
 public:
  using benchmark::Fixture::SetUp;
  using benchmark::Fixture::TearDown;
  void SetUp(benchmark::State& state) override {
    if (FailIfInterrupted(state)) return;
    const auto bs = static_cast<std::size_t>(state.range(0));
    int err = 0;
    // The source is kept from run to run: filling 256 MiB costs more than
    // a smoke run measures, and its content does not matter.
    if ((source_.size() == 0 && !source_.Allocate(kMemcpySource, 4096, &err)) ||
        !destination_.Allocate(bs, 4096, &err)) {
      FailErrno(state, "allocate the copy buffers", err);
    }
  }
  void TearDown(benchmark::State&) override { destination_.Reset(); }

 protected:
  AlignedBuffer source_;
  AlignedBuffer destination_;
};

// Args: seq, qd, bs.
class Device : public benchmark::Fixture {
 public:
  using benchmark::Fixture::SetUp;
  using benchmark::Fixture::TearDown;
  void SetUp(benchmark::State& state) override {
    if (FailIfInterrupted(state)) return;
    const bool sequential = state.range(0) != 0;
    const auto depth = static_cast<unsigned>(state.range(1));
    const auto bs = static_cast<std::uint64_t>(state.range(2));
    try {
      target_ = TheWorkspace().Ceiling();
    } catch (const std::exception& e) {
      Fail(state, e.what());
      return;
    }
    // Read-only, always: this may be the disk holding the root filesystem.
    fd_ = open(target_.path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    if (fd_ < 0) {
      FailErrno(state, "open " + target_.path, errno);
      return;
    }
    static std::uint64_t runs = 0;
    order_ = BlockOrder(target_.bytes, bs,
                        sequential ? BlockOrder::Kind::Sequential : BlockOrder::Kind::Shuffled,
                        (static_cast<std::uint64_t>(getpid()) << 32) ^ ++runs);
    reads_.Open(state, depth, bs, true);
  }
  void TearDown(benchmark::State&) override {
    reads_.Close();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 protected:
  CeilingTarget target_;
  int fd_ = -1;
  BlockOrder order_;
  UringReads reads_;
};

}  // namespace

BENCHMARK_DEFINE_F(Memory, Memcpy)(benchmark::State& state) {
  const auto bs = static_cast<std::size_t>(state.range(0));
  std::size_t at = 0;
  // Automatic real time: one memcpy is too short (~0.3 us at 4k) to time
  // on its own without the clock reads showing in the result.
  for (auto _ : state) {
    std::memcpy(destination_.data(), source_.data() + at, bs);
    benchmark::DoNotOptimize(destination_.data());
    benchmark::ClobberMemory();
    at += bs;
    if (at + bs > kMemcpySource) at = 0;
  }
  if (!state.error_occurred()) {
    SetRateCounters(state, static_cast<std::uint64_t>(state.iterations()), bs);
    state.SetLabel("memcpy from a 256 MiB source");
  }
}
BENCHMARK_REGISTER_F(Memory, Memcpy)
    ->Name("Ceiling/Memcpy")
    ->Apply(RealTimeDefaults)
    ->Apply(AllBlockSizes);

BENCHMARK_DEFINE_F(Device, DirectRead)(benchmark::State& state) {
  UringTarget target;
  target.raw_fd = fd_;  // no policy: the raw limit
  reads_.Run(state, target, order_);
  if (!state.error_occurred()) {
    state.counters["on_block_device"] = target_.block_device ? 1 : 0;
    state.SetLabel(target_.label);
  }
}
// The three shapes the fio cells are compared against: sequential 1M at
// QD32 (bandwidth), random 4k at QD32 (IOPS) and at QD1 (latency).
BENCHMARK_REGISTER_F(Device, DirectRead)
    ->Name("Ceiling/DirectRead")
    ->Apply(RequestDefaults)
    ->ArgNames({"seq", "qd", "bs"})
    ->Args({1, 32, 1 << 20})
    ->Args({0, 32, 4 << 10})
    ->Args({0, 1, 4 << 10});

}  // namespace diobench::bench
