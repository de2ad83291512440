// The engine's C++ core: opens each target twice (a buffered and an
// O_DIRECT descriptor), asks the policy model where every request goes,
// issues it there with pread/pwrite or io_uring, and counts it.
//
// On a ZFS dataset the kernel applies the real policy, so the core does
// not emulate: it issues the request exactly as the application asked and
// counts the split the model expects, for the runner to hold against the
// pool's iostats.
//
// A loop device on the emulated backend: the policy acts where ZFS would
// apply it, on what the loop driver sends its backing file, so the core
// serves the request through the model of the loop driver
// (loop_model_route) on the backing file itself; the kernel's loop
// device is only where the runner keeps the dio mode and the backing file.
//
// No exception leaves this file: every extern "C" entry point catches.

#include <fcntl.h>
#include <liburing.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "diobench/kernel.hpp"
#include "diobench/page_cache.hpp"
#include "diobench/path_counters.hpp"
#include "diobench/policy.hpp"
#include "diobench/routed_file.hpp"
#include "diobench/target.hpp"
#include "diobench/uring_setup.hpp"
#include "engine_api.h"

namespace diobench::engine {
namespace {

enum class Backend { Emulated, Zfs };

// Returned by a uring completion: the fio io_u and how it ended.
// queue_ring's answer for a request that needs more SQEs than the ring has.
constexpr int DBE_TOO_BIG = -1;

struct Completion {
  void* cookie = nullptr;
  int error = 0;
  unsigned long long resid = 0;
};

}  // namespace

// Who decides where a request goes.
enum class Serving {
  Policy,     // emulated file: route() on the app's request
  LoopModel,  // emulated loop device: the loop driver's model on its backing file
  AsAsked,    // zfs: the kernel applies the policy; the model only predicts
};

struct OpenTarget {
  RoutedFile file;        // zfs backend: one descriptor with the app's own flags
  std::string file_path;  // what `file` opened (a loop target: its backing file)
  TargetInfo info;
  Backend backend = Backend::Emulated;
  Serving serving = Serving::Policy;
  PolicyConfig config;  // recordsize may come from the dataset
};

// One io_u in flight on the ring: up to three SQEs (split writes).
struct InFlight {
  void* cookie = nullptr;
  unsigned pending = 0;
  int error = 0;
  unsigned long long length = 0;  // bytes asked for, over all segments
  unsigned long long done = 0;    // bytes the completions reported
};

class Engine {
 public:
  explicit Engine(const dbe_settings& s);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int open(const char* path, OpenTarget** out, int* fio_fd);
  int close(OpenTarget* t);
  int queue(OpenTarget* t, int ddir, void* buf, unsigned long long len, unsigned long long offset,
            void* cookie, int* error, unsigned long long* resid) noexcept;
  int commit();
  int getevents(unsigned min, unsigned max, const timespec* t);
  const Completion& event(int i) const { return batch_.at(i); }
  int write_sidecar();

  std::string last_error;

 private:
  // Where the request goes, counted in the sidecar's buckets.
  Route plan(const OpenTarget* t, const Request& request) noexcept;
  // Counts what the backing file (or dataset) is expected to see.
  void count_expected(const OpenTarget* t, const Request& request) noexcept;
  // Syncs and anything that is neither a read nor a write.
  int queue_other(OpenTarget* t, int ddir, void* cookie, int* error) noexcept;
  int queue_ring(const OpenTarget* t, const Route& r, Direction dir, void* buf,
                 unsigned long long len, void* cookie) noexcept;
  int queue_ring_sync(OpenTarget* t, int ddir, void* cookie) noexcept;
  // Moves finished io_us from the completion queue into batch_ (at most
  // `max` in all); returns the CQEs consumed.
  unsigned reap(unsigned max);
  // 2.4 on the emulated backend: whether the target takes RWF_DONTCACHE,
  // said in the sidecar (uncached_io).
  void note_uncached_io(const OpenTarget& t);
  // An uncached request failed with EOPNOTSUPP: say why, once.
  void say_uncached_refused() noexcept;
  bool uncached_refused_said_ = false;

