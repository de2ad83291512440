// Per-direction counts of which path served each request, and the
// counters sidecar line the engine appends for every fio job (docs/design.md §5,
// "Engine counters sidecar").
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "diobench/policy.hpp"
#include "diobench/target.hpp"

namespace diobench {

struct PathBucket {
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  // Only meaningful for Path::Split: how the bytes divided.
  std::uint64_t direct_bytes = 0;
  std::uint64_t buffered_bytes = 0;
};

class PathCounters {
 public:
  // One request served as `route`; `length` is what was asked (an Einval
  // route moves no bytes but still counts the request and its size).
  void count(Direction direction, const Route& route, std::uint64_t length) {
    PathBucket& b = buckets_[index(direction)][index(route.path)];
    ++b.requests;
    b.bytes += length;
    if (route.path == Path::Split) {
      b.direct_bytes += route.direct_bytes();
      b.buffered_bytes += route.buffered_bytes();
    }
  }
  // `requests` requests on `path`, moving the given bytes each way.
  void count(Direction direction, Path path, std::uint64_t requests, std::uint64_t direct_bytes,
             std::uint64_t buffered_bytes);
  const PathBucket& bucket(Direction direction, Path path) const {
    return buckets_[index(direction)][index(path)];
  }
  std::uint64_t requests(Direction direction) const;
  PathCounters& operator+=(const PathCounters& other);
  // "direct 97% fallback 3%": each path's share of the requests, in
  // bucket order, non-zero ones only; "-" when there were none.
  std::string shares(Direction direction) const;

  nlohmann::json to_json(Direction direction) const;
  static PathCounters from_json(const nlohmann::json& sidecar_line);

 private:
  static constexpr std::size_t kPaths = kAllPaths.size();
  static std::size_t index(Direction d) { return static_cast<std::size_t>(d); }
  static std::size_t index(Path p) { return static_cast<std::size_t>(p); }
  std::array<std::array<PathBucket, kPaths>, 2> buckets_{};
};

// Everything one sidecar line says about a job.
struct JobCounters {
  std::string job;
  int jobnum = 0;
  PolicyConfig config;
  std::string submit;   // "psync" | "uring"
  std::string backend;  // "emulated" | "zfs"
  TargetInfo target;
  // Loop targets: "kernel" (the kernel's loop driver served the requests)
  // or "model" (the emulated backend's model of it, on the backing file).
  std::string loop_driver;
  // Emulated 2.4: how uncached requests are issued ("RWF_DONTCACHE"), or
  // "unsupported: why" (then they fail); empty where nothing is emulated.
  std::string uncached_io;
  PathCounters counters;
};

std::string sidecar_line(const JobCounters& job);  // one JSON object + '\n'
// Throws std::invalid_argument ("engine counters line: ...") on bad input.
JobCounters parse_sidecar_line(const std::string& line);

// Appends `line` with a single write(2) on an O_APPEND descriptor, so
// lines from parallel jobs never interleave. Creates the file 0600; a
// symlink at `file` is ELOOP, a FIFO or device EINVAL (or ENXIO), a file
// of another owner EPERM. Returns 0 or an errno.
int append_sidecar(const std::string& file, const std::string& line);

}  // namespace diobench
