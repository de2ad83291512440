#!/bin/bash
# The hang of OpenZFS issue 17277 on demand, in the guest (chroot of the
# host's /, vm/guest/init). Run it with
#   scripts/zfs-vm script [VARIANT] vm/guest/hang-repro.sh [POLICY [MAX_SECTORS_KB [IOMEM [APP_DIRECT]]]]
# (defaults: always 132 shmhuge 1; ZFSVM_TIMEOUT=300 keeps a hung guest's
# wait short).
#
# What it does: a 16 MiB file on a dataset with direct=POLICY, a loop
# device over it with dio on, its max_sectors_kb set to MAX_SECTORS_KB
# ("default" leaves it), and fio writing 1 MiB O_DIRECT requests to the
# loop device from a buffer of fio's IOMEM kind (shmhuge: 2 MiB huge pages,
# physically contiguous; malloc: fio's default; with APP_DIRECT 0 fio
# writes through the loop device's page cache instead, and its writeback
# hands the loop driver the requests), then reading them back
# and checking them (verify=crc32c). Three tries; each fio that
# still runs after 60 s has the guest's stacks dumped (run_watched,
# lib.sh) and the wait goes on until the host's timeout.
#
# Why it hangs (docs/design.md §3.8): a huge-page buffer reaches the block
# layer as a few multi-page bvecs; a 1 MiB request cut at 132 KiB leaves
# the loop driver a piece that starts inside a bvec, and the loop driver
# (dio on) hands ZFS an ITER_BVEC iterator with a non-zero iov_offset.
# Up to 2.3.2 zpl_iter_write passes that offset on as uio_skip, and
# zfs_uiomove_iter advances the iterator by it again on every copy: the
# iterator runs dry, the copy fails with EFAULT, and the Direct I/O branch
# of dmu_write_uio_dnode retries it forever ("goto top") inside an
# assigned transaction, so the txg never quiesces. Fixed in 2.3.3 by
# commit db988fabfb (PR 17298, "linux/uio: remove "skip" offset for
# UIO_ITER"); vm/patches/openzfs-pr17298-uio-skip.patch is that commit.
#
# Writes $ZFSVM_OUT/hang.json once all tries have ended (a hung guest
# writes none: the console and stall.txt tell).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$ZFSVM_OUT/zfsvm-job.sh"
hung_task_echo
policy=${ZFSVM_ARGS[0]:-always} msk=${ZFSVM_ARGS[1]:-132} iomem=${ZFSVM_ARGS[2]:-shmhuge}
app_direct=${ZFSVM_ARGS[3]:-1}
pool=zfsvmtest ds=zfsvmtest/hang
file=$zfsvm_mnt/$ds/data
cd "$ZFSVM_OUT" || exit 1
# shmhuge takes its buffer from the huge page pool (2 MiB pages)
echo 16 >/proc/sys/vm/nr_hugepages
pool_create "$pool" && zfs create -o direct="$policy" "$ds" || exit 1
dd if=/dev/urandom of="$file" bs=1M count=16 status=none && zpool sync "$pool" || exit 1
dev=$(loop_attach "$file" on) || exit 1
q=/sys/block/${dev#/dev/}/queue
[ "$msk" = default ] || echo "$msk" >"$q/max_sectors_kb" || exit 1
say "hang-repro: $dev over $file (direct=$(zfs get -H -o value direct "$ds")), loop dio $(cat "/sys/block/${dev#/dev/}/loop/dio"), max_sectors_kb $(cat "$q/max_sectors_kb"), max_segments $(cat "$q/max_segments"), iomem $iomem, fio direct=$app_direct, huge pages $(cat /proc/sys/vm/nr_hugepages)"
tries='[]'
for i in 1 2 3; do
  run_watched 60 "hang-repro try $i" fio --name=hang --filename="$dev" --rw=write --bs=1m --size=16M \
    --direct="$app_direct" --end_fsync=1 --iomem="$iomem" --ioengine=psync --verify=crc32c --verify_fatal=1 \
    --output-format=json --output="fio$i.json" >"fio$i.log" 2>&1
  rc=$?
  say "hang-repro try $i: fio rc=$rc"
  tries=$(jq -c --argjson rc "$rc" '. + [$rc]' <<<"$tries")
done
losetup -d "$dev"
jq -n --arg policy "$policy" --arg msk "$msk" --arg iomem "$iomem" --arg app_direct "$app_direct" \
  --argjson tries "$tries" \
  '{policy: $policy, max_sectors_kb: $msk, iomem: $iomem, app_direct: $app_direct, fio_rc: $tries}' >hang.json
say "hang-repro: no hang (fio rc per try, 0 = written and verified: $tries)"
