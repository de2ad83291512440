# shellcheck shell=bash
# Shared by the guest scripts (vm/guest/*.sh). They run inside the guest,
# with the host's bash, chrooted into the host's / (see vm/guest/init):
# host programs (fio, losetup, jq, build/diobench) run unchanged, and the
# zfs userland is in /run/zfsvm/bin. Pools are mounted under /run/zfsvm,
# a tmpfs of the guest. $ZFSVM_OUT is the output directory, shared with
# the host at the same path.
#
# The pool disk is the guest's /dev/vda, pre-partitioned by the host (GPT,
# one ZFS partition: zpool then needs no udev to relabel it).

# shellcheck source=scripts/lib/loops.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/loops.sh"  # bound_loops

zfsvm_disk=/dev/vda1
zfsvm_mnt=/run/zfsvm

say() { echo "zfsvm-guest: [$(cut -d' ' -f1 /proc/uptime)s] $*"; }

# hung_task_echo: in the background, each report of the kernel's
# hung-task detector copied whole to the console. The guest boots with
# loglevel=4 (scripts/zfs-vm, boot_guest: a quiet serial console under
# TCG), which lets the report's first lines through ("INFO: task NAME:PID
# blocked for more than N seconds.", KERN_ERR in kernel/hung_task.c) but
# not the blocked task's stack that follows (sched_show_task in
# kernel/sched/core.c prints it at KERN_INFO). The ring buffer has every
# level; the copy is of 80 lines from each report on, prefixed
# "zfsvm-hung-task:" so that the host reads it as the guest's words (no
# second failure line) and puts it in the crash excerpt.
hung_task_echo() {
  [ -w /dev/console ] || return 0
  ( exec </dev/null >/dev/console 2>&1
    dmesg --follow 2>/dev/null | hung_task_copy ) &
}

# hung_task_copy: stdin (kernel messages) to stdout, 80 lines from each
# hung-task report on, prefixed. Bash reads a pipe a line at a time (mawk
# would wait for a full buffer, and the copy could come after the guest
# was stopped).
hung_task_copy() {
  local line n=0
  while IFS= read -r line; do
    [[ $line != *"INFO: task "*" blocked for more than "* ]] || n=80
    [ "$n" -gt 0 ] || continue
    n=$((n - 1))
    printf 'zfsvm-hung-task: %s\n' "$line"
  done
}

# run_watched SECONDS WHAT CMD...: CMD, and if it still runs after SECONDS,
# the guest's view of the stall (stall_dump WHAT) on the console, once; the
# wait goes on (the host's timeout stops a guest that never comes back).
# Returns CMD's status. The hung-task detector names only tasks asleep
# uninterruptibly for 120 s; a writer that holds a transaction open while
# it spins in a retry loop (running, as in OpenZFS issue 17277) is never
# named, and its stack is what a hang's cause is read from.
run_watched() {
  local limit=$1 what=$2 pid watcher rc
  shift 2
  "$@" &
  pid=$!
  ( trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep "$limit" & s=$!
    wait "$s"
    kill -0 "$pid" 2>/dev/null && stall_dump "$what" "$limit" ) &
  watcher=$!
  wait "$pid"
  rc=$?
  kill "$watcher" 2>/dev/null
  wait "$watcher" 2>/dev/null
  return "$rc"
}

# stall_dump WHAT SECONDS: to $ZFSVM_OUT/stall.txt and the console (each
# line prefixed "zfsvm-stall: ", so the host reads the guest's words, not
# a second failure line): the kernel stack of every thread that is
# running or asleep uninterruptibly, of fio, the loop workers and the txg
# threads, and of every other thread in ZFS or SPL code but for idle
# taskq workers; then the pool's last txgs, ZFS's debug messages and
# events.
stall_dump() {
  local what=$1 limit=$2 out=${ZFSVM_OUT:-/tmp}/stall.txt
  {
    echo "$what still running after $limit s; kernel stacks (uptime $(cut -d' ' -f1 /proc/uptime) s):"
    stall_stacks
    local pool
    for pool in $(zpool list -H -o name 2>/dev/null); do
      echo "== /proc/spl/kstat/zfs/$pool/txgs (last 6)"
      tail -6 "/proc/spl/kstat/zfs/$pool/txgs" 2>/dev/null
    done
    echo "== /proc/spl/kstat/zfs/dbgmsg (last 30)"
    tail -30 /proc/spl/kstat/zfs/dbgmsg 2>/dev/null
    echo "== zpool events (last 20)"
    zpool events 2>/dev/null | tail -20
    stall_cpu_backtraces
  } >"$out" 2>&1
  [ -w /dev/console ] && sed 's/^/zfsvm-stall: /' "$out" >/dev/console
  return 0
}

# stall_cpu_backtraces: what the CPUs run (sysrq-l) and the stack of
# each runnable task (sysrq-t, its "state:R" reports only), from the
# kernel's ring buffer: a thread spinning in a retry loop is running, not
# blocked, and /proc/PID/stack shows nothing for it. The sysrq file takes
# every command whatever kernel.sysrq allows.
stall_cpu_backtraces() {
  echo "== sysrq-l and sysrq-t: the CPUs' backtraces, the runnable tasks' stacks"
  if ! { echo l >/proc/sysrq-trigger && echo t >/proc/sysrq-trigger; } 2>/dev/null; then
    echo "(sysrq not available)"
    return 0
  fi
  sleep 2
  # from the last sysrq-l on (sysrq-t's every task may have pushed older
  # messages out of the ring buffer)
  dmesg 2>/dev/null | tac | sed '/sysrq: Show backtrace of all active CPUs/q' | tac |
    runnable_reports | head -400
}

