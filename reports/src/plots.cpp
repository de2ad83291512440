#include "diobench/reports/plots.hpp"

#include <fcntl.h>
#include <gnuplot-iostream.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <system_error>

#include "diobench/child_process.hpp"
#include "diobench/reports/verdict.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

const char* const kPolicies[] = {"disabled", "standard", "always"};
const char* const kTargets[] = {"file", "loop dio on", "loop dio off"};
constexpr std::size_t kMaxWorkloadFigures = 24;
constexpr std::size_t kMaxSplitBars = 60;

std::string target_of(const CellData& c) {
  if (c.axis("target") == "file") return "file";
  return c.axis("loop_dio") == "on" ? "loop dio on" : "loop dio off";
}

// A gnuplot string literal for any text (workload names come from user
// profiles): single quotes, inside which gnuplot substitutes no
// `backquoted` command as it does inside double quotes; a quote is
// doubled, control characters (a newline would end the command) dropped.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'') {
      out += "''";
    } else if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f) {
      out += ch;
    }
  }
  return out + "'";
}

// A text column of a data block: double quotes make it one column (data
// lines are not commands: nothing in them is substituted); a double quote
// or control character inside is dropped.
std::string data_text(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch != '"' && static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f) out += ch;
  }
  return out + "\"";
}

std::string slurp_and_remove(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  fs::remove(file);
  return text.str();
}

// A gnuplot script written through a gnuplot-iostream stream into an
// anonymous temporary file, then given to gnuplot on its standard input
// (child_process.hpp: no shell, a time limit). Its messages go to
// `errors_file` (created afresh, never through a link), read and removed.
class GnuplotScript {
 public:
  GnuplotScript() {
    FILE* file = std::tmpfile();
    if (!file) throw_errno("gnuplot: temporary script file");
    script_fd_ = ::dup(::fileno(file));  // the stream closes `file`
    if (script_fd_ < 0) {
      const int err = errno;
      std::fclose(file);
      throw std::system_error(err, std::generic_category(), "gnuplot: dup");
    }
    gp_ = std::make_unique<Gnuplot>(file);
  }
  ~GnuplotScript() {
    if (script_fd_ >= 0) ::close(script_fd_);
  }
  GnuplotScript(const GnuplotScript&) = delete;
  GnuplotScript& operator=(const GnuplotScript&) = delete;
  Gnuplot& stream() { return *gp_; }

  // Runs gnuplot on the script, allowing it a minute to start and 20 s per
  // figure (a figure takes it well under a second here); returns its
  // messages, and why it failed when it did.
  std::string run(const std::string& errors_file, std::size_t figures) {
    gp_.reset();  // flushes and closes the stream; our descriptor keeps the file
    std::string script;
    char buffer[65536];
    for (off_t at = 0;;) {
      const ssize_t n = ::pread(script_fd_, buffer, sizeof buffer, at);
      if (n == 0) break;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("gnuplot: reading the script");
      script.append(buffer, static_cast<std::size_t>(n));
      at += n;
    }
    ChildCommand command;
    command.argv = {"gnuplot"};
    command.input = std::move(script);
    command.log_file = errors_file;
    command.timeout_s = 60 + 20 * static_cast<double>(figures);
    const ChildExit exit = run_child(command);
    std::string messages = slurp_and_remove(errors_file);
    if (!exit.ok()) messages += "gnuplot " + exit.reason() + "\n";
    return messages;
  }

 private:
  [[noreturn]] static void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
  }
  int script_fd_ = -1;
  std::unique_ptr<Gnuplot> gp_;
};

std::string stem(const std::string& text) {
  std::string s;
  for (char ch : text) s += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-';
  return s;
}

// Common look: readable fonts, legend outside the data, light grid.
const char* kStyle =
    "set termoption noenhanced\n"
    "set key outside right top box\n"
    "set grid ytics lc rgb '#dddddd'\n"
    "set border 3\nset tics nomirror\n";

// The cells a load sweep (profiles/capacity.ini) varies iodepth x numjobs
// across: everything else about the workload the same.
std::string sweep_group(const CellData& c) {
  std::string load = c.axis("rw") + " " + c.axis("bs");
  if (c.axis("rwmixread") != "" && c.axis("rwmixread") != "0") load += " mix" + c.axis("rwmixread");
  return workload_group(c, load);
}

long total_depth(const CellData& c) {
  return std::atol(c.axis("iodepth").c_str()) * std::max(1L, std::atol(c.axis("numjobs").c_str()));
}

