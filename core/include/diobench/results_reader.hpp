// results.db read-only, as the report and the checker read it: rows handed
// to a callback, every SQLite failure turned into the caller's own error
// (a bad-input error naming the file), the connection closed with the
// object. The runner writes results.db through its ResultStore.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>

namespace diobench {

class ResultsReader {
 public:
  // Called with the message; must throw (the caller's bad-input error).
  using Fail = void (*)(const std::string& message);

  ResultsReader(const std::string& path, Fail fail);
  ~ResultsReader();
  ResultsReader(const ResultsReader&) = delete;
  ResultsReader& operator=(const ResultsReader&) = delete;

  // Calls `row` for each result row with the statement to read columns
  // from; SQL that does not fit the file says it is not a results index.
  void each(const std::string& sql, const std::function<void(sqlite3_stmt*)>& row) const;
  bool has_column(const std::string& table, const std::string& column) const;

  // A column as text ("" for NULL).
  static std::string text(sqlite3_stmt* st, int col);

 private:
  [[noreturn]] void fail(const std::string& message) const;

  sqlite3* db_ = nullptr;
  std::string path_;
  Fail fail_;
};

}  // namespace diobench
