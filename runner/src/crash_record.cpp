#include "diobench/runner/crash_record.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "diobench/durable_file.hpp"
#include "diobench/json_number.hpp"
#include "diobench/runner/kernel_failure_lines.hpp"
#include "diobench/runner/result_store.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

fs::path current_file(const std::string& run_dir) { return fs::path(run_dir) / "current.json"; }

}  // namespace

void mark_running(const std::string& run_dir, const RunningRepetition& r) {
  write_file_durably(current_file(run_dir).string(), nlohmann::json{{"cell", r.cell},
                                                                    {"repetition", r.repetition},
                                                                    {"position", r.position},
                                                                    {"started", r.started}}
                                                             .dump() +
                                                         "\n");
}

void clear_running(const std::string& run_dir) {
  std::error_code ec;
  if (fs::remove(current_file(run_dir), ec)) sync_directory(run_dir);
}

std::optional<RunningRepetition> read_running(const std::string& run_dir) {
  const fs::path file = current_file(run_dir);
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return parse_running(text.str(), file.string());
}

RunningRepetition parse_running(const std::string& text, const std::string& origin) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    return RunningRepetition{j.at("cell").get<std::string>(), json_whole<unsigned>(j, "repetition"),
                             json_whole_or(j, "position", 0u), j.value("started", "")};
  } catch (const nlohmann::json::exception& e) {
    // Bad input: `diobench crashed` exits 2 naming the file.
    throw std::invalid_argument(origin + " is damaged (" + e.what() + ")");
  }
}

std::string crash_excerpt(const std::string& console, std::size_t max_lines) {
  // The first line of a kernel failure report: runner/kernel_failure_lines.txt
  // (compiled in; the qemu lane reads the same file). Anchored at the
  // start of the line (after the kernel's time stamp, if any): a program
  // that merely prints such a line, e.g. a summary quoting an earlier
  // crash, must not count as a new one. (The ']' stays unescaped: in
  // POSIX syntax it is literal there, and libstdc++ refuses "\]".)
  static const std::regex failure(
      std::string(R"(^(\[ *[0-9]+\.[0-9]+] *)?()") + kKernelFailureLines + ")",
      std::regex::extended);
  std::istringstream in(console);
  std::string line, out;
  std::size_t taken = 0;
  bool found = false;
  while (std::getline(in, line) && taken < max_lines) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!found && !std::regex_search(line, failure)) continue;
    found = true;
    out += line + "\n";
    ++taken;
  }
  return out;
}

CrashOutcome record_crash(const std::string& run_dir, const std::string& console_text,
                          const std::string& reason) {
  if (!fs::exists(fs::path(run_dir) / "results.db") ||
      !fs::exists(fs::path(run_dir) / "plan.json")) {
    throw std::invalid_argument(run_dir +
                                " is not a diobench run directory (no results.db/plan.json)");
  }
  const std::optional<RunningRepetition> running = read_running(run_dir);
  if (!running) {
    throw std::invalid_argument(run_dir +
                                ": no repetition was running (no current.json); nothing to record");
  }
  std::string message = crash_excerpt(console_text);
  if (!reason.empty()) message = reason + (message.empty() ? "" : "\n" + message);
  if (message.empty()) message = "the machine stopped during this repetition (no console report)";

  RepetitionRecord rec;
  rec.cell = running->cell;
  rec.repetition = running->repetition;
  rec.position = running->position;
  rec.status = "crash";
  rec.message = message;
  rec.started = running->started;
  rec.finished = utc_timestamp();
  ResultStore((fs::path(run_dir) / "results.db").string()).add_repetition(rec);
  clear_running(run_dir);
  return CrashOutcome{*running, message};
}

}  // namespace diobench
