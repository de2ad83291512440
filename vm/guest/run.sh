#!/bin/bash
# Guest side of `scripts/zfs-vm run`: a pool on the virtual disk, then
# `diobench run ARGS...` (the host's build/diobench) in the chroot of the
# host's /. Runs in the chroot (vm/guest/init); $ZFSVM_OUT is the shared
# directory that stands for the run directory's parent, and
# $ZFSVM_OUT/zfsvm-job.sh gives ZFSVM_REPO, ZFSVM_RUN_DIR, ZFSVM_ARGS,
# ZFSVM_CWD (the host's working directory: relative paths in the
# arguments resolve from there, as on the host) and ZFSVM_RESUME, and
# exports DIOBENCH_SYSINFO_VM_* (accelerator, guest kernel, ZFS package and
# variant), which the runner stores in the run's system information.
#
# ZFSVM_RESUME=1: a guest that finishes a run (after a guest that crashed,
# or for `zfs-vm run --resume`). The pool is as fresh as the first guest's,
# under the same names, and diobench runs
# `run --resume ZFSVM_RUN_DIR ARGS...` (ARGS: --force-unsafe, --budget, --max-repetitions; the
# run directory holds the rest). Nothing of the dead guest survives but
# the run directory, so `diobench restore` has nothing to undo here.
#
# The pool is zfsvmrun (recordsize 128k, compression off, atime off), the
# dataset zfsvmrun/bench, mounted at /run/zfsvm/zfsvmrun/bench. In the
# arguments, @DATASET@ and @MOUNTPOINT@ stand for those two. --out is
# always ZFSVM_RUN_DIR. When the arguments say --backend zfs without
# --dataset, `--dataset zfsvmrun/bench` is added; when they name no
# backend and this diobench knows --backend, `--backend zfs --dataset
# zfsvmrun/bench` is added (the lane exists for the zfs backend). A
# diobench without --backend runs the arguments as given (its scratch area
# is then the guest's tmpfs /var/tmp unless --dir @MOUNTPOINT@/... is given).
#
# Writes $ZFSVM_OUT/diobench.rc, diobench.log (also on the console) and
# guest.json; the host moves them into the run directory.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$ZFSVM_OUT/zfsvm-job.sh"
hung_task_echo

pool=zfsvmrun
ds=$pool/bench
mnt=$zfsvm_mnt/$ds
diobench=$ZFSVM_REPO/build/diobench
cd "$ZFSVM_OUT" || exit 1

pool_create "$pool" || { say "zpool create failed"; exit 1; }
zfs create "$ds" || exit 1
saved=$(prop_save "$ds" direct)

ZFSVM_CWD=${ZFSVM_CWD:-} ZFSVM_RESUME=${ZFSVM_RESUME:-0}
args=()
has() { local a; for a in "${ZFSVM_ARGS[@]}"; do case $a in "$1"|"$1"=*) return 0 ;; esac; done; return 1; }
for a in "${ZFSVM_ARGS[@]}"; do
  a=${a//@DATASET@/$ds}
  a=${a//@MOUNTPOINT@/$mnt}
  args+=("$a")
done
# The help text is captured whole before it is searched: `diobench run
# --help | grep -q` under pipefail fails when grep stops reading at its
# first match and diobench then dies of SIGPIPE, which read as "no
# --backend" and ran the emulated backend instead of the zfs one.
knows_backend=0
help=$("$diobench" run --help 2>/dev/null) || help=""
[[ $help == *--backend* ]] && knows_backend=1
if [ "$ZFSVM_RESUME" = 1 ]; then
  args=(--resume "$ZFSVM_RUN_DIR" "${args[@]}")
elif has --backend; then
  has --dataset || args+=(--dataset "$ds")
elif [ "$knows_backend" = 1 ]; then
  args+=(--backend zfs)
  has --dataset || args+=(--dataset "$ds")
else
  say "this diobench has no --backend option yet: running the arguments as given"
fi
[ "$ZFSVM_RESUME" = 1 ] || args+=(--out "$ZFSVM_RUN_DIR")

guest_facts_json | jq --arg ds "$ds" --arg mnt "$mnt" --argjson knows "$knows_backend" \
  --arg pool_props "$(zpool get -H -o property,value ashift,size "$pool" | tr '\t\n' '= ')" \
  --arg ds_props "$(zfs get -H -o property,value recordsize,compression,atime,direct "$ds" | tr '\t\n' '= ')" \
  --args '. + {dataset: $ds, mountpoint: $mnt, pool_properties: $pool_props, dataset_properties: $ds_props,
          diobench_knows_backend: ($knows == 1), diobench_argv: $ARGS.positional}' \
  -- "${args[@]}" >"$ZFSVM_OUT/guest.json"

# the host's working directory, unless it is one the guest has its own of
case $ZFSVM_CWD in
  ""|/tmp|/tmp/*|/run|/run/*|/var/tmp|/var/tmp/*) ;;
  *) cd "$ZFSVM_CWD" 2>/dev/null || say "note: cannot enter $ZFSVM_CWD; relative paths resolve from $PWD" ;;
esac
# ZFSVM_SLICE (zfs-vm run --slice): SIGINT after that many seconds, which
# diobench takes as Ctrl-C (the repetition running finishes, the run is
# left for --resume); timeout(1) then exits 124, the host's slice_rc.
# --foreground: without it timeout signals diobench, then its whole
# process group again, and a second SIGINT stops fio at once (the
# repetition would be lost).
slice=()
[ -z "${ZFSVM_SLICE:-}" ] || slice=(timeout --foreground -s INT "$ZFSVM_SLICE")
say "diobench run ${args[*]} (in $PWD${ZFSVM_SLICE:+; a slice of ${ZFSVM_SLICE}s})"
${slice[@]+"${slice[@]}"} "$diobench" run "${args[@]}" 2>&1 | tee "$ZFSVM_OUT/diobench.log"
rc=${PIPESTATUS[0]}
cd "$ZFSVM_OUT" || exit 1
echo "$rc" >"$ZFSVM_OUT/diobench.rc"
sync
say "diobench run exited $rc"

now=$(prop_save "$ds" direct)
[ "$now" = "$saved" ] || say "note: $ds direct is '${now/$'\t'/ }' after the run, was '${saved/$'\t'/ }'"
left=$(bound_loops)
[ -z "$left" ] || say "note: loop devices left by the run: $(echo $left)"
for l in $(cut -d' ' -f1 <<<"$left"); do losetup -d "$l"; done
zpool destroy -f "$pool" || say "zpool destroy failed"
exit 0
