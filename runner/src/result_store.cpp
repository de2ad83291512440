#include "diobench/runner/result_store.hpp"

#include <sqlite3.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace diobench {

namespace {

constexpr const char* kSchema = R"(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  profile TEXT NOT NULL, backend TEXT NOT NULL, seed INTEGER NOT NULL,
  started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL DEFAULT 'running');
CREATE TABLE IF NOT EXISTS cells(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
  backend TEXT, policy TEXT, target TEXT, loop_dio TEXT, app_direct INTEGER,
  submit TEXT, semantics TEXT, recordsize INTEGER, workload TEXT, rw TEXT, bs TEXT,
  iodepth INTEGER, numjobs INTEGER, rwmixread INTEGER);
CREATE TABLE IF NOT EXISTS repetitions(
  id INTEGER PRIMARY KEY, cell_id INTEGER NOT NULL REFERENCES cells(id),
  repetition INTEGER NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL,
  message TEXT, started TEXT, finished TEXT, fio_json TEXT, counters_file TEXT,
  elapsed_ms REAL, cache_drop_ms REAL, fio_ms REAL, split_check TEXT,
  UNIQUE(cell_id, repetition));
CREATE TABLE IF NOT EXISTS metrics(
  repetition_id INTEGER NOT NULL REFERENCES repetitions(id) ON DELETE CASCADE,
  direction TEXT NOT NULL, io_bytes INTEGER, total_ios INTEGER, bw_bytes REAL,
  iops REAL, runtime_ms INTEGER, clat_mean_ns REAL, lat_mean_ns REAL,
  p50_ns REAL, p90_ns REAL, p99_ns REAL, p999_ns REAL,
  PRIMARY KEY(repetition_id, direction));
CREATE TABLE IF NOT EXISTS percentiles(
  repetition_id INTEGER NOT NULL REFERENCES repetitions(id) ON DELETE CASCADE,
  direction TEXT NOT NULL, percentile REAL NOT NULL, clat_ns REAL NOT NULL);
CREATE TABLE IF NOT EXISTS path_counters(
  repetition_id INTEGER NOT NULL REFERENCES repetitions(id) ON DELETE CASCADE,
  direction TEXT NOT NULL, path TEXT NOT NULL, requests INTEGER, bytes INTEGER,
  direct_bytes INTEGER, buffered_bytes INTEGER);
CREATE TABLE IF NOT EXISTS device_io(
  repetition_id INTEGER NOT NULL REFERENCES repetitions(id) ON DELETE CASCADE,
  device TEXT NOT NULL, role TEXT NOT NULL, read_bytes INTEGER, write_bytes INTEGER);
