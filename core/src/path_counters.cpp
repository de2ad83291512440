#include "diobench/path_counters.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "diobench/json_number.hpp"

namespace diobench {

void PathCounters::count(Direction direction, Path path, std::uint64_t requests,
                         std::uint64_t direct_bytes, std::uint64_t buffered_bytes) {
  PathBucket& b = buckets_[index(direction)][index(path)];
  b.requests += requests;
  b.bytes += direct_bytes + buffered_bytes;
  if (path == Path::Split) {
    b.direct_bytes += direct_bytes;
    b.buffered_bytes += buffered_bytes;
  }
}

std::uint64_t PathCounters::requests(Direction direction) const {
  std::uint64_t n = 0;
  for (const PathBucket& b : buckets_[index(direction)]) n += b.requests;
  return n;
}

PathCounters& PathCounters::operator+=(const PathCounters& other) {
  for (std::size_t d = 0; d < 2; ++d) {
    for (std::size_t p = 0; p < kPaths; ++p) {
      PathBucket& a = buckets_[d][p];
      const PathBucket& b = other.buckets_[d][p];
      a.requests += b.requests;
      a.bytes += b.bytes;
      a.direct_bytes += b.direct_bytes;
      a.buffered_bytes += b.buffered_bytes;
    }
  }
  return *this;
}

std::string PathCounters::shares(Direction direction) const {
  const double total = static_cast<double>(requests(direction));
  if (total == 0) return "-";
  std::string out;
  for (Path p : kAllPaths) {
    const std::uint64_t n = bucket(direction, p).requests;
    if (!n) continue;
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.0f%%", 100.0 * static_cast<double>(n) / total);
    out += (out.empty() ? "" : " ") + std::string(to_string(p)) + " " + pct;
  }
  return out;
}

nlohmann::json PathCounters::to_json(Direction direction) const {
  nlohmann::json j = nlohmann::json::object();
  for (Path p : kAllPaths) {
    const PathBucket& b = bucket(direction, p);
    nlohmann::json e{{"requests", b.requests}, {"bytes", b.bytes}};
    if (p == Path::Split) {
      e["direct_bytes"] = b.direct_bytes;
      e["buffered_bytes"] = b.buffered_bytes;
    }
    j[std::string(to_string(p))] = e;
  }
  return j;
}

PathCounters PathCounters::from_json(const nlohmann::json& line) {
  PathCounters c;
  for (Direction d : {Direction::Read, Direction::Write}) {
    const nlohmann::json& side = line.at(std::string(to_string(d)));
    for (Path p : kAllPaths) {
      const auto found = side.find(std::string(to_string(p)));
      // Lines written before 2.4's bucket existed have no "uncached".
      if (found == side.end() && p == Path::Uncached) continue;
      const nlohmann::json& e = side.at(std::string(to_string(p)));
      PathBucket& b = c.buckets_[index(d)][index(p)];
      b.requests = json_whole<std::uint64_t>(e, "requests");
      b.bytes = json_whole<std::uint64_t>(e, "bytes");
      b.direct_bytes = json_whole_or<std::uint64_t>(e, "direct_bytes", 0);
      b.buffered_bytes = json_whole_or<std::uint64_t>(e, "buffered_bytes", 0);
    }
  }
  return c;
}

std::string sidecar_line(const JobCounters& job) {
  nlohmann::json target{
      {"kind", to_string(job.target.kind)}, {"path", job.target.path}, {"fs", job.target.fs_type}};
  if (job.target.loop) {
    target["loop_dio"] = job.target.loop->direct_io;
    target["backing_file"] = job.target.loop->backing_file;
    target["logical_block_size"] = job.target.loop->logical_block_size;
    target["loop_driver"] = job.loop_driver.empty() ? "kernel" : job.loop_driver;
  }
  if (job.target.zfs) target["dataset"] = job.target.zfs->name;
  nlohmann::json j{{"job", job.job},
                   {"jobnum", job.jobnum},
                   {"policy", to_string(job.config.policy)},
                   {"semantics", to_string(job.config.semantics)},
                   {"dio_strict", job.config.dio_strict},
                   {"loop_buffered", to_string(job.config.loop_buffered)},
                   {"recordsize", job.config.recordsize},
                   {"submit", job.submit},
                   {"backend", job.backend},
                   {"target", target},
                   {"read", job.counters.to_json(Direction::Read)},
                   {"write", job.counters.to_json(Direction::Write)}};
  if (!job.uncached_io.empty()) j["uncached_io"] = job.uncached_io;
  return j.dump() + "\n";
}

namespace {

JobCounters job_from_json(const nlohmann::json& j) {
  JobCounters job;
  job.job = j.at("job").get<std::string>();
  job.jobnum = json_whole<int>(j, "jobnum");
  const auto policy = parse_policy(j.at("policy").get<std::string>());
  const auto semantics = parse_semantics(j.at("semantics").get<std::string>());
  if (!policy || !semantics) {
    throw std::invalid_argument("engine counters line: unknown policy or semantics");
  }
  job.config.policy = *policy;
  job.config.semantics = *semantics;
  job.config.recordsize = json_whole_or(j, "recordsize", job.config.recordsize);
  job.config.dio_strict = j.value("dio_strict", false);
  // Files written before the kernel's loop driver was modelled per
  // release: the page-by-page driver they were modelled with.
  const auto loop_buffered = parse_loop_buffered(j.value("loop_buffered", std::string("per-page")));
  if (!loop_buffered) throw std::invalid_argument("engine counters line: unknown loop_buffered");
  job.config.loop_buffered = *loop_buffered;
  job.uncached_io = j.value("uncached_io", std::string());
  job.submit = j.at("submit").get<std::string>();
  job.backend = j.value("backend", std::string("emulated"));
  const nlohmann::json& t = j.at("target");
  const std::string kind = t.at("kind").get<std::string>();
  job.target.kind = kind == "loop"    ? TargetKind::Loop
                    : kind == "block" ? TargetKind::Block
                                      : TargetKind::File;
  job.target.path = t.at("path").get<std::string>();
  job.target.fs_type = t.value("fs", std::string());
  if (t.contains("loop_dio")) {
    LoopInfo loop;
    loop.direct_io = t.at("loop_dio").get<bool>();
    loop.backing_file = t.value("backing_file", std::string());
    loop.logical_block_size = json_whole_or(t, "logical_block_size", 512u);
    job.target.loop = loop;
    job.loop_driver = t.value("loop_driver", std::string("kernel"));
  }
  job.counters = PathCounters::from_json(j);
  return job;
}

}  // namespace

JobCounters parse_sidecar_line(const std::string& line) {
  try {
    return job_from_json(nlohmann::json::parse(line));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("engine counters line: ") + e.what());
  }
}

int append_sidecar(const std::string& file, const std::string& line) {
  // fio runs as root: a symlink or a FIFO planted at the name must not
  // become a write to somebody else's file or a hang.
  const int fd = ::open(file.c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) return errno;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) {
    const int err = S_ISREG(st.st_mode) ? EPERM : EINVAL;
    ::close(fd);
    return err;
  }
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int err = n < 0 ? errno : (static_cast<size_t>(n) == line.size() ? 0 : EIO);
  if (::close(fd) != 0 && err == 0) return errno;
  return err;
}

}  // namespace diobench
