// `diobench check` on a lane test directory: the raw fio cells that
// vm/guest/test.sh collects on real ZFS, one directory each under
// DIR/cells/ (meta.json: what was run; counters.jsonl: the engine's
// sidecar; iostats.before/after: the pool's kstat around fio; fio.json,
// fio.rc; error: why the cell could not run).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "diobench/check/check.hpp"
#include "diobench/check/path_judgement.hpp"
#include "diobench/path_counters.hpp"
#include "diobench/units.hpp"
#include "diobench/zfs.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_text(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json read_json(const fs::path& file) {
  const auto text = read_text(file);
  if (!text) throw CheckInputError(file.string() + ": cannot be read");
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    throw CheckInputError(file.string() + ": not JSON (" + e.what() + ")");
  }
}

std::string json_string(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// fio's buffers are page-aligned only when the cell asked for it
// (--iomem_align=4k); fio's default heap buffers, and iomem_align=512, are not.
bool buffers_page_aligned(const nlohmann::json& meta) {
  const auto args = meta.find("fio_args");
  if (args == meta.end() || !args->is_array()) return false;
  for (const auto& a : *args) {
    if (!a.is_string()) continue;
    const std::string s = a.get<std::string>();
    const std::string key = "--iomem_align=";
    if (s.rfind(key, 0) == 0) {
      const auto align = parse_size(s.substr(key.size()));
      return align && *align > 0 && *align % 4096 == 0;
    }
  }
  return false;
}

CellShape shape_of(const fs::path& meta_file, const nlohmann::json& meta,
                   const std::optional<JobCounters>& engine) {
  CellShape s;
  const std::string policy = json_string(meta, "policy");
  const auto p = parse_policy(policy);
  if (!p) throw CheckInputError(meta_file.string() + ": invalid policy '" + policy + "'");
  s.config.policy = *p;
  // The module's semantics, as the engine probed them.
  if (engine) {
    s.config.semantics = engine->config.semantics;
    s.config.loop_buffered = engine->config.loop_buffered;
  }
  const auto rs = meta.find("recordsize");
  if (rs != meta.end() && rs->is_number_unsigned()) s.config.recordsize = rs->get<std::uint64_t>();
  const std::string loop_dio = json_string(meta, "loop_dio");
  s.loop = !loop_dio.empty();
  s.loop_dio = loop_dio == "on";
  const auto app = meta.find("app_direct");
  s.app_direct = app != meta.end() && app->is_boolean() && app->get<bool>();
  s.buffer_aligned = buffers_page_aligned(meta);
  s.rw = json_string(meta, "rw");
  s.bs = json_string(meta, "bs");
  return s;
}

// The engine's sidecar: every line of it, or why it cannot be used to
// judge the cell (the engine must have passed the requests through to ZFS
// under the dataset's own policy, not emulated them).
std::optional<std::string> sidecar_problem(const fs::path& file, const nlohmann::json& meta,
                                           std::optional<JobCounters>& first) {
  const auto text = read_text(file);
  if (!text || text->empty()) return "no engine sidecar (counters.jsonl)";
  std::istringstream lines(*text);
  std::string line;
  std::set<std::string> backends;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    try {
      JobCounters job = parse_sidecar_line(line);
      backends.insert(job.backend);
      if (!first) first = std::move(job);
    } catch (const std::exception& e) {
      return "engine sidecar unreadable: " + std::string(e.what());
    }
  }
  if (!first) return "no engine sidecar (counters.jsonl is empty)";
  if (backends != std::set<std::string>{"zfs"}) {
    std::string all;
    for (const auto& b : backends) all += (all.empty() ? "" : ",") + b;
    return "engine backend is " + all + ", not zfs: it emulated instead of passing through";
  }
  const std::string dataset_direct = json_string(meta, "zfs_direct");
  if (std::string(to_string(first->config.policy)) != dataset_direct) {
    return "engine policy " + std::string(to_string(first->config.policy)) +
           " but dataset direct=" + dataset_direct;
  }
  const std::string loop_dio = json_string(meta, "loop_dio");
  if (!loop_dio.empty() && first->target.loop &&
      first->target.loop->direct_io != (loop_dio == "on")) {
    return "engine saw loop dio " + std::string(first->target.loop->direct_io ? "on" : "off") +
           ", losetup asked " + loop_dio;
  }
  return std::nullopt;
}

