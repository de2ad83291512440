#!/bin/bash
# scripts/zfs-vm's bad input: exit 2 with the offending value named, refused
# before anything is built or booted, so no guest and no network are needed;
# and the variant keys (`zfs-vm variant`), the review's arguments; last,
# zfs_vm_resume_test.sh: run and review resumed after a kill -9.
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
for cmd in build test run script shell info ready variant; do
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
# --zfs-source: a tree that is not OpenZFS's, named with why; not with a patch.
mkdir -p "$tmp/notzfs" "$tmp/nomodule"
printf 'Meta: 1\nName: spl\n' >"$tmp/notzfs/META"
printf 'Meta: 1\nName: zfs\nVersion: 2.3.2\nRelease: 1\n' >"$tmp/nomodule/META"
for cmd in build test run info ready variant; do
  expect "$cmd: --zfs-source missing" 2 "$cmd: invalid --zfs-source value '$tmp/none' (no such directory)" -- \
    "$zfsvm" "$cmd" --zfs-source "$tmp/none"
done
expect "--zfs-source a file" 2 "invalid --zfs-source value '$tmp/empty.patch' (not a directory)" -- \
  "$zfsvm" build --zfs-source "$tmp/empty.patch"
expect "--zfs-source without META" 2 "invalid --zfs-source value '$tmp' (no META file: not an OpenZFS source tree)" -- \
  "$zfsvm" build --zfs-source "$tmp"
expect "--zfs-source of another package" 2 "invalid --zfs-source value '$tmp/notzfs' (its META does not say 'Name: zfs'" -- \
  "$zfsvm" build --zfs-source "$tmp/notzfs"
expect "--zfs-source without module/zfs" 2 "invalid --zfs-source value '$tmp/nomodule' (no module/zfs directory" -- \
  "$zfsvm" build --zfs-source "$tmp/nomodule"
expect "--zfs-source needs a directory" 2 "build: --zfs-source needs a directory" -- "$zfsvm" build --zfs-source
mkdir -p "$tmp/nomodule/module/zfs"
expect "--zfs-source with --unfixed" 2 "invalid options --zfs-source '$tmp/nomodule' with --unfixed" -- \
  "$zfsvm" build --zfs-source "$tmp/nomodule" --unfixed
expect "--zfs-source with --patch" 2 "invalid options --zfs-source '$tmp/nomodule' with --patch '$tmp/empty.patch'" -- \
  "$zfsvm" run --patch "$tmp/empty.patch" --zfs-source "$tmp/nomodule"

# Variant keys (`zfs-vm variant`: no cache, apt or root). A patch is keyed
# by its content; the unfixed patch's content, under any name, is the
# unfixed variant. A source checkout by its commit, plus the digest of
# what is not committed (tracked changes and files git would add, not
# what it ignores); a plain tree by its content.
key() { "$zfsvm" variant "$@" 2>&1 | sed -n 's/^variant: //p'; }
want_key() {  # NAME WANT GOT
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: variant '$3', want '$2'"; fail=1; fi
}
unfixed=$(dirname "$0")/../vm/patches/unfixed-pin-every-iterator.patch
cp "$unfixed" "$tmp/renamed.patch"
want_key "fixed" fixed "$(key)"
want_key "--unfixed" "unfixed-$(sha256sum <"$unfixed" | cut -c1-8)" "$(key --unfixed)"
want_key "the unfixed patch renamed" "$(key --unfixed)" "$(key --patch "$tmp/renamed.patch")"
printf -- '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n' >"$tmp/other.patch"
want_key "another patch" "patch-$(sha256sum <"$tmp/other.patch" | cut -c1-8)" "$(key --patch "$tmp/other.patch")"
"$zfsvm" variant --patch "$tmp/other.patch" | grep -q "^label:   diobench_patch_$(sha256sum <"$tmp/other.patch" | cut -c1-8)\$" ||
  { echo "FAIL another patch: no diobench_patch_ label"; fail=1; }
