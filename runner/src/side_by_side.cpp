#include "diobench/runner/side_by_side.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>

#include "diobench/loop_device.hpp"
#include "diobench/runner/fio_process.hpp"
#include "diobench/runner/interrupt.hpp"
#include "diobench/scratch.hpp"

namespace diobench {

namespace fs = std::filesystem;

std::string Cell::target_label() const {
  if (target == TargetKind::File) return "file";
  return loop_dio ? "loop dio on" : "loop dio off";
}

std::string Cell::name() const {
  std::string t = target == TargetKind::File ? "file"
                  : loop_dio                 ? "loop-dio-on"
                                             : "loop-dio-off";
  return workload.name + "." + std::string(to_string(policy)) + "." + t + "." + submit;
}

std::vector<Cell> side_by_side_cells(const std::string& submit) {
  const unsigned depth = submit == "uring" ? 16 : 1;
  const std::vector<Workload> workloads = {
      {"randread-4k", "randread", "4k", depth},
      {"write-1m", "write", "1m", depth},
  };
  std::vector<Cell> cells;
  for (const Workload& w : workloads) {
    for (Policy p : {Policy::Disabled, Policy::Standard, Policy::Always}) {
      cells.push_back(Cell{p, TargetKind::File, false, w, submit});
      cells.push_back(Cell{p, TargetKind::Loop, true, w, submit});
      cells.push_back(Cell{p, TargetKind::Loop, false, w, submit});
    }
  }
  return cells;
}

namespace {

// Writes back and evicts the file's cached pages, so every cell starts
// cold. (fio invalidates the target itself; for a loop target the
// backing file's own page cache needs this.)
void drop_file_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

PathCounters read_counters(const std::string& file) {
  PathCounters total;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) total += parse_sidecar_line(line).counters;
  }
  return total;
}

CellResult run_cell(const Cell& cell, const std::string& scratch_file,
                    const SideBySideOptions& o) {
  CellResult r;
  r.cell = cell;
  std::optional<LoopDevice> loop;
  std::string target = scratch_file;
  if (cell.target == TargetKind::Loop) {
    if (geteuid() != 0) {
      r.outcome = CellResult::Outcome::Skipped;
      r.message = "loop devices need root";
      return r;
    }
    loop.emplace(scratch_file, LoopOptions{cell.loop_dio, 512, false});
    target = loop->path();
  }
  drop_file_cache(scratch_file);

  const std::string base = (fs::path(o.out_dir) / cell.name()).string();
  const std::string counters = base + ".counters.jsonl";
  const std::string json = base + ".json";
  fs::remove(counters);
  FioInvocation fio;
  fio.log_file = base + ".log";
  fio.args = {
      "--name=" + cell.name(),
      "--filename=" + target,
      "--ioengine=external:" + o.engine_path,
      // engine options must follow --ioengine
      "--policy=" + std::string(to_string(cell.policy)),
      "--submit=" + cell.submit,
      "--counters=" + counters,
      "--rw=" + cell.workload.rw,
      "--bs=" + cell.workload.bs,
      "--iodepth=" + std::to_string(cell.workload.iodepth),
      "--size=" + std::to_string(o.size),
      // Page-aligned buffers, as an application doing I/O well would
      // use; with fio's default heap buffers `always` would fall back.
      "--iomem_align=4k",
      "--direct=0",
      "--time_based=1",
      "--runtime=" + std::to_string(o.runtime_s),
      "--ramp_time=" + std::to_string(o.ramp_s),
      "--output-format=json+",
      "--output=" + json,
  };
  const FioExit exit = run_fio(fio);
  if (InterruptGuard::requested()) {
    r.outcome = CellResult::Outcome::Interrupted;
    r.message = "interrupted";
    return r;
  }
  if (exit.status != 0) {
    r.outcome = CellResult::Outcome::Failed;
    r.message = "fio exited with status " + std::to_string(exit.status) + ": " +
                exit.log;
    return r;
  }
  try {
    r.fio = read_fio_json(json);
    r.counters = read_counters(counters);
  } catch (const std::exception& e) {
    r.outcome = CellResult::Outcome::Failed;
    r.message = e.what();
  }
  return r;
}

