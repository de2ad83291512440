#include "diobench/reports/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>

#include "diobench/durable_file.hpp"
#include "diobench/loop_device.hpp"
#include "diobench/reports/answer.hpp"
#include "diobench/reports/bench_results.hpp"
#include "diobench/reports/document.hpp"
#include "diobench/reports/hosts.hpp"
#include "diobench/reports/plots.hpp"
#include "diobench/units.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

Direction main_direction(const CellData& c) {
  return c.reads() ? Direction::Read : Direction::Write;
}

std::string split_text(const CellSummary& s) { return s.split.shares(main_direction(*s.cell)); }

// The block size the per-request cost table is shown at (the fio cells'
// 4k random reads are held against it too).
constexpr std::uint64_t kBenchTableBlockSize = 4096;

// A CSV field, quoted when it holds a separator, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The first lines of a crash excerpt, for a table cell or the terminal.
std::string excerpt_head(const std::string& excerpt, std::size_t lines, const std::string& joint) {
  std::string out;
  std::size_t start = 0, taken = 0;
  while (start < excerpt.size() && taken < lines) {
    std::size_t end = excerpt.find('\n', start);
    if (end == std::string::npos) end = excerpt.size();
    if (end > start) {
      out += (taken ? joint : "") + excerpt.substr(start, end - start);
      ++taken;
    }
    start = end + 1;
  }
  return out.empty() ? "(no console excerpt recorded)" : out;
}

std::string first_excerpt(const CellData& c) {
  for (const std::string& e : c.crash_excerpts) {
    if (!e.empty()) return e;
  }
  return "";
}

// Per cell: its share of the device ceiling, when the run has benchmark
// results (else an empty share with no note).
CeilingShare share_of(const RunData& run, const CellSummary& s) {
  if (!run.bench || s.n == 0) return {};
  return ceiling_share(*run.bench, *s.cell, s.throughput_median, s.iops_median);
}

std::string share_text(const CeilingShare& c) {
  return c.fraction ? format_number("%.0f%%", 100 * *c.fraction) + " of " + c.ceiling : "—";
}

// The sections report.md and index.html share: crashes, the ceilings'
// notes, and the Google Benchmark results.
Document crash_document(const RunData& run) {
  Document doc;
  std::vector<const CellData*> crashed;
  for (const CellData& c : run.cells) {
    if (c.crashed) crashed.push_back(&c);
  }
  if (crashed.empty()) return doc;
  doc.push_back(heading("Crashes"));
  doc.push_back(paragraph(
      "The qemu guest crashed while these cells ran (outcome CRASH): they have no metrics. "
      "The excerpt is the guest console's BUG / Oops lines."));
  for (const CellData* c : crashed) {
    doc.push_back(
        heading("`" + c->name + "`: CRASH in " + std::to_string(c->crashed) + " of " +
                    std::to_string(c->crashed + c->repetitions.size() + c->failed + c->skipped) +
                    " repetitions",
                3));
    // Each distinct excerpt once, with how many repetitions ended in it.
    std::vector<std::pair<std::string, unsigned>> excerpts;
    for (const std::string& e : c->crash_excerpts) {
      const std::string text = e.empty() ? "(no console excerpt recorded)" : e;
      auto it = std::find_if(excerpts.begin(), excerpts.end(),
                             [&](const auto& x) { return x.first == text; });
      if (it == excerpts.end()) {
        excerpts.push_back({text, 1});
      } else {
        it->second++;
      }
    }
    for (const auto& [text, n] : excerpts) {
      if (excerpts.size() > 1 || c->crashed > 1) {
        doc.push_back(
            paragraph(n == 1 ? "In one repetition:" : "In " + std::to_string(n) + " repetitions:"));
      }
      doc.push_back(code_block(text));
    }
  }
  return doc;
}

// Loop cells whose dio-on device the kernel kept buffered: they did not
// run (outcome LOOP DIO REFUSED), and here is why, once per reason.
Document loop_refusal_document(const RunData& run) {
  Document doc;
  for (const CellData& c : run.cells) {
    std::vector<std::string> reasons;
    for (const std::string& m : c.messages) {
      if (is_loop_dio_refusal(m) && std::find(reasons.begin(), reasons.end(), m) == reasons.end())
        reasons.push_back(m);
    }
    if (reasons.empty()) continue;
    if (doc.empty()) {
      doc.push_back(heading("Loop direct I/O refused"));
      doc.push_back(paragraph(
          "The kernel would not put these cells' loop devices in direct-I/O mode, so they were "
          "not run (a dio-on cell never runs buffered): the device, the backing file's Direct "
          "I/O alignment as statx(STATX_DIOALIGN) reports it, the loop block size and the "
          "kernel."));
    }
    doc.push_back(heading("`" + c.name + "`", 3));
    for (const std::string& r : reasons) doc.push_back(code_block(r));
  }
  return doc;
}