src=$tmp/zfs-checkout
mkdir -p "$src/module/zfs"
cp "$tmp/nomodule/META" "$src/META"
printf 'int arc;\n' >"$src/module/zfs/arc.c"
printf '*.o\n' >"$src/.gitignore"
git -C "$src" init -q && git -C "$src" add -A &&
  git -C "$src" -c user.name=t -c user.email=t@example.org commit -qm one
commit=$(git -C "$src" rev-parse HEAD)
clean=$(key --zfs-source "$src")
want_key "clean checkout" "src-${commit:0:12}" "$clean"
printf 'x\n' >"$src/module/zfs/arc.o"
want_key "an ignored file is no change" "$clean" "$(key --zfs-source "$src")"
printf 'int arc2;\n' >>"$src/module/zfs/arc.c"
changed=$(key --zfs-source "$src")
[[ $changed == "src-${commit:0:12}-"[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] ]] &&
  echo "ok   uncommitted change keyed" || { echo "FAIL uncommitted change: variant '$changed'"; fail=1; }
printf 'int new;\n' >"$src/module/zfs/new.c"
untracked=$(key --zfs-source "$src")
[ "$untracked" != "$changed" ] && [ "${untracked:0:17}" = "${changed:0:17}" ] &&
  echo "ok   untracked file keyed" || { echo "FAIL untracked file: variant '$untracked' (was '$changed')"; fail=1; }
rm "$src/module/zfs/new.c"
git -C "$src" checkout -q module/zfs/arc.c
want_key "back to the commit" "$clean" "$(key --zfs-source "$src")"
cp -r "$src" "$tmp/moved"
want_key "the same commit elsewhere" "$clean" "$(key --zfs-source "$tmp/moved")"
rm -rf "$src/.git"
tree=$(key --zfs-source "$src")
[[ $tree == src-tree-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f] ]] &&
  echo "ok   plain tree keyed by content" || { echo "FAIL plain tree: variant '$tree'"; fail=1; }
printf 'int arc3;\n' >>"$src/module/zfs/arc.c"
[ "$(key --zfs-source "$src")" != "$tree" ] && echo "ok   plain tree's content changes its key" ||
  { echo "FAIL plain tree: its key did not change with its content"; fail=1; }

# review: both sides named, each one of fixed | unfixed | patch:FILE |
# source:DIR, checked before anything is built; run's own options are
# review's.
expect "review: no base" 2 "review: which build is the base?" -- "$zfsvm" review --candidate fixed
expect "review: no candidate" 2 "review: which build is the candidate?" -- "$zfsvm" review --base fixed
expect "review: unknown side" 2 "review: invalid --base value 'fixd' (fixed, unfixed, patch:FILE or source:DIR)" -- \
  "$zfsvm" review --base fixd --candidate fixed
expect "review: empty patch side" 2 "review: invalid --candidate value 'patch:'" -- \
  "$zfsvm" review --base fixed --candidate patch:
expect "review: missing patch" 2 "review --candidate: invalid --patch value '$tmp/none.patch' (no such file)" -- \
  "$zfsvm" review --base fixed --candidate "patch:$tmp/none.patch"
expect "review: base not OpenZFS" 2 "review --base: invalid --zfs-source value '$tmp/notzfs' (its META" -- \
  "$zfsvm" review --base "source:$tmp/notzfs" --candidate fixed
expect "review: --out after --" 2 "review: invalid argument '--out' after --" -- \
  "$zfsvm" review --base fixed --candidate unfixed -- --profile smoke --out /x
expect "review: --resume after --" 2 "review: invalid argument '--resume=/x' after --" -- \
  "$zfsvm" review --base fixed --candidate unfixed -- --resume=/x
expect "review: bad slice" 2 "review: invalid --slice value '0'" -- \
  "$zfsvm" review --base fixed --candidate unfixed --slice 0
expect "review: relative --out" 2 "invalid --out value 'rel'" -- \
  "$zfsvm" review --base fixed --candidate unfixed --out rel
expect "review: existing --out" 2 "review: invalid --out value '$tmp' (exists" -- \
  "$zfsvm" review --base fixed --candidate unfixed --out "$tmp"
