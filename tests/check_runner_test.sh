#!/bin/bash
# check_runner_test.sh: vm/check-runner's ARC checks on results.db files
# built here (no guest needed). A run shaped like the one measured in the
# qemu lane (90 repetitions, 200 MiB into the ARC per repetition, 0.62 MiB
# more left after each flush: 56 MiB at the end) passes; a run whose flushes
# each keep 3.9 MiB of 5 MiB (under arc-flushed's 4 MiB allowance every time,
# 351 MiB at the end) fails arc-residue, and nothing else.
#
#   tests/check_runner_test.sh vm/check-runner
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 CHECK-RUNNER" >&2; exit 2; }
check=$1
work=$(mktemp -d /tmp/diobench-check-runner-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
mib=1048576

# make_run DIR REPETITIONS IN_MIB_PER_REP LEFT_KIB_PER_FLUSH: one `ok`
# repetition per position, alternating a direct=always and a direct=disabled
# cell with iostats that pass the path checks; before each flush the ARC
# holds the residue so far plus what this repetition brought in; after it,
# the residue grown by LEFT_KIB_PER_FLUSH.
make_run() {
  local dir=$1 n=$2 in_mib=$3 left_kib=$4 i residue=0 cell before after
  mkdir -p "$dir"
  {
    echo "CREATE TABLE cells(id INTEGER PRIMARY KEY, name TEXT, policy TEXT, target TEXT, loop_dio TEXT,
            recordsize INTEGER, rw TEXT, bs TEXT);"
    echo "CREATE TABLE repetitions(id INTEGER PRIMARY KEY, cell_id INTEGER, repetition INTEGER, position INTEGER,
            status TEXT, message TEXT, split_check TEXT, arc_data_before INTEGER, arc_data_after INTEGER);"
    echo "CREATE TABLE zfs_iostats(repetition_id INTEGER, name TEXT, delta INTEGER);"
    echo "INSERT INTO cells VALUES (1, 'seqread-128k.always.file', 'always', 'file', NULL, 131072, 'read', '128k');"
    echo "INSERT INTO cells VALUES (2, 'seqread-128k.disabled.file', 'disabled', 'file', NULL, 131072, 'read', '128k');"
    echo "BEGIN;"
    for ((i = 1; i <= n; i++)); do
      cell=$((i % 2 + 1))
      before=$((residue + in_mib * mib))
      residue=$((residue + left_kib * 1024))
      after=$residue
      echo "INSERT INTO repetitions VALUES ($i, $cell, $i, $i, 'ok', NULL, 'agrees', $before, $after);"
      [ "$cell" = 1 ] && echo "INSERT INTO zfs_iostats VALUES ($i, 'direct_read_bytes', 8388608);"
    done
    echo "COMMIT;"
  } | sqlite3 "$dir/results.db"
}

# expect NAME WANT-STATUS DIR LINE-PATTERN...: runs check-runner on DIR
expect() {
  local name=$1 want=$2 dir=$3 out rc=0 pattern
  shift 3
  out=$("$check" "$dir" 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, expected $want"; echo "$out"; fail=1; return
  fi
  for pattern in "$@"; do
    if ! grep -Eq -- "$pattern" <<<"$out"; then
      echo "FAIL $name: no line matching '$pattern' in:"; echo "$out"; fail=1; return
    fi
  done
  echo "ok   $name"
}

# The measured shape: 56 MiB left after 90 flushes of 200 MiB each.
make_run "$work/measured" 90 200 637
expect measured-residue-passes 0 "$work/measured" \
  '^  arc-flushed +PASS' \
  '^  arc-residue +PASS  55\.[0-9] MiB left after the last flush of 18000 MiB .*bound 1800\.0 MiB'

# A flush that keeps 3.9 MiB whatever comes in: each flush passes
# arc-flushed's "under 4 MiB" rule, the run as a whole does not.
make_run "$work/growing" 90 20 3994
expect growing-residue-fails 1 "$work/growing" \
  '^  arc-flushed +PASS' \
  '^  arc-residue +FAIL  ARC residue grew: 351\.[0-9] MiB left after the last flush of 1800 MiB .*bound 180\.0 MiB' \
  '^  statuses +PASS' '^  split +PASS' '^  always-direct +PASS' '^  disabled-none +PASS'

# A short run stays under the 16 MiB floor even at 3.9 MiB a flush.
make_run "$work/short" 4 20 3994
expect short-run-under-floor 0 "$work/short" '^  arc-residue +PASS  15\.[0-9] MiB .*bound 16\.0 MiB'

exit $fail
