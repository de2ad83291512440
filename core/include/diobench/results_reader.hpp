// results.db read-only, as the report and the checker read it: rows handed
// to a callback, every SQLite failure turned into the caller's own error
// (a bad-input error naming the file), the connection closed with the
// object. Built on the one SQLite wrapper (sqlite.hpp); the runner writes
// results.db through its ResultStore on the same wrapper.
#pragma once

#include <functional>
#include <set>
#include <string>

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

 private:
  [[noreturn]] void fail(const std::string& message) const;
  static sqlite::Database open(const std::string& path, Fail fail);

  Fail fail_;
  sqlite::Database db_;
};

}  // namespace diobench
