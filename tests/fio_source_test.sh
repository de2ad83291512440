#!/bin/bash
# scripts/fio-source refuses a missing, unconfigured, unstamped or
# mismatched fio tree with exit 2 and a message saying which.
# usage: fio_source_test.sh SCRIPT GOOD_TREE
set -u
tool=$1 good=$2
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/expect.sh"

expect "good tree accepted" 0 "$good" -- "$tool" check "$good"
expect "missing tree" 2 "not found at $tmp/none" -- "$tool" check "$tmp/none"
mkdir "$tmp/empty"
expect "not a fio tree" 2 "not a fio source tree" -- "$tool" check "$tmp/empty"

# A copy of the good tree with the version stamp of another fio release.
cp -a "$good" "$tmp/other"
echo "3.32-2" >"$tmp/other/.diobench-fio-version"
expect "version mismatch" 2 "version mismatch: .* is fio 3.32-2 but the installed fio is" -- "$tool" check "$tmp/other"
rm "$tmp/other/.diobench-fio-version"
expect "no stamp" 2 "no .diobench-fio-version stamp" -- "$tool" check "$tmp/other"
cp "$good/.diobench-fio-version" "$tmp/other/"
rm "$tmp/other/config-host.h"
expect "unconfigured" 2 "not configured" -- "$tool" check "$tmp/other"
# Headers configured without a library the installed fio links.
cp "$good/config-host.h" "$tmp/other/"
sed -i '/^#define CONFIG_ZLIB/d' "$tmp/other/config-host.h"
expect "layout differs" 2 "lacks CONFIG_ZLIB" -- "$tool" check "$tmp/other"
expect "bad usage" 2 "usage" -- "$tool" frobnicate

# The fio a fleet's hosts serve with: the installed fio's version, built
# with the patch of docs/upstream (applied in its server.c, named with its
# checksum in the stamp); a second call finds it built.
patch=$(dirname "$0")/../docs/upstream/fio-server-wait-on-socket.patch
server=$("$tool" server) || { echo "FAIL fio-source server: status $?"; fail=1; }
if [ -n "$server" ] && [ -x "$server" ]; then
  [ "$("$server" --version)" = "$(fio --version)" ] ||
    { echo "FAIL the fixed fio says $("$server" --version), the installed one $(fio --version)"; fail=1; }
  grep -q xmit_pending "$(dirname "$server")/server.c" ||
    { echo "FAIL the fixed fio's server.c lacks the patch"; fail=1; }
  [ "$(cut -d' ' -f2 "$(dirname "$server")/.diobench-fio-version")" = "$(sha256sum <"$patch" | cut -d' ' -f1)" ] ||
    { echo "FAIL the fixed fio's stamp does not name the patch's checksum"; fail=1; }
  expect "fixed fio found again" 0 "^$server\$" -- "$tool" server
else
  echo "FAIL fio-source server printed no executable: '$server'"; fail=1
fi
# CMake stops at configure time with the script's explanation.
expect "cmake refuses a mismatched tree" 1 "version mismatch" -- \
  bash -c "echo 3.32-2 >'$tmp/other/.diobench-fio-version'; cmake -S '$(dirname "$tool")/..' -B '$tmp/build' -DDIOBENCH_FIO_SOURCE='$tmp/other' -DDIOBENCH_TESTS=OFF"
exit $fail