expect "review: unknown argument" 2 "review: unknown argument '--profile'" -- \
  "$zfsvm" review --base fixed --candidate unfixed --profile smoke
expect "run: bad slice" 2 "run: invalid --slice value '5s'" -- "$zfsvm" run --slice 5s -- --profile smoke

# --image: every command takes it; an image vm/images does not name is
# refused before anything is built, naming it and listing the known ones.
images=$(dirname "$0")/../vm/images
known=$(awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$images" | paste -sd' ' | sed 's/ /, /g')
for cmd in build test run script shell info ready variant; do
  expect "$cmd: unknown image" 2 "$cmd: invalid --image value 'sid-9.9-9.9.9' (known images: $known)" -- \
    "$zfsvm" "$cmd" --image sid-9.9-9.9.9
done
expect "--image without a name" 2 "build: --image needs a name" -- "$zfsvm" build --image
expect "two images" 2 "invalid --image value 'b' (--image 'a' was given already)" -- \
  "$zfsvm" build --image a --image b
expect "review: unknown image" 2 "review: invalid --image value 'nope' (known images: $known)" -- \
  "$zfsvm" review --base fixed --candidate unfixed --image nope
# review --resume: the directory's review.json says everything; other
# options beside it are refused; a side whose last round ended its run is
# not run again (both ended: straight to the comparison, no guest).
expect "review: resume what is not a review" 2 "review: invalid --resume value '$tmp' (no review.json: not a review directory)" -- \
  "$zfsvm" review --resume "$tmp"
expect "review: resume with a side named" 2 "review: invalid argument '--base' with --resume" -- \
  "$zfsvm" review --resume "$tmp" --base fixed
mkdir -p "$tmp/rv-bad" "$tmp/rv-ended"
echo '{"base": "fixed"}' >"$tmp/rv-bad/review.json"
expect "review: resume a broken record" 2 "review: invalid --resume value '$tmp/rv-bad' ($tmp/rv-bad/review.json is not a review's record)" -- \
  "$zfsvm" review --resume "$tmp/rv-bad"
jq -n '{base: "fixed", candidate: "unfixed", image: "", slice_seconds: 240, diobench_args: ["--profile", "smoke"],
        rounds: [{round: 1, side: "base", exit: 124, seconds: 250}, {round: 1, side: "candidate", exit: 0, seconds: 200},
                 {round: 2, side: "base", exit: 0, seconds: 100}], seconds: 550}' >"$tmp/rv-ended/review.json"
expect "review: resume of an ended review compares" 1 "review: diobench compare failed" -- \
  "$zfsvm" review --resume "$tmp/rv-ended"
expect "images: no arguments" 2 "images: unknown argument '--image'" -- "$zfsvm" images --image x
# The catalogue: six columns, and each name says what its columns hold
# (USERLAND-SERIES-ZFS; the host's userland is bookworm).
while read -r name userland kernel series zsuite zver extra; do
  want=$([ "$userland" = host ] && echo bookworm || echo "$userland")-$series-$zver
  if [ -z "$zver" ] || [ -n "$extra" ] || [ "$name" != "$want" ] || [[ $kernel != linux-image-amd64* ]] || [ -z "$zsuite" ]; then
    echo "FAIL vm/images: line of '$name' (want name '$want', 6 columns, kernel linux-image-amd64[/SUITE])"; fail=1
  else
    echo "ok   vm/images: $name"
  fi
done < <(grep -vE '^[[:space:]]*(#|$)' "$images")
first=$(awk '!/^[[:space:]]*(#|$)/ { print $1; exit }' "$images")
[ "$first" = bookworm-6.1-2.3.2 ] && echo "ok   the default image is bookworm-6.1-2.3.2" ||
  { echo "FAIL the default image is '$first', not bookworm-6.1-2.3.2 (CI's lane and its cache)"; fail=1; }