Document bench_document(const RunData& run) {
  Document doc;
  if (!run.bench && run.bench_problem.empty()) return doc;
  doc.push_back(heading("Per-request cost (Google Benchmark drivers)"));
  if (!run.bench) {
    doc.push_back(paragraph("The run's benchmark results could not be read: " + run.bench_problem));
    return doc;
  }
  for (Block& b : request_cost_document(*run.bench, kBenchTableBlockSize, true)) doc.push_back(b);
  doc.push_back(heading("Driver families"));
  for (Block& b : driver_family_document(*run.bench, 3)) doc.push_back(b);
  return doc;
}

// Why cells have no ceiling fraction, each reason once.
Document ceiling_notes(const RunData& run, const std::vector<CellSummary>& cells) {
  Document doc;
  if (!run.bench) return doc;
  std::map<std::string, std::size_t> notes;
  for (const CellSummary& s : cells) {
    const CeilingShare c = share_of(run, s);
    if (!c.fraction && !c.note.empty()) notes[c.note]++;
  }
  std::string text =
      "Of ceiling: the cell's median IOPS (random reads: O_DIRECT random 4k at QD1 for a total "
      "depth iodepth x numjobs of 1, at QD32 for any deeper queue) or MiB/s (sequential reads: "
      "O_DIRECT sequential 1M at QD32) over the same ceiling measured by the run's Google "
      "Benchmark drivers; \"stand-in file\" marks a ceiling read from a scratch file because the "
      "block device could not be opened. Above 100%: requests served from the page cache, which "
      "the device's ceiling does not bound.";
  for (const auto& [note, n] : notes) {
    text += " No fraction (—) for " + std::to_string(n) + (n == 1 ? " cell" : " cells") + ": " +
            note + ".";
  }
  doc.push_back(paragraph(text));
  return doc;
}

}  // namespace

std::string cell_outcome(const CellData& c) {
  if (c.crashed) return "CRASH";
  if (c.repetitions.empty() &&
      std::any_of(c.messages.begin(), c.messages.end(),
                  [](const std::string& m) { return is_loop_dio_refusal(m); })) {
    return "LOOP DIO REFUSED";
  }
  return c.repetitions.empty() ? "no data" : "ok";
}

namespace {

// Median and 95% bootstrap interval of the CPU seconds per GiB the cell's
// repetitions recorded: all CPUs' busy time, or fio's own.
struct CpuSummary {
  double median = 0;
  Interval interval;
  std::size_t n = 0;
};
CpuSummary cpu_summary(const RunData& run, const CellData& c, bool fio_only, std::uint64_t seed) {
  std::vector<double> v;
  for (const RepetitionData& r : c.repetitions) {
    if (const auto g = r.cpu_per_gib(fio_only ? r.fio_cpu_s : r.cpu_busy_s, run.ramp_s))
      v.push_back(*g);
  }
  if (v.empty()) return {};
  return {median(v), bootstrap_median_interval(v, 0.95, seed), v.size()};
}

}  // namespace

std::vector<CellSummary> summarize(const RunData& run, std::uint64_t seed) {
  std::vector<CellSummary> out;
  std::uint64_t k = 0;
  for (const CellData& c : run.cells) {
    CellSummary s;
    s.cell = &c;
    s.n = c.repetitions.size();
    std::vector<double> tp, iops, p50, p90, p99, p999, amp;
    for (const RepetitionData& r : c.repetitions) {
      tp.push_back(r.throughput);
      iops.push_back(r.iops);
      p50.push_back(r.p50);
      p90.push_back(r.p90);
      p99.push_back(r.p99);
      p999.push_back(r.p999);
      if (const double a = r.amplification(run.ramp_s); a > 0) amp.push_back(a);
      s.split += r.counters;
      s.contradiction = s.contradiction || r.split_check == "contradicts";
    }
    s.throughput_median = median(tp);
    s.throughput_mean = mean(tp);
    s.throughput_cv = coefficient_of_variation(tp);
    s.throughput_interval = bootstrap_median_interval(tp, 0.95, seed + ++k);
    s.iops_median = median(iops);
    s.p50 = median(p50);
    s.p90 = median(p90);
    s.p99 = median(p99);
    s.p999 = median(p999);
    s.p99_interval = bootstrap_median_interval(p99, 0.95, seed + ++k);
    s.amplification = amp.empty() ? 0 : median(amp);
    const CpuSummary all = cpu_summary(run, c, false, seed + ++k),
                     fio = cpu_summary(run, c, true, seed + ++k);
    s.cpu_per_gib = all.median;
    s.cpu_per_gib_interval = all.interval;
    s.cpu_n = all.n;
    s.fio_cpu_per_gib = fio.median;
    s.fio_cpu_per_gib_interval = fio.interval;
    s.fio_cpu_n = fio.n;
    out.push_back(s);
  }
  return out;
}

