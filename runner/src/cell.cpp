#include "diobench/runner/cell.hpp"

#include <nlohmann/json.hpp>

#include "diobench/kernel.hpp"

namespace diobench {

bool Workload::reads() const { return rw_reads(rw); }

bool Workload::writes() const { return rw_writes(rw); }

bool Cell::loop_takes_direct_path() const {
  return loop_takes_direct_path(running_loop_buffered());
}

bool Cell::loop_takes_direct_path(LoopBuffered loop_buffered) const {
  if (target != TargetKind::Loop) return false;
  PolicyConfig config;
  config.policy = policy;
  config.semantics = semantics;
  config.dio_strict = dio_strict;
  config.recordsize = recordsize;
  config.loop_buffered = loop_buffered;
  return loop_workload_takes_direct_path(config, workload.rw, workload.bs,
                                         loop_dio.value_or(false));
}

std::string Cell::target_label() const {
  if (target == TargetKind::File) return "file";
  return loop_dio.value_or(false) ? "loop dio on" : "loop dio off";
}

std::string Cell::name() const {
  std::string t = target == TargetKind::File ? "file"
                  : loop_dio.value_or(false) ? "loop-dio-on"
                                             : "loop-dio-off";
  std::string n = workload.name + "." + std::string(to_string(policy)) + "." + t +
                  (app_direct ? ".odirect" : ".buffered") + "." + submit;
  if (semantics != Semantics::V2_3) n += ".zfs" + semantics_label(semantics, dio_strict);
  if (recordsize != 128 * 1024) n += ".rs" + std::to_string(recordsize / 1024) + "k";
  if (backend != "emulated") n = backend + "." + n;
  return n;
}

nlohmann::json Cell::axes() const {
  return nlohmann::json{
      {"backend", backend},
      {"policy", to_string(policy)},
      {"target", to_string(target)},
      {"loop_dio", loop_dio ? (*loop_dio ? "on" : "off") : "n/a"},
      {"app_direct", app_direct ? "1" : "0"},
      {"submit", submit},
      {"semantics", semantics_label(semantics, dio_strict)},
      {"recordsize", std::to_string(recordsize)},
      {"workload", workload.name},
      {"rw", workload.rw},
      {"bs", workload.bs},
      {"iodepth", std::to_string(workload.iodepth)},
      {"numjobs", std::to_string(workload.numjobs)},
      {"rwmixread", std::to_string(workload.rwmixread)},
  };
}

const char* const* axis_names() {
  static const char* const names[] = {"backend",    "policy",    "target",    "loop_dio",
                                      "app_direct", "submit",    "semantics", "recordsize",
                                      "workload",   "rw",        "bs",        "iodepth",
                                      "numjobs",    "rwmixread", nullptr};
  return names;
}

}  // namespace diobench