  dbe_settings settings_;
  bool app_direct_ = false;
  std::string counters_file_;
  std::string job_name_;
  PolicyConfig config_;
  JobCounters sidecar_;
  bool have_target_ = false;

  bool uring_ = false;
  io_uring ring_{};
  std::vector<InFlight> slots_;
  std::vector<InFlight*> free_slots_;
  std::vector<Completion> batch_;  // the completions getevents returned
};

Engine::Engine(const dbe_settings& s)
    : settings_(s),
      counters_file_(s.counters ? s.counters : ""),
      job_name_(s.job_name ? s.job_name : "") {
  settings_.counters = nullptr;  // owned copies above
  app_direct_ = s.app_direct != 0;
  settings_.job_name = nullptr;
  config_.policy = static_cast<Policy>(s.policy);
  config_.semantics = static_cast<Semantics>(s.semantics);
  config_.recordsize = s.recordsize;
  config_.dio_strict = s.dio_strict != 0;
  if (s.policy < 0 || s.policy > 2 || s.semantics < 0 || s.semantics > 1) {
    throw std::invalid_argument("invalid policy or semantics value");
  }
  if (config_.dio_strict && config_.semantics != Semantics::V2_4) {
    throw std::invalid_argument(
        "zfs_dio_strict=1 needs semantics=2.4 (OpenZFS 2.3 has no such parameter)");
  }
  if (s.recordsize < 512 || s.recordsize > (16u << 20) ||
      (s.recordsize & (s.recordsize - 1)) != 0) {
    throw std::invalid_argument("recordsize=" + std::to_string(s.recordsize) +
                                " must be a power of two from 512 to 16M");
  }
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0) config_.page_size = static_cast<std::uint64_t>(page);
  config_.loop_buffered = s.loop_buffered == DBE_LOOP_PER_PAGE        ? LoopBuffered::PerPage
                          : s.loop_buffered == DBE_LOOP_WHOLE_REQUEST ? LoopBuffered::WholeRequest
                                                                      : running_loop_buffered();
  sidecar_.job = job_name_;
  sidecar_.jobnum = s.jobnum;
  sidecar_.config = config_;
  sidecar_.submit = s.submit == DBE_SUBMIT_URING ? "uring" : "psync";

  if (s.submit == DBE_SUBMIT_URING) {
    // Room for every io_u split in three, or in pages (the loop model with
    // dio off); fio never exceeds iodepth. The kernel caps a ring at 32768.
    const unsigned depth = s.iodepth ? s.iodepth : 1;
    const unsigned long long pages = (s.max_bs + config_.page_size - 1) / config_.page_size;
    const unsigned long long per_io = std::max(3ull, pages);
    unsigned entries = 1;
    while (entries < depth * per_io && entries < 32768) entries <<= 1;
    const int rc = init_ring(&ring_, entries);
    if (rc < 0) {
      throw std::system_error(-rc, std::generic_category(), "io_uring_queue_init");
    }
    uring_ = true;
    slots_.resize(depth);
    for (InFlight& slot : slots_) free_slots_.push_back(&slot);
    batch_.reserve(depth);
  }
}

Engine::~Engine() {
  if (uring_) io_uring_queue_exit(&ring_);
}

