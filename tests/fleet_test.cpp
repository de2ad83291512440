// The fleet run's pieces that need no hosts: host specs, the job written
// out for the servers, fio's words about a lost host, each row's view of
// fio's client-mode result, the plan's hosts, the profile's [hosts], and
// results.db of an older diobench gaining the host column.
#include "diobench/runner/fleet.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "diobench/runner/fleet_run.hpp"
#include "diobench/runner/plan_file.hpp"
#include "diobench/runner/profile.hpp"
#include "diobench/runner/result_store.hpp"
#include "diobench/sqlite.hpp"

namespace fs = std::filesystem;
using namespace diobench;

namespace {

std::string invalid_host(const std::string& text) {
  try {
    parse_host_spec(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(Fleet, HostSpecs) {
  EXPECT_EQ(parse_host_spec("node-1.example").label(), "node-1.example:8765");
  EXPECT_EQ(parse_host_spec("10.1.2.3:9000").fio_name(), "10.1.2.3,9000");
  for (const char* bad : {"", "a b", "-a", "a-", "a..b", "a.", "h:0", "h:65536", "h:", "h:x", "::1",
                          "h:1:2", "a_b", "h;rm"}) {
    EXPECT_NE(invalid_host(bad).find(std::string("'") + bad + "'"), std::string::npos) << bad;
  }
  EXPECT_THROW(parse_host_specs({"a", "b:8765", "a:8765"}), std::invalid_argument);
  // Two servers of one host would share its scratch file: refused too.
  EXPECT_THROW(parse_host_specs({"a", "a:9000"}), std::invalid_argument);
  EXPECT_EQ(parse_host_specs({"a", "b:9000"}).size(), 2u);
}

// IPv6: [ADDR] or [ADDR]:PORT, the address as inet_pton reads it and
// named in inet_ntop's one form; fio's client spells it ip6:ADDR,PORT and
// its JSON names it ADDR (the text after ip6:) with the port.
TEST(Fleet, IPv6HostSpecs) {
  const HostSpec h = parse_host_spec("[FD00:DB:0:1::0002]:9000");
  EXPECT_EQ(h.name, "fd00:db:0:1::2");  // what ssh is given (after --)
  EXPECT_EQ(h.port, 9000u);
  EXPECT_EQ(h.label(), "[fd00:db:0:1::2]:9000");
  EXPECT_EQ(h.fio_name(), "ip6:fd00:db:0:1::2,9000");
  EXPECT_EQ(h.fio_result_name(), "fd00:db:0:1::2,9000");
  const HostSpec local = parse_host_spec("[::1]");
  EXPECT_EQ(local.label(), "[::1]:8765");
  EXPECT_EQ(local.fio_name(), "ip6:::1,8765");
  // No IPv4 host is taken for IPv6, nor spelled with ip6:.
  EXPECT_EQ(parse_host_spec("10.1.2.3").fio_name(), "10.1.2.3,8765");
  EXPECT_EQ(parse_host_spec("10.1.2.3").label(), "10.1.2.3:8765");
  for (const char* bad :
       {"[]", "[", "[::1", "::1]", "[::1]:", "[::1]:0", "[::1]:65536", "[::1]:x", "[::1]9000",
        "[::1]]", "[[::1]]", "[::1]:8765:1", "fd00::1", "fd00::1:8765"}) {
    EXPECT_NE(invalid_host(bad).find(std::string("'") + bad + "'"), std::string::npos) << bad;
  }
  // Not an IPv6 address for inet_pton (a zone id, a bad group, nine
  // groups, IPv4, a name, a space), or an IPv4-mapped one.
  for (const char* bad : {"[fe80::1%eth0]", "[fe80::1%1]:8765", "[fd00::g]", "[1:2:3:4:5:6:7:8:9]",
                          "[10.1.2.3]", "[node1]", "[ ::1]", "[::ffff:10.1.2.3]"}) {
    EXPECT_NE(invalid_host(bad).find(std::string("'") + bad + "'"), std::string::npos) << bad;
  }
  EXPECT_NE(invalid_host("[fe80::1%eth0]").find("zone id"), std::string::npos);
  EXPECT_NE(invalid_host("fd00::1").find("[ADDR]:PORT"), std::string::npos);
  // One host, however it is written: one name, so given twice is refused.
  EXPECT_THROW(parse_host_specs({"[fd00::2]", "[FD00:0::0:2]:9000"}), std::invalid_argument);
  const auto two = parse_host_specs({"[fd00::2]", "[fd00::3]:9000", "10.0.0.2"});
  ASSERT_EQ(two.size(), 3u);
  EXPECT_TRUE(two[0].ipv6() && two[1].ipv6() && !two[2].ipv6());
}

TEST(Fleet, QuotesForTheRemoteShell) {
  EXPECT_EQ(shell_quote("plain"), "'plain'");
  EXPECT_EQ(shell_quote("it's $HOME"), "'it'\\''s $HOME'");
  EXPECT_THROW(HostShell::split_command("   "), std::invalid_argument);
  EXPECT_EQ(HostShell::split_command(" ssh  -F /x "),
            (std::vector<std::string>{"ssh", "-F", "/x"}));
}

TEST(Fleet, TheJobIsWrittenOutForTheServers) {
  const std::string job = "[global]\nbs=${DIOBENCH_BS}\nrw=${DIOBENCH_RW}\nx=${OTHER}\n${";
  EXPECT_EQ(render_job(job, {{"DIOBENCH_BS", "4k"}, {"DIOBENCH_RW", "randread"}}),
            "[global]\nbs=4k\nrw=randread\nx=${OTHER}\n${");
}

TEST(Fleet, FiosWordsAboutAHost) {
  const std::string log =
      "client: host=10.0.0.2 disconnected\nclient: host=10.0.0.21 disconnected\nother\n";
  EXPECT_EQ(fio_host_message(log, "10.0.0.2"), "client: host=10.0.0.2 disconnected");
  EXPECT_EQ(fio_host_message(log, "10.0.0.3"), "");
  const std::string six =
      "fio: failed to connect to fd00:db::2:8765\nclient: host=fd00:db::21 disconnected\n";
  EXPECT_EQ(fio_host_message(six, "fd00:db::2"), "fio: failed to connect to fd00:db::2:8765");
  EXPECT_EQ(fio_host_message(six, "db::2"), "");  // a part of another address
  EXPECT_EQ(fio_host_message(six, "fd00:db::21"), "client: host=fd00:db::21 disconnected");
}

TEST(Fleet, EachRowsViewOfFiosResult) {
  const FioResult two =
      read_fio_json(std::string(DIOBENCH_FIXTURES) + "/fio-client/two-hosts.json");
  const auto a = host_view(two, "10.231.1.2,8765", 2);
  const auto b = host_view(two, "10.231.2.2,8765", 2);
  const auto sum = host_view(two, kAllHosts, 2);
  ASSERT_TRUE(a && b && sum);
  EXPECT_EQ(sum->jobs.front().read.io_bytes,
            a->jobs.front().read.io_bytes + b->jobs.front().read.io_bytes);
  EXPECT_FALSE(host_view(two, "10.231.3.2,8765", 2));
  const FioResult lost =
      read_fio_json(std::string(DIOBENCH_FIXTURES) + "/fio-client/one-host-lost.json");
  EXPECT_FALSE(host_view(lost, "10.231.1.2,8765", 2));  // the killed one
  EXPECT_FALSE(host_view(lost, kAllHosts, 2));          // no sum over fewer hosts
  // One host: fio sums nothing; its own result is the sum.
  EXPECT_TRUE(host_view(lost, kAllHosts, 1));
}

// fio 3.33 as a client of two IPv6 namespace hosts (tests/fleet/namespace-
// hosts --ipv6; --client=ip6:ADDR,PORT each, a 1-second psync job): fio
// names each host by the text after ip6:, as given, and its port; a row
// finds its host by the spec's fio_result_name, not by what fio was given.
TEST(Fleet, IPv6HostsInFiosResult) {
  const FioResult r =
      read_fio_json(std::string(DIOBENCH_FIXTURES) + "/fio-client/two-ipv6-hosts.json");
  const HostSpec a = parse_host_spec("[fd00:db:204:1::2]");
  const HostSpec b = parse_host_spec("[fd00:db:204:2:0::2]:8765");
  EXPECT_EQ(r.hosts(), (std::vector<std::string>{b.fio_result_name(), a.fio_result_name()}));
  const auto va = host_view(r, a.fio_result_name(), 2);
  const auto vb = host_view(r, b.fio_result_name(), 2);
  const auto sum = host_view(r, kAllHosts, 2);
  ASSERT_TRUE(va && vb && sum);
  EXPECT_GT(va->jobs.front().read.io_bytes, 0u);
  EXPECT_EQ(sum->jobs.front().read.io_bytes,
            va->jobs.front().read.io_bytes + vb->jobs.front().read.io_bytes);
  EXPECT_FALSE(host_view(r, a.fio_name(), 2));  // ip6:... is fio's input, not its output
}

TEST(Fleet, ThePlanKeepsTheHosts) {
  const PlanFile p = parse_plan(
      R"({"backend":"emulated","scratch_dir":"/s","filters":[],"repetitions":1,"seed":3,)"
      R"("hosts":["a","b:9000"],"ssh":"ssh -F /c"})",
      "plan.json");
  EXPECT_EQ(p.hosts, (std::vector<std::string>{"a", "b:9000"}));
  EXPECT_EQ(p.ssh, "ssh -F /c");
  const PlanFile local = parse_plan(
      R"({"backend":"emulated","scratch_dir":"/s","filters":[],"repetitions":1,"seed":3})", "p");
  EXPECT_TRUE(local.hosts.empty());
}

TEST(Fleet, TheProfilesHosts) {
  const fs::path d = temp_dir("diobench-fleet-profile");
  std::ofstream(d / "job.fio") << "[cell]\n";
  const std::string body = "[profile]\n[workload.w]\nrw = read\nbs = 4k\n";
  const Profile p =
      parse_profile("[hosts]\nlist = a b:9000, c\n" + body, (d / "p.ini").string(), "emulated");
  EXPECT_EQ(p.hosts, (std::vector<std::string>{"a", "b:9000", "c"}));
  const Profile six = parse_profile("[hosts]\nlist = a, [fd00::2]:9000 [::1]\n" + body,
                                    (d / "p.ini").string(), "emulated");
  EXPECT_EQ(six.hosts, (std::vector<std::string>{"a", "[fd00::2]:9000", "[::1]"}));
  try {
    parse_profile("[hosts]\nlist = a b:0\n" + body, (d / "p.ini").string(), "emulated");
    ADD_FAILURE() << "b:0 accepted";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("p.ini:2: hosts.list: invalid host 'b:0'"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(d);
}

// results.db as diobench wrote it before fleets (no host column, one row
// per cell and repetition): opened by the store, its rows are the local
// host's and a fleet repetition's rows fit beside them.
TEST(Fleet, AnOlderResultsIndexGainsTheHostColumn) {
  const fs::path d = temp_dir("diobench-fleet-db");
  const std::string db = (d / "results.db").string();
  {
    sqlite::Database old(db, sqlite::Database::Access::Create);
    old.exec(
        "CREATE TABLE cells(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, backend TEXT,"
        " policy TEXT, target TEXT, loop_dio TEXT, app_direct INTEGER, submit TEXT,"
        " semantics TEXT, recordsize INTEGER, workload TEXT, rw TEXT, bs TEXT, iodepth INTEGER,"
        " numjobs INTEGER, rwmixread INTEGER);"
        "CREATE TABLE repetitions(id INTEGER PRIMARY KEY, cell_id INTEGER NOT NULL REFERENCES"
        " cells(id), repetition INTEGER NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL,"
        " message TEXT, started TEXT, finished TEXT, fio_json TEXT, counters_file TEXT,"
        " elapsed_ms REAL, cache_drop_ms REAL, fio_ms REAL, split_check TEXT,"
        " UNIQUE(cell_id, repetition));"
        "INSERT INTO cells(id, name) VALUES(1, 'c');"
        "INSERT INTO repetitions(cell_id, repetition, position, status, elapsed_ms)"
        " VALUES(1, 1, 1, 'ok', 5), (1, 2, 2, 'failed', 6);");
  }
  ResultStore store(db);
  const auto rows = store.stored_repetitions();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].host, "");
  EXPECT_EQ(rows[0].elapsed_ms, 5);
  EXPECT_EQ(store.finished_repetitions(), (std::set<std::pair<std::string, unsigned>>{{"c", 1}}));
  // Repetition 2 again on two hosts: it replaces the old row; finished only
  // when every host's row is ok.
  RepetitionRecord a, b, sum;
  a.cell = b.cell = sum.cell = "c";
  a.repetition = b.repetition = sum.repetition = 2;
  a.host = "h1:8765", b.host = "h2:8765", sum.host = kAllHosts;
  a.status = "ok", b.status = "failed", sum.status = "failed";
  store.add_repetitions({a, b, sum});
  EXPECT_EQ(store.stored_repetitions().size(), 4u);
  EXPECT_EQ(store.finished_repetitions().size(), 1u);
  b.status = sum.status = "ok";
  store.add_repetitions({a, b, sum});
  EXPECT_EQ(store.stored_repetitions().size(), 4u);
  EXPECT_EQ(store.finished_repetitions().size(), 2u);
  fs::remove_all(d);
}

// fio 3.33 as a client with --output-format=json+ (two namespace hosts,
// the runner's job through our engine, `always` on a file): each host has
// its histogram and percentiles, the "All clients" sum neither.
TEST(Fleet, TheSumsPercentilesFromTheHostsHistograms) {
  const FioResult r =
      read_fio_json(std::string(DIOBENCH_FIXTURES) + "/fio-client/two-hosts-json-plus.json");
  ASSERT_EQ(r.jobs.size(), 2u);
  ASSERT_EQ(r.all_clients.size(), 1u);
  EXPECT_TRUE(r.all_clients[0].read.clat_percentiles_ns.empty());
  for (const FioJobResult& host : r.jobs) {  // fio's own percentiles, from its own buckets
    std::vector<double> at;
    for (const auto& [p, ns] : host.read.clat_percentiles_ns) at.push_back(p);
    ASSERT_FALSE(host.read.clat_bins.empty());
    EXPECT_EQ(percentiles_from_bins(host.read.clat_bins, at), host.read.clat_percentiles_ns);
  }
  const auto sum = host_view(r, kAllHosts, 2);
  ASSERT_TRUE(sum);
  const double p99 = sum->jobs.front().read.percentile_ns(99.0);
  const double a = r.jobs[0].read.percentile_ns(99.0), b = r.jobs[1].read.percentile_ns(99.0);
  EXPECT_GE(p99, std::min(a, b));
  EXPECT_LE(p99, std::max(a, b));
}