# images: each image's state from the records its builds leave in the
# cache (an empty cache of our own here): not built, built (a record whose
# guest directory holds the modules and the initramfs), does not build
# (a recorded error, its first lines shown); a record whose build is gone
# is not built.
ic=$tmp/cache
mkdir -p "$ic/images" "$ic/g/modules"
second=$(awk '!/^[[:space:]]*(#|$)/ { n++; if (n == 2) { print $1; exit } }' "$images")
state() { ZFSVM_CACHE=$ic "$zfsvm" images 2>&1 | awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print; exit }'; }
want_state() {  # NAME IMAGE PATTERN
  local got
  got=$(state "$2")
  if grep -q -- "$3" <<<"$got"; then echo "ok   $1"; else echo "FAIL $1: images says '$got' for $2, want '$3'"; fail=1; fi
}
want_state "images: empty cache" "$second" "^not built (scripts/zfs-vm build --image $second)\$"
printf 'kernel=9.9.9-amd64 zfs=9.9.9-1 gdir=%s
' "$ic/g" >"$ic/images/$second.built"
want_state "images: a record without its build" "$second" "^not built"
: >"$ic/g/modules/zfs.ko"
: >"$ic/g/initramfs.cpio"
want_state "images: built" "$second" "^built: kernel 9.9.9-amd64, zfs 9.9.9-1\$"
rm "$ic/images/$second.built"
printf 'kernel=9.9.9-amd64 zfs=9.9.9-1 at 2026-01-01T00:00:00Z
zfs configure failed for 9.9.9-amd64
checking kernel source version... 9.9.9
configure: error: Found kernel 9.9.9, expected 4.18 to 6.15
' \
  >"$ic/images/$second.failed"
want_state "images: does not build" "$second" "^does not build: kernel=9.9.9-amd64 zfs=9.9.9-1"
ZFSVM_CACHE=$ic "$zfsvm" images | grep -q "^    configure: error: Found kernel 9.9.9, expected 4.18 to 6.15\$" &&
  echo "ok   images: the recorded error's lines" || { echo "FAIL images: the recorded error's lines not shown"; fail=1; }
[ "$(ZFSVM_CACHE=$ic "$zfsvm" images | grep -c '^[^ ]')" = "$(grep -cvE '^[[:space:]]*(#|$)' "$images")" ] &&
  echo "ok   images: one line per image" || { echo "FAIL images: not one line per image"; fail=1; }

# matrix: bad input refused before anything runs; --dry-run shows each
# entry's state from the scratch cache above ($second: does not build,
# with its error, and not run) and from run directories it finds, and
# starts nothing.
expect "matrix: unknown image" 2 "matrix: invalid --images value 'sid-9.9-9.9.9' (known images: $known)" -- \
  "$zfsvm" matrix --images "$first,sid-9.9-9.9.9" --dry-run
expect "matrix: unknown unfixed image" 2 "matrix: invalid --with-unfixed value 'nope' (known images: $known)" -- \
  "$zfsvm" matrix --with-unfixed nope --dry-run
expect "matrix: an image twice" 2 "matrix: invalid --images value '$first,$first' ($first twice)" -- \
  "$zfsvm" matrix --images "$first,$first" --dry-run
expect "matrix: empty name" 2 "matrix: invalid --images value '$first,' (names separated by commas)" -- \
  "$zfsvm" matrix --images "$first," --dry-run
expect "matrix: relative --out" 2 "invalid --out value 'rel' (an absolute path)" -- "$zfsvm" matrix --out rel --dry-run
expect "matrix: unknown option" 2 "matrix: unknown argument '--profile'" -- "$zfsvm" matrix --profile smoke
expect "matrix: --out after --" 2 "matrix: invalid argument '--out=/x' after --" -- "$zfsvm" matrix --dry-run -- --out=/x
expect "matrix: --out not a matrix" 2 "matrix: invalid --out value '$tmp' (exists, is not empty and has no matrix.json)" -- \
  "$zfsvm" matrix --out "$tmp" --dry-run
expect "matrix: arguments diobench refuses" 2 "matrix: diobench run refuses the arguments '--profile $tmp/none.ini" -- \
  "$zfsvm" matrix --out "$tmp/mx" --dry-run -- --profile "$tmp/none.ini"