int Engine::open(const char* path, OpenTarget** out, int* fio_fd) {
  auto t = std::make_unique<OpenTarget>();
  t->info = probe_target(path);
  const bool on_zfs = t->info.fs_type == "zfs";
  switch (settings_.backend) {
    case DBE_BACKEND_EMULATED:
      t->backend = Backend::Emulated;
      break;
    case DBE_BACKEND_ZFS:
      t->backend = Backend::Zfs;
      break;
    default:
      t->backend = on_zfs ? Backend::Zfs : Backend::Emulated;
      break;
  }
  t->config = config_;
  if (t->backend == Backend::Zfs && settings_.loop_buffered != DBE_LOOP_KERNEL) {
    // The kernel's own loop driver serves these requests: a model of
    // another one would count a split the pool does not take.
    last_error = "loop_buffered=" + std::string(to_string(config_.loop_buffered)) +
                 " is for the emulated backend: on ZFS the kernel's loop driver (" +
                 std::string(to_string(running_loop_buffered())) + ") decides";
    return EINVAL;
  }
  if (t->backend == Backend::Zfs && t->info.zfs) {
    const ZfsDataset& ds = *t->info.zfs;
    if (!ds.direct.empty() && ds.direct != to_string(config_.policy)) {
      last_error = "dataset " + ds.name + " has direct=" + ds.direct +
                   " but the job says policy=" + std::string(to_string(config_.policy));
      return EINVAL;
    }
    if (ds.recordsize) t->config.recordsize = ds.recordsize;
  }

  int flags = settings_.writable ? O_RDWR : O_RDONLY;
  if (settings_.app_sync) flags |= O_SYNC;
  if (settings_.writable && t->info.kind == TargetKind::File) flags |= O_CREAT;
  if (t->backend == Backend::Zfs) {
    // The kernel decides on the zfs backend: pass the app's flags through.
    t->serving = Serving::AsAsked;
    t->file = RoutedFile::open_as_asked(path, flags | (app_direct_ ? O_DIRECT : 0));
  } else if (t->info.kind == TargetKind::Loop && t->info.loop) {
    t->serving = Serving::LoopModel;
    // What went through the kernel's loop device before (a prefill) must
    // be in the backing file, and its cache must not outlive our writes.
    drop_cached_pages(path);
    t->file = RoutedFile::open_emulated(t->info.loop->backing_file, flags);
    t->file_path = t->info.loop->backing_file;
  } else {
    t->file = RoutedFile::open_emulated(path, flags);
    t->file_path = path;
  }
  if (t->serving != Serving::AsAsked && t->config.semantics == Semantics::V2_4) {
    note_uncached_io(*t);
  }
  if (!have_target_) {  // the sidecar describes the job's first target
    sidecar_.target = t->info;
    sidecar_.backend = t->backend == Backend::Zfs ? "zfs" : "emulated";
    if (t->info.loop) sidecar_.loop_driver = t->serving == Serving::LoopModel ? "model" : "kernel";
    sidecar_.config = t->config;
    have_target_ = true;
  }
  *fio_fd = t->file.buffered_fd();
  *out = t.release();
  return 0;
}

void Engine::note_uncached_io(const OpenTarget& t) {
  const int err = probe_dontcache(t.file.buffered_fd());
  if (err == 0) {
    sidecar_.uncached_io = "RWF_DONTCACHE";
    return;
  }
  sidecar_.uncached_io = "unsupported: RWF_DONTCACHE on " + t.file_path + ": " +
                         std::strerror(err) + " (kernel " + kernel_release() +
                         "; Linux 6.14 or later and a filesystem that supports it are needed)";
}

void Engine::say_uncached_refused() noexcept {
  if (uncached_refused_said_) return;
  uncached_refused_said_ = true;
  std::fprintf(stderr,
               "diobench: the 2.4 model serves this request uncached, and the kernel refused "
               "RWF_DONTCACHE (%s): the cell fails rather than run it cached\n",
               sidecar_.uncached_io.c_str());
}

int Engine::close(OpenTarget* t) {
  std::unique_ptr<OpenTarget> owned(t);
  const int rc = t->file.close();
  // The loop device's cache may hold pages the model has since rewritten.
  if (t->serving == Serving::LoopModel) drop_cached_pages(t->info.path);
  return rc;
}

