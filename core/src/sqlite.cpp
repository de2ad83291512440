#include "diobench/sqlite.hpp"

#include <sqlite3.h>

namespace diobench::sqlite {

Error::Error(const std::string& file, const std::string& detail)
    : std::runtime_error(file + ": " + detail), detail_(detail) {}

Statement::Statement(sqlite3* db, const std::string& file, const std::string& sql)
    : db_(db), file_(file) {
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr) != SQLITE_OK) {
    sqlite3_finalize(st_);
    throw Error(file_, sqlite3_errmsg(db));
  }
}

Statement::~Statement() { sqlite3_finalize(st_); }

Statement& Statement::bind(int i, const std::string& v) {
  sqlite3_bind_text(st_, i, v.c_str(), -1, SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int i, double v) {
  sqlite3_bind_double(st_, i, v);
  return *this;
}

Statement& Statement::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(st_, i, v);
  return *this;
}

Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(st_, i);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) throw Error(file_, sqlite3_errmsg(db_));
  return false;
}

void Statement::run() {
  step();
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

int Statement::columns() const { return sqlite3_column_count(st_); }

std::string Statement::name(int col) const { return sqlite3_column_name(st_, col); }

bool Statement::null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

std::string Statement::text(int col) const {
  const unsigned char* t = sqlite3_column_text(st_, col);
  return t ? reinterpret_cast<const char*>(t) : "";
}

std::int64_t Statement::integer(int col) const { return sqlite3_column_int64(st_, col); }

double Statement::real(int col) const { return sqlite3_column_double(st_, col); }

std::optional<double> Statement::optional_real(int col) const {
  if (null(col)) return std::nullopt;
  return real(col);
}

Database::Database(const std::string& path, Access access) : path_(path) {
  const int flags = access == Access::ReadOnly
                        ? SQLITE_OPEN_READONLY
                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(path, msg);
  }
  if (access == Access::Create) sqlite3_busy_timeout(db_, 5000);
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw Error(path_, msg);
  }
}

void Database::in_transaction(const std::function<void()>& steps) {
  exec("BEGIN IMMEDIATE;");
  try {
    steps();
    exec("COMMIT;");
  } catch (...) {
    try {
      exec("ROLLBACK;");
    } catch (const Error&) {
      // the transaction may be gone already; the first error is the one to tell
    }
    throw;
  }
}

void Database::each(const std::string& sql,
                    const std::function<void(const Statement&)>& row) const {
  Statement st = prepare(sql);
  while (st.step()) row(st);
}

std::set<std::string> Database::columns(const std::string& table) const {
  std::set<std::string> names;
  each("PRAGMA table_info(" + table + ")", [&](const Statement& st) { names.insert(st.text(1)); });
  return names;
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int Database::changes() const { return sqlite3_changes(db_); }

}  // namespace diobench::sqlite
