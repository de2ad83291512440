#!/bin/bash
# Guest side of `scripts/zfs-vm test`: the zfs backend's integration checks
# against the real OpenZFS module of this guest. Runs in the chroot of the
# host's / (vm/guest/init). It only *collects*: per cell, the engine's
# sidecar (the split the policy model expects), the pool's iostats before
# and after fio, fio's JSON and exit status, and what was run (meta.json),
# under $ZFSVM_OUT/cells/<policy>.<target>.<workload>/. The host judges
# (`diobench check`), so a result can be re-judged without a guest.
#
# Arguments (from $ZFSVM_OUT/zfsvm-job.sh, ZFSVM_ARGS):
#   --quick        the minimum matrix (see below) instead of the full one
#   --repro-only   only the crash reproducer (the unfixed lane)
#   --no-repro     only the matrix
#
# The matrix: policy (disabled, standard, always; set with `zfs set
# direct=`) x target x workload, on a 16 MiB file in a recordsize=128k,
# compression=off dataset. Before every read cell the pool is exported and
# imported, so the ARC is cold: a read then reaches the disk and is
# counted by iostats on the path that served it (ARC hits, and Direct I/O
# reads of cached blocks, are counted nowhere). Writes are counted when
# they are issued, whatever the ARC holds.
#
# Targets: file-odirect / file-buffered (fio direct=1 / 0, iomem_align=4k:
# page-aligned buffers), file-buffered-unaligned (fio's default buffers,
# not page-aligned), file-odirect-unaligned (iomem_align=512: O_DIRECT with
# a misaligned buffer; under `standard` the first request fails with
# EINVAL and fio, for which EINVAL is fatal, ends the job), loop-dio-on /
# loop-dio-off (losetup --direct-io=on / off over the same file; fio opens
# /dev/loopN with O_DIRECT, so every request reaches the loop driver as
# asked, not through the block device's page cache). --quick:
# file-odirect, file-buffered, loop-dio-on, loop-dio-off x seqread,
# seqwrite. Every cell runs fio with fadvise_hint=0 (see below).
#
# Probes (after the matrix, under $ZFSVM_OUT/probes/<name>/cells/): judged
# the same way and shown, but not part of the verdict, because they show
# what the policy model does not describe: fio's default fadvise hint, and
# 1 MiB requests split by the block layer (not deterministic).
#
# Then a few smoke cells through the runner (`diobench run --backend zfs`,
# into $ZFSVM_OUT/runner-run/), and last, the crash reproducer of OpenZFS
# issue 16956 (vm/guest/repro.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$ZFSVM_OUT/zfsvm-job.sh"
hung_task_echo

quick=0 matrix=1 repro=1
for a in "${ZFSVM_ARGS[@]}"; do
  case $a in
    --quick) quick=1 ;;
    --repro-only) matrix=0 ;;
    --no-repro) repro=0 ;;
    *) say "unknown argument '$a'"; exit 2 ;;
  esac
done

pool=zfsvmtest
ds=$pool/dio
mnt=$zfsvm_mnt/$ds
file=$mnt/data
size=16M
cd "$ZFSVM_OUT" || exit 1
guest_facts_json >"$ZFSVM_OUT/guest.json"
engine=$("$ZFSVM_REPO/build/diobench" engine-path) || { say "no engine: build diobench first"; exit 1; }
say "engine $engine; fio $(fio --version)"

# The module's release picks the model's rules (the engine's semantics
# option, docs/design.md 3.2): 2.4 and later serve O_DIRECT that cannot go
# direct as uncached ARC I/O (OpenZFS commit 734eba251d).
semantics=2.3
case $(cat /sys/module/zfs/version) in 2.[0-3].*|[01].*) ;; *) semantics=2.4 ;; esac
say "model semantics $semantics (module $(cat /sys/module/zfs/version))"
if [ "$quick" = 1 ]; then
  targets=(file-odirect file-buffered loop-dio-on loop-dio-off)
  # 2.4's change shows with a misaligned O_DIRECT buffer: quick runs it there
  [ "$semantics" = 2.3 ] || targets+=(file-odirect-unaligned)
  workloads=(seqread seqwrite)
else
  targets=(file-odirect file-buffered file-buffered-unaligned file-odirect-unaligned loop-dio-on loop-dio-off)
  workloads=(seqread randread seqwrite randwrite splitwrite)
fi
policies=(disabled standard always)
# fio's fadvise_hint=1 (its default) would make ZFS prefetch the whole file
# into the ARC for every sequential job (see the probe in run_matrix): the
# cells turn it off so that iostats show only the path of the requests.
cell_fio_extra=(--fadvise_hint=0)
# A cell takes seconds under TCG; one still running after this long has
# its stacks dumped (run_watched, lib.sh) before the host's timeout.
cell_stall_s=180

