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
  double clat_mean_ns = 0;
  double lat_mean_ns = 0;  // submission + completion
  bool measured() const { return total_ios > 0; }
  double percentile_ns(double p) const;  // NaN when absent
};

struct FioJobResult {
  std::string name;
  // The fio server that ran the job, as fio names it ("HOST,PORT"), in a
  // client/server run (fio --client); empty when fio ran the job itself.
  std::string host;
  int error = 0;  // fio's per-job error (an errno)
  DirectionResult read;
  DirectionResult write;
};

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
