// The one SQLite wrapper: a connection and its prepared statements, each
// closed or finalized with its object, every failure an sqlite::Error that
// names the file. The runner writes results.db through it (ResultStore),
// the report and the checker read it (ResultsReader). Why our own and not
// SQLiteCpp: docs/design.md, "Libraries".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace diobench::sqlite {

class Error : public std::runtime_error {
 public:
  // what(): "FILE: DETAIL"; detail(): SQLite's own words.
  Error(const std::string& file, const std::string& detail);
  const std::string& detail() const { return detail_; }

 private:
  std::string detail_;
};

class Statement {
 public:
  Statement(sqlite3* db, const std::string& file, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters count from 1; an empty optional binds NULL.
  Statement& bind(int i, const std::string& v);
  Statement& bind(int i, double v);
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  template <typename T>
  Statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }
  Statement& bind_null(int i);

  bool step();  // true while rows come
  void run();   // one step, then ready to be bound and run again

  // Columns count from 0.
  int columns() const;
  std::string name(int col) const;
  bool null(int col) const;
  std::string text(int col) const;  // "" for NULL
  std::int64_t integer(int col) const;
  double real(int col) const;
  std::optional<double> optional_real(int col) const;

 private:
  sqlite3* db_;
  const std::string& file_;
  sqlite3_stmt* st_ = nullptr;
};

class Database {
 public:
  enum class Access {
    ReadOnly,
    // Read-write, made if missing; a symlink at the name is refused, not
    // followed (the runner writes as root).
    Create,
  };
  Database(const std::string& path, Access access);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  void exec(const std::string& sql);
  // Runs `steps` in one transaction (BEGIN IMMEDIATE): committed when they
  // return, rolled back when they throw, and their error rethrown.
  void in_transaction(const std::function<void()>& steps);
  Statement prepare(const std::string& sql) const { return Statement(db_, path_, sql); }
  // Calls `row` for each row of `sql`.
  void each(const std::string& sql, const std::function<void(const Statement&)>& row) const;
  std::set<std::string> columns(const std::string& table) const;
  std::int64_t last_insert_rowid() const;
  int changes() const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace diobench::sqlite
