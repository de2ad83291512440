#include "diobench/fio_result.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace diobench {

namespace {

DirectionResult parse_direction(const nlohmann::json& j) {
  DirectionResult d;
  d.io_bytes = j.at("io_bytes").get<std::uint64_t>();
  d.total_ios = j.at("total_ios").get<std::uint64_t>();
  d.bw_bytes = j.at("bw_bytes").get<double>();
  d.iops = j.at("iops").get<double>();
  d.runtime_ms = j.at("runtime").get<std::uint64_t>();
  const nlohmann::json& clat = j.at("clat_ns");
  d.clat_mean_ns = clat.at("mean").get<double>();
  d.lat_mean_ns = j.at("lat_ns").at("mean").get<double>();
  if (clat.contains("percentile")) {
    for (const auto& [key, value] : clat.at("percentile").items()) {
      d.clat_percentiles_ns[std::stod(key)] = value.get<double>();
    }
  }
  return d;
}

}  // namespace

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
    j = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(start),
                              text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw FioResultError(origin + ": malformed or truncated fio JSON (byte " +
                         std::to_string(e.byte + start) + ")");
  }
  FioResult result;
  try {
    result.fio_version = j.value("fio version", std::string());
    for (const nlohmann::json& job : j.at("jobs")) {
      FioJobResult r;
      r.name = job.at("jobname").get<std::string>();
      r.error = job.value("error", 0);
      r.read = parse_direction(job.at("read"));
      r.write = parse_direction(job.at("write"));
      result.jobs.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    throw FioResultError(origin + ": fio JSON lacks an expected field (" +
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