const DirectionResult& main_direction(const CellResult& r) {
  const FioJobResult& job = r.fio.jobs.front();
  return r.cell.workload.rw.find("read") != std::string::npos ? job.read : job.write;
}

std::string split_text(const CellResult& r) {
  const Direction d = r.cell.workload.rw.find("read") != std::string::npos
                          ? Direction::Read
                          : Direction::Write;
  const double total = static_cast<double>(r.counters.requests(d));
  if (total == 0) return "-";
  std::ostringstream s;
  for (Path p : {Path::Direct, Path::Buffered, Path::Fallback, Path::Split,
                 Path::Einval}) {
    const std::uint64_t n = r.counters.bucket(d, p).requests;
    if (n == 0) continue;
    if (s.tellp() > 0) s << ' ';
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.0f%%", 100.0 * static_cast<double>(n) / total);
    s << to_string(p) << ' ' << pct;
  }
  return s.str();
}

}  // namespace

std::vector<CellResult> run_side_by_side(const SideBySideOptions& o,
                                         std::ostream& progress) {
  fs::create_directories(o.out_dir);
  ScratchArea scratch(o.scratch_dir);
  progress << "preparing a " << (o.size >> 20) << " MiB scratch file in "
           << scratch.dir() << "\n";
  const std::string file = scratch.create_file("target.dat", o.size);
  const std::vector<Cell> cells = side_by_side_cells(o.submit);
  std::vector<CellResult> results;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (InterruptGuard::requested()) {
      CellResult r;
      r.cell = cells[i];
      r.outcome = CellResult::Outcome::Interrupted;
      r.message = "not run: interrupted";
      results.push_back(r);
      continue;
    }
    try {
      results.push_back(run_cell(cells[i], file, o));
    } catch (const std::exception& e) {
      CellResult r;
      r.cell = cells[i];
      r.outcome = CellResult::Outcome::Failed;
      r.message = e.what();
      results.push_back(r);
    }
    const CellResult& r = results.back();
    const double elapsed = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start).count();
    const double eta = elapsed / static_cast<double>(i + 1) *
                       static_cast<double>(cells.size() - i - 1);
    char line[160];
    std::snprintf(line, sizeof line, "[%zu/%zu] %-40s %s  (elapsed %.0fs, eta %.0fs)\n",
                  i + 1, cells.size(), r.cell.name().c_str(),
                  r.outcome == CellResult::Outcome::Ok ? "ok"
                  : r.outcome == CellResult::Outcome::Skipped ? "skipped"
                  : r.outcome == CellResult::Outcome::Interrupted ? "interrupted"
                                                                  : "FAILED",
                  elapsed, eta);
    progress << line << std::flush;
  }
  return results;
}

void print_table(const std::vector<CellResult>& results, std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-9s %-13s %10s %10s %10s  %s\n",
                "workload", "policy", "target", "MiB/s", "IOPS", "p99 us",
                "path split (requests)");
  out << line;
  for (const CellResult& r : results) {
    const std::string policy(to_string(r.cell.policy));
    if (r.outcome != CellResult::Outcome::Ok) {
      std::snprintf(line, sizeof line, "%-12s %-9s %-13s %10s %10s %10s  %s\n",
                    r.cell.workload.name.c_str(), policy.c_str(),
                    r.cell.target_label().c_str(), "-", "-", "-",
                    r.outcome == CellResult::Outcome::Skipped ? ("skipped: " + r.message).c_str()
                    : r.outcome == CellResult::Outcome::Interrupted ? "interrupted"
                                                                    : "FAILED (see below)");
      out << line;
      continue;
    }
    const DirectionResult& d = main_direction(r);
    const double p99 = d.percentile_ns(99.0) / 1000.0;
    std::snprintf(line, sizeof line, "%-12s %-9s %-13s %10.1f %10.0f %10.1f  %s\n",
                  r.cell.workload.name.c_str(), policy.c_str(),
                  r.cell.target_label().c_str(), d.bw_bytes / 1048576.0, d.iops,
                  std::isnan(p99) ? 0.0 : p99, split_text(r).c_str());
    out << line;
  }
  for (const CellResult& r : results) {
    if (r.outcome == CellResult::Outcome::Failed) {
      out << "\n" << r.cell.name() << " failed: " << r.message << "\n";
    }
  }
}

}  // namespace diobench