void Engine::count_expected(const OpenTarget* t, const Request& request) noexcept {
  const Direction dir = request.direction;
  if (t->info.kind == TargetKind::Loop && t->info.loop) {
    const LoopExpectation e = loop_backing_route(t->config, request, t->info.loop->direct_io);
    sidecar_.counters.count(dir, e.path, e.requests, e.direct_bytes, e.buffered_bytes);
  } else {
    sidecar_.counters.count(dir, route(t->config, request), request.length);
  }
}

Route Engine::plan(const OpenTarget* t, const Request& request) noexcept {
  switch (t->serving) {
    case Serving::LoopModel:
      count_expected(t, request);
      return loop_model_route(t->config, request, t->info.loop->direct_io);
    case Serving::AsAsked: {
      // One segment on the descriptor that carries the app's flags.
      count_expected(t, request);
      Route as_asked;
      as_asked.segments[0] = Segment{request.offset, request.length, 0, false, false};
      as_asked.segment_count = 1;
      return as_asked;
    }
    case Serving::Policy:
      break;
  }
  const Route r = route(t->config, request);
  sidecar_.counters.count(request.direction, r, request.length);
  return r;
}

namespace {

// The SQEs a route takes: one per segment, or one per piece of a direct
// segment that goes page by page.
unsigned sqes_for(const Route& r) {
  unsigned n = 0;
  for (unsigned i = 0; i < r.segment_count; ++i) {
    const Segment& seg = r.segments[i];
    const std::uint64_t piece = seg.direct && r.direct_piece ? r.direct_piece : seg.length;
    n += static_cast<unsigned>((seg.length + piece - 1) / piece);
  }
  return n;
}

}  // namespace

int Engine::queue_ring(const OpenTarget* t, const Route& r, Direction dir, void* buf,
                       unsigned long long len, void* cookie) noexcept {
  const unsigned sqes = sqes_for(r);
  if (free_slots_.empty() || io_uring_sq_space_left(&ring_) < sqes) {
    // A request larger than the whole ring can never fit: say so.
    if (sqes > ring_.sq.ring_entries) return DBE_TOO_BIG;
    return DBE_BUSY;
  }
  InFlight* slot = free_slots_.back();
  free_slots_.pop_back();
  *slot = InFlight{cookie, sqes, 0, len, 0};
  char* base = static_cast<char*>(buf);
  for (unsigned i = 0; i < r.segment_count; ++i) {
    const Segment& seg = r.segments[i];
    const int fd = t->file.fd_for(seg);
    const std::uint64_t piece = seg.direct && r.direct_piece ? r.direct_piece : seg.length;
    for (std::uint64_t done = 0; done < seg.length; done += piece) {
      const auto n = static_cast<unsigned>(std::min(piece, seg.length - done));
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (dir == Direction::Read) {
        io_uring_prep_read(sqe, fd, base + seg.buffer_offset + done, n, seg.offset + done);
      } else {
        io_uring_prep_write(sqe, fd, base + seg.buffer_offset + done, n, seg.offset + done);
      }
      if (seg.uncached) sqe->rw_flags = kRwfDontcache;
      io_uring_sqe_set_data(sqe, slot);
    }
  }
  return DBE_QUEUED;
}

int Engine::queue_ring_sync(OpenTarget* t, int ddir, void* cookie) noexcept {
  if (free_slots_.empty() || io_uring_sq_space_left(&ring_) < 1) return DBE_BUSY;
  InFlight* slot = free_slots_.back();
  free_slots_.pop_back();
  *slot = InFlight{cookie, 1, 0, 0, 0};
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  io_uring_prep_fsync(sqe, t->file.buffered_fd(), ddir == DBE_DATASYNC ? IORING_FSYNC_DATASYNC : 0);
  io_uring_sqe_set_data(sqe, slot);
  return DBE_QUEUED;
}

