// The version matrix written out: Markdown, one column per run, or JSON.
#include <nlohmann/json.hpp>
#include <ostream>

#include "diobench/reports/document.hpp"
#include "diobench/reports/versions.hpp"

namespace diobench {

namespace {

std::string cell_text(std::string s) {
  for (char& ch : s) ch = ch == '|' ? '/' : ch == '\n' ? ' ' : ch;
  return s;
}

void write_header_row(const VersionMatrix& m, const std::string& first, std::ostream& out) {
  out << "| " << first << " |";
  for (const VersionColumn& c : m.columns) out << " " << cell_text(c.label) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < m.columns.size(); ++i) out << "---|";
  out << "\n";
}

void write_fact(const VersionMatrix& m, const std::string& name,
                std::string (*value)(const VersionColumn&), std::ostream& out) {
  out << "| " << name << " |";
  for (const VersionColumn& c : m.columns) out << " " << cell_text(value(c)) << " |";
  out << "\n";
}

void write_rows(const VersionMatrix& m, const std::vector<SideBySideRow>& rows,
                const std::string& first, std::ostream& out) {
  write_header_row(m, first, out);
  for (const SideBySideRow& r : rows) {
    out << "| " << cell_text(r.name) << " |";
    for (const std::string& e : r.entries) {
      out << " " << (r.differs ? "**" + cell_text(e) + "**" : cell_text(e)) << " |";
    }
    out << "\n";
  }
  out << "\n";
}

std::size_t differing(const std::vector<SideBySideRow>& rows) {
  std::size_t n = 0;
  for (const SideBySideRow& r : rows) n += r.differs;
  return n;
}

void write_section(const VersionMatrix& m, const std::string& title, const std::string& intro,
                   const std::string& none, const std::vector<SideBySideRow>& rows,
                   const std::string& first, std::ostream& out) {
  out << "## " << title << "\n\n";
  if (rows.empty()) {
    out << none << "\n\n";
    return;
  }
  out << intro << " " << differing(rows) << " of " << rows.size()
      << " rows differ between the runs (in bold).\n\n";
  write_rows(m, rows, first, out);
}

void write_markdown(const VersionMatrix& m, const std::vector<RunData>& runs, std::ostream& out) {
  out << "# diobench compare: " << runs.size() << " runs side by side\n\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    out << "- " << cell_text(m.columns[i].label) << ": `" << runs[i].dir << "` (" << runs[i].profile
        << ", " << runs[i].backend << ")\n";
  }
  out << "\n";
  for (const std::string& w : m.warnings) out << "> **Warning: " << w << "**\n\n";
  write_header_row(m, "", out);
  write_fact(
      m, "kernel",
      [](const VersionColumn& c) { return c.kernel.empty() ? std::string("-") : c.kernel; }, out);
  write_fact(
      m, "OpenZFS", [](const VersionColumn& c) { return c.zfs.empty() ? std::string("-") : c.zfs; },
      out);
  write_fact(
      m, "accelerator",
      [](const VersionColumn& c) {
        return c.accelerator.empty() ? std::string("-") : c.accelerator;
      },
      out);
  write_fact(
      m, "reproducer", [](const VersionColumn& c) { return c.reproducer; }, out);
  write_fact(
      m, "path table (diobench check)", [](const VersionColumn& c) { return c.path_table; }, out);
  out << "\n";
  write_section(m, "Cells that crashed the guest",
                "CRASH: the guest crashed while the cell ran; ran: it ran to the end.",
                "No cell crashed a guest in any run.", m.crashes, "cell", out);
  write_section(m, "Cells the path table did not hold for",
                "The policy model's prediction against the pool's iostats and arcstats, as "
                "`diobench check` judges each run.",
                "In every run judged, every cell took the path the policy model predicts.",
                m.contradicted, "cell", out);
  write_section(m, "Observed path per cell",
                "Each direction's bytes on the pool, classed as `diobench check` does (direct, "
                "ARC, mixed or none).",
                "No run has the pool's counters (not the zfs backend).", m.paths, "cell", out);
  write_section(m, "Amplification",
                "Bytes that reached the pool per byte asked (the workload's direction, medians "
                "over repetitions): both paths, and directly and through the ARC.",
                "No run has the pool's counters.", m.amplification, "cell", out);
  write_section(m, "Verdict of each run",
                "The fallback-path verdict (threshold " +
                    format_number("%.0f%%", 100 * m.threshold) +
                    ") computed inside each run, with the cost it measured there.",
                "No run has the verdict's cells.", m.verdict, "comparison", out);
}

nlohmann::json rows_json(const std::vector<SideBySideRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const SideBySideRow& r : rows) {
    a.push_back({{"name", r.name}, {"entries", r.entries}, {"differs", r.differs}});
  }
  return a;
}

void write_json(const VersionMatrix& m, const std::vector<RunData>& runs, std::ostream& out) {
  nlohmann::json cols = nlohmann::json::array();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const VersionColumn& c = m.columns[i];
    cols.push_back({{"dir", runs[i].dir},
                    {"label", c.label},
                    {"kernel", c.kernel},
                    {"zfs", c.zfs},
                    {"accelerator", c.accelerator},
                    {"crashed_cells", c.crashed_cells},
                    {"reproducer", c.reproducer},
                    {"path_table", c.path_table},
                    {"path_table_held", c.path_table_held}});
  }
  const nlohmann::json j{{"runs", cols},
                         {"warnings", m.warnings},
                         {"verdict_threshold", m.threshold},
                         {"crashes", rows_json(m.crashes)},
                         {"contradicted", rows_json(m.contradicted)},
                         {"paths", rows_json(m.paths)},
                         {"amplification", rows_json(m.amplification)},
                         {"verdict", rows_json(m.verdict)}};
  out << j.dump(2) << "\n";
}

}  // namespace

void write_side_by_side(const VersionMatrix& m, const std::vector<RunData>& runs,
                        const std::string& format, std::ostream& out) {
  if (format == "json") return write_json(m, runs, out);
  write_markdown(m, runs, out);
}

}  // namespace diobench
