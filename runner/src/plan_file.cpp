#include "diobench/runner/plan_file.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "diobench/json_number.hpp"

namespace diobench {

namespace {

PlanFile plan_from_json(const nlohmann::json& j) {
  PlanFile p;
  p.backend = j.at("backend");
  p.scratch_dir = j.at("scratch_dir");
  p.dataset = j.value("dataset", "");
  p.filters = j.at("filters").get<std::vector<std::string>>();
  p.repetitions = json_whole<unsigned>(j, "repetitions");
  p.seed = json_whole<std::uint64_t>(j, "seed");
  p.bench = j.value("bench", "none");
  p.arc_drop = j.value("arc_drop", "none");
  p.work_dataset = j.value("work_dataset", p.dataset);
  if (j.contains("hosts")) p.hosts = j.at("hosts").get<std::vector<std::string>>();
  p.ssh = j.value("ssh", "");
  if (j.contains("until_decided")) {
    const nlohmann::json& d = j.at("until_decided");
    p.until_decided = PlanFile::Decision{
        d.at("budget_s"), json_whole<unsigned>(d, "max_repetitions"), d.at("threshold")};
  }
  return p;
}

}  // namespace

PlanFile parse_plan(const std::string& text, const std::string& origin) {
  try {
    return plan_from_json(nlohmann::json::parse(text));
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(origin + " is damaged (" + e.what() +
                                "); the run cannot be resumed from it");
  }
}

PlanFile read_plan(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument(file + " not found: not a diobench run directory");
  std::stringstream text;
  text << in.rdbuf();
  return parse_plan(text.str(), file);
}

}  // namespace diobench
