// io_uring drivers: the engine's uring submission (route() per request,
// the O_DIRECT descriptor RoutedFile picks) on the data file, plain vs
// registered (fixed) buffers, at queue depth 1 and 32.
//
//   UringFile/DirectRead/fixed:{0,1}/qd:{1,32}/bs:{4k,64k,1M}
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <exception>
#include <string>

#include "block_order.hpp"
#include "diobench/routed_file.hpp"
#include "request_timing.hpp"
#include "run_control.hpp"
#include "uring_reads.hpp"
#include "workspace.hpp"

namespace diobench::bench {
namespace {

// Args: fixed, qd, bs.
class UringFile : public benchmark::Fixture {
 public:
  using benchmark::Fixture::SetUp;
  using benchmark::Fixture::TearDown;

  void SetUp(benchmark::State& state) override {
    if (FailIfInterrupted(state)) return;
    const bool fixed = state.range(0) != 0;
    const auto depth = static_cast<unsigned>(state.range(1));
    const auto bs = static_cast<std::uint64_t>(state.range(2));
    try {
      const std::string& path = TheWorkspace().DataFile();
      file_ = diobench::RoutedFile::open_emulated(path, O_RDONLY);
    } catch (const std::exception& e) {
      Fail(state, e.what());
      return;
    }
    const off_t bytes = lseek(file_.buffered_fd(), 0, SEEK_END);
    if (bytes < static_cast<off_t>(bs * depth)) {
      Fail(state, "the data file is smaller than " + std::to_string(depth) + " blocks of " +
                      std::to_string(bs) + " bytes");
      return;
    }
    static std::uint64_t runs = 0;
    order_ = BlockOrder(static_cast<std::uint64_t>(bytes), bs, BlockOrder::Kind::Shuffled,
                        (static_cast<std::uint64_t>(getpid()) << 32) ^ ++runs);
    reads_.Open(state, depth, bs, fixed);
  }

  void TearDown(benchmark::State&) override {
    reads_.Close();
    file_.close();
  }

 protected:
  diobench::RoutedFile file_;
  BlockOrder order_;
  UringReads reads_;
};

}  // namespace

BENCHMARK_DEFINE_F(UringFile, DirectRead)(benchmark::State& state) {
  // An aligned O_DIRECT read under `standard`: route() sends it direct.
  UringTarget target;
  target.routed = &file_;
  target.config.policy = diobench::Policy::Standard;
  reads_.Run(state, target, order_);
  if (!state.error_occurred()) {
    state.SetLabel(state.range(0) ? "direct, registered buffers" : "direct, plain buffers");
  }
}
BENCHMARK_REGISTER_F(UringFile, DirectRead)
    ->Apply(RequestDefaults)
    ->ArgNames({"fixed", "qd", "bs"})
    ->ArgsProduct({{0, 1}, {1, 32}, {4 << 10, 64 << 10, 1 << 20}});

}  // namespace diobench::bench