std::vector<Finding> amplification_findings(const std::vector<CellSummary>& cells) {
  std::vector<Finding> out;
  for (const CellSummary& s : cells) {
    if (s.amplification <= 2) continue;
    const CellData& c = *s.cell;
    const Direction d = main_direction(c);
    const std::uint64_t direct =
        s.split.bucket(d, Path::Direct).requests + s.split.bucket(d, Path::Split).requests;
    const auto bs = parse_size(c.axis("bs")).value_or(0);
    const auto rs = parse_size(c.axis("recordsize")).value_or(128 * 1024);
    std::string cause;
    const std::string smaller =
        "requests smaller than the record (" + c.axis("bs") + " < " + format_size(rs) + ")";
    if (c.axis("backend") == "zfs" && direct && bs < rs) {
      cause = smaller + " on a direct path: each reads or writes a whole record";
    } else if (c.axis("backend") == "zfs" && bs < rs) {
      cause = smaller + (c.reads() ? " through the ARC: each miss reads its whole record, and "
                                     "random requests seldom use the rest of it"
                                   : " through the ARC: each small write dirties a whole "
                                     "record, which is then written whole");
    } else if (c.axis("backend") == "zfs" && c.axis("loop_dio") == "off" &&
               c.loop_buffered == LoopBuffered::PerPage && is_fallback_path_cell(c)) {
      // the policy model says the loop driver's pages take the direct path
      // (a kernel that hands whole requests sends whole records instead)
      cause =
          "the loop device in buffered mode hands the file one page at a time, and "
          "direct=" +
          c.axis("policy") + " sends each page direct: a direct " + std::string(to_string(d)) +
          " of a whole record";
    } else if (c.reads() && c.axis("rw").find("rand") != std::string::npos &&
               (c.axis("target") == "loop" ? c.axis("loop_dio") == "off" : direct == 0)) {
      cause =
          "buffered random reads: the page cache's readahead fetches neighbouring pages "
          "the workload never asks for";
    } else {
      cause = "not explained by the model: see the cell's raw files";
    }
    out.push_back(Finding{c.name, s.amplification, cause});
  }
  return out;
}

namespace {

std::string outcome_text(const Comparison& c) {
  std::string outcome = to_string(c.outcome);
  if (c.repetitions_to_decide) {
    outcome += *c.repetitions_to_decide > 1000
                   ? std::string(" (more than 1000 reps to decide)")
                   : " (~" + std::to_string(*c.repetitions_to_decide) + " reps to decide)";
  }
  if (!c.note.empty()) outcome += " [" + c.note + "]";
  return outcome;
}

std::string cpu_ratio_text(const std::optional<CpuRatio>& r) {
  if (!r) return "-";
  return format_number("%.2fx", r->ratio) + " [" + format_number("%.2fx", r->interval.low) + ", " +
         format_number("%.2fx", r->interval.high) + "]";
}

// The verdict comparison by comparison: the effect as a ratio in words
// (never a negative cost), its interval, the outcome, and the CPU ratio
// of the two cells (informative).
Table verdict_table(const Answer& a, const std::vector<Comparison>& verdict) {
  Table t;
  t.id = "verdict";
  t.header = {"workload",
              "compared",
              "fallback cell",
              "metric",
              "fallback vs reference",
              "interval",
              "outcome",
              "CPU per GiB, fallback / reference [95%]"};
  t.numeric = {false, false, false, false, true, true, false, true};
  for (const Comparison& c : verdict) {
    const bool latency = c.metric != "throughput";
    const AnswerLine* line = line_of(a, c);
    t.rows.push_back(
        {c.workload, c.kind, c.subject.substr(c.subject.find('.') + 1), c.metric,
         c.outcome == Outcome::Crash ? "-" : effect_in_words(c.ratio, latency),
         c.outcome == Outcome::Crash ? "-" : interval_in_words(c.ratio_interval, latency),
         outcome_text(c), line ? cpu_ratio_text(line->cpu) : "-"});
    t.row_class.push_back(to_string(c.outcome));
  }
  return t;
}

std::vector<std::string> answer_classes(const Answer& a) {
  std::vector<std::string> classes;
  for (const AnswerLine& l : a.lines) classes.push_back(to_string(l.outcome));
  return classes;
}

// The answer as the report opens with it (the forest plot follows).
Document answer_document(const Answer& a) {
  Document doc{heading(a.heading)};
  if (!a.banner.empty()) doc.push_back(banner(a.banner));
  if (!a.rows.empty()) doc.push_back(paragraph(a.rows));
  std::vector<std::string> items;
  for (const AnswerLine& l : a.lines) items.push_back(l.text);
  if (items.empty()) {
    doc.push_back(
        paragraph("No fallback-path cell with a reference in this run: nothing to answer."));
    return doc;
  }
  doc.push_back(list_block(items, answer_classes(a), "answer-lines"));
  doc.push_back(paragraph("**" + a.counts + "**"));
  if (!a.scope.empty())
    doc.push_back(paragraph(a.scope));  // plain: the HTML renderer has no single-* emphasis
  return doc;
}

Document method_document(double threshold) {
  return {paragraph(
              "Loop tax: the fallback-path cell against the same policy on the native file. "
              "Degradation: against the generic buffered path on the same loop target (`disabled`, "
              "loop dio off). The forest plot and the answer show each comparison as fallback / "
              "reference with its interval; colours and outcomes are the verdict's."),
          paragraph(verdict_method_text(threshold)),
          paragraph(
              "CPU per GiB: the CPU seconds a repetition used, over the GiB it moved in the same "
              "window. All CPUs: every CPU's non-idle time from `/proc/stat` over fio's lifetime, "
              "which counts the loop driver's and ZFS's kernel threads that fio's own accounting "
              "leaves out (and anything else the machine did meanwhile). fio: fio's own user + "
              "system time. GiB moved: fio's bytes in every direction, scaled by (ramp + runtime) "
              "/ runtime as for amplification. Medians with 95% bootstrap intervals; a "
              "comparison's CPU ratio is informative, the verdict decides on throughput and p99.")};
}

// The forest plot's rows: one per comparison, labelled in words.
std::vector<ForestRow> forest_rows(const Answer& a) {
  std::vector<ForestRow> rows;
  for (const AnswerLine& l : a.lines) {
    for (const Comparison* c : l.comparisons) {
      rows.push_back({l.short_label + " · " + (c->metric == "throughput" ? "throughput" : "p99"),
                      c->ratio, c->ratio_interval, c->outcome});
    }
  }
  return rows;
}

}  // namespace

