#include "diobench/reports/bench_results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "diobench/reports/document.hpp"
#include "diobench/statistics.hpp"
#include "diobench/units.hpp"

namespace diobench {

namespace {

using nlohmann::json;

// Keys of a Google Benchmark result row that are not rates or counters.
const std::set<std::string> kRowKeys = {"name",
                                        "family_index",
                                        "per_family_instance_index",
                                        "run_name",
                                        "run_type",
                                        "repetitions",
                                        "repetition_index",
                                        "threads",
                                        "iterations",
                                        "real_time",
                                        "cpu_time",
                                        "time_unit",
                                        "label",
                                        "error_occurred",
                                        "error_message",
                                        "aggregate_name",
                                        "aggregate_unit"};

double to_microseconds(double value, const std::string& unit, const std::string& source) {
  if (unit == "ns") return value / 1e3;
  if (unit == "us") return value;
  if (unit == "ms") return value * 1e3;
  if (unit == "s") return value * 1e6;
  throw ReportError(source + ": unknown time_unit '" + unit + "'");
}

// "Fixture/Driver/args/manual_time" -> "Fixture/Driver/args".
std::string driver_name(std::string run_name) {
  for (const std::string suffix : {"/manual_time", "/real_time"}) {
    if (run_name.size() > suffix.size() &&
        run_name.compare(run_name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      run_name.resize(run_name.size() - suffix.size());
    }
  }
  return run_name;
}

// Microseconds with about three significant digits.
std::string us_text(double us) {
  if (us < 10) return format_number("%.3g", us);
  return us >= 100 ? format_number("%.0f", us) : format_number("%.1f", us);
}

std::string percent(double x) { return format_number("%.0f%%", 100 * x); }

std::string rate_text(double per_second, bool bytes) {
  if (bytes) {
    if (per_second >= 1024.0 * 1024 * 1024)
      return format_number("%.3g GiB/s", per_second / (1024.0 * 1024 * 1024));
    return format_number("%.3g MiB/s", per_second / (1024.0 * 1024));
  }
  if (per_second >= 1e6) return format_number("%.3g M/s", per_second / 1e6);
  if (per_second >= 1e3) return format_number("%.3g k/s", per_second / 1e3);
  return format_number("%.3g /s", per_second);
}

std::string with_bs(const std::string& pattern, std::uint64_t bs) {
  const auto at = pattern.find("{bs}");
  return pattern.substr(0, at) + std::to_string(bs) + pattern.substr(at + 4);
}

// A path the drivers measure: its driver (with {bs}), what it is, and the
// ceiling it is held against (memcpy for page-cache hits, the O_DIRECT
// read at the same depth for anything that reads the device).
struct PathRow {
  const char* driver;
  const char* what;
  const char* ceiling;  // nullptr: none
};

constexpr const char* kMemcpy = "Ceiling/Memcpy/bs:{bs}";
constexpr const char* kDirectQd1 = "Ceiling/DirectRead/seq:0/qd:1/bs:{bs}";
constexpr const char* kDirectQd32 = "Ceiling/DirectRead/seq:0/qd:32/bs:{bs}";

const PathRow kPaths[] = {
    {"HotFile/BufferedRead/bs:{bs}", "buffered read, page cache hot", kMemcpy},
    {"ColdFile/BufferedRead/bs:{bs}", "buffered read, page cache cold", kDirectQd1},
    {"ColdFile/DirectRead/bs:{bs}", "O_DIRECT read, file", kDirectQd1},
    {"WriteFile/DirectWrite/bs:{bs}", "O_DIRECT write, file", nullptr},
    {"LoopRead/DirectRead/dio:1/bs:{bs}", "loop device, dio on (kernel bvec direct I/O)",
     kDirectQd1},
    {"LoopRead/DirectRead/dio:0/bs:{bs}", "loop device, dio off (buffered backing file, cold)",
     kDirectQd1},
    {"ColdFile/AlwaysAlignedDirect/bs:{bs}", "`always`, page-aligned -> direct", kDirectQd1},
    {"ColdFile/AlwaysMisalignedFallback/bs:{bs}", "`always`, misaligned -> fallback (cold)",
     kDirectQd1},
    {"HotFile/Standard24Fallback/bs:{bs}",
     "`standard` 2.4: misaligned O_DIRECT -> silent fallback (hot)", kMemcpy},
    {"HotFile/Standard23EinvalRetry/bs:{bs}",
     "`standard` 2.3: EINVAL (emulated), app retries buffered (hot)", kMemcpy},
    {"HotFile/Standard23KernelEinvalRetry/bs:{bs}",
     "`standard` 2.3: real kernel EINVAL, app retries buffered (hot)", kMemcpy},
    {"UringFile/DirectRead/fixed:0/qd:1/bs:{bs}", "io_uring O_DIRECT, plain buffers, QD1",
     kDirectQd1},
    {"UringFile/DirectRead/fixed:1/qd:1/bs:{bs}", "io_uring O_DIRECT, registered buffers, QD1",
     kDirectQd1},
    {"UringFile/DirectRead/fixed:0/qd:32/bs:{bs}",
     "io_uring O_DIRECT, plain buffers, QD32 (amortised)", kDirectQd32},
    {"UringFile/DirectRead/fixed:1/qd:32/bs:{bs}",
     "io_uring O_DIRECT, registered buffers, QD32 (amortised)", kDirectQd32},
    {kDirectQd1, "ceiling: O_DIRECT random read, QD1", nullptr},
    {kDirectQd32, "ceiling: O_DIRECT random read, QD32 (amortised)", nullptr},
    {kMemcpy, "ceiling: memcpy", nullptr},
};

// numerator / denominator: above 1, the first is slower.
struct PairRow {
  const char* numerator;
  const char* denominator;
  const char* question;
};

const PairRow kPairs[] = {
    {"ColdFile/AlwaysMisalignedFallback/bs:{bs}", "ColdFile/AlwaysAlignedDirect/bs:{bs}",
     "`always`: fallback vs direct, cold"},
    {"HotFile/Standard23EinvalRetry/bs:{bs}", "HotFile/Standard24Fallback/bs:{bs}",
     "`standard`: 2.3 retry (emulated EINVAL) vs 2.4 fallback"},
    {"HotFile/Standard23KernelEinvalRetry/bs:{bs}", "HotFile/Standard24Fallback/bs:{bs}",
     "`standard`: 2.3 retry (kernel EINVAL) vs 2.4 fallback"},
    {"LoopRead/DirectRead/dio:0/bs:{bs}", "LoopRead/DirectRead/dio:1/bs:{bs}",
     "loop: dio off vs dio on"},
    {"LoopRead/DirectRead/dio:1/bs:{bs}", "ColdFile/DirectRead/bs:{bs}",
     "loop tax: loop dio on vs O_DIRECT on the file"},
    {"ColdFile/BufferedRead/bs:{bs}", "ColdFile/DirectRead/bs:{bs}", "cold buffered vs O_DIRECT"},
    {"UringFile/DirectRead/fixed:1/qd:1/bs:{bs}", "UringFile/DirectRead/fixed:0/qd:1/bs:{bs}",
     "io_uring QD1: registered vs plain buffers"},
    {"UringFile/DirectRead/fixed:1/qd:32/bs:{bs}", "UringFile/DirectRead/fixed:0/qd:32/bs:{bs}",
     "io_uring QD32: registered vs plain buffers"},
};

constexpr int kRatioResamples = 10000;
constexpr std::uint64_t kRatioSeed = 1;  // fixed: the same file gives the same table

// The device ceilings in the units fio reports.
constexpr const char* kSeqCeiling = "Ceiling/DirectRead/seq:1/qd:32/bs:1048576";
constexpr const char* kRandQd32Ceiling = "Ceiling/DirectRead/seq:0/qd:32/bs:4096";
constexpr const char* kRandQd1Ceiling = "Ceiling/DirectRead/seq:0/qd:1/bs:4096";

// A ceiling read from the scratch file instead of the device says so
// (counter on_block_device = 0).
bool on_stand_in(const BenchDriver& d) {
  const auto on_device = d.median_of("on_block_device");
  return on_device && *on_device == 0;
}

std::string context_line(const BenchResults& b, std::uint64_t bs) {
  auto ctx = [&](const char* k) {
    const auto it = b.context.find(k);
    return it == b.context.end() ? std::string("?") : it->second;
  };
  return "Block size " + std::to_string(bs) + " bytes; kernel " + ctx("kernel") + "; scratch " +
         ctx("scratch_fs") + " on " + ctx("scratch_source") + "; " + ctx("num_cpus") +
         " CPUs; load average at start " + ctx("load_avg") + "; " + ctx("date") + " (`" + b.source +
         "`).";
}

// Google Benchmark writes a counter it could not compute (e.g. the
// cv of a constant) as a bare NaN or inf, which JSON has no word for:
// those become null (outside strings), and a null is no number.
std::string with_nan_as_null(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool replaced = false;
    for (const char* word :
         {"-Infinity", "Infinity", "-NaN", "NaN", "-nan", "nan", "-inf", "inf"}) {
      const std::size_t n = std::char_traits<char>::length(word);
      if (text.compare(i, n, word) == 0) {
        out += "null";
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

// The results in `doc`, a JSON object with a "benchmarks" array. Throws
// ReportError, or json::exception for a field of the wrong type.
BenchResults bench_results_from_json(const json& doc, const std::string& source) {
  BenchResults b;
  b.source = source;
  if (doc.contains("context") && doc["context"].is_object()) {
    for (const auto& [k, v] : doc["context"].items()) {
      if (v.is_string()) {
        b.context[k] = v.get<std::string>();
      } else if (k == "load_avg" && v.is_array()) {
        std::string s;
        for (const auto& x : v)
          s += (s.empty() ? "" : " ") + format_number("%.2f", x.get<double>());
        b.context[k] = s;
      } else if (v.is_number()) {
        b.context[k] = v.dump();
      }
    }
  }
  std::map<std::string, std::size_t> index;
  std::size_t row = 0;
  for (const json& r : doc["benchmarks"]) {
    ++row;
    const std::string where = source + ": benchmarks[" + std::to_string(row - 1) + "]";
    if (!r.is_object() || !r.contains("run_name") || !r["run_name"].is_string()) {
      throw ReportError(where + ": no run_name");
    }
    // Aggregates (mean, median, p99, ...) are recomputed from the repetitions.
    if (r.value("run_type", std::string("iteration")) != "iteration") continue;
    const std::string name = driver_name(r["run_name"].get<std::string>());
    auto [it, added] = index.emplace(name, b.drivers.size());
    if (added) {
      BenchDriver d;
      d.name = name;
      d.family = name.substr(0, name.find('/'));
      b.drivers.push_back(d);
    }
    BenchDriver& d = b.drivers[it->second];
    if (r.value("error_occurred", false)) {
      const std::string msg = r.value("error_message", std::string("(no message)"));
      if (std::find(d.errors.begin(), d.errors.end(), msg) == d.errors.end())
        d.errors.push_back(msg);
      continue;
    }
    if (!r.contains("real_time") || !r["real_time"].is_number()) {
      throw ReportError(where + " (" + name + "): no real_time");
    }
    const std::string unit = r.value("time_unit", std::string("ns"));
    BenchRepetition rep;
    rep.time_us = to_microseconds(r["real_time"].get<double>(), unit, where);
    if (r.contains("cpu_time") && r["cpu_time"].is_number()) {
      rep.cpu_us = to_microseconds(r["cpu_time"].get<double>(), unit, where);
    }
    for (const auto& [k, v] : r.items()) {
      if (!kRowKeys.count(k) && v.is_number()) rep.values[k] = v.get<double>();
    }
    if (r.contains("label") && r["label"].is_string()) d.label = r["label"].get<std::string>();
    d.repetitions.push_back(rep);
  }
  if (b.drivers.empty()) throw ReportError(source + ": no benchmark repetitions in it");
  return b;
}

}  // namespace

std::vector<double> BenchDriver::times() const {
  std::vector<double> t;
  for (const auto& r : repetitions) t.push_back(r.time_us);
  return t;
}

std::optional<double> BenchDriver::median_of(const std::string& key) const {
  std::vector<double> v;
  for (const auto& r : repetitions) {
    const auto it = r.values.find(key);
    if (it != r.values.end()) v.push_back(it->second);
  }
  if (v.empty()) return std::nullopt;
  return median(v);
}

const BenchDriver* BenchResults::find(const std::string& name) const {
  for (const BenchDriver& d : drivers) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

BenchResults parse_bench_results(const std::string& text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(with_nan_as_null(text));
  } catch (const json::exception& e) {
    throw ReportError(source + ": not JSON (" + e.what() + ")");
  }
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    throw ReportError(source + ": not Google Benchmark JSON (no \"benchmarks\" array)");
  }
  try {
    return bench_results_from_json(doc, source);
  } catch (const json::exception& e) {
    // A field of the wrong type: nlohmann's message says which.
    throw ReportError(source + ": not Google Benchmark JSON (" + e.what() + ")");
  }
}

BenchResults load_bench_results(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ReportError("benchmark results '" + path + "' cannot be read");
  std::stringstream s;
  s << in.rdbuf();
  return parse_bench_results(s.str(), path);
}

std::optional<MedianInterval> median_order_interval(std::vector<double> values, double level) {
  const std::size_t n = values.size();
  if (n == 0) return std::nullopt;
  std::sort(values.begin(), values.end());
  // P(fewer than k of n values lie below the median) = sum_{j<k} C(n,j)/2^n;
  // the interval [x_(k), x_(n-k+1)] misses the median with twice that.
  const double alpha = 1 - level;
  const double nd = static_cast<double>(n);
  double below = 0;
  std::optional<MedianInterval> best;
  for (std::size_t k = 1; k <= n / 2; ++k) {
    const double j = static_cast<double>(k - 1);
    below += std::exp(std::lgamma(nd + 1) - std::lgamma(j + 1) - std::lgamma(nd - j + 1) -
                      nd * std::log(2.0));
    if (2 * below > alpha) break;
    best = MedianInterval{{values[k - 1], values[n - k]}, 1 - 2 * below};
  }
  return best;
}

namespace {

// Per path: the time per request with its interval, p99, and the share of
// its ceiling.
Table request_cost_table(const BenchResults& b, std::uint64_t bs) {
  Table cost;
  cost.id = "request-cost";
  cost.header = {"path",
                 "driver",
                 "µs/request, median",
                 "95% CI of median",
                 "min..max",
                 "request p99 µs (median)",
                 "reps",
                 "of ceiling"};
  cost.numeric = {false, false, true, true, true, true, true, true};
  for (const PathRow& p : kPaths) {
    const std::string name = with_bs(p.driver, bs);
    const BenchDriver* d = b.find(name);
    const std::vector<double> ts = d ? d->times() : std::vector<double>{};
    if (ts.empty()) {
      const std::string why = d && !d->errors.empty() ? "error: " + d->errors.front() : "not run";
      cost.rows.push_back({p.what, "`" + name + "`", why, "", "", "", "0", ""});
      continue;
    }
    const auto ci = median_order_interval(ts, 0.95);
    const auto p99 = d->median_of("lat_p99_us");
    std::string of;
    if (p.ceiling) {
      const BenchDriver* c = b.find(with_bs(p.ceiling, bs));
      if (c && !c->times().empty()) of = percent(median(c->times()) / median(ts));
    }
    std::string what = p.what;
    if (d->family == "Ceiling" && on_stand_in(*d)) what += " (stand-in file)";
    cost.rows.push_back(
        {what, "`" + name + "`", us_text(median(ts)),
         ci ? us_text(ci->interval.low) + ".." + us_text(ci->interval.high) : "n/a (< 6 reps)",
         us_text(*std::min_element(ts.begin(), ts.end())) + ".." +
             us_text(*std::max_element(ts.begin(), ts.end())),
         p99 ? us_text(*p99) : "—", std::to_string(ts.size()), of});
  }
  return cost;
}

// The ceiling targets' labels and the ceilings' own rates.
void add_ceilings(const BenchResults& b, Document& doc) {
  std::set<std::string> labels;
  for (const BenchDriver& d : b.drivers) {
    if (d.name.rfind("Ceiling/DirectRead", 0) == 0 && !d.label.empty()) labels.insert(d.label);
  }
  for (const std::string& l : labels) doc.push_back(paragraph("Ceiling target: " + l));

  struct Roof {
    const char* what;
    const char* driver;
    const char* key;
    const char* unit;
    double scale;
  };
  const Roof roofs[] = {
      {"O_DIRECT sequential 1M QD32", kSeqCeiling, "bytes_per_second", "GiB/s",
       1024.0 * 1024 * 1024},
      {"O_DIRECT random 4k QD32", kRandQd32Ceiling, "items_per_second", "k IOPS", 1e3},
      {"O_DIRECT random 4k QD1", kRandQd1Ceiling, "items_per_second", "k IOPS", 1e3},
      {"memcpy 1M", "Ceiling/Memcpy/bs:1048576", "bytes_per_second", "GiB/s", 1024.0 * 1024 * 1024},
  };
  std::string roofline;
  for (const Roof& r : roofs) {
    const BenchDriver* d = b.find(r.driver);
    const auto v = d ? d->median_of(r.key) : std::nullopt;
    if (!v) continue;
    roofline += std::string(roofline.empty() ? "" : "; ") + r.what + " " +
                format_number("%.3g", *v / r.scale) + " " + r.unit +
                (on_stand_in(*d) ? " (stand-in file)" : "");
  }
  if (!roofline.empty())
    doc.push_back(paragraph("Ceilings (medians of the repetitions): " + roofline + "."));
}

// The path comparisons as ratios of medians at each of `sizes`.
Table comparison_table(const BenchResults& b, const std::vector<std::uint64_t>& sizes,
                       bool show_missing) {
  Table t;
  t.header = {"comparison", "bs", "ratio of medians", "bootstrap 95% CI"};
  t.numeric = {false, true, true, true};
  std::uint64_t seed = kRatioSeed;
  for (const PairRow& p : kPairs) {
    for (std::uint64_t size : sizes) {
      const BenchDriver* num = b.find(with_bs(p.numerator, size));
      const BenchDriver* den = b.find(with_bs(p.denominator, size));
      const auto a = num ? num->times() : std::vector<double>{};
      const auto c = den ? den->times() : std::vector<double>{};
      if (a.size() < 2 || c.size() < 2) {
        if (show_missing) t.rows.push_back({p.question, std::to_string(size), "n/a", ""});
        continue;
      }
      const Interval ci = bootstrap_ratio_interval(a, c, 0.95, seed++, kRatioResamples);
      t.rows.push_back({p.question, std::to_string(size),
                        format_number("%.3f", median(a) / median(c)),
                        format_number("%.3f", ci.low) + ".." + format_number("%.3f", ci.high)});
    }
  }
  return t;
}

// The block sizes measured besides `bs`.
std::set<std::uint64_t> other_block_sizes(const BenchResults& b, std::uint64_t bs) {
  std::set<std::uint64_t> sizes;
  for (const BenchDriver& d : b.drivers) {
    const auto at = d.name.find("/bs:");
    if (at == std::string::npos) continue;
    if (const auto size = parse_size(d.name.substr(at + 4)); size && *size != bs)
      sizes.insert(*size);
  }
  return sizes;
}

}  // namespace

Document request_cost_document(const BenchResults& b, std::uint64_t bs, bool other_sizes) {
  Document doc;
  doc.push_back(paragraph(context_line(b, bs)));
  doc.push_back(table_block(request_cost_table(b, bs)));
  doc.push_back(paragraph(
      "Of ceiling: the ceiling's time per request over the path's (its rate as a fraction of the "
      "ceiling's): memcpy for page-cache hits, the O_DIRECT read at the same depth for reads "
      "from the device."));
  add_ceilings(b, doc);
  doc.push_back(paragraph(
      "Comparisons, as ratios of medians (above 1: the first is slower) with a bootstrap 95% "
      "interval (" +
      std::to_string(kRatioResamples) + " resamples of the repetitions):"));
  Table here = comparison_table(b, {bs}, true);
  here.id = "bench-comparisons";
  doc.push_back(table_block(here));
  if (other_sizes) {
    const std::set<std::uint64_t> sizes = other_block_sizes(b, bs);
    Table others = comparison_table(b, {sizes.begin(), sizes.end()}, false);
    if (!others.rows.empty()) {
      others.id = "bench-comparisons-sizes";
      doc.push_back(paragraph("The same comparisons at the other block sizes measured:"));
      doc.push_back(table_block(others));
    }
  }
  return doc;
}

Document driver_family_document(const BenchResults& b, int level) {
  Document doc;
  std::vector<std::string> families;
  for (const BenchDriver& d : b.drivers) {
    if (std::find(families.begin(), families.end(), d.family) == families.end()) {
      families.push_back(d.family);
    }
  }
  std::vector<const BenchDriver*> failed;
  for (const std::string& family : families) {
    std::vector<const BenchDriver*> members;
    std::set<std::string> counters;
    for (const BenchDriver& d : b.drivers) {
      if (d.family != family) continue;
      members.push_back(&d);
      if (!d.errors.empty()) failed.push_back(&d);
      for (const auto& r : d.repetitions) {
        for (const auto& [k, v] : r.values) {
          if (k != "bytes_per_second" && k != "items_per_second") counters.insert(k);
        }
      }
    }
    Table t;
    t.id = "bench-family-" + family;
    t.header = {"instance", "reps", "µs/iteration, median", "min..max", "bytes/s", "items/s"};
    for (const auto& c : counters) t.header.push_back(c);
    t.header.push_back("label");
    t.numeric.assign(t.header.size(), true);
    t.numeric.front() = false;
    t.numeric.back() = false;
    for (const BenchDriver* d : members) {
      std::vector<std::string> row{"`" + d->name + "`", std::to_string(d->repetitions.size())};
      const auto ts = d->times();
      if (ts.empty()) {
        // A failed driver has no number, only what went wrong.
        row.push_back("error: " +
                      (d->errors.empty() ? std::string("no repetition") : d->errors.front()));
        row.resize(t.header.size() - 1);
        row.push_back(d->label);
        t.rows.push_back(row);
        continue;
      }
      row.push_back(us_text(median(ts)));
      row.push_back(us_text(*std::min_element(ts.begin(), ts.end())) + ".." +
                    us_text(*std::max_element(ts.begin(), ts.end())));
      const auto bytes = d->median_of("bytes_per_second");
      const auto items = d->median_of("items_per_second");
      row.push_back(bytes ? rate_text(*bytes, true) : "—");
      row.push_back(items ? rate_text(*items, false) : "—");
      for (const auto& c : counters) {
        const auto v = d->median_of(c);
        row.push_back(v ? format_number("%.4g", *v) : "—");
      }
      std::string label = d->label;
      if (!d->errors.empty())
        label += (label.empty() ? "" : "; ") + std::string("some repetitions failed: ") +
                 d->errors.front();
      row.push_back(label);
      t.rows.push_back(row);
    }
    doc.push_back(heading("Driver family " + family, level));
    doc.push_back(table_block(t));
  }
  if (!failed.empty()) {
    doc.push_back(heading("Drivers that failed", level));
    Table t;
    t.id = "bench-errors";
    t.header = {"driver", "error"};
    t.numeric = {false, false};
    for (const BenchDriver* d : failed) {
      std::string all;
      for (const auto& e : d->errors) all += (all.empty() ? "" : "; ") + e;
      t.rows.push_back({"`" + d->name + "`", all});
    }
    doc.push_back(table_block(t));
  }
  doc.insert(doc.begin(), paragraph("Medians over each instance's repetitions (aggregate rows "
                                    "recomputed from them); rates per second, counters as the "
                                    "drivers report them; times per iteration (one request)."));
  return doc;
}

CeilingShare ceiling_share(const BenchResults& b, const CellData& cell, double throughput_bps,
                           double iops) {
  CeilingShare s;
  const std::string rw = cell.axis("rw");
  if (!cell.reads()) {
    s.note = "writes: the device ceiling is only ever read, never written";
    return s;
  }
  if (rw == "rw" || rw == "randrw" || rw == "readwrite") {
    s.note = "mixed reads and writes: the ceiling is of reads alone";
    return s;
  }
  const bool random = rw.find("rand") != std::string::npos;
  const char* driver = kSeqCeiling;
  std::string kind = "O_DIRECT sequential 1M QD32";
  if (random) {
    const auto bs = parse_size(cell.axis("bs"));
    if (!bs || *bs != 4096) {
      s.note = "no random-read ceiling at bs " + cell.axis("bs") + " (the drivers measure 4k)";
      return s;
    }
    const long depth = std::atol(cell.axis("iodepth").c_str()) *
                       std::max(1L, std::atol(cell.axis("numjobs").c_str()));
    // At depth 1 the device serves one request at a time; any deeper queue
    // is held against the deepest ceiling measured.
    driver = depth <= 1 ? kRandQd1Ceiling : kRandQd32Ceiling;
    kind = depth <= 1 ? "O_DIRECT random 4k QD1" : "O_DIRECT random 4k QD32";
  }
  const BenchDriver* d = b.find(driver);
  if (!d) {
    s.note = std::string("the ceiling ") + driver + " is not in the benchmark results";
    return s;
  }
  const auto rate = d->median_of(random ? "items_per_second" : "bytes_per_second");
  if (!rate || *rate <= 0) {
    s.note = std::string("the ceiling ") + driver + " failed" +
             (d->errors.empty() ? std::string() : ": " + d->errors.front());
    return s;
  }
  s.ceiling = kind + (on_stand_in(*d) ? " (stand-in file)" : "");
  s.fraction = (random ? iops : throughput_bps) / *rate;
  return s;
}

}  // namespace diobench
