// O_DIRECT reads kept `depth` deep on one io_uring: every completion is
// replaced by a new request at once, so the queue never drains while the
// clock runs. With fixed buffers the buffers are registered with the ring
// (IORING_OP_READ_FIXED: the kernel pins them once, not per request).
//
// One benchmark iteration is one completion; its time is the interval
// since the previous completion was replaced, i.e. the amortised cost of a
// request at that depth (1 / IOPS). Each request's submit-to-completion
// latency feeds the lat_* counters.
#pragma once

#include <benchmark/benchmark.h>
#include <liburing.h>

#include <cstdint>
#include <vector>

#include "aligned_buffer.hpp"
#include "block_order.hpp"
#include "diobench/policy.hpp"
#include "diobench/routed_file.hpp"

namespace diobench::bench {

// Where the requests go. Routed (the engine's uring mode): each request is
// routed under `config` and issued on the descriptor RoutedFile picks for
// it, and must come out on the direct path. Raw (the device ceiling): all
// go to `raw_fd`, which the caller opened with O_DIRECT.
struct UringTarget {
  const diobench::RoutedFile* routed = nullptr;
  diobench::PolicyConfig config;
  int raw_fd = -1;
};

class UringReads {
 public:
  UringReads() = default;
  ~UringReads() { Close(); }
  UringReads(const UringReads&) = delete;
  UringReads& operator=(const UringReads&) = delete;

  // Ring, buffers and (fixed) their registration; fails the run on error.
  bool Open(benchmark::State& state, unsigned depth, std::uint64_t block_bytes, bool fixed_buffers);
  // The timed loop. `order` supplies the offsets.
  void Run(benchmark::State& state, const UringTarget& target, BlockOrder& order);
  void Close() noexcept;

 private:
  struct Slot {
    char* buffer = nullptr;
    unsigned index = 0;  // registered buffer index
    std::uint64_t offset = 0;
    std::uint64_t submitted_ns = 0;
  };
  // Prepares one read for `slot`; 0, an errno value, or -1 when route()
  // did not choose the direct path.
  int Queue(Slot& slot, const UringTarget& target, BlockOrder& order);
  // Reaps what is still in flight, so the buffers can be freed.
  void Drain() noexcept;

  io_uring ring_{};
  bool ring_open_ = false;
  bool fixed_ = false;
  std::uint64_t bs_ = 0;
  unsigned in_flight_ = 0;
  AlignedBuffer buffers_;
  std::vector<Slot> slots_;
};

}  // namespace diobench::bench
