#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "diobench/check/check.hpp"
#include "diobench/check/path_judgement.hpp"

namespace diobench {

namespace fs = std::filesystem;

const char* to_string(CellVerdict v) {
  switch (v) {
    case CellVerdict::Ok:
      return "OK";
    case CellVerdict::Mismatch:
      return "MISMATCH";
    case CellVerdict::Error:
      return "ERROR";
    case CellVerdict::Unjudged:
      return "UNJUDGED";
  }
  return "?";
}

bool CheckResult::passed() const {
  const bool cells_ok = std::all_of(cells.begin(), cells.end(), [](const CellCheck& c) {
    return c.verdict == CellVerdict::Ok || c.verdict == CellVerdict::Unjudged;
  });
  const bool facts_ok =
      std::all_of(facts.begin(), facts.end(), [](const RunFact& f) { return f.ok; });
  return cells_ok && facts_ok && !cells.empty();
}

std::string bytes_text(std::uint64_t direct, std::uint64_t arc) {
  auto mib = [](std::uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(b) / 1048576.0);
    return std::string(buf);
  };
  return "direct " + mib(direct) + " ARC " + mib(arc);
}

CheckResult check_directory(const std::string& dir) {
  if (!fs::is_directory(dir)) throw CheckInputError("'" + dir + "' is not a directory");
  if (fs::exists(fs::path(dir) / "results.db")) return check_run_directory(dir);
  if (fs::is_directory(fs::path(dir) / "cells")) return check_lane_cells(dir);
  throw CheckInputError(
      dir + ": neither a run directory (results.db) nor a lane test directory (cells/)");
}

namespace {

// Text broken at spaces into lines of at most `width`, continued lines indented.
std::string wrapped(const std::string& text, std::size_t width) {
  std::string out, line;
  std::size_t from = 0;
  while (from < text.size()) {
    std::size_t to = text.find(' ', from);
    if (to == std::string::npos) to = text.size();
    const std::string word = text.substr(from, to - from);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = "  ";
    }
    line += (line.empty() || line == "  " ? "" : " ") + word;
    from = to + 1;
  }
  return out + line + "\n";
}

}  // namespace

void print_check(const CheckResult& r, std::ostream& out) {
  out << "diobench check: " << r.dir << " (" << r.kind << ")\n"
      << "predicted: the policy model's route for one request of the cell (a loop cell: what the\n"
      << "  loop driver hands the file below); observed: the pool's iostats, bytes per path\n"
      << "  (direct_*_bytes, arc_*_bytes; ARC = misses that went to disk)\n"
      << wrapped(kToleranceText, 90) << "\n";
  const std::vector<std::string> head{"cell", "dir", "predicted", "observed", "verdict"};
  std::vector<std::vector<std::string>> rows{head};
  for (const CellCheck& c : r.cells) {
    rows.push_back({c.cell, c.directions, c.predicted, c.observed,
                    std::string(to_string(c.verdict)) + (c.reason.empty() ? "" : ": " + c.reason)});
  }
  std::vector<std::size_t> width(head.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << "\n";
  }
  if (!r.facts.empty()) {
    out << "\nthe run:\n";
    for (const RunFact& f : r.facts) {
      char name[24];
      std::snprintf(name, sizeof name, "%-14s", f.name.c_str());
      out << "  " << name << (f.ok ? "OK    " : "FAIL  ") << f.detail << "\n";
    }
  }
  std::map<std::string, unsigned> count;
  for (const CellCheck& c : r.cells) ++count[to_string(c.verdict)];
  out << "\ncells:";
  const char* sep = " ";
  for (const auto& [verdict, n] : count) {
    out << sep << verdict << " " << n;
    sep = ", ";
  }
  out << "\n" << (r.passed() ? "check: PASS" : "check: FAIL") << "\n";
}

}  // namespace diobench