checks=$ZFSVM_OUT/guest-checks.txt
: >"$checks"
check() {  # check NAME PASS|FAIL DETAIL
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$checks"
  say "check $1: $2 ($3)"
}

# One fio run; everything it needs to be judged goes into its directory.
run_cell() {
  local policy=$1 target=$2 workload=$3 base=${4:-$ZFSVM_OUT} fio_extra=("${cell_fio_extra[@]}")
  local id=$policy.$target.$workload d rw bs wl_opts=() t_opts=() app_direct=1 dio="" dev="" filename=$file
  d=$base/cells/$id
  mkdir -p "$d"
  case $workload in
    seqread) rw=read bs=128k ;;
    randread) rw=randread bs=4k wl_opts=(--number_ios=256 --randseed=42) ;;
    seqwrite) rw=write bs=128k ;;
    randwrite) rw=randwrite bs=4k wl_opts=(--number_ios=256 --randseed=42) ;;
    # 192k requests from 0: each has one whole 128k record and a 64k head
    # or tail (the recordsize split); 80 of them fill 15 MiB.
    splitwrite) rw=write bs=192k wl_opts=(--size=15M) ;;
    seqread1m) rw=read bs=1m ;;
    seqwrite1m) rw=write bs=1m ;;
  esac
  case $target in
    file-odirect) t_opts=(--iomem_align=4k) ;;
    file-buffered) app_direct=0 t_opts=(--iomem_align=4k) ;;
    file-buffered-unaligned) app_direct=0 ;;
    # fio puts the first buffer iomem_align bytes past a page boundary
    file-odirect-unaligned) t_opts=(--iomem_align=512) ;;
    loop-dio-on) dio=on t_opts=(--iomem_align=4k) ;;
    loop-dio-off) dio=off t_opts=(--iomem_align=4k) ;;
  esac
  # Reads need a cold ARC (see the top); writes are counted when issued.
  if [[ $rw == *read* ]] && ! pool_evict "$pool" >"$d/evict.log" 2>&1; then
    say "cell $id: export/import failed: $(tail -1 "$d/evict.log")"
    echo "export/import failed" >"$d/error"
    return 1
  fi
  if [ -n "$dio" ]; then
    if ! dev=$(loop_attach "$file" "$dio" 2>"$d/loop.log"); then
      say "cell $id: losetup failed: $(cat "$d/loop.log")"
      echo "losetup --direct-io=$dio failed: $(cat "$d/loop.log")" >"$d/error"
      return 1
    fi
    filename=$dev
  fi
  local args=(fio --name="$id" --filename="$filename" --rw="$rw" --bs="$bs" --size="$size"
    --direct="$app_direct" "${wl_opts[@]}" "${t_opts[@]}" "${fio_extra[@]}"
    --ioengine=external:"$engine" --policy="$policy" --semantics="$semantics" --counters="$d/counters.jsonl"
    --output-format=json --output="$d/fio.json")
  jq -n --arg id "$id" --arg policy "$policy" --arg target "$target" --arg workload "$workload" \
    --arg rw "$rw" --arg bs "$bs" --arg app_direct "$app_direct" --arg loop_dio "$dio" \
    --arg loop_dev "$dev" --arg file "$file" --arg dataset "$ds" --arg pool "$pool" \
    --arg zfs_direct "$cur_direct" --arg recordsize "$cur_recordsize" \
    --args '{id: $id, policy: $policy, target: $target, workload: $workload, rw: $rw, bs: $bs,
             app_direct: ($app_direct == "1"), loop_dio: $loop_dio, loop_dev: $loop_dev,
             file: $file, dataset: $dataset, pool: $pool, zfs_direct: $zfs_direct,
             recordsize: ($recordsize | tonumber), fio_args: $ARGS.positional}' \
    -- "${args[@]}" >"$d/meta.json"
  rm -f "$d/counters.jsonl"
  # the loop device's own counters: how many requests it was handed
  [ -n "$dev" ] && cat "/sys/block/${dev#/dev/}/stat" >"$d/loop.stat.before"
  iostats "$pool" >"$d/iostats.before"
  # the ARC's data gauges: what uncached reads left in it (diobench check)
  cat /proc/spl/kstat/zfs/arcstats >"$d/arcstats.before"
  run_watched "$cell_stall_s" "cell $id" "${args[@]}" >"$d/fio.log" 2>&1
  echo $? >"$d/fio.rc"
  cat /proc/spl/kstat/zfs/arcstats >"$d/arcstats.after"
  iostats "$pool" >"$d/iostats.after"
  [ -n "$dev" ] && cat "/sys/block/${dev#/dev/}/stat" >"$d/loop.stat.after"
  [ -n "$dev" ] && losetup -d "$dev"
  say "cell $id: fio rc=$(cat "$d/fio.rc")"
  sync
}

