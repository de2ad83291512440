#include "diobench/results_reader.hpp"

#include <stdexcept>

namespace diobench {

ResultsReader::ResultsReader(const std::string& path, Fail fail) : path_(path), fail_(fail) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot open";
    sqlite3_close(db_);
    db_ = nullptr;
    this->fail(path + ": " + msg);
  }
}

ResultsReader::~ResultsReader() { sqlite3_close(db_); }

void ResultsReader::fail(const std::string& message) const {
  fail_(message);
  throw std::logic_error("ResultsReader: the failure callback returned: " +
                         message);  // a bug of the caller
}

void ResultsReader::each(const std::string& sql,
                         const std::function<void(sqlite3_stmt*)>& row) const {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    fail(path_ + ": not a diobench results index (" + sqlite3_errmsg(db_) + ")");
  }
  int rc = SQLITE_OK;
  try {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
  } catch (...) {
    sqlite3_finalize(st);
    throw;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) fail(path_ + ": " + sqlite3_errmsg(db_));
}

bool ResultsReader::has_column(const std::string& table, const std::string& column) const {
  bool found = false;
  each("PRAGMA table_info(" + table + ")",
       [&](sqlite3_stmt* st) { found |= text(st, 1) == column; });
  return found;
}

std::string ResultsReader::text(sqlite3_stmt* st, int col) {
  const unsigned char* t = sqlite3_column_text(st, col);
  return t ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace diobench
