// results.db read-only, as the report and the checker read it: rows handed
// to a callback, every SQLite failure turned into the caller's own error
// (a bad-input error naming the file), the connection closed with the
// object. Built on the one SQLite wrapper (sqlite.hpp); the runner writes
// results.db through its ResultStore on the same wrapper.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "diobench/sqlite.hpp"

namespace diobench {

class ResultsReader {
 public:
  // Called with the message; must throw (the caller's bad-input error).
  using Fail = void (*)(const std::string& message);
  using Row = sqlite::Statement;

  ResultsReader(const std::string& path, Fail fail);

  // Calls `row` for each result row with the statement to read columns
  // from; SQL that does not fit the file says it is not a results index.
  void each(const std::string& sql, const std::function<void(const Row&)>& row) const;
  bool has_column(const std::string& table, const std::string& column) const;
  // The SQL condition (" WHERE ...", or "" for an index without hosts)
  // that keeps each repetition's own row: this machine's, or in a fleet
  // run fio's sum over the hosts, not each host's.
  std::string repetition_rows() const;
  // The hosts of a fleet run (each HOST:PORT, in the order their rows
  // were first stored), without fio's sum; empty for a run on this
  // machine alone.
  std::vector<std::string> hosts() const;
  // The SQL condition (" WHERE ...") that keeps one host's rows.
  static std::string host_rows(const std::string& host);

 private:
  [[noreturn]] void fail(const std::string& message) const;
  static sqlite::Database open(const std::string& path, Fail fail);

  Fail fail_;
  sqlite::Database db_;
};

}  // namespace diobench
