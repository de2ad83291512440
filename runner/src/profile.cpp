#include "diobench/runner/profile.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "diobench/runner/fleet.hpp"
#include "diobench/runner/safety.hpp"
#include "diobench/units.hpp"

namespace diobench {

namespace fs = std::filesystem;

ProfileError::ProfileError(const std::string& file, int line, const std::string& key,
                           const std::string& problem)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : "") +
                         (key.empty() ? "" : ": " + key) + ": " + problem) {}

namespace {

// 23 times profiles/full.ini: more is a mistake (a list of values repeated
// or multiplied out by accident), and millions of cells would exhaust the
// memory before the run could begin.
constexpr std::size_t kMaxCells = 10000;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  std::istringstream in(s);
  while (in >> w) {
    for (std::size_t start = 0;;) {  // commas separate too
      const auto comma = w.find(',', start);
      const std::string part = w.substr(start, comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

// The profile's one parser: every key with its value and line, and the
// workload sections in order. The INI dialect: "[section]" headers,
// "key = value" lines, '#' starts a comment anywhere on a line, white space
// around names and values does not count, a key may be given once.
struct Layout {
  std::map<std::string, std::string> values;  // "section.key" -> value
  std::map<std::string, int> key_line;        // "section.key" -> line
  std::vector<std::string> workloads;         // section names after "workload."
};

Layout scan(const std::string& file, const std::string& text) {
  Layout layout;
  std::istringstream in(text);
  std::string raw, section;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string s = trim(raw.substr(0, raw.find('#')));
    if (s.empty()) continue;
    if (s.front() == '[') {
      if (s.back() != ']' || s.size() < 3) {
        throw ProfileError(file, line, "", "malformed section header '" + s + "'");
      }
      section = trim(s.substr(1, s.size() - 2));
      if (section.rfind("workload.", 0) == 0) {
        const std::string name = section.substr(9);
        // The name goes into cell names, file names, gnuplot scripts and
        // reports: letters, digits, '-' and '_' only.
        if (name.empty() || name.size() > 64 ||
            name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_") != std::string::npos) {
          throw ProfileError(
              file, line, section,
              "invalid workload name '" + name + "' (1 to 64 of: letters, digits, '-', '_')");
        }
        for (const auto& w : layout.workloads) {
          if (w == name) throw ProfileError(file, line, section, "workload defined twice");
        }
        layout.workloads.push_back(name);
      } else if (section != "profile" && section != "matrix" && section != "bench" &&
                 section != "hosts") {
        throw ProfileError(file, line, section,
                           "unknown section (expected [profile], [matrix], [bench], [hosts] or "
                           "[workload.NAME])");
      }
      continue;
    }
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      throw ProfileError(file, line, "", "expected 'key = value', got '" + s + "'");
    }
    if (section.empty()) {
      throw ProfileError(file, line, trim(s.substr(0, eq)), "key outside any section");
    }
    const std::string key = section + "." + trim(s.substr(0, eq));
    if (layout.key_line.count(key)) {
      throw ProfileError(
          file, line, key,
          "given twice (first on line " + std::to_string(layout.key_line[key]) + ")");
    }
    layout.key_line[key] = line;
    layout.values[key] = trim(s.substr(eq + 1));
  }
  return layout;
}

// Reads one validated value; errors name the key and its line.
class Reader {
 public:
  Reader(const std::string& file, const Layout& layout) : file_(file), layout_(layout) {}

  bool has(const std::string& key) const { return layout_.values.count(key) > 0; }
  std::string text(const std::string& key, const std::string& fallback) const {
    const auto it = layout_.values.find(key);
    return it == layout_.values.end() ? fallback : it->second;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    const auto it = layout_.key_line.find(key);
    throw ProfileError(file_, it == layout_.key_line.end() ? 0 : it->second, key, problem);
  }
  // A list of words, each one of `allowed`.
  std::vector<std::string> choices(const std::string& key, const std::string& fallback,
                                   const std::vector<std::string>& allowed) const {
    std::vector<std::string> out = words(text(key, fallback));
    if (out.empty()) fail(key, "needs at least one value");
    for (const std::string& v : out) {
      bool ok = false;
      for (const std::string& a : allowed) ok = ok || v == a;
      if (!ok) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(key, "invalid value '" + v + "' (expected " + list + ")");
      }
    }
    return out;
  }
  std::vector<unsigned> numbers(const std::string& key, const std::string& fallback, unsigned lo,
                                unsigned hi) const {
    std::vector<unsigned> out;
    for (const std::string& v : words(text(key, fallback))) {
      std::size_t used = 0;
      unsigned long n = 0;
      try {
        n = std::stoul(v, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != v.size() || n < lo || n > hi) {
        fail(key, "invalid value '" + v + "' (a whole number from " + std::to_string(lo) + " to " +
                      std::to_string(hi) + ")");
      }
      out.push_back(static_cast<unsigned>(n));
    }
    if (out.empty()) fail(key, "needs a value");
    return out;
  }
  unsigned number(const std::string& key, unsigned fallback, unsigned lo, unsigned hi) const {
    const std::vector<unsigned> v = numbers(key, std::to_string(fallback), lo, hi);
    if (v.size() != 1) fail(key, "takes one value");
    return v.front();
  }
  std::vector<std::uint64_t> sizes(const std::string& key, const std::string& fallback,
                                   std::uint64_t lo, std::uint64_t hi) const {
    std::vector<std::uint64_t> out;
    for (const std::string& v : words(text(key, fallback))) {
      const auto n = parse_size(v);
      if (!n || *n < lo || *n > hi) {
        fail(key, "invalid size '" + v + "' (from " + format_size(lo) + " to " + format_size(hi) +
                      ", e.g. 4k, 1m)");
      }
      out.push_back(*n);
    }
    if (out.empty()) fail(key, "needs a value");
    return out;
  }

 private:
  const std::string& file_;
  const Layout& layout_;
};

}  // namespace

bool BenchSettings::valid_drivers(const std::string& drivers) {
  if (drivers.empty()) return false;
  if (drivers == "none" || drivers == "all") return true;
  // Driver names need no back-reference and no number of more than nine
  // digits; both are refused before std::regex sees them: libstdc++'s
  // regex compiler overflows a long on a long run of digits (found by
  // scripts/fuzz: "\\1111111111111111111...", undefined behaviour).
  int digits = 0;
  for (std::size_t i = 0; i < drivers.size(); ++i) {
    const bool digit = drivers[i] >= '0' && drivers[i] <= '9';
    digits = digit ? digits + 1 : 0;
    if (digits > 9) return false;
    if (drivers[i] == '\\' && i + 1 < drivers.size() && drivers[i + 1] >= '1' &&
        drivers[i + 1] <= '9') {
      return false;
    }
  }
  try {
    (void)std::regex(drivers);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

double Profile::seconds_per_repetition() const {
  // Set-up per repetition (loop attach, cache drop, fio start and exit):
  // about 0.35 s measured here, rounded up.
  constexpr double kSetupPerRepetition = 0.5;
  return ramp_s + runtime_s + kSetupPerRepetition;
}

double Profile::estimated_seconds(std::size_t cell_count, unsigned reps) const {
  // One prefill per run of the target size at a conservative 200 MB/s.
  const double prefill = static_cast<double>(size) / 200e6;
  return static_cast<double>(cell_count) * reps * seconds_per_repetition() + prefill;
}

std::optional<double> parse_duration(const std::string& text) {
  static const std::regex form(R"((?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?)");
  std::smatch m;
  if (text.empty() || text.size() > 20 || !std::regex_match(text, m, form)) return std::nullopt;
  double seconds = 0;
  for (const auto& [group, unit] : {std::pair{1, 3600.0}, {2, 60.0}, {3, 1.0}}) {
    if (m[group].matched) seconds += std::stod(m[group].str()) * unit;
  }
  if (!(seconds > 0)) return std::nullopt;
  return seconds;
}

std::string format_duration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[40];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

Profile load_profile(const std::string& path, const std::string& backend) {
  std::ifstream in(path);
  if (!in) throw ProfileError(path, 0, "", "cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_profile(buffer.str(), path, backend);
}

namespace {

// Every key the profile may hold; the first unknown one (in file order)
// is named with its line.
void refuse_unknown_keys(const std::string& path, const Layout& layout) {
  std::set<std::string> known;
  for (const char* k : {"profile.description", "profile.repetitions", "profile.ramp",
                        "profile.runtime", "profile.size", "profile.job", "profile.seed",
                        "profile.budget", "profile.max_repetitions"}) {
    known.insert(k);
  }
  for (const char* k : {"matrix.policy", "matrix.target", "matrix.loop_dio", "matrix.app_direct",
                        "matrix.submit", "matrix.semantics", "matrix.recordsize"}) {
    known.insert(k);
  }
  for (const char* k :
       {"bench.drivers", "bench.repetitions", "bench.min_time", "bench.file_size", "hosts.list"}) {
    known.insert(k);
  }
  for (const std::string& w : layout.workloads) {
    for (const char* k : {"rw", "bs", "iodepth", "numjobs", "rwmixread", "submit"}) {
      known.insert("workload." + w + "." + k);
    }
  }
  const std::pair<const std::string, int>* first = nullptr;
  for (const auto& entry : layout.key_line) {
    if (!known.count(entry.first) && (!first || entry.second < first->second)) first = &entry;
  }
  if (first) throw ProfileError(path, first->second, first->first, "unknown key");
}

// [profile]: repetitions, timing, size, the decision's budget and cap, the
// seed, the job template beside the profile. A key not given keeps the
// default written in profile.hpp (the one place the defaults are).
void read_run_settings(const Reader& r, Profile& p) {
  p.description = r.text("profile.description", "");
  p.repetitions = r.number("profile.repetitions", p.repetitions, 1, 1000);
  p.ramp_s = r.number("profile.ramp", p.ramp_s, 0, 3600);
  p.runtime_s = r.number("profile.runtime", p.runtime_s, 1, 86400);
  p.size = r.sizes("profile.size", "256m", 16ull << 20, 1ull << 40).front();
  const std::string budget = r.text("profile.budget", "30m");
  const auto budget_s = parse_duration(budget);
  if (!budget_s) {
    r.fail("profile.budget", "invalid value '" + budget + "' (a duration: 900, 900s, 15m, 1h30m)");
  }
  p.budget_s = *budget_s;
  p.max_repetitions = r.number("profile.max_repetitions", p.max_repetitions, 1, 1000);
  const std::string seed = r.text("profile.seed", "0");
  // Every character a digit: stoull would take "-1" as 2^64-1 and "12abc" as 12.
  const char* const end = seed.data() + seed.size();
  const auto [stop, err] = std::from_chars(seed.data(), end, p.seed);
  if (seed.empty() || err != std::errc() || stop != end) {
    r.fail("profile.seed",
           "invalid value '" + seed + "' (a whole number from 0 to 18446744073709551615)");
  }
  const std::string job_name = r.text("profile.job", "job.fio");
  if (job_name.find('/') != std::string::npos) {
    r.fail("profile.job", "must name a file beside the profile, got '" + job_name + "'");
  }
  const fs::path job = fs::path(p.path).parent_path() / job_name;
  if (!fs::exists(job)) r.fail("profile.job", "fio job template " + job.string() + " not found");
  p.job_template = job.string();
}

// [bench]: which Google Benchmark drivers run after the matrix, and how.
void read_bench_settings(const Reader& r, BenchSettings& bench) {
  bench.drivers = trim(r.text("bench.drivers", "none"));
  if (bench.drivers.empty()) r.fail("bench.drivers", "needs a value (none, all or a filter)");
  if (!BenchSettings::valid_drivers(bench.drivers)) {
    r.fail("bench.drivers", "invalid value '" + bench.drivers +
                                "' (none, all, or a regular expression over driver names)");
  }
  bench.repetitions = r.number("bench.repetitions", bench.repetitions, 2, 1000);
  {
    const std::string t = r.text("bench.min_time", "0.5");
    std::size_t used = 0;
    double v = -1;
    try {
      v = std::stod(t, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != t.size() || !(v > 0 && v <= 60)) {
      r.fail("bench.min_time", "invalid value '" + t + "' (seconds, above 0 and at most 60)");
    }
    bench.min_time_s = v;
  }
  bench.file_size_mib = r.number("bench.file_size", bench.file_size_mib, 64, 1u << 20);
}

// [hosts]: the fleet the matrix runs on (fleet.hpp), HOST[:PORT] words.
void read_hosts(const Reader& r, std::vector<std::string>& hosts) {
  if (!r.has("hosts.list")) return;
  hosts = words(r.text("hosts.list", ""));
  if (hosts.empty()) r.fail("hosts.list", "needs at least one HOST[:PORT]");
  try {
    parse_host_specs(hosts);
  } catch (const std::invalid_argument& e) {
    r.fail("hosts.list", e.what());
  }
}

// [matrix]: the values of each axis.
struct MatrixAxes {
  std::vector<std::string> policies, targets, loop_dios, app_directs, submits, semantics;
  std::vector<std::uint64_t> recordsizes;
};

// The semantics axis names the rules that serve a cell's requests. On the
// zfs backend those are the loaded module's: `module` reads them from it,
// and an explicit value must be them (a cell must not carry rules that did
// not act on its requests). Elsewhere the engine applies whichever is
// named, and `module` has nothing to read. `loaded`: the module's rules
// (loaded_module_semantics()) on the zfs backend, read once by the caller.
std::vector<std::string> resolve_semantics(const Reader& r, std::vector<std::string> labels,
                                           const std::string& backend,
                                           const std::optional<std::string>& loaded) {
  std::vector<std::string> out;
  for (std::string s : labels) {
    if (s == "module") {
      if (backend != "zfs")
        r.fail("matrix.semantics", "'module' goes with --backend zfs (the loaded module's rules)");
      if (!loaded)
        r.fail("matrix.semantics",
               "'module': no OpenZFS module is loaded (/sys/module/zfs/version)");
      s = *loaded;
    } else if (loaded && s != *loaded) {
      r.fail("matrix.semantics", "'" + s + "' is not the rules of the loaded OpenZFS module " +
                                     loaded_zfs_version().value_or("?") + " (" + *loaded +
                                     "): set " + *loaded + " or module");
    }
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

MatrixAxes read_matrix(const Reader& r, const std::string& backend) {
  MatrixAxes a;
  a.policies =
      r.choices("matrix.policy", "disabled standard always", {"disabled", "standard", "always"});
  a.targets = r.choices("matrix.target", "file loop", {"file", "loop"});
  a.loop_dios = r.choices("matrix.loop_dio", "on off", {"on", "off"});
  a.app_directs = r.choices("matrix.app_direct", "0", {"0", "1"});
  a.submits = r.choices("matrix.submit", "psync", {"psync", "uring"});
  // Left out: the loaded module's rules on the zfs backend, 2.3 elsewhere.
  const std::optional<std::string> loaded =
      backend == "zfs" ? loaded_module_semantics() : std::nullopt;
  a.semantics = resolve_semantics(r,
                                  r.choices("matrix.semantics", loaded ? "module" : "2.3",
                                            {"2.3", "2.4", "2.4-strict", "module"}),
                                  backend, loaded);
  a.recordsizes = r.sizes("matrix.recordsize", "128k", 512, 16ull << 20);
  for (std::uint64_t rs : a.recordsizes) {
    if (rs & (rs - 1))
      r.fail("matrix.recordsize", "must be a power of two, got " + format_size(rs));
  }
  return a;
}

// Each workload with the submit methods it runs under (a workload may
// override the matrix's, e.g. a queue depth of 32 needs io_uring).
std::vector<std::pair<Workload, std::vector<std::string>>> expand_workloads(
    const Reader& r, const std::string& path, const Layout& layout, std::uint64_t size,
    const std::vector<std::string>& matrix_submits) {
  std::vector<std::pair<Workload, std::vector<std::string>>> workloads;
  for (const std::string& name : layout.workloads) {
    const std::string k = "workload." + name + ".";
    if (!r.has(k + "rw")) {
      throw ProfileError(path, 0, "workload." + name, "needs rw = (read, write, randread, ...)");
    }
    const auto rws = r.choices(
        k + "rw", "", {"read", "write", "randread", "randwrite", "rw", "readwrite", "randrw"});
    const auto bss = r.sizes(k + "bs", "4k", 512, 64ull << 20);
    const auto depths = r.numbers(k + "iodepth", "1", 1, 1024);
    const auto jobs = r.numbers(k + "numjobs", "1", 1, 64);
    const auto mixes = r.numbers(k + "rwmixread", "0", 0, 100);
    const auto own_submits =
        r.has(k + "submit") ? r.choices(k + "submit", "", {"psync", "uring"}) : matrix_submits;
    for (std::uint64_t bs : bss) {
      if (bs > size) r.fail(k + "bs", "block size " + format_size(bs) + " exceeds profile.size");
    }
    for (const auto& rw : rws) {
      for (std::uint64_t bs : bss) {
        for (unsigned d : depths) {
          for (unsigned j : jobs) {
            for (unsigned m : mixes) {
              Workload w{name, rw, format_size(bs), d, j, m};
              // Only the keys that vary get into the name.
              if (rws.size() > 1) w.name += "-" + rw;
              if (bss.size() > 1) w.name += "-" + w.bs;
              if (depths.size() > 1) w.name += "-qd" + std::to_string(d);
              if (jobs.size() > 1) w.name += "-j" + std::to_string(j);
              if (mixes.size() > 1) w.name += "-mix" + std::to_string(m);
              if (m && rw != "rw" && rw != "randrw" && rw != "readwrite") {
                r.fail(k + "rwmixread", "only applies to rw, readwrite and randrw");
              }
              workloads.emplace_back(w, own_submits);
              if (workloads.size() > kMaxCells) {
                r.fail(k + "rw", "the workloads expand to more than " + std::to_string(kMaxCells) +
                                     " variants (fewer values per key, or several profiles)");
              }
            }
          }
        }
      }
    }
  }

  return workloads;
}

// The cells: every workload under every combination of the axes.
std::vector<Cell> expand_cells(
    const std::vector<std::pair<Workload, std::vector<std::string>>>& workloads,
    const MatrixAxes& axes, const std::string& backend, const std::string& path) {
  std::vector<Cell> cells;
  for (const auto& [w, w_submits] : workloads) {
    for (const auto& policy : axes.policies) {
      for (const auto& target : axes.targets) {
        const std::vector<std::string> dios =
            target == "loop" ? axes.loop_dios : std::vector<std::string>{"n/a"};
        for (const auto& dio : dios) {
          for (const auto& ad : axes.app_directs) {
            for (const auto& submit : w_submits) {
              for (const auto& sem : axes.semantics) {
                for (std::uint64_t rs : axes.recordsizes) {
                  Cell c;
                  c.backend = backend;
                  c.policy = *parse_policy(policy);
                  c.target = target == "loop" ? TargetKind::Loop : TargetKind::File;
                  if (target == "loop") c.loop_dio = dio == "on";
                  c.app_direct = ad == "1";
                  c.submit = submit;
                  const ModuleRules rules = *parse_semantics_label(sem);
                  c.semantics = rules.semantics;
                  c.dio_strict = rules.dio_strict;
                  c.recordsize = rs;
                  c.workload = w;
                  cells.push_back(c);
                  if (cells.size() > kMaxCells) {
                    throw ProfileError(path, 0, "matrix",
                                       "expands to more than " + std::to_string(kMaxCells) +
                                           " cells (fewer values per key, or several profiles)");
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return cells;
}

}  // namespace

double profile_ramp_seconds(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ProfileError(path, 0, "", "cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  Profile p;
  const Layout layout = scan(path, text.str());
  p.ramp_s = Reader(path, layout).number("profile.ramp", p.ramp_s, 0, 3600);
  return p.ramp_s;
}

Profile parse_profile(const std::string& profile_text, const std::string& path,
                      const std::string& backend) {
  const Layout layout = scan(path, profile_text);
  refuse_unknown_keys(path, layout);
  const Reader r(path, layout);
  Profile p;
  p.path = fs::absolute(path).lexically_normal().string();
  p.name = fs::path(path).stem().string();
  read_run_settings(r, p);
  if (layout.workloads.empty()) {
    throw ProfileError(path, 0, "", "no [workload.NAME] section: nothing to run");
  }
  read_bench_settings(r, p.bench);
  read_hosts(r, p.hosts);
  const MatrixAxes axes = read_matrix(r, backend);
  p.cells =
      expand_cells(expand_workloads(r, path, layout, p.size, axes.submits), axes, backend, path);
  return p;
}

std::vector<Cell> filter_cells(const std::vector<Cell>& cells,
                               const std::vector<std::string>& filters) {
  std::map<std::string, std::set<std::string>> wanted;
  for (const std::string& f : filters) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == f.size()) {
      throw std::invalid_argument("invalid --filter value '" + f + "' (expected AXIS=VALUE)");
    }
    const std::string axis = f.substr(0, eq);
    bool known = false;
    std::string list;
    for (const char* const* a = axis_names(); *a; ++a) {
      known = known || axis == *a;
      list += (list.empty() ? "" : ", ") + std::string(*a);
    }
    if (!known) {
      throw std::invalid_argument("invalid --filter value '" + f + "': unknown axis '" + axis +
                                  "' (axes: " + list + ")");
    }
    wanted[axis].insert(f.substr(eq + 1));
  }
  std::vector<Cell> out;
  for (const Cell& c : cells) {
    const nlohmann::json axes = c.axes();
    bool keep = true;
    for (const auto& [axis, values] : wanted) {
      keep = keep && values.count(axes.at(axis).get<std::string>()) > 0;
    }
    if (keep) out.push_back(c);
  }
  return out;
}

std::map<std::string, std::string> job_values(const Cell& cell, const Profile& p,
                                              const std::string& engine, const std::string& target,
                                              const std::string& counters) {
  return {
      {"DIOBENCH_ENGINE", engine},
      {"DIOBENCH_POLICY", std::string(to_string(cell.policy))},
      {"DIOBENCH_SEMANTICS", std::string(to_string(cell.semantics))},
      {"DIOBENCH_DIO_STRICT", cell.dio_strict ? "1" : "0"},
      {"DIOBENCH_RECORDSIZE", std::to_string(cell.recordsize)},
      {"DIOBENCH_SUBMIT", cell.submit},
      {"DIOBENCH_BACKEND", cell.backend},
      {"DIOBENCH_COUNTERS", counters},
      {"DIOBENCH_TARGET", target},
      {"DIOBENCH_SIZE", std::to_string(p.size)},
      {"DIOBENCH_RW", cell.workload.rw},
      {"DIOBENCH_BS", cell.workload.bs},
      {"DIOBENCH_RWMIXREAD",
       std::to_string(cell.workload.rwmixread ? cell.workload.rwmixread : 50)},
      {"DIOBENCH_IODEPTH", std::to_string(cell.workload.iodepth)},
      {"DIOBENCH_NUMJOBS", std::to_string(cell.workload.numjobs)},
      {"DIOBENCH_APP_DIRECT", cell.app_direct ? "1" : "0"},
      {"DIOBENCH_RAMP", std::to_string(p.ramp_s)},
      {"DIOBENCH_RUNTIME", std::to_string(p.runtime_s)},
  };
}

}  // namespace diobench
