#!/bin/bash
# The diobench command line: help, version, engine-path, and bad usage
# (exit 2, the offending value named).
# usage: cli_test.sh DIOBENCH ENGINE_SO
set -u
bin=$1 engine=$2
. "$(dirname "$0")/expect.sh"
expect "help" 0 "engine-path" -- "$bin" --help
expect "run help" 0 "--profile" -- "$bin" run --help
expect "restore help" 0 "journal" -- "$bin" restore --help
expect "version" 0 "^diobench [0-9]" -- "$bin" --version
expect "engine-path" 0 "^$(readlink -f "$engine")\$" -- "$bin" engine-path
expect "engine-path names an existing file" 0 "" -- test -f "$("$bin" engine-path)"
expect "no command" 2 "Usage" -- "$bin"
expect "unknown command" 2 "unknown command 'frob'" -- "$bin" frob
expect "unknown option" 2 "unrecognised option '--bogus'" -- "$bin" run --bogus
expect "bad backend" 2 "invalid --backend value 'ext4'" -- "$bin" run --backend ext4
expect "zfs without dataset" 2 "needs --dataset" -- "$bin" run --backend zfs
expect "bad repetitions" 2 "invalid --repetitions value '0'" -- "$bin" run --repetitions 0 --dry-run
expect "bad filter axis" 2 "unknown axis 'colour'" -- "$bin" run --filter colour=red --dry-run
expect "malformed filter" 2 "invalid --filter value 'policy'" -- "$bin" run --filter policy --dry-run
expect "filter leaves nothing" 2 "no cell" -- "$bin" run --filter policy=sometimes --dry-run
expect "unknown profile" 2 "invalid --profile value 'nope'" -- "$bin" run --profile nope --dry-run
expect "json needs dry-run" 2 "--json goes with --dry-run" -- "$bin" run --json
expect "resume of a non-run" 2 "not a diobench run directory" -- "$bin" run --resume /nonexistent-run
damaged=$(mktemp -d /var/tmp/diobench-cli-damaged.XXXXXX)
printf '{"backend": "emul' >"$damaged/plan.json"
: >"$damaged/results.db"
expect "resume of a damaged plan" 2 "plan.json is damaged" -- "$bin" run --resume "$damaged"
rm -rf "$damaged"
expect "restore of a missing run" 2 "not found" -- "$bin" restore /nonexistent-run
expect "restore --runs of a missing directory" 2 "invalid --runs value '/nonexistent-runs' (not found)" -- \
  "$bin" restore --runs /nonexistent-runs
expect "host prepare: bad --app-direct" 2 "invalid --app-direct 'maybe' (expected on or off)" -- \
  "$bin" host prepare --dir /nonexistent-scratch --run r --size 1 --engine /x --rw write --bs 1m --app-direct maybe
expect "bad bench filter" 2 "invalid --bench value '('" -- "$bin" run --bench '(' --dry-run
expect "bench on dry-run" 0 "then the bench drivers 'bs:4096/'" -- "$bin" run --profile smoke --bench bs:4096/ --dry-run
expect "bad arc-drop" 2 "invalid --arc-drop value 'sometimes'" -- "$bin" run --arc-drop sometimes --dry-run
expect "arc-drop help" 0 "opt out" -- "$bin" run --help
expect "arc-drop needs zfs" 2 "--arc-drop goes with --backend zfs" -- "$bin" run --arc-drop export --dry-run
expect "in-place needs zfs" 2 "--in-place goes with --backend zfs" -- "$bin" run --in-place --dry-run
expect "in-place help" 0 "work in --dataset itself" -- "$bin" run --help
expect "run help: until-decided" 0 "--until-decided" -- "$bin" run --help
expect "run help: budget" 0 "--budget" -- "$bin" run --help
expect "run help: max-repetitions" 0 "--max-repetitions" -- "$bin" run --help
expect "bad budget" 2 "invalid --budget value '15 minutes'" -- "$bin" run --until-decided --budget '15 minutes' --dry-run
expect "bad max-repetitions" 2 "invalid --max-repetitions value '0'" -- "$bin" run --until-decided --max-repetitions 0 --dry-run
expect "bad decision threshold" 2 "invalid --threshold value" -- "$bin" run --until-decided --threshold 150 --dry-run
expect "budget needs until-decided" 2 "go with --until-decided" -- "$bin" run --budget 10m --dry-run
expect "until-decided on dry-run" 0 "within a budget of 12:00" -- "$bin" run --until-decided --budget 12m --dry-run
expect "resume keeps its decision" 2 "--resume takes the run's own" -- "$bin" run --resume /nonexistent-run --until-decided
expect "crashed without a run" 2 "not found" -- "$bin" crashed /nonexistent-run --reason x
expect "crashed on a non-run" 2 "not a diobench run directory" -- "$bin" crashed / --reason x
idle_run=$(mktemp -d)
touch "$idle_run/plan.json" "$idle_run/results.db"
expect "crashed with nothing running" 2 "nothing to record" -- "$bin" crashed "$idle_run" --reason x
rm -rf "$idle_run"