run_matrix() {
  say "matrix: ${#policies[@]} policies x ${#targets[@]} targets x ${#workloads[@]} workloads"
  pool_create "$pool" || { say "zpool create failed"; return 1; }
  zfs create "$ds" || return 1
  local saved
  saved=$(prop_save "$ds" direct)
  say "dataset $ds: direct=${saved%%$'\t'*} (${saved#*$'\t'}), recordsize=$(zfs get -H -o value recordsize "$ds")"
  dd if=/dev/urandom of="$file" bs=1M count=16 status=none && zpool sync "$pool" || return 1
  local policy target workload t0=$SECONDS n=0
  for policy in "${policies[@]}"; do
    zfs set direct="$policy" "$ds" || return 1
    cur_direct=$(zfs get -H -o value direct "$ds")
    cur_recordsize=$(zfs get -Hp -o value recordsize "$ds")
    for target in "${targets[@]}"; do
      for workload in "${workloads[@]}"; do
        run_cell "$policy" "$target" "$workload"
        n=$((n + 1))
      done
    done
  done
  say "matrix: $n cells in $((SECONDS - t0)) s"
  # Probes: informational cells, judged but not counted in the verdict.
  # fio's default fadvise_hint=1 (POSIX_FADV_SEQUENTIAL on a sequential
  # job) makes ZFS prefetch the file into the ARC (zpl_fadvise ->
  # dmu_prefetch), beside whatever path the requests take.
  say "probe: fio's default fadvise_hint on a sequential O_DIRECT read"
  zfs set direct=always "$ds" && cur_direct=always
  cell_fio_extra=()
  run_cell always file-odirect seqread "$ZFSVM_OUT/probes/fadvise-hint-on"
  cell_fio_extra=(--fadvise_hint=0)
  # 1 MiB O_DIRECT requests: on a loop device the block layer may split a
  # request (at most max_segments physical segments) at a page boundary
  # inside a record; each piece then has a partial record, which ZFS writes
  # through the ARC (and reads twice). Whether it splits depends on how
  # fragmented fio's buffer is in physical memory: not deterministic.
  # Before 2.3.3 a split inside a multi-page bvec makes a loop device's
  # write spin forever in one transaction (OpenZFS issue 17277, fixed by
  # PR 17298; docs/design.md §2.1, vm/guest/hang-repro.sh): such a module
  # does not get the loop write cells, which hung two lane guests.
  local split_hang=0
  zfs_module_before 2.3.3 && split_hang=1
  say "probe: 1 MiB requests, file vs loop dio on"
  for policy in standard always; do
    zfs set direct="$policy" "$ds" && cur_direct=$policy
    for target in file-odirect loop-dio-on; do
      for workload in seqread1m seqwrite1m; do
        if [ "$split_hang" = 1 ] && [ "$target.$workload" = loop-dio-on.seqwrite1m ]; then
          say "probe cell $policy.$target.$workload left out: OpenZFS $(cat /sys/module/zfs/version) is older than 2.3.3, whose loop writes split inside a multi-page bvec can hang (OpenZFS issue 17277)"
          continue
        fi
        run_cell "$policy" "$target" "$workload" "$ZFSVM_OUT/probes/large-requests"
      done
    done
  done
  prop_restore "$ds" direct "$saved"
  check_direct_kept property-restored "$ds" "$saved" "the matrix's restore"
  rm -f "$file"
  zfs destroy "$ds"
}

# check_direct_kept NAME DATASET SAVED WHAT: the guest check NAME, that
# DATASET's direct= (value and source, prop_save) is SAVED after WHAT.
check_direct_kept() {
  local name=$1 ds=$2 saved=$3 what=$4 now
  now=$(prop_save "$ds" direct)
  if [ "$now" = "$saved" ]; then
    check "$name" PASS "after $what: direct=${now%%$'\t'*} (${now#*$'\t'})"
  else
    check "$name" FAIL "was '${saved/$'\t'/ }' before $what, now '${now/$'\t'/ }'"
  fi
}