# runnable_reports: stdin (kernel messages after sysrq-l and sysrq-t) with
# the reports of tasks not runnable left out (sysrq-t prints every task:
# "task:NAME state:S ..." and its stack, up to the next report).
runnable_reports() {
  awk '/sysrq: Show State/ { in_t = 1; print; next }
       / task:[^ ]+ +state:/ { keep = ($0 ~ / state:R /) }
       /Sched Debug|runnable tasks:|Showing busy workqueues/ { keep = 0 }
       !in_t || keep { print }'
}

# stall_stacks: "-- PID/TID NAME state S" and the kernel stack of each
# thread stall_dump names (see there).
stall_stacks() {
  local t name state stack
  for t in /proc/[0-9]*/task/[0-9]*; do
    name=$(cat "$t/comm" 2>/dev/null) || continue
    state=$(sed -E 's/^.*\) ([A-Za-z]).*/\1/' "$t/stat" 2>/dev/null) || continue
    # (a running thread shows none here: stall_cpu_backtraces has it)
    stack=$(cat "$t/stack" 2>/dev/null) || continue
    case "$state:$name" in
      [RD]:*|*:fio|*loop*|*:txg_*) ;;
      *) [[ $stack == *"[zfs]"* || $stack == *"[spl]"* ]] || continue
         [[ ${stack%%$'\n'*} != *taskq_thread+* ]] || continue ;;
    esac
    t=${t#/proc/}
    echo "-- ${t%%/*}/${t##*/} $name state $state"
    printf '%s\n' "$stack"
  done
}

# pool_create NAME [zpool create -O options...]: on the virtual disk,
# mounted at /run/zfsvm/NAME; recordsize 128k, compression off, atime off
# (the ground truth of docs/design.md §3.5 was taken with these).
pool_create() {
  local pool=$1
  shift
  zpool create -f -o ashift=12 -o cachefile="$zfsvm_mnt/$pool.cache" \
    -O compression=off -O atime=off -O recordsize=128k \
    -m "$zfsvm_mnt/$pool" "$@" "$pool" "$zfsvm_disk"
}

# Empties the ARC of the pool's data (export + import), so that the next
# reads reach the disk and show up in iostats (ARC hits, and Direct I/O
# reads of cached blocks, count nowhere). Resets iostats too. Imports from
# a copy of the cachefile (export drops the pool from the file itself):
# under TCG that is seconds faster than scanning for the device.
pool_evict() {
  local pool=$1 cache=$zfsvm_mnt/$1.cache
  cp "$cache" "$cache.import" 2>/dev/null
  zpool export "$pool" || return 1
  zpool import -c "$cache.import" -o cachefile="$cache" "$pool" 2>/dev/null ||
    zpool import -d "$zfsvm_disk" -o cachefile="$cache" "$pool"
}

iostats() { cat "/proc/spl/kstat/zfs/$1/iostats"; }

# loop_attach FILE on|off: prints /dev/loopN; fails if the loop driver did
# not take the asked direct-I/O mode (it silently may not).
loop_attach() {
  local file=$1 dio=$2 dev got
  dev=$(losetup -f --show --direct-io="$dio" "$file") || return 1
  got=$(cat "/sys/block/${dev#/dev/}/loop/dio" 2>/dev/null || echo "?")
  if [ "$got" != "$([ "$dio" = on ] && echo 1 || echo 0)" ]; then
    echo "loop_attach: $dev over $file has dio=$got, asked $dio" >&2
    losetup -d "$dev"
    return 1
  fi
  echo "$dev"
}

# Property handling: remember a dataset property's value and where it came
# from, and put it back exactly (inherit when it was not set locally).
prop_save() {  # prop_save DATASET PROP -> "value<TAB>source"
  zfs get -H -o value,source "$2" "$1"
}
prop_restore() {  # prop_restore DATASET PROP "value<TAB>source"
  local ds=$1 prop=$2 value source
  value=${3%%$'\t'*}
  source=${3#*$'\t'}
  case $source in
    local) zfs set "$prop=$value" "$ds" ;;
    *) zfs inherit "$prop" "$ds" ;;
  esac
}

# zfs_module_before X.Y.Z [VERSION_FILE]: true when the loaded module's
# release (the X.Y.Z its version starts with; VERSION_FILE, default
# /sys/module/zfs/version) is older than X.Y.Z.
zfs_module_before() {
  local have
  have=$(grep -oE '^[0-9]+\.[0-9]+\.[0-9]+' "${2:-/sys/module/zfs/version}") || return 1
  [ "$have" != "$1" ] && [ "$(printf '%s\n%s\n' "$have" "$1" | sort -V | head -1)" = "$have" ]
}

# Versions, for the result files.
guest_facts_json() {
  jq -n --arg kernel "$(uname -r)" --arg zfs "$(cat /sys/module/zfs/version)" \
    --arg zfs_userland "$(zfs version 2>/dev/null | head -1)" \
    --arg cpus "$(nproc)" --arg mem_kib "$(awk '/MemTotal/ { print $2 }' /proc/meminfo)" \
    '{guest_kernel: $kernel, zfs_module: $zfs, zfs_userland: $zfs_userland,
      guest_cpus: ($cpus | tonumber), guest_mem_kib: ($mem_kib | tonumber)}'
}