void print_verdict(const RunData& run, const std::vector<Comparison>& verdict, double threshold,
                   std::ostream& out) {
  const Answer a = the_answer(run, verdict, threshold, run.seed);
  if (!a.banner.empty()) out << "*** " << a.banner << " ***\n";
  out << a.heading << "\n";
  if (!a.rows.empty()) out << "(" << a.rows << ")\n";
  for (const AnswerLine& l : a.lines) out << "  " << l.text << "\n";
  if (a.lines.empty())
    out << "  no fallback-path cell with a reference in this run\n";
  else
    out << a.counts << "\n";
  if (!a.scope.empty()) out << "(" << a.scope << ")\n";
  if (!verdict.empty()) {
    out << "\nVerdict, comparison by comparison (effect of the fallback against its reference):\n"
        << to_text(verdict_table(a, verdict));
  }
  bool header = false;
  for (const CellData& c : run.cells) {
    if (!c.crashed) continue;
    if (!header) out << "\nCells that crashed the guest (no metrics):\n";
    header = true;
    out << "  CRASH  " << c.name << " (" << c.crashed << " repetition"
        << (c.crashed == 1 ? "" : "s") << ")\n         "
        << excerpt_head(first_excerpt(c), 4, "\n         ") << "\n";
  }
}

namespace {

std::string escaped(const std::string& s) { return html_escaped(s); }

// The SVG file without its XML prologue, to inline in the page.
std::string inline_svg(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  const std::string text = s.str();
  const auto start = text.find("<svg");
  return start == std::string::npos ? "" : text.substr(start);
}

// "1.234 [1.100, 1.400]", or "-" when the cell recorded no CPU time.
std::string cpu_text(double median_value, const Interval& iv, std::size_t n) {
  if (n == 0) return "-";
  return format_number("%.3f", median_value) + " [" + format_number("%.3f", iv.low) + ", " +
         format_number("%.3f", iv.high) + "]";
}

std::string cells_cpu_note(const std::vector<CellSummary>& cells) {
  const bool any = std::any_of(cells.begin(), cells.end(),
                               [](const CellSummary& s) { return s.cpu_n || s.fio_cpu_n; });
  return any ? "CPU s/GiB: CPU seconds per GiB moved, median [95% interval]; see the method above."
             : "CPU s/GiB: not recorded in this run (its runner predates the CPU columns).";
}

// Repetitions the runner flagged because the ARC served what the model
// expects from disk (zfs backend).
std::vector<std::string> arc_flags(const RunData& run) {
  std::vector<std::string> out;
  for (const CellData& c : run.cells) {
    for (const RepetitionData& r : c.repetitions) {
      if (!r.arc_check.empty() && r.arc_check != "ok") {
        out.push_back("`" + c.name + "` repetition " + std::to_string(r.repetition) + ": " +
                      r.arc_check);
      }
    }
  }
  return out;
}

const char* kCss =
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:1320px}"
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
    "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:right}"
    "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
    ".PASS{background:#d8f0d8}.FAIL{background:#f5d0d0}.INCONCLUSIVE{background:#f5ecd0}"
    ".CRASH{background:#e8c8f0}td.l{text-align:left}"
    ".banner{background:#fff0c0;border:2px solid #c80;padding:0.5em 1em;font-weight:bold}"
    "pre{background:#f6f6f6;padding:0.5em;overflow-x:auto}"
    ".warn{color:#a00;font-weight:bold}figure{margin:1em 0}svg{max-width:100%;height:auto}"
    "#answer-first{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}"
    "#answer{flex:1 1 460px;min-width:0}#answer h2{margin-top:0}"
    "#forest-plot{flex:1 1 640px;min-width:0;margin:0}"
    "#answer-lines{padding-left:0;list-style:none;font-size:0.92em}"
    "#answer-lines li{margin:0.35em 0;padding:0.2em 0.5em;border-left:6px solid #999}"
    "#answer-lines li.PASS{border-color:#228833}#answer-lines li.FAIL{border-color:#cc3311}"
    "#answer-lines li.INCONCLUSIVE{border-color:#dd9922;background:#fbf6ea}"
    "#answer-lines li.CRASH{border-color:#aa3377}";