# The runner's zfs backend end to end, judged on the host (`diobench check`):
# the smoke profile's cells under direct=disabled and direct=always through
# `diobench run --backend zfs --arc-drop export` on a dataset of this
# pool. It is what shows the runner's own work on real ZFS: per
# repetition, `zfs set direct=` and its restore, the ARC emptied before fio
# (export + import; arc_data_before/after in results.db), the iostats
# deltas against the expected split.
run_runner() {
  local rds=$pool/runner out=$ZFSVM_OUT/runner-run saved rc
  zpool list -H -o name "$pool" >/dev/null 2>&1 || pool_create "$pool" || return 1
  zfs create "$rds" || return 1
  saved=$(prop_save "$rds" direct)
  say "runner: diobench run --profile smoke --backend zfs --dataset $rds --arc-drop export (direct=disabled and always)"
  "$ZFSVM_REPO/build/diobench" run --profile smoke --backend zfs --dataset "$rds" --arc-drop export \
    --filter policy=disabled --filter policy=always --out "$out" >"$ZFSVM_OUT/runner-run.log" 2>&1
  rc=$?
  echo "$rc" >"$ZFSVM_OUT/runner-run.rc"
  say "runner: diobench run exited $rc"
  check_direct_kept runner-property-restored "$rds" "$saved" "diobench run"
  # The runner worked in a child of $rds (plan.json's work_dataset) and
  # destroyed it at the end.
  local child left
  child=$(jq -r '.work_dataset // empty' "$out/plan.json" 2>/dev/null)
  left=$(zfs list -H -o name -r "$rds" | grep -vx "$rds" | tr '\n' ' ')
  if [ "${child#"$rds"/diobench-}" != "$child" ] && [ -z "$left" ]; then
    check runner-child-dataset PASS "the run worked in $child and destroyed it"
  else
    check runner-child-dataset FAIL "work dataset '${child:-none}'; left under $rds: ${left:-nothing}"
  fi
  zfs destroy -r "$rds"
}

# A fleet run's zfs backend (issue 15), with this guest its own one host:
# fio --server on the loopback address, and `diobench run --host` reaching
# it through tests/fleet/local-shell instead of ssh, so that the host's
# side (`diobench host prepare|counters|finish`: the child dataset made
# there, direct= per repetition, the ARC emptied, the pool's iostats)
# runs on OpenZFS. 4k random reads under direct=disabled and always, on
# the file and on loop devices; judged on the host (`diobench check`).
run_fleet() {
  local fds=$pool/fleet out=$ZFSVM_OUT/fleet-run scratch=/var/tmp/diobench-fleet
  local pidfile=/run/zfsvm-fio-server.pid saved rc child left
  zpool list -H -o name "$pool" >/dev/null 2>&1 || pool_create "$pool" || return 1
  zfs create "$fds" || return 1
  saved=$(prop_save "$fds" direct)
  ip link set lo up && fio --server=127.0.0.1 --daemonize="$pidfile" || return 1
  say "fleet: diobench run --host 127.0.0.1 --backend zfs --dataset $fds --arc-drop export"
  "$ZFSVM_REPO/build/diobench" run --profile smoke --backend zfs --dataset "$fds" --arc-drop export \
    --host 127.0.0.1 --ssh "$ZFSVM_REPO/tests/fleet/local-shell" --dir "$scratch" \
    --filter policy=disabled --filter policy=always --filter workload=randread-4k \
    --out "$out" >"$ZFSVM_OUT/fleet-run.log" 2>&1
  rc=$?
  kill "$(cat "$pidfile")"
  echo "$rc" >"$ZFSVM_OUT/fleet-run.rc"
  say "fleet: diobench run exited $rc"
  check_direct_kept fleet-property-untouched "$fds" "$saved" "the fleet run"
  # The host worked in a child of $fds (plan.json's work_dataset) and
  # destroyed it at the end; its scratch area holds only its marker.
  child=$(jq -r '.work_dataset // empty' "$out/plan.json" 2>/dev/null)
  left=$(zfs list -H -o name -r "$fds" | grep -vx "$fds" | tr '\n' ' ')
  left+=$(ls -A "$scratch" 2>/dev/null | grep -vx .diobench-scratch | tr '\n' ' ')
  if [ "${child#"$fds"/diobench-}" != "$child" ] && [ -z "$left" ]; then
    check fleet-host-cleaned PASS "the host worked in $child and destroyed it; its scratch area is empty"
  else
    check fleet-host-cleaned FAIL "work dataset '${child:-none}'; left: ${left:-nothing}"
  fi
  zfs destroy -r "$fds"
}

status=0
if [ "$matrix" = 1 ]; then
  run_matrix || { say "matrix aborted"; status=1; }
  run_runner || { say "runner run aborted"; status=1; }
  run_fleet || { say "fleet run aborted"; status=1; }
fi
if [ "$repro" = 1 ]; then
  zpool list -H -o name "$pool" >/dev/null 2>&1 || pool_create "$pool" || { say "zpool create failed"; exit 1; }
  # The unfixed guest dies inside this call; the host reads the console.
  bash "$here/repro.sh" "$pool" || status=1
fi
zpool list -H -o name "$pool" >/dev/null 2>&1 && zpool destroy "$pool"
loops=$(bound_loops)
if [ -z "$loops" ]; then check no-loop-left PASS "losetup -l is empty"; else check no-loop-left FAIL "$(echo $loops)"; fi
pools=$(zpool list -H -o name 2>/dev/null)
if [ -z "$pools" ]; then check no-pool-left PASS "zpool list is empty"; else check no-pool-left FAIL "$(echo $pools)"; fi
exit $status