mx() { ZFSVM_CACHE=$ic "$zfsvm" matrix --images "$first,$second" --with-unfixed "$first" --out "$1" --dry-run "${@:2}" 2>&1; }
want_line() {  # NAME OUTPUT LINE: OUTPUT has LINE, whole
  if grep -qxF -- "$3" <<<"$2"; then echo "ok   $1"; else echo "FAIL $1: no line '$3' in: $2"; fail=1; fi
}
got=$(mx "$tmp/mx")
want_line "matrix: would run" "$got" "$first: would run"
want_line "matrix: the run command" "$got" \
  "    $zfsvm run --image $first --out $tmp/mx/$first -- --profile version-matrix --backend zfs --arc-drop export --force-unsafe --seed $(sed -n 's/.* --seed \([0-9]*\))$/\1/p' <<<"$got" | head -1)"
want_line "matrix: unfixed entry" "$got" "$first-unfixed: would run"
want_line "matrix: unfixed run command" "$got" \
  "$(grep -F " --image $first --out " <<<"$got" | sed "s| --image $first --out $tmp/mx/$first | --image $first --unfixed --out $tmp/mx/$first-unfixed |")"
want_line "matrix: does not build, not run" "$got" "$second: not run: does not build: kernel=9.9.9-amd64 zfs=9.9.9-1 at 2026-01-01T00:00:00Z"
want_line "matrix: its recorded error" "$got" "    configure: error: Found kernel 9.9.9, expected 4.18 to 6.15"
grep -q -- "--out $tmp/mx/$second " <<<"$got" && { echo "FAIL matrix: would run $second, which does not build"; fail=1; }
[ ! -e "$tmp/mx" ] && echo "ok   matrix: --dry-run creates nothing" || { echo "FAIL matrix: --dry-run created $tmp/mx"; fail=1; }
# a matrix found on disk: its own arguments, a finished entry reused, an
# interrupted one resumed, one whose guests crashed reused
m=$tmp/mx2
mkdir -p "$m/$first" "$m/$first-unfixed"
printf '{"given_args": [], "args": ["--profile", "smoke", "--force-unsafe", "--seed", "77"], "entries": []}\n' >"$m/matrix.json"
for d in "$m/$first" "$m/$first-unfixed"; do : >"$d/plan.json"; : >"$d/results.db"; done
printf '{"outcome": "OK", "diobench_rc": 0, "guests_booted": 1, "crashes": []}\n' >"$m/$first/zfsvm.json"
printf '{"outcome": "OK", "diobench_rc": null, "guests_booted": 2, "crashes": [{"cell": "c1"}]}\n' >"$m/$first-unfixed/zfsvm.json"
got=$(mx "$m")
want_line "matrix: its recorded arguments" "$got" "matrix: $m (diobench run --profile smoke --force-unsafe --seed 77)"
want_line "matrix: finished entry reused" "$got" "$first: reuse (done: diobench run exited 0)"
want_line "matrix: interrupted entry resumed" "$got" "$first-unfixed: would resume (interrupted: 2 guest(s) so far)"
want_line "matrix: the resume command" "$got" "    $zfsvm run --image $first --unfixed --resume $m/$first-unfixed -- --force-unsafe"
printf '{"outcome": "OK", "diobench_rc": 0, "guests_booted": 2, "crashes": [{"cell": "c1"}]}\n' >"$m/$first-unfixed/zfsvm.json"
want_line "matrix: crashed guest reused" "$(mx "$m")" "$first-unfixed: reuse (crashed-guest: 1 cell(s) crashed a guest: c1)"
printf '{"outcome": "OK", "diobench_rc": null, "guests_booted": 1, "crashes": []}\n' >"$m/$first/zfsvm.json"
expect "matrix: the first entry resumed" 0 "^$first: would resume (interrupted: 1 guest(s) so far)\$" -- \
  env ZFSVM_CACHE="$ic" "$zfsvm" matrix --images "$first" --out "$m" --dry-run
