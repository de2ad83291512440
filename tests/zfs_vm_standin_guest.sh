#!/bin/bash
# A stand-in for qemu-system-x86_64, first on PATH in the lane's tests of
# `zfs-vm run` and `review` with ZFSVM_TEST_STANDIN=1
# (tests/zfs_vm_resume_test.sh). No kernel boots: it does to the shared
# directory what a guest's vm/guest/run.sh does, with no pool and no
# diobench: the run directory (a plan.json of dataset zfsvmrun/bench and a
# results.db) unless the job resumes one, then diobench.rc, diobench.log
# and guest.json, and the console's ZFSVM-EXIT line. Each guest appends
# its job (resumed or not, diobench's arguments) to RUNDIR/standin-guests.txt.
#
# STANDIN_SLICED=N: a run's first N guests end on their slice (diobench's
# status 124), later ones end the run (0); default 0.
# STANDIN_HANG=NAME: a guest of the run directory NAME, once that exists
# and the host has its boot line in the console log, writes its pool
# disk's path and then its pid to the shared directory (standin.disk,
# standin.pid) and waits for the test to kill it (what a lost machine
# looks like).
set -eu
if [ "${1:-}" = --version ]; then
  echo "QEMU emulator version 0.0 (a stand-in: tests/zfs_vm_standin_guest.sh)"
  exit 0
fi
share="" disk=""
for a in "$@"; do
  case $a in
    local,path=*,mount_tag=results,*) share=${a#local,path=}; share=${share%%,*} ;;
    file=*,if=virtio,*) disk=${a#file=}; disk=${disk%%,*} ;;
  esac
done
[ -n "$share" ] && [ -f "$share/zfsvm-job.sh" ] || { echo "stand-in guest: no job in the results share: $*"; exit 1; }
# shellcheck source=/dev/null
. "$share/zfsvm-job.sh"
name=$(basename "$ZFSVM_RUN_DIR")
run=$share/$name
echo "zfsvm-guest: [1.00s] ZFSVM-BOOTED kernel standin"
if [ "$ZFSVM_RESUME" = 0 ]; then
  mkdir "$run"
  printf '{"dataset": "zfsvmrun/bench"}\n' >"$run/plan.json"
  echo "a stand-in's results" >"$run/results.db"
fi
[ -f "$run/plan.json" ] || { echo "stand-in guest: no run directory $run to resume"; exit 1; }
echo "resume=$ZFSVM_RESUME args=${ZFSVM_ARGS[*]}" >>"$run/standin-guests.txt"
if [ "${STANDIN_HANG:-}" = "$name" ]; then
  # once the host has the boot line in the console log (a machine under
  # load may take a while), so the test's kill finds it there
  for _ in $(seq 300); do grep -q ZFSVM-BOOTED "$share/console.log" 2>/dev/null && break; sleep 0.1; done
  echo "$disk" >"$share/standin.disk"
  echo $$ >"$share/standin.pid"
  exec sleep 300
fi
rc=0
[ "$(wc -l <"$run/standin-guests.txt")" -gt "${STANDIN_SLICED:-0}" ] || rc=124
echo "$rc" >"$share/diobench.rc"
echo "stand-in diobench exited $rc" >"$share/diobench.log"
echo '{"standin": true}' >"$share/guest.json"
echo "zfsvm-guest: [2.00s] ZFSVM-EXIT rc=0"