// Latency against IOPS per sweep group: one curve per policy x target x
// loop dio, a point per iodepth x numjobs in order of total depth; p99
// solid, p50 dashed in the same colour. Empty when no group is a sweep.
struct SweepPlot {
  std::string group;
  std::string body;  // gnuplot script
};
std::vector<SweepPlot> sweep_plots(const std::vector<CellSummary>& cells) {
  std::map<std::string, std::vector<const CellSummary*>> groups;
  std::vector<std::string> order;
  for (const CellSummary& s : cells) {
    if (s.n == 0 || !(s.iops_median > 0)) continue;
    const std::string g = sweep_group(*s.cell);
    if (!groups.count(g)) order.push_back(g);
    groups[g].push_back(&s);
  }
  std::vector<SweepPlot> out;
  for (const std::string& g : order) {
    std::set<std::pair<std::string, std::string>> loads;
    for (const CellSummary* s : groups[g])
      loads.insert({s->cell->axis("iodepth"), s->cell->axis("numjobs")});
    if (loads.size() < 2) continue;
    std::map<std::string, std::vector<const CellSummary*>> curves;
    std::vector<std::string> curve_order;
    for (const CellSummary* s : groups[g]) {
      const std::string key = s->cell->axis("policy") + ", " + target_of(*s->cell);
      if (!curves.count(key)) curve_order.push_back(key);
      curves[key].push_back(s);
    }
    std::ostringstream data, plot;
    int i = 0;
    for (const std::string& key : curve_order) {
      auto& points = curves[key];
      std::sort(points.begin(), points.end(), [](const CellSummary* x, const CellSummary* y) {
        const long dx = total_depth(*x->cell), dy = total_depth(*y->cell);
        return dx != dy ? dx < dy
                        : std::atol(x->cell->axis("iodepth").c_str()) <
                              std::atol(y->cell->axis("iodepth").c_str());
      });
      data << "$c" << i << " << EOD\n";
      for (const CellSummary* p : points) {
        data << p->iops_median << " " << p->p99 / 1e3 << " " << p->p50 / 1e3 << " "
             << data_text(p->cell->axis("iodepth") + "x" + p->cell->axis("numjobs")) << "\n";
      }
      data << "EOD\n";
      const int colour = i + 1;
      plot << (i ? ", " : "plot ") << "$c" << i << " using 1:2 with linespoints lw 2 pt 7 lc "
           << colour << " title " << quoted(key + " p99") << ", $c" << i
           << " using 1:3 with linespoints dt 2 pt 6 lc " << colour << " title "
           << quoted(key + " p50") << ", $c" << i
           << " using 1:2:4 with labels offset 0,0.7 font ',7' tc lt " << colour << " notitle";
      ++i;
    }
    std::ostringstream body;
    body
        << data.str() << "set title "
        << quoted("Completion latency against IOPS: " + g +
                  " (a point per iodepth x numjobs, by total depth)")
        << "\nset xlabel 'IOPS (median of the repetitions)'\nset ylabel 'completion latency (us)'\n"
        << "set logscale y\nset xrange [0:*]\nset format x '%.0s%c'\n"
        << plot.str() << "\n";
    out.push_back({g, body.str()});
  }
  return out;
}

// Renders `body` (a gnuplot script using data blocks) as <name>.svg and
// <name>.png in `dir`.
void render(Gnuplot& gp, const std::string& dir, const std::string& name, const std::string& body,
            int width = 960, int height = 480) {
  const std::string base = (fs::path(dir) / name).string();
  const std::string size = std::to_string(width) + "," + std::to_string(height);
  gp << "reset\n" << kStyle;
  gp << "set terminal svg size " << size << " dynamic font 'sans,12' background rgb 'white'\n"
     << "set output " << quoted(base + ".svg") << "\n"
     << body << "\nunset output\n";
  gp << "set terminal pngcairo size " << size << " font 'sans,10' background rgb 'white'\n"
     << "set output " << quoted(base + ".png") << "\n"
     << "replot\nunset output\n";
}