// The per-request path; kept short (see scripts/bench-engine-overhead).
int Engine::queue(OpenTarget* t, int ddir, void* buf, unsigned long long len,
                  unsigned long long offset, void* cookie, int* error,
                  unsigned long long* resid) noexcept {
  if (ddir != DBE_READ && ddir != DBE_WRITE) {
    return queue_other(t, ddir, cookie, error);
  }
  const Direction dir = ddir == DBE_READ ? Direction::Read : Direction::Write;
  const Request request{dir, offset, len, reinterpret_cast<std::uintptr_t>(buf), app_direct_};
  const Route r = plan(t, request);
  if (r.path == Path::Einval) {
    *error = EINVAL;
    return DBE_COMPLETED;
  }
  if (uring_) {
    const int status = queue_ring(t, r, dir, buf, len, cookie);
    if (status != DBE_TOO_BIG) return status;
    *error = E2BIG;
    return DBE_COMPLETED;
  }
  std::uint64_t rest = 0;
  *error = t->file.issue(r, dir, buf, &rest);
  if (*error == EOPNOTSUPP && r.uncached_bytes() > 0) say_uncached_refused();
  *resid = rest;
  return DBE_COMPLETED;
}

int Engine::queue_other(OpenTarget* t, int ddir, void* cookie, int* error) noexcept {
  if (ddir == DBE_SYNC || ddir == DBE_DATASYNC) {
    if (uring_) return queue_ring_sync(t, ddir, cookie);
    const int fd = t->file.buffered_fd();
    const int rc = ddir == DBE_SYNC ? ::fsync(fd) : ::fdatasync(fd);
    *error = rc == 0 ? 0 : errno;
    return DBE_COMPLETED;
  }
  *error = EOPNOTSUPP;  // trim and the like
  return DBE_COMPLETED;
}

int Engine::commit() {
  if (!uring_) return 0;
  while (io_uring_sq_ready(&ring_) > 0) {
    const int rc = io_uring_submit(&ring_);
    if (rc == -EINTR) continue;
    if (rc == -EAGAIN || rc == -EBUSY) {  // transient: kernel resources
      sched_yield();
      continue;
    }
    if (rc < 0) return rc;
  }
  return 0;
}

unsigned Engine::reap(unsigned max) {
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    if (batch_.size() >= max) break;  // the rest stay for the next call
    ++seen;
    auto* slot = static_cast<InFlight*>(io_uring_cqe_get_data(cqe));
    if (cqe->res < 0) {
      if (cqe->res == -EOPNOTSUPP && sidecar_.uncached_io.rfind("unsupported", 0) == 0) {
        say_uncached_refused();
      }
      if (slot->error == 0) slot->error = -cqe->res;
    } else {
      slot->done += static_cast<unsigned long long>(cqe->res);
    }
    if (--slot->pending == 0) {
      const unsigned long long resid = slot->done < slot->length ? slot->length - slot->done : 0;
      batch_.push_back(Completion{slot->cookie, slot->error, resid});
      free_slots_.push_back(slot);
    }
  }
  io_uring_cq_advance(&ring_, seen);
  return seen;
}

int Engine::getevents(unsigned min, unsigned max, const timespec* t) {
  batch_.clear();
  if (!uring_) return 0;
  if (io_uring_sq_ready(&ring_) > 0) {
    const int rc = commit();
    if (rc < 0) return rc;
  }
  reap(max);
  while (batch_.size() < min) {
    // Entering the kernel also runs deferred completion work
    // (IORING_SETUP_DEFER_TASKRUN), which a plain peek would not.
    io_uring_cqe* cqe = nullptr;
    int rc;
    if (t) {
      __kernel_timespec ts{t->tv_sec, t->tv_nsec};
      rc = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
    } else {
      rc = io_uring_wait_cqe(&ring_, &cqe);
    }
    if (rc == -ETIME) break;
    if (rc < 0 && rc != -EINTR) return rc;
    reap(max);
  }
  return static_cast<int>(batch_.size());
}