# a matrix of an image that does not build: no guest, its error in summary.md
expect "matrix: only an image that does not build" 0 "^- \*\*$second\*\* (does-not-build): does not build: kernel=9.9.9-amd64" -- \
  env ZFSVM_CACHE="$ic" "$zfsvm" matrix --images "$second" --out "$tmp/mx3" -- --profile smoke --backend zfs
grep -qxF "  configure: error: Found kernel 9.9.9, expected 4.18 to 6.15" "$tmp/mx3/summary.md" &&
  [ "$(jq -r '.entries[0].state' "$tmp/mx3/matrix.json")" = does-not-build ] && [ ! -e "$tmp/mx3/$second" ] &&
  echo "ok   matrix: summary.md and matrix.json of an image that does not build" ||
  { echo "FAIL matrix: $tmp/mx3: $(cat "$tmp/mx3/summary.md" "$tmp/mx3/matrix.json" 2>&1)"; fail=1; }
expect "matrix: other arguments than its own" 2 "matrix: invalid --out value '$m' (a matrix made with the arguments '' after --" -- \
  "$zfsvm" matrix --out "$m" --dry-run -- --profile quick

# How a guest ended, read from its console (console_verdict in
# vm/lane/guest.sh, sourced here alone): fixtures of a stamped console.
verdict_of() {  # LOG QEMU_RC STALL_FLAG TIMEOUT: prints "VERDICT|REASON"
  # under scripts/zfs-vm's own options: a step that fails there ends it
  ( set -euo pipefail
    top=$(dirname "$0")/..
    # shellcheck source=/dev/null
    . "$top/vm/lane/guest.sh"
    console_verdict "$1" "$2" "$3" "$4" "$tmp/excerpt.txt"
    # shellcheck disable=SC2154 # set by console_verdict
    echo "$verdict|$reason" )
}
want_verdict() {  # NAME WANT GOT
  if [ "$2" = "$3" ]; then echo "ok   $1"; else echo "FAIL $1: '$3', want '$2'"; fail=1; fi
}
c=$tmp/console.log
cat >"$c" <<'CONSOLE'
   0.52 [    0.000000] Linux version 6.1.0-57-amd64
  20.10 zfsvm-guest: [18.20s] ZFSVM-BOOTED kernel 6.1.0-57-amd64
  40.00 zfsvm-guest: INFO: task fake:1 blocked for more than 1 seconds.
 300.12 [  245.100000] INFO: task txg_quiesce:2172 blocked for more than 120 seconds.
 300.13 [  245.100100]       Tainted: P           OE      6.1.0-57-amd64 #1 Debian 6.1.158-1
 300.20 zfsvm-hung-task: [  245.100200] task:txg_quiesce     state:D stack:0     pid:2172  ppid:2      flags:0x00004000
 300.21 zfsvm-hung-task: [  245.100300]  txg_quiesce_thread+0x2a1/0x3e0 [zfs]
 301.40 [  246.300000] INFO: task fio:3001 blocked for more than 120 seconds.
 421.00 [  366.000000] INFO: task txg_quiesce:2172 blocked for more than 241 seconds.
CONSOLE
want_verdict "guest hung: stopped by the timeout, blocked tasks named" \
  "CRASH|guest hung: stopped by its timeout after 1200 s; the kernel reported blocked tasks: txg_quiesce:2172, fio:3001" \
  "$(verdict_of "$c" 124 "$tmp/none" 1200)"
grep -q 'zfsvm-hung-task: .*txg_quiesce_thread' "$tmp/excerpt.txt" && grep -q 'INFO: task txg_quiesce:2172' "$tmp/excerpt.txt" &&
  echo "ok   guest hung: the excerpt has the report and its stack" || { echo "FAIL guest hung: excerpt: $(cat "$tmp/excerpt.txt")"; fail=1; }
printf 'one repetition ran more than 1800 s (c1)\n' >"$tmp/stalled"
want_verdict "guest hung: stopped by the stall watch" \
  "CRASH|guest hung: one repetition ran more than 1800 s (c1): stopped by the stall watch; the kernel reported blocked tasks: txg_quiesce:2172, fio:3001" \
  "$(verdict_of "$c" 143 "$tmp/stalled" 21600)"