// Tic marks for a log axis from `lo` to `hi`: from a fixed ladder, the
// ones far enough from their neighbours (an eighth of the span) to be read.
std::string forest_tics(double lo, double hi) {
  const double ladder[] = {0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 0.67, 0.8, 0.9, 0.95, 1,
                           1.05, 1.1,  1.25, 1.5, 2,    4,   10,   20,  50,  100};
  const double gap = std::log(hi / lo) / 8;
  std::vector<double> chosen = {1};
  double last = 1;  // walking up from 1
  for (double x : ladder) {
    if (x > 1 && x <= hi && std::log(x / last) >= gap) chosen.push_back(last = x);
  }
  last = 1;  // walking down from 1
  for (auto it = std::rbegin(ladder); it != std::rend(ladder); ++it) {
    if (*it < 1 && *it >= lo && std::log(last / *it) >= gap) chosen.push_back(last = *it);
  }
  std::sort(chosen.begin(), chosen.end());
  std::ostringstream out;
  for (std::size_t i = 0; i < chosen.size(); ++i)
    out << (i ? ", " : "") << "'" << chosen[i] << "' " << chosen[i];
  return out.str();
}

// The forest plot's script: the rows as a data block (y = row index, the
// first row on top), the threshold band and the line at 1 behind them,
// a legend entry per outcome that occurs.
std::string forest_script(const std::vector<ForestRow>& rows, double threshold) {
  // The axis spans the threshold band, every ratio and every finite end of
  // an interval; an open end (0 or infinity) runs to the axis' edge.
  auto drawn = [](const ForestRow& r) { return std::isfinite(r.ratio) && r.ratio > 0; };
  double lo = 1 - threshold, hi = 1 + threshold;
  for (const ForestRow& r : rows) {
    if (!drawn(r)) continue;
    lo = std::min({lo, r.ratio, r.interval.low > 0 ? r.interval.low : lo});
    hi = std::max({hi, r.ratio, std::isfinite(r.interval.high) ? r.interval.high : hi});
  }
  lo /= 1.15;
  hi *= 1.15;
  std::ostringstream data, tics, labels;
  data << "$forest << EOD\n";
  bool any = false;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ForestRow& r = rows[i];
    if (drawn(r)) {
      any = true;
      data << i << " " << r.ratio << " " << (r.interval.low > 0 ? r.interval.low : lo) << " "
           << (std::isfinite(r.interval.high) ? r.interval.high : hi) << " "
           << std::stol(std::string(outcome_colour(r.outcome)).substr(1), nullptr, 16) << "\n";
    } else {
      labels << "set label " << i + 1 << " "
             << quoted(r.outcome == Outcome::Crash ? "CRASH" : "no data") << " at first 1, first "
             << i << " center tc rgb '" << outcome_colour(r.outcome) << "' font ',9'\n";
    }
    tics << (i ? ", " : "") << quoted(r.label) << " " << i;
  }
  data << "EOD\n";
  std::ostringstream body;
  body
      << data.str() << labels.str() << "set title "
      << quoted("Fallback / reference, each comparison with its interval (shaded: within " +
                std::to_string(static_cast<int>(std::lround(100 * threshold))) + "%)")
      << " font ',11'"
      << "\nset logscale x\nset xrange [" << lo << ":" << hi << "]\n"
      << "set yrange [" << rows.size() - 0.5 << ":-0.5]\nset ytics (" << tics.str()
      << ") font ',9' nomirror scale 0\n"
      // gnuplot's SVG terminal guesses text widths generously: fixed margins
      // keep the labels' column and the plot's apart.
      << "set lmargin at screen 0.46\nset rmargin at screen 0.97\n"
      << "set xtics (" << forest_tics(lo, hi) << ") font ',9'\n"
      << "set xlabel 'log scale; throughput: above 1 is better, p99 latency: below 1 is better' "
         "font ',9'\n"
      << "set grid xtics lc rgb '#eeeeee'\nunset grid\nset border 1\n"
      << "set object 1 rect from first " << 1 - threshold << ", graph 0 to first " << 1 + threshold
      << ", graph 1 fc rgb '#e4e4e4' fs solid 1.0 noborder behind\n"
      << "set arrow 1 from first 1, graph 0 to first 1, graph 1 nohead lc rgb '#777777' dt 2 back\n"
      << "set key outside bottom center horizontal font ',10' nobox\n"
      << "plot "
      << (any ? "$forest using 2:1:3:4:5 with xerrorbars pt 7 ps 0.7 lw 3 lc rgb variable notitle, "
              : "");
  bool first = true;
  for (Outcome o : {Outcome::Pass, Outcome::Fail, Outcome::Inconclusive, Outcome::Crash}) {
    const bool occurs =
        std::any_of(rows.begin(), rows.end(), [&](const ForestRow& r) { return r.outcome == o; });
    if (!occurs) continue;
    body << (first ? "" : ", ") << "NaN with lines lw 6 lc rgb '" << outcome_colour(o) << "' title "
         << quoted(o == Outcome::Inconclusive ? "still open" : to_string(o));
    first = false;
  }
  body << "\n";
  return body.str();
}

}  // namespace

