#!/bin/bash
# tests/fleet/namespace-hosts, the fleet tests' "hosts": three network
# namespaces each running fio --server; our engine runs a job on all three
# through fio's client mode (each host writes into its own scratch
# directory), one killed server fails only itself, and `down` leaves no
# namespace, link, server, directory or mount point behind — also when the
# test itself is killed (trap).
# usage: namespace_hosts_test.sh ENGINE
set -u
engine=$1
here=$(dirname "$0")
. "$here/../expect.sh"
hosts=$here/namespace-hosts
tmp=$(mktemp -d /var/tmp/diobench-fleet-test.XXXXXX)
state=$tmp/hosts
trap '"$hosts" down "$state"; rm -rf "$tmp"' EXIT

expect "bad count" 2 "invalid host count '0'" -- "$hosts" up "$state" 0
expect "bad fio" 2 "invalid --fio value '$tmp/no-fio'" -- "$hosts" up "$state" 3 --fio "$tmp/no-fio"
expect "bad option" 2 "unknown option '--ssd'" -- "$hosts" up "$state" 3 --ssd
[ ! -e "$state" ] || { echo "FAIL a refused up left $state"; fail=1; }
expect "up" 0 "" -- "$hosts" up "$state" 3
id=$(sed -n 's/^netns dbh-\([0-9a-f]*\)-1$/\1/p' "$state/made")
[ "$(wc -l <"$state/hosts")" = 3 ] || { echo "FAIL hosts list: $(cat "$state/hosts")"; fail=1; }
for i in 1 2 3; do
  [ -d "$state/host$i" ] || { echo "FAIL host$i: no scratch directory"; fail=1; }
done

cat >"$tmp/job.fio" <<JOB
[j]
ioengine=external:$engine
policy=disabled
filename=job.dat
size=1m
bs=4k
rw=randread
time_based=1
runtime=3
JOB
# Host 2 is killed a second into the job: the others must report.
(sleep 1; "$hosts" kill "$state" 2) &
out=$(cd "$tmp" && timeout 60 fio --client="$state/hosts" "$tmp/job.fio" --output-format=json 2>&1)
status=$?
wait
host() { sed -n "${1}p" "$state/hosts" | cut -d, -f1; }
if [ $status -eq 1 ] && grep -q "client: host=$(host 2) disconnected" <<<"$out" &&
   grep -q "\"hostname\" : \"$(host 1)\"" <<<"$out" && grep -q "\"hostname\" : \"$(host 3)\"" <<<"$out" &&
   ! grep -q "\"hostname\" : \"$(host 2)\"" <<<"$out"; then
  echo "ok   a killed server fails only itself"
else
  echo "FAIL a killed server fails only itself: status $status, output: $out"; fail=1
fi
for i in 1 3; do
  [ -f "$state/host$i/job.dat" ] || { echo "FAIL host$i: the job did not write in its own directory"; fail=1; }
done
[ ! -e "$tmp/job.dat" ] || { echo "FAIL the job wrote in the client's directory"; fail=1; }

addresses=$(cut -d, -f1 "$state/hosts" | paste -sd'|')
expect "down" 0 "" -- "$hosts" down "$state"
expect "down twice" 0 "" -- "$hosts" down "$state"
left=$(ip netns list | grep "dbh-$id-"; ip -o link | grep "dbh$id"; pgrep -af "fio --server=ip:" | grep -E "ip:($addresses),")
[ -z "$left" ] || { echo "FAIL left behind: $left"; fail=1; }
[ ! -e "$state" ] || { echo "FAIL state directory left"; fail=1; }
exit $fail
