#include "uring_reads.hpp"

#include <sys/uio.h>

#include <cerrno>
#include <string>

#include "diobench/uring_setup.hpp"
#include "request_timing.hpp"
#include "run_control.hpp"

namespace diobench::bench {

bool UringReads::Open(benchmark::State& state, unsigned depth, std::uint64_t block_bytes,
                      bool fixed_buffers) {
  bs_ = block_bytes;
  fixed_ = fixed_buffers;
  int rc = diobench::init_ring(&ring_, depth);
  if (rc < 0) {
    FailErrno(state, "io_uring_queue_init", -rc);
    return false;
  }
  ring_open_ = true;

  int err = 0;
  if (!buffers_.Allocate(depth * bs_, 4096, &err)) {
    FailErrno(state, "allocate " + std::to_string(depth) + " buffers", err);
    return false;
  }
  slots_.resize(depth);
  std::vector<iovec> iovecs(depth);
  for (unsigned i = 0; i < depth; ++i) {
    slots_[i].buffer = buffers_.data() + i * bs_;
    slots_[i].index = i;
    iovecs[i] = iovec{slots_[i].buffer, bs_};
  }
  if (fixed_) {
    rc = io_uring_register_buffers(&ring_, iovecs.data(), depth);
    if (rc < 0) {
      FailErrno(state, "io_uring_register_buffers", -rc);
      return false;
    }
  }
  return true;
}

int UringReads::Queue(Slot& slot, const UringTarget& target, BlockOrder& order) {
  bool wrapped = false;  // O_DIRECT: a second pass is no warmer
  slot.offset = order.Next(&wrapped);
  int fd = target.raw_fd;
  if (target.routed != nullptr) {
    const diobench::Request request{diobench::Direction::Read, slot.offset, bs_,
                                    reinterpret_cast<std::uintptr_t>(slot.buffer), true};
    const diobench::Route route = diobench::route(target.config, request);
    if (route.path != diobench::Path::Direct || route.segment_count != 1) {
      return -1;
    }
    fd = target.routed->fd_for(route.segments[0]);
  }
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) return EBUSY;  // cannot happen: depth == ring size
  if (fixed_) {
    io_uring_prep_read_fixed(sqe, fd, slot.buffer, static_cast<unsigned>(bs_), slot.offset,
                             static_cast<int>(slot.index));
  } else {
    io_uring_prep_read(sqe, fd, slot.buffer, static_cast<unsigned>(bs_), slot.offset);
  }
  io_uring_sqe_set_data(sqe, &slot);
  slot.submitted_ns = NowNs();
  return 0;
}

void UringReads::Run(benchmark::State& state, const UringTarget& target, BlockOrder& order) {
  RequestClock clock(state);
  auto fail_queue = [&](int err) {
    if (err < 0) {
      Fail(state,
           "route() did not choose the direct path for an aligned "
           "O_DIRECT read");
    } else {
      FailErrno(state, "io_uring_get_sqe", err);
    }
  };
  // Fill the queue before the clock starts.
  for (Slot& slot : slots_) {
    if (const int err = Queue(slot, target, order)) {
      fail_queue(err);
      break;
    }
  }
  if (!state.error_occurred()) {
    const int rc = io_uring_submit(&ring_);
    if (rc < 0) {
      FailErrno(state, "io_uring_submit", -rc);
    } else {
      in_flight_ = static_cast<unsigned>(rc);
    }
  }

  std::uint64_t mark = NowNs();
  for (auto _ : state) {
    if (FailIfInterrupted(state)) break;
    io_uring_cqe* cqe = nullptr;
    int rc;
    do {
      rc = io_uring_wait_cqe(&ring_, &cqe);
    } while (rc == -EINTR && !Interrupted());
    if (rc < 0) {
      if (!FailIfInterrupted(state)) FailErrno(state, "io_uring_wait_cqe", -rc);
      break;
    }
    Slot& slot = *static_cast<Slot*>(io_uring_cqe_get_data(cqe));
    const int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    --in_flight_;
    const std::uint64_t done = NowNs();
    if (res < 0) {
      FailErrno(state,
                "read of " + std::to_string(bs_) + " bytes at " + std::to_string(slot.offset),
                -res);
      break;
    }
    if (static_cast<std::uint64_t>(res) != bs_) {
      Fail(state, "short read at " + std::to_string(slot.offset) + ": " + std::to_string(res) +
                      " of " + std::to_string(bs_) + " bytes");
      break;
    }
    clock.Request(done - slot.submitted_ns);
    if (const int err = Queue(slot, target, order)) {
      fail_queue(err);
      break;
    }
    rc = io_uring_submit(&ring_);
    if (rc < 0) {
      FailErrno(state, "io_uring_submit", -rc);
      break;
    }
    ++in_flight_;
    const std::uint64_t now = NowNs();
    clock.Iteration(state, now - mark);
    mark = now;
  }
  Drain();
  if (!state.error_occurred()) clock.Publish(state, bs_);
}

void UringReads::Drain() noexcept {
  while (in_flight_ > 0) {
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_wait_cqe(&ring_, &cqe);
    if (rc == -EINTR) continue;
    if (rc < 0) break;  // the ring's teardown cancels the rest
    io_uring_cqe_seen(&ring_, cqe);
    --in_flight_;
  }
  in_flight_ = 0;
}

void UringReads::Close() noexcept {
  if (ring_open_) {
    Drain();
    io_uring_queue_exit(&ring_);  // also unregisters the buffers
    ring_open_ = false;
  }
  slots_.clear();
  buffers_.Reset();
}

}  // namespace diobench::bench
