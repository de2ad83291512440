#include "diobench/runner/result_store.hpp"

#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace diobench {

namespace {

// One row per repetition and host: host '' is the machine the run ran on
// (every repetition of a local run, and of runs before fleets); in a fleet
// run each host's own row is named HOST:PORT and fio's sum over the hosts
// kFioAllClients.
constexpr const char* kRepetitions = R"(
  id INTEGER PRIMARY KEY, cell_id INTEGER NOT NULL REFERENCES cells(id),
  repetition INTEGER NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL,
  message TEXT, started TEXT, finished TEXT, fio_json TEXT, counters_file TEXT,
  elapsed_ms REAL, cache_drop_ms REAL, fio_ms REAL, split_check TEXT,
  arc_data_before INTEGER, arc_data_after INTEGER, cpu_busy_s REAL, cpu_window_s REAL,
  fio_cpu_s REAL, arc_check TEXT, host TEXT NOT NULL DEFAULT '',
  UNIQUE(cell_id, repetition, host))";

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

// A run directory of a diobench before fleets: its repetitions table is
// made anew with the host column (its rows become the local host's, '')
// and one row per cell, repetition and host. SQLite cannot change a
// table's UNIQUE constraint in place; this is its documented way
// (sqlite.org/lang_altertable.html, "other kinds of table schema changes"),
// in one transaction with the foreign keys off.
void add_host_column(sqlite::Database& db) {
  std::string columns;
  for (const std::string& c : db.columns("repetitions"))
    columns += (columns.empty() ? "" : ", ") + c;
  db.exec("PRAGMA foreign_keys = OFF;");
  db.in_transaction([&] {
    db.exec(std::string("CREATE TABLE repetitions_with_host(") + kRepetitions + ");");
    db.exec("INSERT INTO repetitions_with_host(" + columns + ") SELECT " + columns +
            " FROM repetitions;");
    db.exec("DROP TABLE repetitions;");
    db.exec("ALTER TABLE repetitions_with_host RENAME TO repetitions;");
  });
}

}  // namespace

ResultStore::ResultStore(const std::string& db_path)
    : db_(db_path, sqlite::Database::Access::Create) {
  db_.exec(kSchema);
  db_.exec(std::string("CREATE TABLE IF NOT EXISTS repetitions(") + kRepetitions + ");");
  // Columns added after the first schema: a run directory written by an
  // older diobench gains them on --resume.
  const std::set<std::string> have = db_.columns("repetitions");
  for (const auto& [col, type] : {std::pair{"arc_data_before", "INTEGER"},
                                  {"arc_data_after", "INTEGER"},
                                  {"cpu_busy_s", "REAL"},
                                  {"cpu_window_s", "REAL"},
                                  {"fio_cpu_s", "REAL"},
                                  {"arc_check", "TEXT"}}) {
    if (!have.count(col)) {
      db_.exec(std::string("ALTER TABLE repetitions ADD COLUMN ") + col + " " + type + ";");
    }
  }
  if (!have.count("host")) add_host_column(db_);
  db_.exec("PRAGMA foreign_keys = ON;");
}

void ResultStore::begin_run(const std::string& profile, const std::string& backend,
                            std::uint64_t seed, const std::string& started) {
  db_.prepare("INSERT OR IGNORE INTO runs(id, profile, backend, seed, started) VALUES(1,?,?,?,?)")
      .bind(1, profile)
      .bind(2, backend)
      .bind(3, seed)
      .bind(4, started)
      .run();
  db_.exec("UPDATE runs SET status = 'running', finished = NULL WHERE id = 1;");
}

void ResultStore::finish_run(const std::string& status, const std::string& finished) {
  db_.prepare("UPDATE runs SET status = ?, finished = ? WHERE id = 1")
      .bind(1, status)
      .bind(2, finished)
      .run();
}