CREATE TABLE IF NOT EXISTS zfs_iostats(
  repetition_id INTEGER NOT NULL REFERENCES repetitions(id) ON DELETE CASCADE,
  name TEXT NOT NULL, delta INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS arcstats(
  repetition_id INTEGER NOT NULL REFERENCES repetitions(id) ON DELETE CASCADE,
  name TEXT NOT NULL, delta INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS system_info(key TEXT PRIMARY KEY, value TEXT);
)";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("results.db: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(st_); }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.c_str(), -1, SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, double v) {
    sqlite3_bind_double(st_, i, v);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Statement& bind_u(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind_opt(int i, const std::optional<std::uint64_t>& v) {
    if (v) return bind_u(i, *v);
    sqlite3_bind_null(st_, i);
    return *this;
  }
  Statement& bind_opt(int i, const std::optional<std::string>& v) {
    if (v) return bind(i, *v);
    sqlite3_bind_null(st_, i);
    return *this;
  }
  Statement& bind_opt(int i, const std::optional<double>& v) {
    if (v) return bind(i, *v);
    sqlite3_bind_null(st_, i);
    return *this;
  }
  bool step() {  // true while rows come
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE)
      throw std::runtime_error(std::string("results.db: ") + sqlite3_errmsg(db_));
    return false;
  }
  void run() {
    step();
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(st_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(st_, col); }
  double real(int col) const { return sqlite3_column_double(st_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

}  // namespace

ResultStore::ResultStore(const std::string& db_path) : path_(db_path) {
  // Written as root: a symlink planted at the name is refused, not followed.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW;
  if (sqlite3_open_v2(db_path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error(db_path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec(kSchema);
  exec("PRAGMA foreign_keys = ON;");
  // Columns added after the first schema: a run directory written by an
  // older diobench gains them on --resume.
  std::set<std::string> have;
  Statement cols(db_, "PRAGMA table_info(repetitions)");
  while (cols.step()) have.insert(cols.text(1));
  for (const auto& [col, type] : {std::pair{"arc_data_before", "INTEGER"},
                                  {"arc_data_after", "INTEGER"},
                                  {"cpu_busy_s", "REAL"},
                                  {"cpu_window_s", "REAL"},
                                  {"fio_cpu_s", "REAL"},
                                  {"arc_check", "TEXT"}}) {
    if (!have.count(col)) {
      exec(std::string("ALTER TABLE repetitions ADD COLUMN ") + col + " " + type + ";");
    }
  }
}

ResultStore::~ResultStore() { sqlite3_close(db_); }

void ResultStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error(path_ + ": " + msg);
  }
}

void ResultStore::begin_run(const std::string& profile, const std::string& backend,
                            std::uint64_t seed, const std::string& started) {
  Statement(db_,
            "INSERT OR IGNORE INTO runs(id, profile, backend, seed, started) VALUES(1,?,?,?,?)")
      .bind(1, profile)
      .bind(2, backend)
      .bind_u(3, seed)
      .bind(4, started)
      .run();
  exec("UPDATE runs SET status = 'running', finished = NULL WHERE id = 1;");
}

void ResultStore::finish_run(const std::string& status, const std::string& finished) {
  Statement(db_, "UPDATE runs SET status = ?, finished = ? WHERE id = 1")
      .bind(1, status)
      .bind(2, finished)
      .run();
}

void ResultStore::add_cells(const std::vector<Cell>& cells) {
  exec("BEGIN IMMEDIATE;");
  Statement st(db_,
               "INSERT OR IGNORE INTO cells(name, backend, policy, target, loop_dio, app_direct,"
               " submit, semantics, recordsize, workload, rw, bs, iodepth, numjobs, rwmixread)"
               " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const Cell& c : cells) {
    const nlohmann::json a = c.axes();
    st.bind(1, c.name());
    int i = 2;
    for (const char* k : {"backend", "policy", "target", "loop_dio"})
      st.bind(i++, a[k].get<std::string>());
    st.bind(i++, std::int64_t{c.app_direct});
    for (const char* k : {"submit", "semantics"}) st.bind(i++, a[k].get<std::string>());
    st.bind_u(i++, c.recordsize);
    for (const char* k : {"workload", "rw", "bs"}) st.bind(i++, a[k].get<std::string>());
    st.bind(i++, std::int64_t{c.workload.iodepth});
    st.bind(i++, std::int64_t{c.workload.numjobs});
    st.bind(i++, std::int64_t{c.workload.rwmixread});
    st.run();
  }
  exec("COMMIT;");
}

void ResultStore::add_system_info(const std::map<std::string, std::string>& info) {
  exec("BEGIN IMMEDIATE;");
  Statement st(db_, "INSERT OR REPLACE INTO system_info(key, value) VALUES(?,?)");
  for (const auto& [k, v] : info) st.bind(1, k).bind(2, v).run();
  exec("COMMIT;");
}

void ResultStore::add_repetition(const RepetitionRecord& r) {
  exec("BEGIN IMMEDIATE;");
  try {
    // A repetition run again (resume after a failure) replaces the old row.
    Statement(db_,
              "DELETE FROM repetitions WHERE repetition = ? AND cell_id = "
              "(SELECT id FROM cells WHERE name = ?)")
        .bind(1, std::int64_t{r.repetition})
        .bind(2, r.cell)
        .run();
    Statement(db_,
              "INSERT INTO repetitions(cell_id, repetition, position, status, message, started,"
              " finished, fio_json, counters_file, elapsed_ms, cache_drop_ms, fio_ms, split_check,"
              " arc_data_before, arc_data_after, cpu_busy_s, cpu_window_s, fio_cpu_s, arc_check)"
              " SELECT id,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,? FROM cells WHERE name = ?")
        .bind(1, std::int64_t{r.repetition})
        .bind(2, std::int64_t{r.position})
        .bind(3, r.status)
        .bind(4, r.message)
        .bind(5, r.started)
        .bind(6, r.finished)
        .bind(7, r.fio_json)
        .bind(8, r.counters_file)
        .bind(9, r.elapsed_ms)
        .bind(10, r.cache_drop_ms)
        .bind(11, r.fio_ms)
        .bind(12, r.split_check)
        .bind_opt(13, r.arc_data_before)
        .bind_opt(14, r.arc_data_after)
        .bind_opt(15, r.cpu_busy_s)
        .bind_opt(16, r.cpu_window_s)
        .bind_opt(17, r.fio_cpu_s)
        .bind_opt(18, r.arc_check)
        .bind(19, r.cell)
        .run();
    const std::int64_t id = sqlite3_last_insert_rowid(db_);
    if (sqlite3_changes(db_) != 1) throw std::runtime_error("results.db: unknown cell " + r.cell);
    if (r.fio) {
      // group_reporting=1 in the job template: one entry for all jobs.
      Statement m(db_,
                  "INSERT INTO metrics(repetition_id, direction, io_bytes, total_ios, bw_bytes,"
                  " iops, runtime_ms, clat_mean_ns, lat_mean_ns, p50_ns, p90_ns, p99_ns, p999_ns)"
                  " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
      Statement pc(db_,
                   "INSERT INTO percentiles(repetition_id, direction, percentile, clat_ns)"
                   " VALUES(?,?,?,?)");
      const FioJobResult& job = r.fio->jobs.front();
      for (const auto& [name, d] :
           {std::pair<const char*, const DirectionResult&>{"read", job.read},
            {"write", job.write}}) {
        if (!d.measured()) continue;
        m.bind(1, id)
            .bind(2, std::string(name))
            .bind_u(3, d.io_bytes)
            .bind_u(4, d.total_ios)
            .bind(5, d.bw_bytes)
            .bind(6, d.iops)
            .bind_u(7, d.runtime_ms)
            .bind(8, d.clat_mean_ns)
            .bind(9, d.lat_mean_ns)
            .bind(10, d.percentile_ns(50.0))
            .bind(11, d.percentile_ns(90.0))
            .bind(12, d.percentile_ns(99.0))
            .bind(13, d.percentile_ns(99.9))
            .run();
        for (const auto& [p, ns] : d.clat_percentiles_ns) {
          pc.bind(1, id).bind(2, std::string(name)).bind(3, p).bind(4, ns).run();
        }
      }
    }
    if (r.counters) {
      Statement pc(db_,
                   "INSERT INTO path_counters(repetition_id, direction, path, requests, bytes,"
                   " direct_bytes, buffered_bytes) VALUES(?,?,?,?,?,?,?)");
      for (Direction d : {Direction::Read, Direction::Write}) {
        for (Path p : kAllPaths) {
          const PathBucket& b = r.counters->bucket(d, p);
          pc.bind(1, id)
              .bind(2, std::string(to_string(d)))
              .bind(3, std::string(to_string(p)))
              .bind_u(4, b.requests)
              .bind_u(5, b.bytes)
              .bind_u(6, b.direct_bytes)
              .bind_u(7, b.buffered_bytes)
              .run();
        }
      }
    }
    Statement dev(db_,
                  "INSERT INTO device_io(repetition_id, device, role, read_bytes, write_bytes)"
                  " VALUES(?,?,?,?,?)");
    for (const DeviceIo& d : r.devices) {
      dev.bind(1, id)
          .bind(2, d.device)
          .bind(3, d.role)
          .bind_u(4, d.read_bytes)
          .bind_u(5, d.write_bytes)
          .run();
    }
    Statement z(db_, "INSERT INTO zfs_iostats(repetition_id, name, delta) VALUES(?,?,?)");
    for (const auto& [name, delta] : r.zfs_iostats)
      z.bind(1, id).bind(2, name).bind_u(3, delta).run();
    Statement a(db_, "INSERT INTO arcstats(repetition_id, name, delta) VALUES(?,?,?)");
    for (const auto& [name, delta] : r.arcstats) a.bind(1, id).bind(2, name).bind_u(3, delta).run();
    exec("COMMIT;");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
    throw;
  }
}

std::set<std::pair<std::string, unsigned>> ResultStore::finished_repetitions() const {
  std::set<std::pair<std::string, unsigned>> done;
  Statement st(db_,
               "SELECT c.name, r.repetition FROM repetitions r JOIN cells c ON c.id = r.cell_id"
               " WHERE r.status = 'ok'");
  while (st.step()) done.insert({st.text(0), static_cast<unsigned>(st.integer(1))});
  return done;
}

std::set<std::string> ResultStore::crashed_cells() const {
  std::set<std::string> cells;
  Statement st(db_,
               "SELECT DISTINCT c.name FROM repetitions r JOIN cells c ON c.id = r.cell_id"
               " WHERE r.status = 'crash'");
  while (st.step()) cells.insert(st.text(0));
  return cells;
}

std::vector<RepetitionRecord> ResultStore::stored_repetitions() const {
  std::vector<RepetitionRecord> out;
  Statement st(db_,
               "SELECT c.name, r.repetition, r.position, r.status, r.message, r.started,"
               " r.finished, r.fio_json, r.counters_file, r.elapsed_ms FROM repetitions r"
               " JOIN cells c ON c.id = r.cell_id ORDER BY r.position");
  while (st.step()) {
    RepetitionRecord r;
    r.cell = st.text(0);
    r.repetition = static_cast<unsigned>(st.integer(1));
    r.position = static_cast<unsigned>(st.integer(2));
    r.status = st.text(3);
    r.message = st.text(4);
    r.started = st.text(5);
    r.finished = st.text(6);
    r.fio_json = st.text(7);
    r.counters_file = st.text(8);
    r.elapsed_ms = st.real(9);
    out.push_back(std::move(r));
  }
  return out;
}

std::string utc_timestamp() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::optional<std::uint64_t> ResultStore::seed() const {
  Statement st(db_, "SELECT seed FROM runs WHERE id = 1");
  if (st.step()) return static_cast<std::uint64_t>(st.integer(0));
  return std::nullopt;
}

}  // namespace diobench
