# vm/lane/test.sh: `zfs-vm test` (sourced by scripts/zfs-vm). One guest
# runs vm/guest/test.sh; the host judges what it left: diobench check of
# the cells and of the runner's run, the probes (shown, never judged),
# the reproducer, the guest's own checks. With the unfixed build only the
# reproducer runs, and it must crash the guest; any other variant (fixed,
# or another --patch) is held to what the fixed build passes.

cmd_test() {
  local quick=0 out="" timeout=${ZFSVM_TIMEOUT:-}
  while [ $# -gt 0 ]; do
    if variant_option test "$@"; then shift "$took"; continue; fi
    case $1 in
      --quick) quick=1 ;;
      --out) [ $# -ge 2 ] || usage_error "test: --out needs a directory"; out=$2; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "test: unknown argument '$1'" ;;
    esac
    shift
  done
  resolve_variant test
  if [ -n "$out" ]; then
    check_out_path "$out"
    [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && usage_error "test: invalid --out value '$out' (exists and is not empty)"
  fi
  check_timeout "$timeout"
  ensure_ready
  need_diobench
  out=${out:-/var/tmp/diobench-zfsvm/test-$(utc_stamp)$(variant_suffix)}
  mkdir -p "$out"
  local args=()
  if is_unfixed; then
    args=(--repro-only)
    timeout=${timeout:-600}
  else
    [ "$quick" = 1 ] && args=(--quick)
    timeout=${timeout:-$([ "$quick" = 1 ] && echo 1200 || echo 3600)}
  fi
  { printf 'ZFSVM_REPO=%q\n' "$guest_top"; job_array ZFSVM_ARGS "${args[@]}"; } >"$out/zfsvm-job.sh"
  boot_guest "$out" "$out" "$vmdir/guest/test.sh" "$timeout"
  write_facts "$out/zfsvm.json" '{}' "$out/guest.json"

  local status=0 why=""
  echo
  if is_unfixed; then
    # The reproducer must kill this kernel, in the function the fix changed.
    if [ "$verdict" = CRASH ] && grep -q 'REPRO step 1' "$out/console.log"; then
      local where="in zfs_uio_get_dio_pages_alloc"
      grep -q 'zfs_uio_get_dio_pages_alloc' "$excerpt_file" || where="(zfs_uio_get_dio_pages_alloc not in the trace)"
      echo "reproducer on the unfixed build: CRASH $where, as expected: $([ "$where" = "in zfs_uio_get_dio_pages_alloc" ] && echo PASS || echo FAIL)"
      echo "  $reason"
      grep -q 'zfs_uio_get_dio_pages_alloc' "$excerpt_file" || test_failed "the reproducer's crash is not in zfs_uio_get_dio_pages_alloc"
    else
      echo "reproducer on the unfixed build: $verdict${reason:+ ($reason)} -- expected CRASH: FAIL"
      test_failed "the reproducer did not crash the unfixed build: $verdict${reason:+ ($reason)}"
    fi
  else
    if [ "$verdict" != OK ]; then
      # a hung guest says so in its own words (console_verdict, guest.sh)
      if [[ $reason == "guest hung"* ]]; then echo "$reason"; else echo "guest: $verdict: $reason"; fi
      test_failed "$([[ $reason == "guest hung"* ]] || echo "guest: $verdict: ")$reason"
    fi
    if [ -d "$out/cells" ]; then
      echo "== the policy model's prediction vs the pool's iostats, per cell (diobench check) =="
      "$top/build/diobench" check "$out" | tee "$out/check.txt" || test_failed "diobench check of the cells failed (table above)"
    else
      echo "no cells were run"
      test_failed "no cells were run"
    fi
    echo
    echo "== the runner's zfs backend: diobench run --profile smoke, direct=disabled and always (diobench check) =="
    if [ -s "$out/runner-run/results.db" ]; then
      echo "  diobench run exited $(cat "$out/runner-run.rc" 2>/dev/null || echo '?') (log: $out/runner-run.log)"
      "$top/build/diobench" check "$out/runner-run" | tee "$out/runner-run/check.txt" ||
        test_failed "diobench check of the runner's run failed (table above)"
    else
      echo "  FAIL: no run directory $out/runner-run (log: $out/runner-run.log)"
      test_failed "no run directory of the runner's smoke run"
    fi
    echo
    echo "== a fleet run's zfs backend: diobench run --host (the guest its own host), direct=disabled and always (diobench check) =="
    check_fleet_run "$out/fleet-run"
    local probe
    for probe in "$out"/probes/*/; do
      [ -d "$probe/cells" ] || continue
      echo
      echo "== probe $(basename "$probe") (informational: not part of the verdict) =="
      # the checker's last line relabelled: a probe never fails the lane
      "$top/build/diobench" check "${probe%/}" | sed -n '/^cell /,$p' |
        sed -E 's/^check: FAIL/probe: differs from the model here (informational, vm\/README.md "Probes")/; s/^check: PASS/probe: as the model predicts/' || true
    done
    echo
    echo "== reproducer (OpenZFS issue 16956) on the $variant build =="
    if [ -s "$out/repro.json" ]; then
      jq -r '.steps[] | "  \(.step): \(.result) -- \(.detail)"' "$out/repro.json"
      jq -e '.steps | length == 3 and all(.[]; .result == "PASS")' "$out/repro.json" >/dev/null ||
        test_failed "the reproducer did not pass on the $variant build"
    else
      echo "  no result (repro.json missing)"
      test_failed "no reproducer result (repro.json missing)"
    fi
    echo
    echo "== guest checks =="
    if [ -s "$out/guest-checks.txt" ]; then
      sed 's/^/  /' "$out/guest-checks.txt"
      grep -qP '\tFAIL\t' "$out/guest-checks.txt" && test_failed "a guest check failed (above)"
    else
      echo "  none recorded"
      test_failed "no guest checks recorded"
    fi
  fi
  echo
  echo "guest: $accel, kernel $kver, zfs $zpkg ($variant); boot ${t_boot:-?}s, zfs loaded ${t_zfs:-?}s, wall ${t_wall}s"
  echo "results: $out"
  if [ "$status" = 0 ]; then echo "zfs-vm test: PASS"; else echo "zfs-vm test: FAIL: $why"; fi
  return $status
}

# check_fleet_run DIR: the guest's fleet run (vm/guest/test.sh run_fleet)
# judged: fio's sum over the host passes diobench check, and every row of
# the host is ok with the pool's iostats agreeing with the engine's split.
check_fleet_run() {
  local dir=$1 host_rows agreeing
  if [ ! -s "$dir/results.db" ]; then
    echo "  FAIL: no run directory $dir (log: $dir.log)"
    test_failed "no run directory of the guest's fleet run"
    return
  fi
  echo "  diobench run exited $(cat "$dir.rc" 2>/dev/null || echo '?') (log: $dir.log)"
  "$top/build/diobench" check "$dir" | tee "$dir/check.txt" ||
    test_failed "diobench check of the guest's fleet run failed (table above)"
  host_rows=$(sqlite3 "$dir/results.db" "SELECT count(*) FROM repetitions WHERE host = '127.0.0.1:8765'")
  agreeing=$(sqlite3 "$dir/results.db" "SELECT count(*) FROM repetitions WHERE host = '127.0.0.1:8765'
    AND status = 'ok' AND split_check = 'agrees'")
  echo "  the host's own rows: $agreeing of $host_rows ok with the pool's iostats agreeing"
  [ "$host_rows" -gt 0 ] && [ "$agreeing" = "$host_rows" ] ||
    test_failed "the guest's fleet run: $agreeing of $host_rows host rows ok and agreeing"
}

# test_failed WHY: the test fails; the first WHY is the one its last line
# names (scripts/test quotes that line).
test_failed() {
  status=1
  [ -n "$why" ] || why=$1
}