// The first screen: the answer beside the forest plot.
std::string html_answer(const Answer& a, const std::optional<Figure>& forest,
                        const std::string& dir) {
  std::ostringstream h;
  h << "<section id=\"answer-first\"><div id=\"answer\">\n"
    << to_html(answer_document(a)) << "</div>\n";
  if (forest) {
    h << "<figure id=\"forest-plot\">" << inline_svg(fs::path(dir) / (forest->name + ".svg"))
      << "<figcaption>" << escaped(forest->title) << "</figcaption></figure>\n";
  }
  return h.str() + "</section>\n";
}

std::string html_cells(const RunData& run, const std::vector<CellSummary>& cells) {
  std::ostringstream h;
  h << "<h2>Cells</h2>\n<table "
       "id=\"cells\"><tr><th>cell</th><th>outcome</th><th>n</th><th>MiB/s</th>"
       "<th>95% interval</th><th>CV</th><th>IOPS</th><th>p50 us</th><th>p99 us</th>"
       "<th>p99.9 us</th><th>amplification</th><th>path split</th>"
       "<th>CPU s/GiB, all CPUs</th><th>CPU s/GiB, fio</th>"
    << (run.bench ? "<th>of ceiling</th>" : "") << "</tr>\n";
  for (const CellSummary& s : cells) {
    h << "<tr" << (s.cell->crashed ? " class=\"CRASH\"" : "") << "><td>" << escaped(s.cell->name)
      << (s.contradiction ? " <span class=\"warn\">split contradicts the model</span>" : "")
      << "</td><td>" << escaped(cell_outcome(*s.cell));
    if (s.cell->crashed) {
      // No metrics for a crashed cell: its excerpt instead.
      h << "</td><td colspan=\"" << (run.bench ? 13 : 12) << "\" class=\"l\"><code>"
        << escaped(excerpt_head(first_excerpt(*s.cell), 2, " / ")) << "</code></td></tr>\n";
      continue;
    }
    h << "</td><td>" << s.n << "</td><td>" << format_number("%.1f", s.throughput_median / 1048576)
      << "</td><td>" << format_number("%.1f", s.throughput_interval.low / 1048576) << " - "
      << format_number("%.1f", s.throughput_interval.high / 1048576) << "</td><td>"
      << format_number("%.3f", s.throughput_cv) << "</td><td>"
      << format_number("%.0f", s.iops_median) << "</td><td>" << format_number("%.1f", s.p50 / 1e3)
      << "</td><td>" << format_number("%.1f", s.p99 / 1e3) << "</td><td>"
      << format_number("%.1f", s.p999 / 1e3) << "</td><td>"
      << (s.amplification > 0 ? format_number("%.2fx", s.amplification) : "-") << "</td><td>"
      << escaped(split_text(s)) << "</td><td>"
      << cpu_text(s.cpu_per_gib, s.cpu_per_gib_interval, s.cpu_n) << "</td><td>"
      << cpu_text(s.fio_cpu_per_gib, s.fio_cpu_per_gib_interval, s.fio_cpu_n) << "</td>";
    if (run.bench) h << "<td>" << escaped(share_text(share_of(run, s))) << "</td>";
    h << "</tr>\n";
  }
  h << "</table>\n<p>" << escaped(cells_cpu_note(cells)) << "</p>\n";
  return h.str();
}