void ResultStore::add_cells(const std::vector<Cell>& cells) {
  db_.in_transaction([&] {
    sqlite::Statement st = db_.prepare(
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
      st.bind(i++, c.recordsize);
      for (const char* k : {"workload", "rw", "bs"}) st.bind(i++, a[k].get<std::string>());
      st.bind(i++, std::int64_t{c.workload.iodepth});
      st.bind(i++, std::int64_t{c.workload.numjobs});
      st.bind(i++, std::int64_t{c.workload.rwmixread});
      st.run();
    }
  });
}

void ResultStore::add_system_info(const std::map<std::string, std::string>& info) {
  db_.in_transaction([&] {
    sqlite::Statement st =
        db_.prepare("INSERT OR REPLACE INTO system_info(key, value) VALUES(?,?)");
    for (const auto& [k, v] : info) st.bind(1, k).bind(2, v).run();
  });
}

namespace {

// Every row of a cell's repetition, each host's (an earlier attempt's,
// from a resume after a failure: the repetition runs again on every host).
void forget_repetition(sqlite::Database& db, const RepetitionRecord& r) {
  db.prepare(
        "DELETE FROM repetitions WHERE repetition = ? AND cell_id = "
        "(SELECT id FROM cells WHERE name = ?)")
      .bind(1, std::int64_t{r.repetition})
      .bind(2, r.cell)
      .run();
}

// The repetition's own row; returns its id.
std::int64_t store_repetition_row(sqlite::Database& db, const RepetitionRecord& r) {
  db.prepare(
        "INSERT INTO repetitions(cell_id, repetition, position, status, message, started,"
        " finished, fio_json, counters_file, elapsed_ms, cache_drop_ms, fio_ms, split_check,"
        " arc_data_before, arc_data_after, cpu_busy_s, cpu_window_s, fio_cpu_s, arc_check, host)"
        " SELECT id,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,? FROM cells WHERE name = ?")
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
      .bind(13, r.arc_data_before)
      .bind(14, r.arc_data_after)
      .bind(15, r.cpu_busy_s)
      .bind(16, r.cpu_window_s)
      .bind(17, r.fio_cpu_s)
      .bind(18, r.arc_check)
      .bind(19, r.host)
      .bind(20, r.cell)
      .run();
  if (db.changes() != 1) throw std::runtime_error("results.db: unknown cell " + r.cell);
  return db.last_insert_rowid();
}

// fio's figures per direction measured, with the latency percentiles.
void store_metrics(sqlite::Database& db, std::int64_t id, const FioResult& fio) {
  sqlite::Statement m = db.prepare(
      "INSERT INTO metrics(repetition_id, direction, io_bytes, total_ios, bw_bytes,"
      " iops, runtime_ms, clat_mean_ns, lat_mean_ns, p50_ns, p90_ns, p99_ns, p999_ns)"
      " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
  sqlite::Statement pc = db.prepare(
      "INSERT INTO percentiles(repetition_id, direction, percentile, clat_ns) VALUES(?,?,?,?)");
  // group_reporting=1 in the job template: one entry for all jobs.
  const FioJobResult& job = fio.jobs.front();
  for (const auto& [name, d] :
       {std::pair<const char*, const DirectionResult&>{"read", job.read}, {"write", job.write}}) {
    if (!d.measured()) continue;
    m.bind(1, id)
        .bind(2, std::string(name))
        .bind(3, d.io_bytes)
        .bind(4, d.total_ios)
        .bind(5, d.bw_bytes)
        .bind(6, d.iops)
        .bind(7, d.runtime_ms)
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

// The engine's counters: every direction and path, zeros included.
void store_path_counters(sqlite::Database& db, std::int64_t id, const PathCounters& counters) {
  sqlite::Statement pc = db.prepare(
      "INSERT INTO path_counters(repetition_id, direction, path, requests, bytes,"
      " direct_bytes, buffered_bytes) VALUES(?,?,?,?,?,?,?)");
  for (Direction d : {Direction::Read, Direction::Write}) {
    for (Path p : kAllPaths) {
      const PathBucket& b = counters.bucket(d, p);
      pc.bind(1, id)
          .bind(2, std::string(to_string(d)))
          .bind(3, std::string(to_string(p)))
          .bind(4, b.requests)
          .bind(5, b.bytes)
          .bind(6, b.direct_bytes)
          .bind(7, b.buffered_bytes)
          .run();
    }
  }
}

void store_devices(sqlite::Database& db, std::int64_t id, const std::vector<DeviceIo>& devices) {
  sqlite::Statement dev = db.prepare(
      "INSERT INTO device_io(repetition_id, device, role, read_bytes, write_bytes)"
      " VALUES(?,?,?,?,?)");
  for (const DeviceIo& d : devices) {
    dev.bind(1, id).bind(2, d.device).bind(3, d.role).bind(4, d.read_bytes).bind(5, d.write_bytes);
    dev.run();
  }
}

// Named counter deltas (zfs_iostats, arcstats).
void store_deltas(sqlite::Database& db, const char* table, std::int64_t id,
                  const std::map<std::string, std::uint64_t>& deltas) {
  sqlite::Statement st = db.prepare(std::string("INSERT INTO ") + table +
                                    "(repetition_id, name, delta) VALUES(?,?,?)");
  for (const auto& [name, delta] : deltas) st.bind(1, id).bind(2, name).bind(3, delta).run();
}

}  // namespace

void ResultStore::add_repetition(const RepetitionRecord& r) { add_repetitions({r}); }

void ResultStore::add_repetitions(const std::vector<RepetitionRecord>& rows) {
  if (rows.empty()) return;
  db_.in_transaction([&] {
    forget_repetition(db_, rows.front());
    for (const RepetitionRecord& r : rows) {
      const std::int64_t id = store_repetition_row(db_, r);
      if (r.fio) store_metrics(db_, id, *r.fio);
      if (r.counters) store_path_counters(db_, id, *r.counters);
      store_devices(db_, id, r.devices);
      store_deltas(db_, "zfs_iostats", id, r.zfs_iostats);
      store_deltas(db_, "arcstats", id, r.arcstats);
    }
  });
}

std::set<std::pair<std::string, unsigned>> ResultStore::finished_repetitions() const {
  std::set<std::pair<std::string, unsigned>> done;
  sqlite::Statement st = db_.prepare(
      "SELECT c.name, r.repetition FROM repetitions r JOIN cells c ON c.id = r.cell_id"
      " GROUP BY r.cell_id, r.repetition HAVING min(r.status = 'ok') = 1");
  while (st.step()) done.insert({st.text(0), static_cast<unsigned>(st.integer(1))});
  return done;
}

std::set<std::string> ResultStore::crashed_cells() const {
  std::set<std::string> cells;
  sqlite::Statement st = db_.prepare(
      "SELECT DISTINCT c.name FROM repetitions r JOIN cells c ON c.id = r.cell_id"
      " WHERE r.status = 'crash'");
  while (st.step()) cells.insert(st.text(0));
  return cells;
}

std::vector<RepetitionRecord> ResultStore::stored_repetitions() const {
  std::vector<RepetitionRecord> out;
  sqlite::Statement st = db_.prepare(
      "SELECT c.name, r.repetition, r.position, r.status, r.message, r.started,"
      " r.finished, r.fio_json, r.counters_file, r.elapsed_ms, r.host FROM repetitions r"
      " JOIN cells c ON c.id = r.cell_id ORDER BY r.position, r.id");
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
    r.host = st.text(10);
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
  sqlite::Statement st = db_.prepare("SELECT seed FROM runs WHERE id = 1");
  if (st.step()) return static_cast<std::uint64_t>(st.integer(0));
  return std::nullopt;
}

RepetitionRecord starting_repetition(const Cell& cell, unsigned repetition, unsigned position) {
  RepetitionRecord rec;
  rec.cell = cell.name();
  rec.repetition = repetition;
  rec.position = position;
  rec.started = utc_timestamp();
  return rec;
}

std::string raw_files_base(const Cell& cell, unsigned repetition) {
  return "raw/" + cell.name() + "/rep" + std::to_string(repetition);
}

}  // namespace diobench