const char* outcome_colour(Outcome o) {
  switch (o) {
    case Outcome::Pass:
      return "#228833";
    case Outcome::Fail:
      return "#cc3311";
    case Outcome::Inconclusive:
      return "#dd9922";
    case Outcome::Crash:
      return "#aa3377";
  }
  return "#777777";
}

std::optional<Figure> draw_forest_plot(const std::vector<ForestRow>& rows, double threshold,
                                       const std::string& dir, std::string& gnuplot_errors) {
  fs::create_directories(dir);
  const Figure figure{"The verdict at a glance: every comparison's ratio with its interval",
                      "forest"};
  if (rows.empty()) return std::nullopt;
  const std::string errors = (fs::path(dir) / ".gnuplot-forest-errors").string();
  GnuplotScript gnuplot;
  Gnuplot& gp = gnuplot.stream();
  // A row per comparison, 22 px each, plus the title, axis and legend.
  render(gp, dir, figure.name, forest_script(rows, threshold), 820,
         150 + 22 * static_cast<int>(rows.size()));
  gp << "exit\n";
  gnuplot_errors += gnuplot.run(errors, 1);
  return figure;
}

namespace {

// The cells by workload group, in the order they first appear.
struct WorkloadGroups {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const CellSummary*>> cells;
};

WorkloadGroups group_by_workload(const std::vector<CellSummary>& cells) {
  WorkloadGroups out;
  for (const CellSummary& s : cells) {
    const std::string g = workload_group(*s.cell);
    if (!out.cells.count(g)) out.order.push_back(g);
    out.cells[g].push_back(&s);
  }
  return out;
}

// Throughput of a workload group: policy groups, one bar per target the
// group has, 95% whiskers; "" when no target has data (a column with no
// data at all is an error to gnuplot).
std::string throughput_script(const std::string& g, const std::vector<const CellSummary*>& group) {
  std::vector<const char*> targets;
  for (const char* target : kTargets) {
    for (const CellSummary* c : group) {
      if (target_of(*c->cell) == target && c->n) {
        targets.push_back(target);
        break;
      }
    }
  }
  if (targets.empty()) return "";
  std::ostringstream body;
  body << "$tp << EOD\n";
  for (const char* policy : kPolicies) {
    body << policy;
    for (const char* target : targets) {
      const CellSummary* s = nullptr;
      for (const CellSummary* c : group) {
        if (c->cell->axis("policy") == policy && target_of(*c->cell) == target) s = c;
      }
      if (s && s->n) {
        body << " " << s->throughput_median / 1048576 << " " << s->throughput_interval.low / 1048576
             << " " << s->throughput_interval.high / 1048576;
      } else {
        body << " NaN NaN NaN";
      }
    }
    body << "\n";
  }
  body << "EOD\n"
       << "set title " << quoted("Throughput: " + g + " (median, 95% interval)") << "\n"
       << "set ylabel 'MiB/s'\nset xlabel 'dataset direct= policy'\nset yrange [0:*]\n"
       << "set style data histograms\nset style histogram errorbars gap 1 lw 1\n"
       << "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
       << "plot ";
  for (std::size_t t = 0; t < targets.size(); ++t) {
    const std::string colour = std::string(targets[t]) == "file"          ? "#4477aa"
                               : std::string(targets[t]) == "loop dio on" ? "#66ccee"
                                                                          : "#ee6677";
    body << (t ? ", ''" : "$tp") << " using " << 2 + 3 * t << ":" << 3 + 3 * t << ":" << 4 + 3 * t
         << (t ? "" : ":xtic(1)") << " title " << quoted(targets[t]) << " lc rgb '" << colour
         << "'";
  }
  body << "\n";
  return body.str();
}

// Latency percentiles of a workload group, a line per cell, x in "nines"
// (90% -> 1, 99% -> 2, 99.9% -> 3); "" when no cell has percentiles.
std::string latency_script(const std::string& g, const std::vector<const CellSummary*>& group) {
  std::ostringstream lat;
  std::ostringstream plot;
  int block = 0;
  for (const CellSummary* c : group) {
    std::map<double, std::vector<double>> by_p;
    for (const RepetitionData& r : c->cell->repetitions) {
      for (const auto& [p, ns] : r.percentiles) {
        if (p < 100) by_p[p].push_back(ns);
      }
    }
    if (by_p.empty()) continue;
    lat << "$l" << block << " << EOD\n";
    for (auto& [p, v] : by_p) lat << -std::log10(1 - p / 100) << " " << median(v) / 1000 << "\n";
    lat << "EOD\n";
    plot << (block ? ", " : "plot ") << "$l" << block << " using 1:2 with linespoints title "
         << quoted(std::string(c->cell->axis("policy")) + ", " + target_of(*c->cell));
    ++block;
  }
  if (!block) return "";
  return lat.str() + "set title " + quoted("Completion latency percentiles: " + g) + "\n" +
         "set ylabel 'latency (us)'\nset logscale y\nset xlabel 'percentile'\n" +
         "set xtics ('50' 0.301, '90' 1, '99' 2, '99.9' 3, '99.99' 4)\n" + plot.str() + "\n";
}

// The path split of every cell (of the first kMaxSplitBars), stacked, in
// percent of requests in the cell's main direction.
std::string path_split_script(const std::vector<CellSummary>& cells) {
  std::ostringstream body;
  body << "$split << EOD\n";
  const std::size_t shown = std::min(cells.size(), kMaxSplitBars);
  for (std::size_t i = 0; i < shown; ++i) {
    const CellSummary& s = cells[i];
    const Direction d = s.cell->reads() ? Direction::Read : Direction::Write;
    const double total = static_cast<double>(s.split.requests(d));
    body << data_text(s.cell->name);
    for (Path p : kAllPaths) {
      body << " "
           << (total ? 100.0 * static_cast<double>(s.split.bucket(d, p).requests) / total : 0);
    }
    body << "\n";
  }
  body
      << "EOD\n"
      << "set title "
      << quoted("Path split per cell (share of requests, main direction)" +
                (shown < cells.size() ? ", first " + std::to_string(shown) + " of " +
                                            std::to_string(cells.size()) + " cells"
                                      : std::string()))
      << "\n"
      << "set ylabel '% of requests'\nset yrange [0:100]\n"
      << "set style data histograms\nset style histogram rowstacked\n"
      << "set style fill solid 0.8 border -1\nset boxwidth 0.8\nset xtics rotate by -60 font ',7'\n"
      << "set bmargin 14\n"
      << "plot $split using 2:xtic(1) title 'direct' lc rgb '#228833',"
      << " '' using 3 title 'buffered' lc rgb '#4477aa', '' using 4 title 'fallback' lc rgb "
         "'#ccbb44',"
      << " '' using 5 title 'split' lc rgb '#aa3377', '' using 6 title 'einval' lc rgb '#ee6677',"
      << " '' using 7 title 'uncached' lc rgb '#66ccee'\n";
  return body.str();
}

}  // namespace