head -3 "$c" >"$tmp/quiet.log"
want_verdict "guest hung: no task named" \
  "CRASH|guest hung: stopped by its timeout after 600 s (no result, and no task reported blocked on the console: hung, or too slow)" \
  "$(verdict_of "$tmp/quiet.log" 137 "$tmp/none" 600)"
{ head -2 "$c"; echo ' 250.00 [  200.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008'; tail -2 "$c"; } >"$tmp/bug.log"
want_verdict "a kernel crash stays one, whatever stopped the guest" \
  "CRASH|kernel crash 250.00 s after qemu started: BUG: kernel NULL pointer dereference, address: 0000000000000008" \
  "$(verdict_of "$tmp/bug.log" 124 "$tmp/none" 1200)"
{ head -2 "$c"; echo ' 90.00 zfsvm-guest: [88.00s] ZFSVM-EXIT rc=0'; } >"$tmp/ok.log"
want_verdict "a guest that ends" "OK|" "$(verdict_of "$tmp/ok.log" 0 "$tmp/none" 1200)"
cat "$c" "$tmp/ok.log" >"$tmp/both.log"
want_verdict "hung-task lines, but the guest ended: a crash line" \
  "CRASH|kernel crash 300.12 s after qemu started: INFO: task txg_quiesce:2172 blocked for more than 120 seconds." \
  "$(verdict_of "$tmp/both.log" 0 "$tmp/none" 1200)"
# the guest's copy of a hung-task report (hung_task_echo, vm/guest/lib.sh):
# from the report on, prefixed; nothing before it
got=$(printf '[ 1.0] boot\n[ 2.0] INFO: task a:1 blocked for more than 120 seconds.\n[ 2.1] stack\n' |
  ( # shellcheck source=/dev/null
    . "$(dirname "$0")/../vm/guest/lib.sh" && hung_task_copy ))
want_verdict "the guest's copy of a hung-task report" \
  "zfsvm-hung-task: [ 2.0] INFO: task a:1 blocked for more than 120 seconds.
zfsvm-hung-task: [ 2.1] stack" "$got"

# a guest's stall dump (stall_dump, vm/guest/lib.sh) on its console: the
# reason points at it, and the excerpt holds each of its lines once
{ cat "$c"; echo ' 480.00 zfsvm-stall: cell always.loop-dio-on.seqwrite1m still running after 180 s; kernel stacks (uptime 475.1 s):'
  echo ' 480.01 zfsvm-stall: -- 2301/2301 fio state S'
  echo ' 480.02 zfsvm-stall: [<0>] zio_wait+0x1b7/0x2a0 [zfs]'; } >"$tmp/stall.log"
want_verdict "guest hung, with the guest's stall dump" \
  "CRASH|guest hung: stopped by its timeout after 1200 s; the kernel reported blocked tasks: txg_quiesce:2172, fio:3001; the guest dumped its stacks when cell always.loop-dio-on.seqwrite1m had run 180 s (crash.txt)" \
  "$(verdict_of "$tmp/stall.log" 124 "$tmp/none" 1200)"
want_verdict "the excerpt has the stall dump, each line once" "1 1" \
  "$(grep -c 'zfsvm-stall: .*zio_wait' "$tmp/excerpt.txt") $(grep -c 'zfsvm-stall: .*still running' "$tmp/excerpt.txt")"
{ head -3 "$c"; tail -3 "$tmp/stall.log"; } >"$tmp/stall-quiet.log"
want_verdict "no task named, but a stall dump" \
  "CRASH|guest hung: stopped by its timeout after 600 s (no result, and no task reported blocked on the console: hung, or too slow); the guest dumped its stacks when cell always.loop-dio-on.seqwrite1m had run 180 s (crash.txt)" \
  "$(verdict_of "$tmp/stall-quiet.log" 124 "$tmp/none" 600)"