# Every shipped profile expands to the cells its comments promise
# (counted by hand: e.g. quick = 5 workloads x 3 policies x 3 targets).
for pc in smoke:18 quick:45 full:432 fallback-cost:27 capacity:132; do
  p=${pc%%:*} want=${pc#*:}
  got=$("$bin" run --profile "$p" --dry-run --json | grep -c '"name":')
  if [ "$got" = "$want" ]; then echo "ok   $p expands to $want cells"
  else echo "FAIL $p expands to $got cells, want $want"; fail=1; fi
done
expect "dry-run summary" 0 "18 cells x 1 repetitions" -- "$bin" run --profile smoke --dry-run

# A malformed profile: exit 2, file, line and key named.
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
printf '[profile]\nrepetitions = 2\n[matrix]\npolicy = always never\n[workload.r]\nrw = read\n' >"$tmp/bad.ini"
touch "$tmp/job.fio"
expect "malformed profile" 2 "$tmp/bad.ini:4: matrix.policy: invalid value 'never'" -- "$bin" run --profile "$tmp/bad.ini" --dry-run

# report: bad input is exit 2 with the reason, never a crash.
expect "report of a missing run" 2 "run directory '/nonexistent-run' not found" -- "$bin" report /nonexistent-run
mkdir "$tmp/notarun"
expect "report of a non-run" 2 "no results.db" -- "$bin" report "$tmp/notarun"
echo "garbage" >"$tmp/notarun/results.db"
expect "report of a corrupt index" 2 "results.db" -- "$bin" report "$tmp/notarun"
expect "report without a run" 2 "needs a run directory" -- "$bin" report
expect "report threshold" 2 "invalid --threshold value" -- "$bin" report "$tmp/notarun" --threshold 0

# compare: bad input is exit 2.
expect "compare needs two runs" 2 "needs two run directories" -- "$bin" compare /nonexistent-run
expect "compare of a missing run" 2 "not found" -- "$bin" compare /nonexistent-a /nonexistent-b
expect "compare format" 2 "invalid --format value 'xml'" -- "$bin" compare a b --format xml
expect "compare side by side: no CSV" 2 "invalid --format value 'csv' with more than two runs" -- "$bin" compare a b c --format csv
expect "compare side by side: a missing run" 2 "not found" -- "$bin" compare /nonexistent-a /nonexistent-b /nonexistent-c
# compare --host: two hosts of one fleet run.
# A local run (a copy: SQLite may leave files beside the index it reads).
copy=$(mktemp -d /var/tmp/diobench-cli-run.XXXXXX)
cp -r "$(dirname "$0")/fixtures/run-randread" "$copy/run-randread"
local_run=$copy/run-randread
expect "compare --host once" 2 "--host given once" -- "$bin" compare "$local_run" --host a
expect "compare --host three times" 2 "--host given 3 times" -- "$bin" compare "$local_run" --host a --host b --host c
expect "compare --host of two runs" 2 "give one run directory" -- "$bin" compare a b --host x --host y
expect "compare --host side by side" 2 "give one run directory" -- "$bin" compare a --side-by-side --host x --host y
expect "compare --host of a missing run" 2 "run directory '/nonexistent-a' not found" -- "$bin" compare /nonexistent-a --host x --host y
expect "compare --host of a local run" 2 "host 'x': .*run-randread is not a fleet run" -- "$bin" compare "$local_run" --host x --host y
expect "compare help names --host" 0 "compare RUNDIR --host A --host B" -- "$bin" compare --help
rm -rf "$copy"
exit $fail
