// What one fio run measured, read from its --output-format=json(+) file.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace diobench {

struct DirectionResult {
  std::uint64_t io_bytes = 0;
  std::uint64_t total_ios = 0;
  double bw_bytes = 0;  // bytes per second
  double iops = 0;
  std::uint64_t runtime_ms = 0;
  // Completion latency percentiles in ns, keyed by percentile (e.g. 99.0),
  // as fio computed them from its histogram.
  std::map<double, double> clat_percentiles_ns;
  // json+ only: fio's completion latency histogram, each bucket's value
  // (ns) and its completions. fio 3.33 writes no percentiles for the
  // "All clients" sum; its hosts' buckets, added, give them
  // (percentiles_from_bins).
  std::map<std::uint64_t, std::uint64_t> clat_bins;
  double clat_mean_ns = 0;
  double lat_mean_ns = 0;  // submission + completion
  bool measured() const { return total_ios > 0; }
  double percentile_ns(double p) const;  // NaN when absent
};

// Percentiles `at` (e.g. 99.0) of a latency histogram as fio computes
// them from its own (stat.c, calc_clat_percentiles): the first bucket at
// which the completions counted so far reach p% of all of them.
std::map<double, double> percentiles_from_bins(const std::map<std::uint64_t, std::uint64_t>& bins,
                                               const std::vector<double>& at);

struct FioJobResult {
  std::string name;
  // The fio server that ran the job, as fio names it ("HOST,PORT"), in a
  // client/server run (fio --client); empty when fio ran the job itself.
  std::string host;
  int error = 0;  // fio's per-job error (an errno)
  DirectionResult read;
  DirectionResult write;
};

// fio as a client names the sum of every server's jobs this way (client.c,
// fio 3.33 and 3.39); no host name can be it.
inline constexpr const char* kFioAllClients = "All clients";

struct FioResult {
  std::string fio_version;
  std::vector<FioJobResult> jobs;  // in a client/server run: every host's jobs
  // A client/server run's "All clients" sums, kept apart from the hosts'
  // own jobs (fio adds them when more than one host reported).
  std::vector<FioJobResult> all_clients;
  int first_error() const;    // 0 when every job succeeded
  bool from_servers() const;  // fio ran as a client of fio servers
  // The servers that reported jobs, in the order fio printed them. A
  // server that was lost during the run (fio says "client: host=H
  // disconnected") has no jobs and is not among them.
  std::vector<std::string> hosts() const;
};

class FioResultError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses fio's JSON output, from a local run ("jobs") or from fio as a
// client of servers ("client_stats", each job with its hostname and port).
// fio may print text (warnings) before the JSON object; that prefix is
// skipped. Throws FioResultError naming `origin`
// when there is no JSON, it is truncated, or it lacks the fields we need.
FioResult parse_fio_json(const std::string& text, const std::string& origin);
FioResult read_fio_json(const std::string& path);

}  // namespace diobench
