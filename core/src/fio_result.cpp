#include "diobench/fio_result.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diobench/json_number.hpp"

namespace diobench {

namespace {

// A key of clat_ns.percentile: fio writes them as "99.000000".
double percentile_key(const std::string& key, const nlohmann::json& value) {
  char* end = nullptr;
  const double p = key.empty() ? -1 : std::strtod(key.c_str(), &end);
  if (key.empty() || *end != '\0' || !(p >= 0 && p <= 100)) {
    throw nlohmann::json::type_error::create(
        302, "percentile key '" + key + "' is not a number from 0 to 100", &value);
  }
  return p;
}

DirectionResult parse_direction(const nlohmann::json& j) {
  DirectionResult d;
  d.io_bytes = json_whole<std::uint64_t>(j, "io_bytes");
  d.total_ios = json_whole<std::uint64_t>(j, "total_ios");
  d.bw_bytes = j.at("bw_bytes").get<double>();
  d.iops = j.at("iops").get<double>();
  d.runtime_ms = json_whole<std::uint64_t>(j, "runtime");
  const nlohmann::json& clat = j.at("clat_ns");
  d.clat_mean_ns = clat.at("mean").get<double>();
  d.lat_mean_ns = j.at("lat_ns").at("mean").get<double>();
  if (clat.contains("percentile")) {
    for (const auto& [key, value] : clat.at("percentile").items()) {
      d.clat_percentiles_ns[percentile_key(key, value)] = value.get<double>();
    }
  }
  if (clat.contains("bins") && clat.at("bins").is_object()) {  // json+
    for (const auto& [key, value] : clat.at("bins").items()) {
      std::uint64_t ns = 0;
      const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), ns);
      if (ec != std::errc() || end != key.data() + key.size() || !value.is_number_unsigned()) {
        throw nlohmann::json::type_error::create(
            302, "clat_ns bin '" + key + "' is not a latency (ns) with a count", &value);
      }
      d.clat_bins[ns] += value.get<std::uint64_t>();
    }
  }
  return d;
}

FioJobResult parse_job(const nlohmann::json& job) {
  FioJobResult r;
  r.name = job.at("jobname").get<std::string>();
  r.error = json_whole_or<int>(job, "error", 0);
  r.read = parse_direction(job.at("read"));
  r.write = parse_direction(job.at("write"));
  return r;
}

void parse_client_stats(const nlohmann::json& stats, FioResult& result) {
  for (const nlohmann::json& job : stats) {
    FioJobResult r = parse_job(job);
    if (r.name == kFioAllClients) {
      result.all_clients.push_back(std::move(r));
      continue;
    }
    r.host = job.at("hostname").get<std::string>() + "," +
             std::to_string(json_whole<unsigned>(job, "port"));
    result.jobs.push_back(std::move(r));
  }
}

}  // namespace

bool FioResult::from_servers() const { return !jobs.empty() && !jobs.front().host.empty(); }

std::vector<std::string> FioResult::hosts() const {
  std::vector<std::string> seen;
  for (const FioJobResult& job : jobs) {
    if (!job.host.empty() && std::find(seen.begin(), seen.end(), job.host) == seen.end()) {
      seen.push_back(job.host);
    }
  }
  return seen;
}

std::map<double, double> percentiles_from_bins(const std::map<std::uint64_t, std::uint64_t>& bins,
                                               const std::vector<double>& at) {
  long double total = 0;
  for (const auto& [ns, count] : bins) total += count;
  std::map<double, double> out;
  if (total == 0) return out;
  std::vector<double> wanted = at;
  std::sort(wanted.begin(), wanted.end());
  std::size_t j = 0;
  long double sum = 0;
  for (const auto& [ns, count] : bins) {
    sum += count;
    while (j < wanted.size() && sum >= static_cast<long double>(wanted[j]) / 100.0L * total) {
      out[wanted[j++]] = static_cast<double>(ns);
    }
  }
  return out;
}

double DirectionResult::percentile_ns(double p) const {
  for (const auto& [key, value] : clat_percentiles_ns) {
    if (std::fabs(key - p) < 1e-6) return value;
  }
  return std::nan("");
}

int FioResult::first_error() const {
  for (const FioJobResult& job : jobs) {
    if (job.error) return job.error;
  }
  return 0;
}

FioResult parse_fio_json(const std::string& text, const std::string& origin) {
  const std::size_t start = text.find('{');
  if (start == std::string::npos) {
    throw FioResultError(origin + ": no JSON object in fio's output");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(start), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw FioResultError(origin + ": malformed or truncated fio JSON (byte " +
                         std::to_string(e.byte + start) + ")");
  } catch (const nlohmann::json::exception& e) {  // e.g. a number beyond a double's range
    throw FioResultError(origin + ": malformed fio JSON (" + e.what() + ")");
  }
  FioResult result;
  try {
    result.fio_version = j.value("fio version", std::string());
    if (j.contains("client_stats")) {
      parse_client_stats(j.at("client_stats"), result);
    } else {
      for (const nlohmann::json& job : j.at("jobs")) result.jobs.push_back(parse_job(job));
    }
  } catch (const nlohmann::json::exception& e) {
    throw FioResultError(origin + ": fio JSON lacks an expected field or has a bad value (" +
                         e.what() + ")");
  }
  if (result.jobs.empty()) throw FioResultError(origin + ": fio JSON has no jobs");
  return result;
}

FioResult read_fio_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw FioResultError(path + ": cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_fio_json(buffer.str(), path);
}

}  // namespace diobench
