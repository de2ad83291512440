#include "diobench/results_reader.hpp"

#include <stdexcept>

#include "diobench/fio_result.hpp"

namespace diobench {

namespace {

[[noreturn]] void fail_with(ResultsReader::Fail fail, const std::string& message) {
  fail(message);
  throw std::logic_error("ResultsReader: the failure callback returned: " +
                         message);  // a bug of the caller
}

}  // namespace

sqlite::Database ResultsReader::open(const std::string& path, Fail fail) {
  try {
    return sqlite::Database(path, sqlite::Database::Access::ReadOnly);
  } catch (const sqlite::Error& e) {
    fail_with(fail, e.what());
  }
}

ResultsReader::ResultsReader(const std::string& path, Fail fail)
    : fail_(fail), db_(open(path, fail)) {}

void ResultsReader::fail(const std::string& message) const { fail_with(fail_, message); }

void ResultsReader::each(const std::string& sql, const std::function<void(const Row&)>& row) const {
  bool prepared = false;
  try {
    sqlite::Statement st = db_.prepare(sql);
    prepared = true;
    while (st.step()) row(st);
  } catch (const sqlite::Error& e) {
    if (!prepared) fail(db_.path() + ": not a diobench results index (" + e.detail() + ")");
    fail(e.what());
  }
}

bool ResultsReader::has_column(const std::string& table, const std::string& column) const {
  bool found = false;
  each("PRAGMA table_info(" + table + ")", [&](const Row& st) { found |= st.text(1) == column; });
  return found;
}

std::string ResultsReader::repetition_rows() const {
  if (!has_column("repetitions", "host")) return "";
  return std::string(" WHERE host IN ('', '") + kFioAllClients + "')";
}

std::vector<std::string> ResultsReader::hosts() const {
  std::vector<std::string> out;
  if (!has_column("repetitions", "host")) return out;
  each(std::string("SELECT host FROM repetitions WHERE host NOT IN ('', '") + kFioAllClients +
           "') GROUP BY host ORDER BY MIN(id)",
       [&](const Row& st) { out.push_back(st.text(0)); });
  return out;
}

std::string ResultsReader::host_rows(const std::string& host) {
  std::string quoted;  // an SQL string literal: a quote inside is doubled
  for (char c : host) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return " WHERE host = '" + quoted + "'";
}

}  // namespace diobench
