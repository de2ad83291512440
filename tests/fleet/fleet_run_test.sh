#!/bin/bash
# `diobench run --host` on three namespace hosts (tests/fleet/namespace-hosts
# with sshd): a smoke matrix lands in one run directory with a row per host
# and repetition and fio's sum over the hosts; each host's set-up is done
# on that host (its scratch file, in its own directory; a loop cell's loop
# device over that file, with its direct I/O) and undone at the end; a
# server killed mid-run fails only that host's repetitions; IPv6 hosts
# ([ADDR]:PORT) run a cell as IPv4 ones do, on fio servers built with our
# server fix (scripts/fio-source server), as the README has hosts run
# them; the three IPv4 hosts run Debian's fio. The namespaces, servers and
# keys go however the test ends (trap).
# usage: fleet_run_test.sh DIOBENCH
set -u
diobench=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")  # the same path on the hosts
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../expect.sh"
hosts=$here/namespace-hosts
tmp=$(mktemp -d /var/tmp/diobench-fleet-run.XXXXXX)
state=$tmp/hosts state6=$tmp/hosts6
trap '"$hosts" down "$state"; "$hosts" down "$state6"; rm -rf "$tmp"' EXIT
command -v sqlite3 >/dev/null || { echo "FAIL sqlite3 is needed (scripts/setup)"; exit 1; }

"$hosts" up "$state" 3 --sshd || { echo "FAIL namespace hosts with sshd"; exit 1; }
mapfile -t addr < <(cut -d, -f1 "$state/hosts")
host_args=(--host "${addr[0]}" --host "${addr[1]}:8765" --host "${addr[2]}")
ssh_cmd="ssh -F $state/ssh_config"
scratch=/var/tmp/diobench-host/scratch  # each host's own (its mount namespace)

cp "$here/../../profiles/job.fio" "$tmp/job.fio"
cat >"$tmp/fleet.ini" <<'EOF'
[profile]
repetitions = 2
ramp = 0
runtime = 1
size = 16m
seed = 7
[matrix]
policy = disabled always
target = file loop
loop_dio = on
app_direct = 0
submit = psync
[workload.randread-4k]
rw = randread
bs = 4k
iodepth = 1
EOF
run() { "$diobench" run --profile "$tmp/fleet.ini" --dir "$scratch" --ssh "$ssh_cmd" "$@"; }
q() { sqlite3 "$1/results.db" "$2"; }
# The loop devices bound to a run's scratch file on any host (the hosts
# share this machine's kernel, so its loop devices).
loops_of() { grep -l "/run-$1.dat" /sys/block/loop*/loop/backing_file 2>/dev/null; }

# Bad hosts: exit 2 naming them, before anything is made.
expect "bad host name" 2 "invalid host 'no host'" -- run --host "no host" --out "$tmp/bad1"
expect "bad port" 2 "invalid host 'h:99999'" -- run --host h:99999 --out "$tmp/bad2"
expect "host twice" 2 "named twice" -- run --host h --host h:8765 --out "$tmp/bad3"
expect "IPv6 without brackets" 2 "invalid host 'fd00::2'" -- run --host fd00::2 --out "$tmp/bad4"
expect "IPv6 zone id" 2 "invalid host '\[fe80::1%eth0\]:8765'" -- \
  run --host "[fe80::1%eth0]:8765" --out "$tmp/bad5"
expect "IPv6 host twice" 2 "named twice" -- run --host "[fd00::2]" --host "[FD00:0::2]:9000" --out "$tmp/bad6"
printf '[hosts]\nlist = ok-host bad_host\n' >>"$tmp/bad.ini"
cat "$tmp/fleet.ini" >>"$tmp/bad.ini"
expect "bad [hosts]" 2 "bad.ini:2: hosts.list: invalid host 'bad_host'" -- \
  "$diobench" run --profile "$tmp/bad.ini" --dry-run