std::string html_report(const RunData& run, const std::vector<CellSummary>& cells,
                        const std::vector<HostRun>& hosts, const Answer& answer,
                        const std::vector<Comparison>& verdict, double threshold,
                        const std::vector<Finding>& findings, const std::optional<Figure>& forest,
                        const std::vector<Figure>& figures, const std::string& dir) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<title>diobench report: " << escaped(run.profile) << "</title><style>" << kCss
    << "</style></head><body>\n"
    << "<h1>diobench report: " << escaped(run.profile) << " (" << escaped(run.backend)
    << " backend)</h1>\n<p>Run <code>" << escaped(run.dir) << "</code>, status "
    << escaped(run.status) << ", order seed " << run.seed << ".</p>\n"
    << html_answer(answer, forest, dir) << "<h2>Verdict, comparison by comparison</h2>\n";
  if (verdict.empty()) {
    h << "<table id=\"verdict\"><tr><td>no fallback-path cell with a reference</td></tr></table>\n";
  } else {
    h << to_html({table_block(verdict_table(answer, verdict))});
  }
  h << "<h2>Method</h2>\n" << to_html(method_document(threshold)) << "<h2>Figures</h2>\n";
  for (const Figure& f : figures) {
    h << "<figure>" << inline_svg(fs::path(dir) / (f.name + ".svg")) << "<figcaption>"
      << escaped(f.title) << "</figcaption></figure>\n";
  }
  h << html_cells(run, cells) << to_html(hosts_document(run, cells, hosts))
    << to_html(ceiling_notes(run, cells)) << to_html(crash_document(run))
    << to_html(loop_refusal_document(run)) << to_html(bench_document(run))
    << "<h2>Findings</h2>\n<ul>";
  if (findings.empty()) h << "<li>No cell moved more than twice the bytes it asked for.</li>";
  for (const Finding& f : findings) {
    h << "<li><code>" << escaped(f.cell) << "</code>: " << format_number("%.1f", f.amplification)
      << "x the bytes asked. Likely cause: " << escaped(f.cause) << ".</li>";
  }
  h << "</ul>\n";
  if (const auto flags = arc_flags(run); !flags.empty()) {
    h << to_html({heading("Repetitions the ARC served", 3), list_block(flags)});
  }
  h << "<h2>System</h2>\n<table id=\"system\">";
  for (const auto& [k, v] : run.system) {
    if (k.rfind("zfs.tunable.", 0) == 0) continue;
    h << "<tr><td>" << escaped(k) << "</td><td>" << escaped(v) << "</td></tr>";
  }
  h << "</table>\n</body></html>\n";
  return h.str();
}

std::string cells_csv(const RunData& run, const std::vector<CellSummary>& cells) {
  std::ostringstream csv;
  csv << "cell,backend,policy,target,loop_dio,app_direct,submit,semantics,recordsize,workload,rw,"
         "bs,iodepth,numjobs,repetitions,failed,skipped,throughput_median_Bps,"
         "throughput_ci_low_Bps,throughput_ci_high_Bps,throughput_mean_Bps,throughput_cv,"
         "iops_median,p50_us,p90_us,p99_us,p999_us,p99_ci_low_us,p99_ci_high_us,amplification,"
         "path_split,split_contradiction,outcome,crash_excerpt,ceiling_fraction,ceiling,"
         "cpu_repetitions,cpu_s_per_GiB,cpu_s_per_GiB_ci_low,cpu_s_per_GiB_ci_high,"
         "fio_cpu_repetitions,fio_cpu_s_per_GiB,fio_cpu_s_per_GiB_ci_low,fio_cpu_s_per_GiB_ci_"
         "high\n";
  // Empty fields when the run recorded no CPU time.
  auto cpu = [](std::size_t n, double m, const Interval& iv) {
    return std::to_string(n) + "," +
           (n ? format_number("%.6f", m) + "," + format_number("%.6f", iv.low) + "," +
                    format_number("%.6f", iv.high)
              : ",,");
  };
  for (const CellSummary& s : cells) {
    const CellData& c = *s.cell;
    csv << c.name;
    for (const char* k :
         {"backend", "policy", "target", "loop_dio", "app_direct", "submit", "semantics",
          "recordsize", "workload", "rw", "bs", "iodepth", "numjobs"}) {
      csv << "," << c.axis(k);
    }
    csv << "," << s.n << "," << c.failed << "," << c.skipped << ","
        << format_number("%.0f", s.throughput_median) << ","
        << format_number("%.0f", s.throughput_interval.low) << ","
        << format_number("%.0f", s.throughput_interval.high) << ","
        << format_number("%.0f", s.throughput_mean) << "," << format_number("%.4f", s.throughput_cv)
        << "," << format_number("%.1f", s.iops_median) << "," << format_number("%.2f", s.p50 / 1e3)
        << "," << format_number("%.2f", s.p90 / 1e3) << "," << format_number("%.2f", s.p99 / 1e3)
        << "," << format_number("%.2f", s.p999 / 1e3) << ","
        << format_number("%.2f", s.p99_interval.low / 1e3) << ","
        << format_number("%.2f", s.p99_interval.high / 1e3) << ","
        << (s.amplification > 0 ? format_number("%.3f", s.amplification) : "") << ","
        << split_text(s) << "," << (s.contradiction ? "yes" : "no") << "," << cell_outcome(c) << ","
        << csv_field(first_excerpt(c)) << ",";
    const CeilingShare share = share_of(run, s);
    csv << (share.fraction ? format_number("%.4f", *share.fraction) : "") << ","
        << csv_field(share.ceiling) << "," << cpu(s.cpu_n, s.cpu_per_gib, s.cpu_per_gib_interval)
        << "," << cpu(s.fio_cpu_n, s.fio_cpu_per_gib, s.fio_cpu_per_gib_interval) << "\n";
  }
  return csv.str();
}

