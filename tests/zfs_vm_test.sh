#!/bin/bash
# scripts/zfs-vm's bad input: exit 2 with the offending value named, refused
# before anything is built or booted, so no guest and no network are needed.
# A patch that does not apply is checked against the packaged zfs source,
# which only a warm cache holds (root, `zfs-vm ready`); elsewhere those
# cases are skipped, and say so.
# usage: zfs_vm_test.sh ZFS_VM
set -u
zfsvm=$1
. "$(dirname "$0")/expect.sh"
tmp=$(mktemp -d /tmp/diobench-zfsvm-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/empty.patch"

expect "help" 0 "--patch FILE" -- "$zfsvm" --help
expect "no command" 2 "zfs-vm" -- "$zfsvm"
expect "unknown command" 2 "unknown command 'frob'" -- "$zfsvm" frob
for cmd in build test run script shell info ready; do
  expect "$cmd: missing patch" 2 "$cmd: invalid --patch value '$tmp/none.patch' (no such file)" -- \
    "$zfsvm" "$cmd" --patch "$tmp/none.patch"
  expect "$cmd: patch is a directory" 2 "$cmd: invalid --patch value '$tmp' (not a regular file)" -- \
    "$zfsvm" "$cmd" --patch "$tmp"
  expect "$cmd: empty patch" 2 "$cmd: invalid --patch value '$tmp/empty.patch' (empty)" -- \
    "$zfsvm" "$cmd" --patch "$tmp/empty.patch"
  expect "$cmd: --patch without a file" 2 "$cmd: --patch needs a file" -- "$zfsvm" "$cmd" --patch
  expect "$cmd: --unfixed with --patch" 2 "$cmd: invalid options --unfixed with --patch '$tmp/empty.patch'" -- \
    "$zfsvm" "$cmd" --unfixed --patch "$tmp/empty.patch"
  expect "$cmd: --patch with --unfixed" 2 "$cmd: invalid options --unfixed with --patch '$tmp/empty.patch'" -- \
    "$zfsvm" "$cmd" --patch "$tmp/empty.patch" --unfixed
done
expect "two patches" 2 "invalid --patch value 'b.patch' (--patch 'a.patch' was given already" -- \
  "$zfsvm" build --patch a.patch --patch b.patch
if [ "$(id -u)" != 0 ]; then  # root reads any file
  printf 'x\n' >"$tmp/unreadable.patch"
  chmod 000 "$tmp/unreadable.patch"
  expect "unreadable patch" 2 "invalid --patch value '$tmp/unreadable.patch' (not readable)" -- \
    "$zfsvm" info --patch "$tmp/unreadable.patch"
fi

# Patches that do not apply to the packaged source: refused with patch's
# own words before a build starts (a build would take minutes: the test
# would time out) and before a guest boots.
cat >"$tmp/bad.patch" <<'EOF'
--- a/module/os/linux/zfs/zfs_uio.c
+++ b/module/os/linux/zfs/zfs_uio.c
@@ -1,3 +1,3 @@
-this line is not in zfs_uio.c
+nor is this one
 nor this
 nor this
EOF
printf 'this is not a patch\n' >"$tmp/garbage.patch"
if [ "$(id -u)" = 0 ] && "$zfsvm" ready >/dev/null 2>&1; then
  for cmd in build test ready info; do
    expect "$cmd: patch does not apply" 2 "Hunk #1 FAILED" -- "$zfsvm" "$cmd" --patch "$tmp/bad.patch"
  done
  expect "not a patch" 2 "Only garbage was found in the patch input" -- "$zfsvm" build --patch "$tmp/garbage.patch"
  expect "run: patch does not apply" 2 "does not apply to the source of zfs-dkms" -- \
    "$zfsvm" run --patch "$tmp/bad.patch" --out "$tmp/run" -- --profile smoke
  [ ! -e "$tmp/run" ] || { echo "FAIL run: $tmp/run was created"; fail=1; }
else
  echo "skip patch-does-not-apply cases: needs root and a warm zfs-vm cache (scripts/zfs-vm ready)"
fi
exit $fail