expect "zfs fleet in place refused" 2 "--in-place does not go with a fleet run" -- \
  run --backend zfs --dataset p/d --in-place --host h --out "$tmp/bad7"
for b in 1 2 3 4 5 6 7; do
  [ ! -e "$tmp/bad$b" ] || { echo "FAIL a refused run made its directory bad$b"; fail=1; }
done
expect "dry run: hosts x cells" 0 "4 cells x 3 hosts = 12 host cells" -- \
  run "${host_args[@]}" --dry-run

# ssh's shared connections (one per host for a run's commands): their
# socket directories and masters (a master retitles itself "ssh: SOCKET
# [mux]").
control_dirs() { ls -d /tmp/diobench-ssh.* 2>/dev/null | sort; }
masters_of() { pgrep -f "^ssh: $1/"; }

# 1. The whole matrix on three hosts at once.
dirs_before=$(control_dirs)
out=$(run "${host_args[@]}" --out "$tmp/run1" 2>&1)
status=$?
new_dirs=$(comm -13 <(echo "$dirs_before") <(control_dirs))
[ -z "$new_dirs" ] || { echo "FAIL ssh socket directories left after the run: $new_dirs"; fail=1; }
# (another run's masters, whose directories were there before, are not this run's)
masters=$(pgrep -af "^ssh: /tmp/diobench-ssh[.]" | grep -vF "${dirs_before:-/nothing/}")
[ -z "$masters" ] || { echo "FAIL ssh masters left after the run: $masters"; fail=1; }
labels=("${addr[0]}:8765" "${addr[1]}:8765" "${addr[2]}:8765")
[ $status -eq 0 ] || { echo "FAIL fleet run: status $status: $out"; fail=1; }
for l in "${labels[@]}"; do
  n=$(q "$tmp/run1" "SELECT count(*) FROM repetitions WHERE host = '$l' AND status = 'ok'")
  [ "$n" = 8 ] || { echo "FAIL $l: $n ok repetitions (want 4 cells x 2)"; fail=1; }
  # A loop cell ran on that host's own loop device: the job sent to the
  # host names it, the engine there saw a loop target with direct I/O on
  # that very device, and its counters were read on the host.
  n=0
  for job in "$tmp"/run1/raw/*.loop-dio-on.*/rep*."$l".fio; do
    dev=$(sed -n 's|^filename=||p' "$job")
    grep -q "\"kind\":\"loop\",.*\"loop_dio\":true,.*\"path\":\"$dev\"" "${job%.fio}.counters.jsonl" &&
      n=$((n + 1))
  done
  [ "$n" = 4 ] || { echo "FAIL $l: $n loop repetitions on its own loop device (want 4)"; fail=1; }
  n=$(q "$tmp/run1" "SELECT count(DISTINCT r.id) FROM repetitions r JOIN cells c ON c.id = r.cell_id
    JOIN device_io d ON d.repetition_id = r.id WHERE r.host = '$l' AND c.target = 'loop'
    AND d.role = 'loop' AND d.device LIKE 'loop%'")
  [ "$n" = 4 ] || { echo "FAIL $l: $n loop repetitions with their device's counters (want 4)"; fail=1; }
done
n=$(q "$tmp/run1" "SELECT count(*) FROM repetitions WHERE host = 'All clients' AND status = 'ok'")
[ "$n" = 8 ] || { echo "FAIL the sums: $n ok (want 8)"; fail=1; }
left=$(loops_of run1)
[ -z "$left" ] || { echo "FAIL loop devices left bound to the hosts' files: $left"; fail=1; }
# fio's sum moves what the hosts moved, repetition by repetition.
bad=$(q "$tmp/run1" "SELECT s.cell_id, s.repetition FROM repetitions s JOIN metrics sm ON sm.repetition_id = s.id
  WHERE s.host = 'All clients' AND sm.io_bytes != (SELECT sum(m.io_bytes) FROM repetitions r JOIN metrics m
  ON m.repetition_id = r.id WHERE r.cell_id = s.cell_id AND r.repetition = s.repetition
  AND r.host != 'All clients' AND m.direction = sm.direction)")
[ -z "$bad" ] || { echo "FAIL a sum is not the hosts' bytes: $bad"; fail=1; }
n=$(q "$tmp/run1" "SELECT count(*) FROM path_counters p JOIN repetitions r ON r.id = p.repetition_id
  WHERE r.host = '${labels[1]}' AND p.direction = 'read' AND p.requests > 0")
[ "$n" -ge 4 ] || { echo "FAIL host 2's engine counters not stored ($n)"; fail=1; }
grep -q "hosts ok: ${labels[0]} ${labels[1]} ${labels[2]}" <<<"$out" ||
  { echo "FAIL the progress line names the hosts done: $out"; fail=1; }
grep -q "\"hosts\"" "$tmp/run1/plan.json" || { echo "FAIL plan.json has no hosts"; fail=1; }
for i in 1 2 3; do  # each host's file was made in its own directory, and removed
  ls "$state/host$i/scratch/.diobench-scratch" >/dev/null 2>&1 ||
    { echo "FAIL host $i: its scratch area was not made on it"; fail=1; }
  left=$(ls -A "$state/host$i/scratch" | grep -v '^\.diobench-scratch$')
  [ -z "$left" ] || { echo "FAIL host $i: left after the run: $left"; fail=1; }
done
[ ! -e "$scratch" ] || { echo "FAIL the client made $scratch itself"; fail=1; }
[ $fail -eq 0 ] && echo "ok   three hosts: a row per host, the sums, the set-up on each host undone"
grep -E "^\[[0-9]+/[0-9]+\]" <<<"$out" | head -2 | sed 's/^/     /'
q "$tmp/run1" "SELECT 'sum of 3 hosts, per repetition: elapsed ' || round(avg(s.elapsed_ms)) || ' ms, fio ' ||
  round(avg(s.fio_ms)) || ' ms, set-up (ssh + cache drop) ' || round(avg(r.cache_drop_ms)) || ' ms (means of ' || count(*) || ')'
  FROM repetitions s JOIN repetitions r ON r.cell_id = s.cell_id AND r.repetition = s.repetition AND r.host = '${labels[0]}'
  WHERE s.host = 'All clients' AND s.status = 'ok'" | sed 's/^/     /'
expect "report of a fleet run" 0 "" -- "$diobench" report "$tmp/run1"
expect "host A against host B in one run" 0 "B: .*host \`${labels[2]}\`" -- \
  "$diobench" compare "$tmp/run1" --host "${addr[0]}" --host "${labels[2]}"
# The engine must exist on the host itself (fio servers load it there).
expect "engine missing on a host" 2 "the engine /nonexistent/engine.so does not exist on host" -- \
  $ssh_cmd -- "${addr[0]}" "$diobench" host prepare --dir "$scratch" --run x --size 16777216 \
  --engine /nonexistent/engine.so --rw randread --bs 4k
[ ! -e "$state/host1/scratch/host-x" ] || { echo "FAIL a refused prepare made its directory"; fail=1; }
# The zfs backend's set-up is each host's: a host without the dataset (no
# ZFS here; the qemu lane runs it on OpenZFS) fails its repetitions with
# the reason, and the run leaves nothing on it.
run --backend zfs --dataset tank/none --host "${addr[0]}" --filter target=file --repetitions 1 \
  --out "$tmp/zfs1" >"$tmp/zfs1.out" 2>&1
n=$(q "$tmp/zfs1" "SELECT count(*) FROM repetitions WHERE host = '${labels[0]}' AND status = 'failed'
  AND message LIKE '%dataset tank/none on host %: cannot read its direct property%'")
[ "$n" = 2 ] || { echo "FAIL zfs on a host without the dataset: $n of 2 rows failed with the reason"; fail=1; }
left=$(ls -A "$state/host1/scratch" | grep -v '^\.diobench-scratch$')
[ -z "$left" ] || { echo "FAIL host 1: left after the zfs run: $left"; fail=1; }

# 2. The client killed (SIGKILL) mid-run: `diobench restore RUNDIR` has
# each host undo its own journal.
# (diobench itself in the background, not a shell running it: the kill
# must reach the runner.)
"$diobench" run --profile "$tmp/fleet.ini" --dir "$scratch" --ssh "$ssh_cmd" "${host_args[@]}" \
  --repetitions 4 --out "$tmp/run3" >"$tmp/run3.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do  # until every host has its scratch file
  [ "$(ls "$state"/host[123]/scratch/run-run3.dat 2>/dev/null | wc -l)" = 3 ] && break
  sleep 0.1
done
kill -KILL $pid
{ wait $pid; } 2>/dev/null
pgrep -f "diobench run .*--out $tmp/run3" >/dev/null && { echo "FAIL the killed run still runs"; fail=1; }
made=$(ls "$state"/host[123]/scratch/run-run3.dat 2>/dev/null | wc -l)
[ "$made" = 3 ] || { echo "FAIL before the kill, $made hosts had their scratch file (want 3)"; fail=1; }
# The killed run's ssh masters outlive it (so its commands did share
# connections); restore ends them and removes their directory.
ctl=$(sed -n 's|.*"op":"ssh_control_dir","path":"\([^"]*\)".*|\1|p' "$tmp/run3/journal.jsonl")
[ -n "$ctl" ] && [ -d "$ctl" ] || { echo "FAIL the killed run journaled no ssh socket directory ($ctl)"; fail=1; }
[ -n "$ctl" ] && masters_of "$ctl" >/dev/null || { echo "FAIL no ssh master of the killed run (no shared connection)"; fail=1; }
expect "restore of a fleet run" 0 "3 of 3 hosts restored" -- "$diobench" restore "$tmp/run3"
for _ in $(seq 1 50); do [ -n "$ctl" ] && masters_of "$ctl" >/dev/null || break; sleep 0.1; done
[ -n "$ctl" ] && masters_of "$ctl" >/dev/null && { echo "FAIL restore left ssh masters: $(pgrep -af "^ssh: $ctl/")"; fail=1; }
[ -n "$ctl" ] && [ -e "$ctl" ] && { echo "FAIL restore left $ctl"; fail=1; }
for i in 1 2 3; do
  left=$(ls -A "$state/host$i/scratch" | grep -v '^\.diobench-scratch$')
  [ -z "$left" ] || { echo "FAIL host $i: left after restore: $left"; fail=1; }
done
left=$(loops_of run3)
[ -z "$left" ] || { echo "FAIL loop devices left after restore: $left"; fail=1; }

# A fio server goes on with the job of a client that died until the job
# ends (no later client can stop it): resume once every host's server is
# idle again, its forked job process gone (README, "A fleet run").
for i in 1 2 3; do
  ns=$(cat "$state/host$i.netns")
  for _ in $(seq 1 600); do
    jobs=0
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = fio ] && jobs=$((jobs + 1))
    done
    [ "$jobs" -le 1 ] && break
    sleep 0.1
  done
  [ "$jobs" -le 1 ] || { echo "FAIL host $i's fio server still runs the killed run's job after 60 s"; fail=1; }
done
# --resume takes the hosts and the ssh command from the run's plan.
expect "resume of a fleet run" 0 "" -- "$diobench" run --resume "$tmp/run3"
n=$(q "$tmp/run3" "SELECT count(*) FROM repetitions WHERE status = 'ok' AND host != ''")
[ "$n" = 64 ] || { echo "FAIL resumed fleet run: $n ok rows (want 4 cells x 4 x (3 hosts + sum))"; fail=1; }

# 3. Host 2's server and sshd killed while the run is going: only its
# repetitions fail, with the reason; the others stand.
run "${host_args[@]}" --repetitions 4 --out "$tmp/run2" >"$tmp/run2.out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do  # until the first repetition is stored and fio runs the second
  [ "$(q "$tmp/run2" "SELECT count(*) FROM repetitions WHERE host = 'All clients' AND status = 'ok'" 2>/dev/null)" -ge 1 ] 2>/dev/null &&
    [ "$(ls "$tmp"/run2/raw/*/rep*.fio 2>/dev/null | wc -l)" -ge 2 ] && break
  sleep 0.05
done
sleep 0.3
"$hosts" kill "$state" 2
wait $pid
status=$?
[ $status -eq 1 ] || { echo "FAIL killed host: run status $status (want 1): $(cat "$tmp/run2.out")"; fail=1; }
for l in "${labels[0]}" "${labels[2]}"; do
  n=$(q "$tmp/run2" "SELECT count(*) FROM repetitions WHERE host = '$l' AND status != 'ok' AND status != 'skipped'")
  [ "$n" = 0 ] || { echo "FAIL $l failed $n repetitions though only host 2 was killed"; fail=1; }
done
ok2=$(q "$tmp/run2" "SELECT count(*) FROM repetitions WHERE host = '${labels[1]}' AND status = 'ok'")
failed2=$(q "$tmp/run2" "SELECT count(*) FROM repetitions WHERE host = '${labels[1]}' AND status = 'failed' AND message != ''")
[ "$ok2" -ge 1 ] && [ "$failed2" -ge 1 ] && [ $((ok2 + failed2)) = 16 ] ||
  { echo "FAIL host 2: $ok2 ok, $failed2 failed with a reason (want both, 16 in all)"; fail=1; }
n=$(q "$tmp/run2" "SELECT count(*) FROM repetitions s WHERE s.host = 'All clients' AND s.status = 'failed'
  AND s.message LIKE '%${labels[1]}%'")
[ "$n" = "$failed2" ] || { echo "FAIL the sums of host 2's failed repetitions: $n failed naming it (want $failed2)"; fail=1; }
q "$tmp/run2" "SELECT message FROM repetitions WHERE host = '${labels[1]}' AND status = 'failed'" |
  sed 's/^/     host 2: /' | sort | uniq -c | head -3
grep -q "clean-up: ${labels[1]}: " "$tmp/run2.out" ||
  { echo "FAIL the lost host's clean-up is not reported: $(tail -5 "$tmp/run2.out")"; fail=1; }
for i in 1 3; do
  left=$(ls -A "$state/host$i/scratch" | grep -v '^\.diobench-scratch$')
  [ -z "$left" ] || { echo "FAIL host $i: left after the run: $left"; fail=1; }
done
# Host 2 back: `diobench restore` there undoes what its journal holds
# (its scratch file, the loop device of the repetition it lost).
expect "restore on the lost host" 0 "removed 1 scratch" -- \
  "$hosts" exec "$state" 2 "$diobench" restore "$scratch/host-run2"
left=$(ls -A "$state/host2/scratch" | grep -v '^\.diobench-scratch$'; loops_of run2)
[ -z "$left" ] || { echo "FAIL host 2: left after its restore: $left"; fail=1; }
[ $fail -eq 0 ] && echo "ok   a killed server fails only its own host's repetitions"

# 4. IPv6 hosts: two more namespace hosts whose fio servers listen on
# their IPv6 address only (sshd on both), named [ADDR] and [ADDR]:PORT;
# their servers are the fio with our server fix, so our engine must load
# and count in it too. One cell, one repetition: a row per host (labelled
# [ADDR]:PORT, also in the raw files' names) and the sum, the set-up on
# each host undone.
fail4=0
fixed_fio=$("$here/../../scripts/fio-source" server) || { echo "FAIL no fio with the server fix"; exit 1; }
"$hosts" up "$state6" 2 --sshd --ipv6 --fio "$fixed_fio" || { echo "FAIL namespace hosts with IPv6"; fail4=1; }
mapfile -t addr6 < <(sed 's/^ip6://; s/,.*//' "$state6/hosts")
labels6=("[${addr6[0]}]:8765" "[${addr6[1]}]:8765")
printf '%s\n' "[profile]" "repetitions = 1" "ramp = 0" "runtime = 1" "size = 16m" "seed = 7" \
  "[matrix]" "policy = disabled" "target = file" "app_direct = 0" "submit = psync" \
  "[workload.randread-4k]" "rw = randread" "bs = 4k" "iodepth = 1" >"$tmp/ipv6.ini"
out=$("$diobench" run --profile "$tmp/ipv6.ini" --dir "$scratch" --ssh "ssh -F $state6/ssh_config" \
  --host "[${addr6[0]}]" --host "[${addr6[1]}]:8765" --out "$tmp/run6" 2>&1)
status=$?
[ $status -eq 0 ] || { echo "FAIL IPv6 fleet run: status $status: $out"; fail4=1; }
for l in "${labels6[@]}"; do
  n=$(q "$tmp/run6" "SELECT count(*) FROM repetitions r JOIN metrics m ON m.repetition_id = r.id
    WHERE r.host = '$l' AND r.status = 'ok' AND m.direction = 'read' AND m.io_bytes > 0")
  [ "$n" = 1 ] || { echo "FAIL IPv6 host $l: $n ok repetitions that read (want 1)"; fail4=1; }
  ls "$tmp"/run6/raw/*/rep1."$l".fio >/dev/null || { echo "FAIL IPv6 host $l: no job file"; fail4=1; }
  grep -qs '"requests":[1-9]' "$tmp"/run6/raw/*/rep1."$l".counters.jsonl ||
    { echo "FAIL IPv6 host $l: no engine counters from its fio server"; fail4=1; }
done
n=$(q "$tmp/run6" "SELECT count(*) FROM repetitions WHERE host = 'All clients' AND status = 'ok'")
[ "$n" = 1 ] || { echo "FAIL the IPv6 hosts' sum: $n ok (want 1)"; fail4=1; }
for i in 1 2; do
  left=$(ls -A "$state6/host$i/scratch" 2>&1 | grep -v '^\.diobench-scratch$')
  [ -z "$left" ] || { echo "FAIL IPv6 host $i: left after the run: $left"; fail4=1; }
done
label_re=$(sed 's/[][]/\\&/g' <<<"${labels6[1]}")  # its brackets literal for grep
expect "IPv6 host A against host B" 0 "B: .*host \`$label_re\`" -- \
  "$diobench" compare "$tmp/run6" --host "[${addr6[0]}]" --host "${labels6[1]}"
[ $fail4 -eq 0 ] && echo "ok   two IPv6 hosts: a row per host and the sum"
[ $fail4 -eq 0 ] || fail=1

if [ $fail -ne 0 ]; then  # what went wrong, for the log
  for r in "$tmp"/run*/results.db; do
    echo "     $r:"; sqlite3 "$r" "SELECT host, status, message FROM repetitions WHERE status = 'failed'" | sed 's/^/       /'
  done
  tail -5 "$tmp"/run*.out 2>/dev/null | sed 's/^/     /'
fi
addresses=$(IFS='|'; echo "${addr[*]}")
namespaces=$(sed -n 's/^netns //p' "$state/made" | paste -sd'|')
addresses6=$(IFS='|'; echo "${addr6[*]}")
namespaces=$namespaces\|$(sed -n 's/^netns //p' "$state6/made" | paste -sd'|')
"$hosts" down "$state"
"$hosts" down "$state6"
left=$(ip netns list | grep -E "$namespaces"; pgrep -af "sshd -f $state";
       pgrep -af "fio --server=ip:" | grep -E "ip:($addresses),";
       pgrep -af "fio --server=ip6:" | grep -E "ip6:($addresses6),")
[ -z "$left" ] || { echo "FAIL left behind: $left"; fail=1; }
exit $fail
