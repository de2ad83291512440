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

# Versions, for the result files.
guest_facts_json() {
  jq -n --arg kernel "$(uname -r)" --arg zfs "$(cat /sys/module/zfs/version)" \
    --arg zfs_userland "$(zfs version 2>/dev/null | head -1)" \
    --arg cpus "$(nproc)" --arg mem_kib "$(awk '/MemTotal/ { print $2 }' /proc/meminfo)" \
    '{guest_kernel: $kernel, zfs_module: $zfs, zfs_userland: $zfs_userland,
      guest_cpus: ($cpus | tonumber), guest_mem_kib: ($mem_kib | tonumber)}'
}