want_verdict "no task named: the stall dump in the excerpt once" "1" "$(grep -c 'zfsvm-stall: .*zio_wait' "$tmp/excerpt.txt")"
# run_watched (vm/guest/lib.sh): the dump once when the command outlives
# its limit, none when it ends first; the command's status either way
got=$( ( # shellcheck source=/dev/null
  . "$(dirname "$0")/../vm/guest/lib.sh"
  stall_dump() { echo "dump: $1 after $2 s"; }
  run_watched 1 "cell slow" sh -c 'sleep 2; exit 3'; echo "slow rc $?"
  run_watched 5 "cell quick" false; echo "quick rc $?" ) )
want_verdict "run_watched: a dump for the slow command only, statuses kept" \
  "dump: cell slow after 1 s
slow rc 3
quick rc 1" "$got"
# stall_stacks: a process named fio is listed with its kernel stack (root
# reads /proc/PID/stack)
# (its own directory: $tmp/bin is the stand-in qemu's, first on PATH below)
mkdir -p "$tmp/stand-in-fio" && ln -sf "$(command -v sleep)" "$tmp/stand-in-fio/fio"
"$tmp/stand-in-fio/fio" 30 & fio_pid=$!
sleep 0.3
got=$( ( # shellcheck source=/dev/null
  . "$(dirname "$0")/../vm/guest/lib.sh" && stall_stacks ) | grep -A3 "^-- $fio_pid/$fio_pid fio state S")
kill "$fio_pid"; wait "$fio_pid" 2>/dev/null
want_verdict "stall_stacks: a sleeping fio and its stack" "yes" \
  "$(grep -q 'nanosleep' <<<"$got" && echo yes || echo "no: '$got'")"

# zfs_module_before (vm/guest/lib.sh): which module versions test.sh
# treats as having OpenZFS issue 17277 (before 2.3.3)
got=""
for v in 2.3.2-2~bpo12+2 2.3.2-2~bpo12+2.diobench_unfixed_391048c8 2.2.7-1 2.3.3-1 2.3.9-1 2.4.4-1 garbage; do
  echo "$v" >"$tmp/zfs-version"
  got+="$v:$( ( # shellcheck source=/dev/null
    . "$(dirname "$0")/../vm/guest/lib.sh" && zfs_module_before 2.3.3 "$tmp/zfs-version") && echo before || echo not) "
done
want_verdict "zfs_module_before 2.3.3" \
  "2.3.2-2~bpo12+2:before 2.3.2-2~bpo12+2.diobench_unfixed_391048c8:before 2.2.7-1:before 2.3.3-1:not 2.3.9-1:not 2.4.4-1:not garbage:not " "$got"

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
  # A guest that outlives its timeout: a stand-in for qemu (first on PATH)
  # prints a hung-task report and waits; `test` must reach its verdict and
  # name it (timeout(1)'s 124 once ended zfs-vm silently before it).
  mkdir -p "$tmp/bin"
  cat >"$tmp/bin/qemu-system-x86_64" <<'QEMU'
#!/bin/sh
[ "$1" = --version ] && { echo "QEMU emulator version 0.0 (a stand-in of zfs_vm_test.sh)"; exit 0; }
echo "[   12.000000] INFO: task txg_quiesce:2172 blocked for more than 120 seconds."
exec sleep 600
QEMU
  chmod +x "$tmp/bin/qemu-system-x86_64"
  expect "test: a guest stopped by its timeout" 1 "^zfs-vm test: FAIL: guest hung: stopped by its timeout after 3 s; the kernel reported blocked tasks: txg_quiesce:2172\$" -- \
    env PATH="$tmp/bin:$PATH" ZFSVM_ACCEL=tcg ZFSVM_TIMEOUT=3 "$zfsvm" test --quick --out "$tmp/hung"
else
  echo "skip patch-does-not-apply cases and the guest timeout: need root and a warm zfs-vm cache (scripts/zfs-vm ready)"
fi

# run and review finished after a kill -9 in a guest, a review's candidate
# round first: no image and no guest (a stand-in plays it)
"$(dirname "$0")/zfs_vm_resume_test.sh" "$zfsvm" || fail=1
exit $fail