// Every comparison of the verdict with its ratio, outcome and CPU ratio.
std::string comparisons_csv(const Answer& a, const std::vector<Comparison>& verdict) {
  std::ostringstream csv;
  csv << "workload,kind,subject,reference,metric,ratio,ratio_low,ratio_high,outcome,"
         "repetitions_to_decide,note,cpu_ratio,cpu_ratio_low,cpu_ratio_high\n";
  for (const Comparison& c : verdict) {
    const AnswerLine* line = line_of(a, c);
    std::string cpu = ",,";
    if (line && line->cpu) {
      const CpuRatio& r = *line->cpu;
      cpu = format_number("%.6f", r.ratio) + "," + format_number("%.6f", r.interval.low) + "," +
            format_number("%.6f", r.interval.high);
    }
    csv << csv_field(c.workload) << "," << c.kind << "," << c.subject << "," << c.reference << ","
        << c.metric << "," << format_number("%.6f", c.ratio) << ","
        << format_number("%.6f", c.ratio_interval.low) << ","
        << format_number("%.6f", c.ratio_interval.high) << "," << to_string(c.outcome) << ","
        << (c.repetitions_to_decide ? std::to_string(*c.repetitions_to_decide) : "") << ","
        << csv_field(c.note) << "," << cpu << "\n";
  }
  return csv.str();
}

std::string markdown_cells(const RunData& run, const std::vector<CellSummary>& cells) {
  std::ostringstream md;
  md << "## Cells\n\n"
     << "| cell | outcome | n | MiB/s (95% CI) | CV | IOPS | p50 / p99 / p99.9 us | amplification "
        "| path split "
        "| CPU s/GiB, all CPUs | CPU s/GiB, fio |"
     << (run.bench ? " of ceiling |" : "") << "\n"
     << "|---|---|---|---|---|---|---|---|---|---|---|" << (run.bench ? "---|" : "") << "\n";
  for (const CellSummary& s : cells) {
    const CellData& c = *s.cell;
    md << "| " << c.name << (s.contradiction ? " **(split contradicts the model)**" : "") << " | "
       << cell_outcome(c) << " | ";
    if (c.crashed) {
      // No metrics for a crashed cell: the first lines of its excerpt.
      std::string head = excerpt_head(first_excerpt(c), 2, " / ");
      for (char& ch : head) ch = ch == '|' ? '/' : ch;
      md << c.crashed << " crashed | `" << head << "` | | | | | | | |" << (run.bench ? " |" : "")
         << "\n";
      continue;
    }
    md << s.n << (c.failed ? " (" + std::to_string(c.failed) + " failed)" : "")
       << (c.skipped ? " (" + std::to_string(c.skipped) + " skipped)" : "") << " | "
       << format_number("%.1f", s.throughput_median / 1048576) << " ("
       << format_number("%.1f", s.throughput_interval.low / 1048576) << "-"
       << format_number("%.1f", s.throughput_interval.high / 1048576) << ") | "
       << format_number("%.3f", s.throughput_cv) << " | " << format_number("%.0f", s.iops_median)
       << " | " << format_number("%.1f", s.p50 / 1e3) << " / " << format_number("%.1f", s.p99 / 1e3)
       << " / " << format_number("%.1f", s.p999 / 1e3) << " | "
       << (s.amplification > 0 ? format_number("%.2fx", s.amplification) : "-") << " | "
       << split_text(s) << " | " << cpu_text(s.cpu_per_gib, s.cpu_per_gib_interval, s.cpu_n)
       << " | " << cpu_text(s.fio_cpu_per_gib, s.fio_cpu_per_gib_interval, s.fio_cpu_n) << " |";
    if (run.bench) md << " " << share_text(share_of(run, s)) << " |";
    md << "\n";
  }
  md << "\n" << cells_cpu_note(cells) << "\n\n";
  return md.str();
}