Figures draw_figures(const std::vector<CellSummary>& cells, const std::string& dir) {
  fs::create_directories(dir);
  Figures out;
  WorkloadGroups groups = group_by_workload(cells);
  // A figure per workload is for reading: past a few dozen nobody does,
  // and gnuplot's time grows with them (cells.csv has every number).
  if (groups.order.size() > kMaxWorkloadFigures) {
    out.omitted = groups.order.size() - kMaxWorkloadFigures;
    groups.order.resize(kMaxWorkloadFigures);
  }
  GnuplotScript gnuplot;
  Gnuplot& gp = gnuplot.stream();
  auto draw = [&](const std::string& title, const std::string& name, const std::string& script) {
    if (script.empty()) return;
    render(gp, dir, name, script);
    out.figures.push_back({title, name});
  };
  for (const std::string& g : groups.order) {
    draw("Throughput, " + g, "throughput-" + stem(g), throughput_script(g, groups.cells[g]));
    draw("Latency percentiles, " + g, "latency-" + stem(g), latency_script(g, groups.cells[g]));
  }
  std::size_t sweeps = 0;
  for (const SweepPlot& p : sweep_plots(cells)) {
    if (++sweeps > kMaxWorkloadFigures) break;
    draw("Latency against IOPS, " + p.group, "capacity-" + stem(p.group), p.body);
  }
  draw("Path split", "path-split", path_split_script(cells));
  gp << "exit\n";
  out.gnuplot_errors =
      gnuplot.run((fs::path(dir) / ".gnuplot-errors").string(), out.figures.size());
  return out;
}

}  // namespace diobench