// The class of what the engine counted in `direction` over every job of
// the sidecar: the model applied to the requests fio really made (their
// real buffers and offsets).
std::optional<PathClass> engine_class(const fs::path& file, Direction direction) {
  const auto text = read_text(file);
  if (!text) return std::nullopt;
  PathCounters total;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) total += parse_sidecar_line(line).counters;
  }
  if (total.bucket(direction, Path::Einval).requests > 0) return PathClass::None;
  const PathBucket& split = total.bucket(direction, Path::Split);
  const PathBytes counted{total.bucket(direction, Path::Direct).bytes + split.direct_bytes,
                          total.bucket(direction, Path::Buffered).bytes +
                              total.bucket(direction, Path::Fallback).bytes +
                              total.bucket(direction, Path::Uncached).bytes + split.buffered_bytes};
  if (counted.direct > 0 && counted.arc > 0) return PathClass::Mixed;  // no tolerance: exact counts
  return classify(counted);
}

struct FioOutcome {
  int rc = -1;
  long error = 0, total_err = 0;
};

FioOutcome fio_outcome(const fs::path& d) {
  FioOutcome o;
  if (const auto rc = read_text(d / "fio.rc")) {
    try {
      o.rc = std::stoi(*rc);
    } catch (const std::exception&) {
    }
  }
  if (const auto text = read_text(d / "fio.json")) {
    try {
      const auto j = nlohmann::json::parse(*text);
      const auto& job = j.at("jobs").at(0);
      o.error = job.value("error", 0L);
      o.total_err = job.value("total_err", 0L);
    } catch (const std::exception&) {
      o.error = o.error ? o.error : -1;  // no usable fio result
    }
  }
  return o;
}

// The delta of a kstat the lane saved as NAME.before and NAME.after.
std::optional<PoolIoStats> kstat_delta(const fs::path& d, const std::string& name) {
  const auto before = read_text(d / (name + ".before")), after = read_text(d / (name + ".after"));
  if (!before || !after || before->empty() || after->empty()) return std::nullopt;
  return parse_kstat(*after) - parse_kstat(*before);
}

std::optional<PoolIoStats> iostats_delta(const fs::path& d) { return kstat_delta(d, "iostats"); }

// The uncached proof of the cell's reads (path_judgement.hpp) from
// arcstats.before / arcstats.after, or why it cannot be made.
std::string uncached_why(const fs::path& d, const CellShape& shape, const PathBytes& seen) {
  const auto p = predict(shape, Direction::Read);
  if (!rw_reads(shape.rw) || !p || !p->all_uncached()) return "";
  // Gauges (mru_data, mfu_data) may shrink: a shrink counts as 0 kept.
  std::map<std::string, std::uint64_t> grown;
  const auto before = read_text(d / "arcstats.before"), after = read_text(d / "arcstats.after");
  if (before && after) {
    const PoolIoStats b = parse_kstat(*before);
    for (const auto& [name, v] : parse_kstat(*after).values)
      grown[name] = v > b[name] ? v - b[name] : 0;
  }
  const auto kept = arc_keeping(grown);
  if (!kept) {
    return "no arcstats.before / arcstats.after with mru_data and mfu_data: uncached reads "
           "cannot be proved";
  }
  return uncached_disagreement(shape, seen, *kept);
}

