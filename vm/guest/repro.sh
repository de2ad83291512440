#!/bin/bash
# The crash reproducer of OpenZFS issue 16956, in the guest (chroot of the
# host's /, vm/guest/init). Usage: repro.sh POOL (an imported pool).
#
# Step 1 is the reproducer itself (docs/design.md §2): a dataset with
# direct=always, `truncate -s 1G f; losetup -f f; dd if=/dev/loopN bs=4k
# count=1`. The loop driver reads the file from a kernel worker with an
# ITER_BVEC iterator; `always` sends that page-aligned request down the
# Direct I/O path. On 2.3.0 (and on the unfixed variant built by
# `zfs-vm build --unfixed`) the kernel dereferences a NULL mm there and the
# guest dies: the host reads that from the console. On 2.3.1 and later it
# survives.
#
# Steps 2 and 3 show that the fixed build really took the Direct I/O path
# for the loop driver's requests (not some other way around the crash):
# with data in the file (the first read of a sparse file meets only holes,
# which ZFS answers without reading), 16 MiB read through the loop device
# with loop dio off and on must show direct reads in the pool's iostats.
#
# Writes $ZFSVM_OUT/repro.json; exit 0 when every step survived and the
# direct reads were seen.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
pool=$1
ds=$pool/repro
f=$zfsvm_mnt/$ds/f
out=$ZFSVM_OUT/repro.json
steps='[]'
add_step() {  # add_step NAME PASS|FAIL DETAIL [direct_reads]
  steps=$(jq -c --arg n "$1" --arg r "$2" --arg d "$3" --arg dr "${4:-}" \
    '. + [{step: $n, result: $r, detail: $d} + (if $dr == "" then {} else {direct_reads: ($dr | tonumber)} end)]' <<<"$steps")
  jq -n --argjson s "$steps" '{steps: $s}' >"$out"
  sync
  say "repro $1: $2 ($3)"
}
stat_of() { awk -v k="$2" '$1 == k { print $3 }' "/proc/spl/kstat/zfs/$1/iostats"; }

status=0
zfs create -o direct=always "$ds" || exit 1
truncate -s 1G "$f"
dev=$(losetup -f --show "$f") || exit 1
say "REPRO step 1: direct=always, $dev over a sparse 1G file (loop dio off), dd bs=4k count=1"
sync  # the console line above must reach the host before a crash
if dd if="$dev" of=/dev/null bs=4k count=1 status=none; then
  add_step reproducer PASS "dd bs=4k count=1 from $dev survived"
else
  add_step reproducer FAIL "dd failed (rc $?), the kernel survived"
  status=1
fi
losetup -d "$dev"

dd if=/dev/urandom of="$f" bs=1M count=16 conv=notrunc status=none && zpool sync "$pool"
for dio in off on; do
  pool_evict "$pool" || exit 1
  dev=$(loop_attach "$f" "$dio") || exit 1
  before=$(stat_of "$pool" direct_read_count)
  if dd if="$dev" of=/dev/null bs=1M count=16 iflag=direct status=none; then
    after=$(stat_of "$pool" direct_read_count)
    n=$((after - before))
    if [ "$n" -gt 0 ]; then
      add_step "loop-dio-$dio" PASS "16 MiB through $dev: $n direct reads (the fixed path for kernel bvec pages)" "$n"
    else
      add_step "loop-dio-$dio" FAIL "16 MiB through $dev: no direct reads in iostats" "$n"
      status=1
    fi
  else
    add_step "loop-dio-$dio" FAIL "dd through $dev failed"
    status=1
  fi
  losetup -d "$dev"
done
zfs destroy "$ds"
exit $status