std::string markdown_findings(const RunData& run, const std::vector<Finding>& findings) {
  std::ostringstream md;
  md << "\n## Findings\n\nAmplification is what the storage below moved in the workload's "
        "direction over what the workload asked for in the same time window. Below: on the zfs "
        "backend the pool's iostats (records read from disk through the ARC, plus direct I/O), "
        "elsewhere the block device under the scratch area, whose counters include every other "
        "user of the device. Asked: for a loop target the bytes the loop device passed on; "
        "otherwise fio's bytes scaled up by (ramp + runtime) / runtime, because the counters "
        "below run through fio's ramp, in which fio counts nothing. Read values below about 2x "
        "as noise.\n\n";
  if (findings.empty()) md << "No cell moved more than twice the bytes it asked for.\n";
  for (const Finding& f : findings) {
    md << "- `" << f.cell << "`: the storage below moved " << format_number("%.1f", f.amplification)
       << "x the bytes asked. Likely cause: " << f.cause << ".\n";
  }
  if (const auto flags = arc_flags(run); !flags.empty()) {
    md << "\n" << to_markdown({heading("Repetitions the ARC served", 3), list_block(flags)});
  }
  return md.str();
}

std::string markdown_report(const RunData& run, const std::vector<CellSummary>& cells,
                            const std::vector<HostRun>& hosts, const Answer& answer,
                            const std::vector<Comparison>& verdict, double threshold,
                            const std::optional<Figure>& forest, const std::vector<Figure>& figures,
                            std::size_t figures_omitted) {
  std::ostringstream md;
  md << "# diobench report: " << run.profile << " (" << run.backend << " backend)\n\n"
     << "Run directory `" << run.dir << "`, status " << run.status << ", order seed " << run.seed
     << " (the report's bootstrap intervals are seeded from it, so it is reproducible).\n\n"
     << to_markdown(answer_document(answer));
  if (forest) md << "![" << forest->title << "](" << forest->name << ".png)\n\n";
  md << "## Verdict, comparison by comparison\n\n";
  if (verdict.empty())
    md << "No fallback-path cell with a reference in this run.\n\n";
  else
    md << to_markdown({table_block(verdict_table(answer, verdict))});
  md << "## Method\n\n"
     << to_markdown(method_document(threshold)) << markdown_cells(run, cells)
     << to_markdown(hosts_document(run, cells, hosts)) << to_markdown(ceiling_notes(run, cells))
     << to_markdown(crash_document(run)) << to_markdown(loop_refusal_document(run))
     << to_markdown(bench_document(run)) << "## Figures\n\n";
  if (figures_omitted) {
    md << "Figures for the first workloads only; " << figures_omitted
       << " more are in cells.csv.\n\n";
  }
  for (const Figure& f : figures) md << "![" << f.title << "](" << f.name << ".png)\n\n";
  md << markdown_findings(run, amplification_findings(cells))
     << "\n## System\n\n| key | value |\n|---|---|\n";
  for (const auto& [k, v] : run.system) {
    if (k.rfind("zfs.tunable.", 0) == 0) continue;  // long; in results.db
    md << "| " << k << " | " << v << " |\n";
  }
  return md.str();
}

}  // namespace

void write_report(const RunData& run, const std::vector<CellSummary>& cells,
                  const std::vector<Comparison>& verdict, double threshold,
                  const std::vector<Figure>& figures, std::size_t figures_omitted,
                  const std::string& out_dir) {
  fs::create_directories(out_dir);
  // Written beside and renamed into place, so a reader never sees half.
  auto publish = [&](const std::string& name, const std::string& text) {
    write_file_durably((fs::path(out_dir) / name).string(), text);
  };
  const Answer answer = the_answer(run, verdict, threshold, run.seed);
  std::string gnuplot_errors;
  const std::optional<Figure> forest =
      draw_forest_plot(forest_rows(answer), threshold, out_dir, gnuplot_errors);
  if (!gnuplot_errors.empty()) std::cerr << "diobench: gnuplot reported:\n" << gnuplot_errors;
  // A fleet run: each host's rows beside the sum's (none for a local run).
  const std::vector<HostRun> hosts = load_hosts(run, run.seed);
  publish("cells.csv", cells_csv(run, cells));
  if (run.fleet()) publish("hosts.csv", hosts_csv(cells, hosts));
  publish("comparisons.csv", comparisons_csv(answer, verdict));
  publish("report.md", markdown_report(run, cells, hosts, answer, verdict, threshold, forest,
                                       figures, figures_omitted));
  publish("index.html", html_report(run, cells, hosts, answer, verdict, threshold,
                                    amplification_findings(cells), forest, figures, out_dir));
}

}  // namespace diobench