CellCheck judge_cell(const fs::path& d) {
  CellCheck row;
  row.cell = d.filename().string();
  auto error = [&](const std::string& why) {
    row.verdict = CellVerdict::Error;
    row.reason = why;
    return row;
  };
  if (const auto err = read_text(d / "error"); err && !err->empty()) {
    return error(err->substr(0, err->find('\n')));
  }
  if (!fs::exists(d / "meta.json")) return error("no meta.json: the cell did not start");
  const nlohmann::json meta = read_json(d / "meta.json");
  std::optional<JobCounters> engine;
  const auto problem = sidecar_problem(d / "counters.jsonl", meta, engine);
  const CellShape shape = shape_of(d / "meta.json", meta, engine);
  const bool reads = rw_reads(shape.rw), writes = rw_writes(shape.rw);
  row.directions = reads && writes ? "read+write" : reads ? "read" : "write";
  for (Direction dir : {Direction::Read, Direction::Write}) {
    if (!(dir == Direction::Read ? reads : writes)) continue;
    const auto p = predict(shape, dir);
    row.predicted += (row.predicted.empty() ? "" : ", ") + std::string(to_string(dir)) + ": " +
                     (p ? p->text() : "?");
  }
  const auto delta = iostats_delta(d);
  if (delta) {
    for (Direction dir : {Direction::Read, Direction::Write}) {
      const std::string s(to_string(dir));
      const bool issued = dir == Direction::Read ? reads : writes;
      const std::uint64_t direct = (*delta)["direct_" + s + "_bytes"];
      if (!issued && direct == 0) continue;
      row.observed += (row.observed.empty() ? "" : ", ") + s + ": " +
                      bytes_text(direct, (*delta)["arc_" + s + "_bytes"]);
    }
  }
  if (problem) return error(*problem);
  if (!delta) return error("no iostats (iostats.before / iostats.after)");
  const FioOutcome fio = fio_outcome(d);
  const Direction main = reads ? Direction::Read : Direction::Write;
  const auto main_prediction = predict(shape, main);
  // The prediction reads the cell's shape from meta.json (buffer alignment
  // from --iomem_align); the engine saw the real requests. Should they
  // differ, the shape was misread, and ZFS is not to blame.
  const auto counted = engine_class(d / "counters.jsonl", main);
  if (main_prediction && counted && *counted != main_prediction->path_class()) {
    return error("the engine counted " + std::string(to_string(*counted)) + " " +
                 std::string(to_string(main)) + "s where the model predicts " +
                 main_prediction->text() +
                 " for the shape in meta.json: the cell is not what meta.json says");
  }
  const bool einval = main_prediction && main_prediction->path == Path::Einval;
  if (einval) {
    const bool failed = fio.total_err > 0 || fio.error > 0;
    if (!failed) {
      row.verdict = CellVerdict::Mismatch;
      row.reason = "the model predicts EINVAL, but fio saw no error";
      return row;
    }
  } else if (fio.rc != 0 || fio.error != 0) {
    return error("fio failed (rc " + std::to_string(fio.rc) + ", error " +
                 std::to_string(fio.error) + ")");
  }
  for (Direction dir : {Direction::Read, Direction::Write}) {
    const std::string s(to_string(dir));
    const PathBytes seen{(*delta)["direct_" + s + "_bytes"], (*delta)["arc_" + s + "_bytes"]};
    std::string why = disagreement(shape, dir, seen);
    if (why.empty() && dir == Direction::Read) why = uncached_why(d, shape, seen);
    if (!why.empty() && row.verdict == CellVerdict::Ok) {
      row.verdict = CellVerdict::Mismatch;
      row.reason = why;
    }
  }
  return row;
}

}  // namespace

CheckResult check_lane_cells(const std::string& dir) {
  const fs::path cells = fs::path(dir) / "cells";
  if (!fs::is_directory(cells))
    throw CheckInputError(dir + ": no cells/ directory (not a lane test directory)");
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(cells)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  if (dirs.empty()) throw CheckInputError(cells.string() + ": no cell directories");
  std::sort(dirs.begin(), dirs.end());
  CheckResult result;
  result.dir = dir;
  result.kind = "lane test directory";
  for (const fs::path& d : dirs) result.cells.push_back(judge_cell(d));
  return result;
}

}  // namespace diobench