int Engine::write_sidecar() {
  if (counters_file_.empty()) return 0;
  const int err = append_sidecar(counters_file_, sidecar_line(sidecar_));
  if (err) {
    last_error = "counters file " + counters_file_ + ": " + std::strerror(err);
  }
  return err;
}

}  // namespace diobench::engine

// The opaque handles of engine_api.h.
struct dbe_engine {
  diobench::engine::Engine impl;
};
struct dbe_file {
  diobench::engine::OpenTarget* target;
};

namespace {

void copy_error(char* out, size_t len, const std::string& what) {
  if (out && len) {
    std::strncpy(out, what.c_str(), len - 1);
    out[len - 1] = '\0';
  }
}

// Runs `body` and turns any exception into an errno-style failure.
template <typename F>
int guarded(dbe_engine* e, F&& body) {
  try {
    return body();
  } catch (const std::system_error& ex) {
    if (e) e->impl.last_error = ex.what();
    return ex.code().value() ? ex.code().value() : EIO;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  } catch (const std::exception& ex) {
    if (e) e->impl.last_error = ex.what();
    return EINVAL;
  } catch (...) {
    return EIO;
  }
}

}  // namespace

extern "C" {

dbe_engine* dbe_create(const dbe_settings* s, char* err, size_t errlen) {
  try {
    return new dbe_engine{diobench::engine::Engine(*s)};
  } catch (const std::exception& ex) {
    copy_error(err, errlen, ex.what());
  } catch (...) {
    copy_error(err, errlen, "unknown failure");
  }
  return nullptr;
}

int dbe_destroy(dbe_engine* e, char* err, size_t errlen) {
  if (!e) return 0;
  const int rc = guarded(e, [&] { return e->impl.write_sidecar(); });
  if (rc) copy_error(err, errlen, e->impl.last_error);
  delete e;
  return rc;
}

const char* dbe_last_error(const dbe_engine* e) { return e ? e->impl.last_error.c_str() : ""; }

int dbe_open(dbe_engine* e, const char* path, dbe_file** file, int* fio_fd) {
  return guarded(e, [&] {
    diobench::engine::OpenTarget* t = nullptr;
    const int rc = e->impl.open(path, &t, fio_fd);
    if (rc == 0) *file = new dbe_file{t};
    return rc;
  });
}

int dbe_close(dbe_engine* e, dbe_file* file) {
  if (!file) return 0;
  const int rc = guarded(e, [&] { return e->impl.close(file->target); });
  delete file;
  return rc;
}

int dbe_queue(dbe_engine* e, dbe_file* file, int ddir, void* buf, unsigned long long len,
              unsigned long long offset, void* cookie, int* error, unsigned long long* resid) {
  // Engine::queue is noexcept (no allocation, nothing that throws), so
  // the per-request call needs no guard.
  return e->impl.queue(file->target, ddir, buf, len, offset, cookie, error, resid);
}

int dbe_commit(dbe_engine* e) {
  int result = 0;
  const int rc = guarded(e, [&] {
    result = e->impl.commit();
    return 0;
  });
  return rc ? -rc : result;
}

int dbe_getevents(dbe_engine* e, unsigned int min, unsigned int max, const struct timespec* t) {
  int result = 0;
  const int rc = guarded(e, [&] {
    result = e->impl.getevents(min, max, t);
    return 0;
  });
  return rc ? -rc : result;
}

void* dbe_event(dbe_engine* e, int i, int* error, unsigned long long* resid) {
  void* cookie = nullptr;
  const int rc = guarded(e, [&] {
    const diobench::engine::Completion& c = e->impl.event(i);
    cookie = c.cookie;
    *error = c.error;
    *resid = c.resid;
    return 0;
  });
  if (rc) *error = rc;
  return cookie;
}

}  // extern "C"
