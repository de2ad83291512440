#include "diobench/reports/answer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "diobench/reports/document.hpp"
#include "diobench/reports/hosts.hpp"
#include "diobench/statistics.hpp"

namespace diobench {

namespace {

const CellData* find_cell(const RunData& run, const std::string& name) {
  for (const CellData& c : run.cells) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string rw_in_words(const CellData& c) {
  static const std::map<std::string, std::string> words = {
      {"read", "sequential reads"},   {"randread", "random reads"},
      {"write", "sequential writes"}, {"randwrite", "random writes"},
      {"rw", "sequential mixed I/O"}, {"readwrite", "sequential mixed I/O"},
      {"randrw", "random mixed I/O"}};
  const auto it = words.find(c.axis("rw"));
  std::string s = it == words.end() ? c.axis("rw") : it->second;
  const std::string mix = c.axis("rwmixread");
  if (s.find("mixed") != std::string::npos && !mix.empty() && mix != "0")
    s += " (" + mix + "% reads)";
  return s;
}

std::string bs_in_words(const CellData& c) {
  std::string bs = c.axis("bs");
  for (char& ch : bs) {
    if (ch == 'm' || ch == 'g')
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return bs;
}

bool several_jobs(const CellData& c) {
  return !c.axis("numjobs").empty() && c.axis("numjobs") != "1";
}

// The percentage or factor of one ratio, and the word saying which way.
struct Effect {
  std::string amount;  // "12.0%" or "1.66x"
  std::string word;    // "slower", "faster", "higher", "lower", "as long"
  bool percent = true;
};

Effect effect(double ratio, bool latency) {
  const bool more = ratio >= 1;  // the fallback's value is the larger one
  if (more && ratio >= 1.5)
    return {format_number("%.2fx", ratio), latency ? "as long" : "faster", false};
  const double p = 100 * std::fabs(ratio - 1);
  if (latency) return {format_number("%.1f%%", p), more ? "higher" : "lower"};
  return {format_number("%.1f%%", p), more ? "faster" : "slower"};
}

}  // namespace

std::string workload_in_words(const CellData& c) {
  std::string s = bs_in_words(c) + " " + rw_in_words(c);
  if (!c.axis("iodepth").empty()) s += " at queue depth " + c.axis("iodepth");
  if (several_jobs(c)) s += " x " + c.axis("numjobs") + " jobs";
  std::vector<std::string> how = {
      c.axis("submit") == "uring" ? "io_uring" : c.axis("submit"),
      c.axis("app_direct") == "1" ? "application O_DIRECT" : "buffered application"};
  if (c.axis("backend") == "zfs") how.insert(how.begin(), "real ZFS");
  if (!c.axis("semantics").empty() && c.axis("semantics") != "2.3")
    how.push_back("ZFS " + c.axis("semantics") + " rules");
  if (!c.axis("recordsize").empty() && c.axis("recordsize") != "131072")
    how.push_back("recordsize " + c.axis("recordsize"));
  std::string joined;
  for (const std::string& h : how) joined += (joined.empty() ? "" : ", ") + h;
  return s + " (" + joined + ")";
}

std::string workload_short(const CellData& c) {
  std::string rw = c.axis("rw");
  if (rw.rfind("rand", 0) == 0) rw = "rand " + rw.substr(4);
  std::string s = bs_in_words(c) + " " + rw + " QD" + c.axis("iodepth");
  if (several_jobs(c)) s += "x" + c.axis("numjobs");
  if (c.axis("app_direct") == "1") s += " O_DIRECT";
  if (c.axis("submit") == "uring") s += " uring";
  if (c.axis("backend") == "zfs") s += " zfs";
  if (!c.axis("semantics").empty() && c.axis("semantics") != "2.3") s += " " + c.axis("semantics");
  return s;
}

std::string target_in_words(const CellData& c) {
  if (c.axis("target") == "loop") {
    const std::string through =
        emulated_loop_cell(c) ? "through the loop-driver model" : "through a loop device";
    return through + ", `" + c.axis("policy") + "`, dio " + c.axis("loop_dio");
  }
  return "on the native file, `" + c.axis("policy") + "`";
}

std::string effect_in_words(double ratio, bool latency) {
  if (!std::isfinite(ratio) || ratio <= 0) return "-";
  const Effect e = effect(ratio, latency);
  return e.amount + " " + e.word;
}

std::string interval_in_words(const Interval& ratio, bool latency) {
  if (std::isnan(ratio.low) || std::isnan(ratio.high)) return "[-]";
  // The verdict's bounds may be open at either end while too few
  // repetitions bound the ratio there.
  const bool no_low = !(ratio.low > 0), no_high = !std::isfinite(ratio.high);
  if (no_low && no_high) return "[not bounded yet]";
  if (no_low || no_high) {
    return "[" + (no_low ? std::string("no lower bound") : effect_in_words(ratio.low, latency)) +
           ", " + (no_high ? std::string("no upper bound") : effect_in_words(ratio.high, latency)) +
           "]";
  }
  const Effect lo = effect(ratio.low, latency), hi = effect(ratio.high, latency);
  if (lo.word == hi.word && lo.percent && hi.percent) {
    // The same way at both ends: the smaller amount first.
    const bool falling = lo.word == "slower" || lo.word == "lower";
    return "[" + (falling ? hi.amount : lo.amount) + " to " + (falling ? lo.amount : hi.amount) +
           " " + lo.word + "]";
  }
  return "[" + lo.amount + " " + lo.word + ", " + hi.amount + " " + hi.word + "]";
}

std::string reference_in_words(const Comparison& c) {
  return c.kind == "loop tax" ? "the native file (same policy)"
                              : "the buffered loop path (`disabled`, dio off)";
}

std::optional<CpuRatio> cpu_ratio(const RunData& run, const Comparison& c, std::uint64_t seed) {
  const CellData* s = find_cell(run, c.subject);
  const CellData* r = find_cell(run, c.reference);
  if (!s || !r) return std::nullopt;
  auto values = [&](const CellData& cell) {
    std::vector<double> v;
    for (const RepetitionData& x : cell.repetitions) {
      if (const auto g = x.cpu_per_gib(x.cpu_busy_s, run.ramp_s); g && *g > 0) v.push_back(*g);
    }
    return v;
  };
  const std::vector<double> a = values(*s), b = values(*r);
  if (a.size() < 2 || b.size() < 2) return std::nullopt;
  return CpuRatio{median(a) / median(b), bootstrap_ratio_interval(a, b, 0.95, seed)};
}

namespace {

Outcome combined(const std::vector<const Comparison*>& cs) {
  auto any = [&](Outcome o) {
    return std::any_of(cs.begin(), cs.end(), [&](const Comparison* c) { return c->outcome == o; });
  };
  if (any(Outcome::Crash)) return Outcome::Crash;
  if (any(Outcome::Fail)) return Outcome::Fail;
  if (any(Outcome::Inconclusive)) return Outcome::Inconclusive;
  return Outcome::Pass;
}

// The most repetitions per cell any undecided comparison of the line
// would need, by the verdict's estimate.
std::optional<unsigned> repetitions_to_decide(const std::vector<const Comparison*>& cs) {
  std::optional<unsigned> most;
  for (const Comparison* c : cs) {
    if (c->outcome == Outcome::Inconclusive && c->repetitions_to_decide) {
      most = std::max(most.value_or(0), *c->repetitions_to_decide);
    }
  }
  return most;
}

std::string metric_words(const Comparison& c) {
  const bool latency = c.metric != "throughput";
  return (latency ? "p99 latency " : "") + effect_in_words(c.ratio, latency) + " " +
         interval_in_words(c.ratio_interval, latency);
}

std::string verdict_words(const AnswerLine& line, double threshold) {
  const std::string at = " at " + format_number("%g%%", 100 * threshold);
  switch (line.outcome) {
    case Outcome::Pass:
      return "PASS" + at;
    case Outcome::Fail:
      return "FAIL" + at;
    case Outcome::Crash:
      return "CRASH: " + line.comparisons.front()->note;
    case Outcome::Inconclusive:
      break;
  }
  const auto reps = repetitions_to_decide(line.comparisons);
  if (reps) {
    return "still open" + at + ": " +
           (*reps > 1000 ? std::string("more than 1000") : "about " + std::to_string(*reps)) +
           " repetitions per cell would decide";
  }
  for (const Comparison* c : line.comparisons) {
    if (c->outcome == Outcome::Inconclusive && !c->note.empty())
      return "still open" + at + " (" + c->note + ")";
  }
  return "still open" + at;
}

std::string line_text(const AnswerLine& line, const CellData* subject, double threshold) {
  const Comparison& first = *line.comparisons.front();
  std::string t =
      subject ? workload_in_words(*subject) + " " + target_in_words(*subject) : first.subject;
  t += ", against " + reference_in_words(first);
  if (line.outcome == Outcome::Crash)
    return t + " — " + verdict_words(line, threshold);  // no numbers
  t += ": ";
  {
    std::string effects;
    for (const Comparison* c : line.comparisons)
      effects += (effects.empty() ? "" : " and ") + metric_words(*c);
    t += effects;
    if (line.cpu) {
      t += "; CPU per GiB " + format_number("%.2fx", line.cpu->ratio) + " the reference's [" +
           format_number("%.2fx", line.cpu->interval.low) + ", " +
           format_number("%.2fx", line.cpu->interval.high) + "]";
    }
    t += " — ";
  }
  return t + verdict_words(line, threshold);
}

std::string counts_text(const Answer& a, std::size_t comparisons) {
  std::string t = std::to_string(a.pass) + " PASS, " + std::to_string(a.fail) + " FAIL, " +
                  std::to_string(a.open) + " still open";
  if (a.crash) t += ", " + std::to_string(a.crash) + " CRASH";
  t += " (" + std::to_string(a.lines.size()) + " answers from " + std::to_string(comparisons) +
       " comparisons)";
  std::optional<unsigned> least, most;
  for (const AnswerLine& l : a.lines) {
    if (l.outcome != Outcome::Inconclusive) continue;
    if (const auto r = repetitions_to_decide(l.comparisons)) {
      least = std::min(least.value_or(*r), *r);
      most = std::max(most.value_or(*r), *r);
    }
  }
  if (least) {
    auto reps = [](unsigned r) {
      return r > 1000 ? std::string("more than 1000") : std::to_string(r);
    };
    t += "; the open ones need about " +
         (*least == *most ? reps(*least) : reps(*least) + " to " + reps(*most)) +
         " repetitions per cell to decide";
  }
  return t + ".";
}

}  // namespace

Answer the_answer(const RunData& run, const std::vector<Comparison>& verdict, double threshold,
                  std::uint64_t seed) {
  Answer a;
  a.heading = "The answer: does the fallback path cost little? (threshold " +
              format_number("%g%%", 100 * threshold) + ")";
  if (run.emulated_cpu()) a.banner = kEmulatedCpuBanner;
  a.rows = fleet_rows_statement(run);
  if (std::any_of(run.cells.begin(), run.cells.end(), emulated_loop_cell))
    a.scope = kLoopModelScope;
  // One line per subject and reference, in the verdict's order.
  for (const Comparison& c : verdict) {
    auto same = [&](const AnswerLine& l) {
      return l.comparisons.front()->subject == c.subject &&
             l.comparisons.front()->reference == c.reference;
    };
    auto it = std::find_if(a.lines.begin(), a.lines.end(), same);
    if (it == a.lines.end()) it = a.lines.insert(a.lines.end(), AnswerLine{});
    it->comparisons.push_back(&c);
  }
  std::uint64_t k = 0;
  for (AnswerLine& l : a.lines) {
    l.outcome = combined(l.comparisons);
    const CellData* s = find_cell(run, l.comparisons.front()->subject);
    l.cpu = cpu_ratio(run, *l.comparisons.front(), seed + ++k);
    l.text = line_text(l, s, threshold);
    l.short_label =
        (s ? workload_short(*s) + ": " + s->axis("policy") + ", loop dio " + s->axis("loop_dio")
           : l.comparisons.front()->subject) +
        (l.comparisons.front()->kind == "loop tax" ? " vs file" : " vs buffered loop");
    switch (l.outcome) {
      case Outcome::Pass:
        a.pass++;
        break;
      case Outcome::Fail:
        a.fail++;
        break;
      case Outcome::Inconclusive:
        a.open++;
        break;
      case Outcome::Crash:
        a.crash++;
        break;
    }
  }
  a.counts = counts_text(a, verdict.size());
  return a;
}

const AnswerLine* line_of(const Answer& a, const Comparison& c) {
  for (const AnswerLine& l : a.lines) {
    if (std::find(l.comparisons.begin(), l.comparisons.end(), &c) != l.comparisons.end()) return &l;
  }
  return nullptr;
}

}  // namespace diobench
