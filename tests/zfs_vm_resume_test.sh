#!/bin/bash
# `zfs-vm run --resume` and `review --resume` after a kill -9 in a guest
# (no trap ran: the run directory is left in its staging directory), and
# a review interrupted after the base's round, whose candidate must get
# its round first. No image and no guest: ZFSVM_TEST_STANDIN=1
# (vm/lane/image.sh) builds nothing, and tests/zfs_vm_standin_guest.sh,
# first on PATH as qemu-system-x86_64, does to the run directory what a
# guest does. Run by zfs_vm_test.sh (ctest zfs_vm_checks).
# usage: zfs_vm_resume_test.sh ZFS_VM
set -u
zfsvm=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/expect.sh"
for tool in jq setsid sfdisk; do
  command -v "$tool" >/dev/null || { echo "skip run/review --resume after a kill: no $tool here"; exit 0; }
done
tmp=$(mktemp -d /tmp/diobench-zfsvm-resume.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
ln -s "$here/zfs_vm_standin_guest.sh" "$tmp/bin/qemu-system-x86_64"
export PATH="$tmp/bin:$PATH" ZFSVM_TEST_STANDIN=1 ZFSVM_ACCEL=tcg ZFSVM_CACHE=$tmp/cache

check() {  # NAME COMMAND...: ok when COMMAND succeeds
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fail=1; fi
}
has_line() { grep -qxF -- "$2" "$1" 2>/dev/null; }  # FILE LINE
# kept_killed_guest DIR: DIR holds a killed guest's files: its console
# (booted, no exit line), its job, and no diobench status
kept_killed_guest() {
  grep -q ZFSVM-BOOTED "$1/console.log" 2>/dev/null && ! grep -q ZFSVM-EXIT "$1/console.log" &&
    [ -f "$1/job.sh" ] && [ ! -e "$1/diobench.rc" ]
}
no_stage_in() { ! compgen -G "$1/.zfsvm-stage.*" >/dev/null; }  # DIR
rounds_are() { [ "$(jq -c '[.rounds[] | [.round, .side, .exit]]' "$1/review.json")" = "$2" ]; }  # DIR JSON

# kill9 RUNDIR ARGS...: `zfs-vm ARGS`, in a session of its own, until the
# stand-in guest of RUNDIR waits; then kill -9 of the session and of the
# guest: what a lost machine leaves (no trap runs). The directory zfs-vm
# made for that guest's pool disk goes too.
kill9() {
  local dir=$1 pid s stage="" disk
  shift
  STANDIN_HANG=$(basename "$dir") setsid "$zfsvm" "$@" >"$tmp/killed.log" 2>&1 &
  pid=$!
  disown "$pid"  # killed below: no "Killed" notice from bash
  for _ in $(seq 300); do
    for s in "$(dirname "$dir")"/.zfsvm-stage.*; do [ -s "$s/standin.pid" ] && stage=$s; done
    [ -n "$stage" ] && break
    sleep 0.1
  done
  if [ -z "$stage" ]; then
    kill -KILL -- "-$pid" 2>/dev/null
    echo "FAIL kill9: no stand-in guest of $dir waited: $(cat "$tmp/killed.log")"
    exit 1
  fi
  # setsid ran in the background job's own process (not a group leader):
  # the job's pid is the session's process group
  if [ "$(awk '{ print $5 }' "/proc/$pid/stat")" != "$pid" ]; then
    kill -KILL "$pid" "$(cat "$stage/standin.pid")"
    echo "FAIL kill9: zfs-vm was not in a session of its own"
    exit 1
  fi
  kill -KILL -- "-$pid"  # first: zfs-vm must not see its guest end
  kill -KILL "$(cat "$stage/standin.pid")"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  disk=$(cat "$stage/standin.disk")
  case $disk in /var/tmp/diobench-zfsvm.*/pool.img) rm -rf "$(dirname "$disk")" ;; esac
  rm -f "$stage/standin.pid" "$stage/standin.disk"
  [ -d "$stage/$(basename "$dir")" ] && [ ! -e "$dir" ] || { echo "FAIL kill9: $dir was not left in $stage"; exit 1; }
}

expect "ZFSVM_TEST_STANDIN: a bad value" 2 "invalid ZFSVM_TEST_STANDIN value 'yes' (1 for the lane's tests, or unset)" -- \
  env ZFSVM_TEST_STANDIN=yes "$zfsvm" build

# run: killed in its first guest, finished by `run --resume`.
k=$tmp/k
mkdir "$k"
kill9 "$k/run1" run --out "$k/run1" -- --profile smoke --seed 7
expect "run --resume: a run killed in its guest is recovered" 0 "recovering $k/run1 from $k/.zfsvm-stage" -- \
  "$zfsvm" run --resume "$k/run1" -- --force-unsafe
check "run --resume: the killed guest's files kept as guest-1" kept_killed_guest "$k/run1/zfsvm/guest-1"
check "run --resume: guest-2 resumed the run" has_line "$k/run1/standin-guests.txt" "resume=1 args=--force-unsafe"
check "run --resume: and finished it" has_line "$k/run1/zfsvm/guest-2/diobench.rc" 0
check "run --resume: no staging directory left" no_stage_in "$k"

# review: killed in the candidate's first round, after the base's; both
# sides' first two guests end on their slice. Resumed, the candidate's
# round comes first (its run recovered), then the rounds alternate.
rv=$tmp/rv
export STANDIN_SLICED=2
kill9 "$rv/candidate" review --base fixed --candidate unfixed --out "$rv" --slice 600 -- --profile smoke --seed 77
check "review: killed after the base's first round" rounds_are "$rv" '[[1,"base",124]]'
resumed=$("$zfsvm" review --resume "$rv" 2>&1)
# a stand-in's runs hold no results to compare: exit 1
check "review --resume: it reaches the comparison" test "$?:$(tail -1 <<<"$resumed")" = "1:zfs-vm: error: review: diobench compare failed"
check "review --resume: the candidate's run resumed in the first round" \
  grep -q "review: round 1, candidate (unfixed): run .* --resume $rv/candidate -- --force-unsafe\$" <<<"$resumed"
check "review --resume: the candidate's round first, then alternating" rounds_are "$rv" \
  '[[1,"base",124],[1,"candidate",124],[2,"base",124],[2,"candidate",0],[3,"base",0]]'
check "review --resume: the killed candidate's guest files kept as guest-1" kept_killed_guest "$rv/candidate/zfsvm/guest-1"
check "review --resume: no staging directory left" no_stage_in "$rv"
exit $fail
