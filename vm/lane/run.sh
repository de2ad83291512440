# vm/lane/run.sh: `zfs-vm run` (sourced by scripts/zfs-vm): diobench run
# in a loop of guests, a fresh one after each per-cell CRASH.
#
# `run` is a loop of guests, each with a fresh pool on a fresh disk. The
# first guest runs `diobench run ARGS --out RUNDIR`. When a guest's kernel
# dies (BUG / Oops / panic on the console) or a repetition stalls (no new
# repetition for --cell-timeout seconds), the runner's RUNDIR/current.json
# names the repetition that was running; the host stores it as a CRASH
# (`diobench crashed RUNDIR --console LOG`) and boots the next guest with
# `diobench run --resume RUNDIR`, which leaves out every cell that crashed
# once. The loop ends when diobench exits inside a guest. It stops early,
# as an error of the lane, when a guest dies with no repetition running,
# ends without its exit line, or when a crash names a cell that had
# crashed already (no progress).
#
# While a guest runs, it sees a staging directory in place of RUNDIR's
# parent; the run directory is moved into it before the guest and back to
# RUNDIR after (same filesystem: the paths the runner writes down hold).
# Per guest N, RUNDIR/zfsvm/guest-N/ keeps its console.log, diobench.log,
# job.sh, guest.json, crash.txt and crashed.log; RUNDIR/zfsvm.json sums up.
#
# --slice S (for `review`): the invocation's time, crashes and the fresh
# guests after them included (so a side that crashes a guest gets no more
# of the machine in its round than one that does not): each guest's
# diobench gets SIGINT when what is left of S has passed, finishes the
# repetition it is running, cleans up and exits; `run` then exits with
# slice_rc (also when a crash leaves no time for another guest), and
# `run --resume` continues the run.

# The exit status of a run whose slice ended (timeout(1)'s, in the guest).
slice_rc=124

# keep_guest_files STAGE DIR: the guest's own files, out of the staging dir.
keep_guest_files() {
  local stage=$1 dir=$2 f
  mkdir -p "$dir"
  for f in console.log crash.txt guest.json diobench.log diobench.rc zfsvm-job.sh; do
    [ -e "$stage/$f" ] && mv "$stage/$f" "$dir/${f#zfsvm-}"
  done
  rm -f "$stage/zfsvm-boot.env"
}

# guests_kept RUNDIR: how many guests' files RUNDIR/zfsvm holds (none
# before the first guest has ended: no zfsvm directory yet).
guests_kept() {
  [ -d "$1/zfsvm" ] || { echo 0; return; }
  find "$1/zfsvm" -maxdepth 1 -name 'guest-*' | wc -l
}

# recover_staged_run DIR: the run directory a killed `run` (kill -9, a
# lost machine: no EXIT trap ran) left in its staging directory,
# DIR's parent/.zfsvm-stage.*/NAME, goes back to DIR, and that guest's
# own files (console.log, guest.json, ...) to DIR/zfsvm/guest-N as any
# guest's; the emptied staging directory goes. Only a staging directory
# `run` made: a directory, not a symlink, with a directory NAME in it.
recover_staged_run() {
  local dir=$1 parent name s n
  [ -e "$dir" ] && return 0
  parent=$(dirname "$dir") name=$(basename "$dir")
  for s in "$parent"/.zfsvm-stage.*; do
    [ -d "$s" ] && [ ! -L "$s" ] && [ -d "$s/$name" ] && [ ! -L "$s/$name" ] || continue
    log "recovering $dir from $s, where a run that was killed left it"
    mv "$s/$name" "$dir"
    n=$(guests_kept "$dir")
    keep_guest_files "$s" "$dir/zfsvm/guest-$((n + 1))"
    rm -rf --one-file-system "$s"
    return 0
  done
}

cmd_run() {
  show_progress=1
  local out="" resume="" timeout=${ZFSVM_TIMEOUT:-} cell_timeout=${ZFSVM_CELL_TIMEOUT:-1800} passthru=() slice=""
  while [ $# -gt 0 ]; do
    if variant_option run "$@"; then shift "$took"; continue; fi
    case $1 in
      --out) [ $# -ge 2 ] || usage_error "run: --out needs a directory"; out=$2; shift ;;
      --resume) [ $# -ge 2 ] || usage_error "run: --resume needs a run directory"; resume=$2; shift ;;
      --pool-size) [ $# -ge 2 ] || usage_error "run: --pool-size needs a size"; pool_size=$2; shift
        [[ $pool_size =~ ^[0-9]+[MG]$ ]] || usage_error "run: invalid --pool-size value '$pool_size' (e.g. 8G)" ;;
      --timeout) [ $# -ge 2 ] || usage_error "run: --timeout needs seconds"; timeout=$2; shift
        [[ $timeout =~ ^[1-9][0-9]*$ ]] || usage_error "run: invalid --timeout value '$timeout' (seconds)" ;;
      --cell-timeout) [ $# -ge 2 ] || usage_error "run: --cell-timeout needs seconds"; cell_timeout=$2; shift ;;
      --slice) [ $# -ge 2 ] || usage_error "run: --slice needs seconds"; slice=$2; shift
        [[ $slice =~ ^[1-9][0-9]*$ ]] || usage_error "run: invalid --slice value '$slice' (whole seconds)" ;;
      --) shift; passthru=("$@"); break ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "run: unknown argument '$1' (diobench's own arguments go after --)" ;;
    esac
    shift
  done
  resolve_variant run
  [[ $cell_timeout =~ ^[1-9][0-9]*$ ]] ||
    usage_error "run: invalid --cell-timeout value '$cell_timeout' (ZFSVM_CELL_TIMEOUT / --cell-timeout: whole seconds)"
  local a force=()
  for a in "${passthru[@]}"; do
    case $a in
      --out|--out=*) usage_error "run: invalid argument '$a' after -- (give the run directory as: zfs-vm run --out DIR -- ...)" ;;
      --resume|--resume=*) usage_error "run: invalid argument '$a' after -- (finish a run with: zfs-vm run --resume DIR)" ;;
      --force-unsafe) force=(--force-unsafe) ;;
    esac
  done
  # With --resume only these may follow --: the run keeps its own
  # arguments, an --until-decided run may get a new budget or cap.
  local resume_args=() i
  if [ -n "$resume" ]; then
    for ((i = 0; i < ${#passthru[@]}; i++)); do
      a=${passthru[i]}
      case $a in
        --force-unsafe) resume_args+=("$a") ;;
        --budget|--max-repetitions)
          [ $((i + 1)) -lt ${#passthru[@]} ] || usage_error "run: $a needs a value"
          resume_args+=("$a" "${passthru[i + 1]}"); i=$((i + 1)) ;;
        --budget=*|--max-repetitions=*) resume_args+=("$a") ;;
        *) usage_error "run: invalid argument '$a' after -- with --resume (only --force-unsafe, --budget, --max-repetitions; the run keeps its own arguments)" ;;
      esac
    done
  else
    resume_args=(${force[@]+"${force[@]}"})  # a guest after a crash: the run's own plan, forced as it was
  fi
  if [ -n "$resume" ]; then
    [ -z "$out" ] || usage_error "run: invalid --out value '$out' (--resume continues the run in its own directory)"
    recover_staged_run "$resume"
    [ -f "$resume/plan.json" ] && [ -f "$resume/results.db" ] ||
      usage_error "run: invalid --resume value '$resume' (not a diobench run directory: no plan.json/results.db)"
    [ "$(jq -r .dataset "$resume/plan.json" 2>/dev/null)" = zfsvmrun/bench ] ||
      usage_error "run: invalid --resume value '$resume' (not made by zfs-vm run: its dataset is not zfsvmrun/bench)"
    out=$(realpath "$resume")
  elif [ -n "$out" ]; then
    check_out_path "$out"
    [ -e "$out" ] && usage_error "run: invalid --out value '$out' (exists; diobench creates the run directory)"
  fi
  check_out_path "${out:-/}"
  check_timeout "$timeout"
  ensure_ready
  need_diobench
  local guests='[]' crashes='[]' n=0 mode=new
  if [ -n "$resume" ]; then
    mode=resume
    if [ -s "$out/zfsvm.json" ]; then
      local was
      was=$(jq -r .zfs_variant "$out/zfsvm.json")
      [ "$was" = "$variant" ] ||
        usage_error "run: invalid --resume value '$resume' (made with the $was build, this is $variant: give $(variant_hint "$was"))"
      was=$(jq -r '.image // empty' "$out/zfsvm.json")
      [ -z "$was" ] || [ "$was" = "$image" ] ||
        usage_error "run: invalid --resume value '$resume' (made with image $was, this is $image: give --image $was)"
      guests=$(jq -c '.guests // []' "$out/zfsvm.json")
      crashes=$(jq -c '.crashes // []' "$out/zfsvm.json")
    fi
    n=$(guests_kept "$out")
  fi
  out=${out:-/var/tmp/diobench-runs/$(utc_stamp)-zfsvm$(variant_suffix)}
  local parent name stage
  parent=$(dirname "$out")
  name=$(basename "$out")
  mkdir -p "$parent"
  stage=$(mktemp -d "$parent/.zfsvm-stage.XXXXXX")
  tmpdirs+=("$stage")
  timeout=${timeout:-21600}
  case $PWD in
    /tmp|/tmp/*|/run|/run/*|/var/tmp|/var/tmp/*)
      log "note: the guest has its own /tmp, /run and /var/tmp: relative paths in the arguments will not resolve from $PWD" ;;
  esac

  local lane_error="" rc="" t0=$SECONDS gd drc cell rep excerpt first_facts="" started_as
  while :; do
    n=$((n + 1))
    gd=$out/zfsvm/guest-$n
    if [ -e "$out/current.json" ]; then
      # left by a guest that was stopped (Ctrl-C) during a repetition; not
      # stored, so the runner runs it again: no guest is running it now
      log "removing $out/current.json of an interrupted repetition ($(tr -d '\n' <"$out/current.json"))"
      rm -f "$out/current.json"
    fi
    [ -d "$out" ] && mv "$out" "$stage/$name"
    choose_accel
    { printf 'ZFSVM_REPO=%q\nZFSVM_RUN_DIR=%q\nZFSVM_CWD=%q\n' "$guest_top" "$out" "$PWD"
      printf 'ZFSVM_RESUME=%d\nZFSVM_SLICE=%q\n' "$([ "$mode" = resume ] && echo 1 || echo 0)" \
        "$([ -z "$slice" ] || echo $((slice - (SECONDS - t0))))"
      # for the run's system information (the runner stores DIOBENCH_SYSINFO_A_B as a.b)
      printf 'export DIOBENCH_SYSINFO_VM_ACCELERATOR=%q\n' "$accel"
      printf 'export DIOBENCH_SYSINFO_VM_EMULATED_CPU=%q\n' "$([ "$accel" = tcg ] && echo yes || echo no)"
      printf 'export DIOBENCH_SYSINFO_VM_IMAGE=%q\n' "$image"
      printf 'export DIOBENCH_SYSINFO_VM_GUEST_KERNEL=%q\n' "$kver"
      printf 'export DIOBENCH_SYSINFO_VM_ZFS_PACKAGE=%q\n' "$zpkg"
      printf 'export DIOBENCH_SYSINFO_VM_ZFS_VARIANT=%q\n' "$variant"
      if [ -n "$patch_file" ]; then
        printf 'export DIOBENCH_SYSINFO_VM_ZFS_PATCH=%q\n' "$(basename "$patch_file")"
        printf 'export DIOBENCH_SYSINFO_VM_ZFS_PATCH_SHA256=%q\n' "$patch_sha"
      fi
      if [ -n "$source_dir" ]; then
        printf 'export DIOBENCH_SYSINFO_VM_ZFS_SOURCE=%q\n' "$source_dir"
        printf 'export DIOBENCH_SYSINFO_VM_ZFS_SOURCE_COMMIT=%q\n' "${source_commit:-none}"
        printf 'export DIOBENCH_SYSINFO_VM_ZFS_SOURCE_UNCOMMITTED_SHA256=%q\n' "${source_diff:-none}"
      fi
      if [ "$mode" = resume ]; then job_array ZFSVM_ARGS ${resume_args[@]+"${resume_args[@]}"}; else job_array ZFSVM_ARGS "${passthru[@]}"; fi
    } >"$stage/zfsvm-job.sh"
    started_as=$mode
    log "guest $n: diobench run $([ "$mode" = resume ] && echo "--resume $out${resume_args[*]:+ ${resume_args[*]}}" || echo "${passthru[*]}")"
    rescue_from=$stage/$name rescue_to=$out rescue_logs=$gd rescue_stage=$stage
    stall_file=$stage/$name/current.json stall_limit=$cell_timeout
    boot_guest "$stage" "$parent" "$vmdir/guest/run.sh" "$timeout"
    stall_file="" rescue_from="" rescue_logs=""
    if [ -d "$stage/$name" ]; then
      mv "$stage/$name" "$out"
    else
      mkdir -p "$out"
      log "diobench created no run directory; $out holds the guest's logs only"
    fi
    keep_guest_files "$stage" "$gd"
    drc=$(cat "$gd/diobench.rc" 2>/dev/null || true)
    [ -z "$first_facts" ] && [ -s "$gd/guest.json" ] && first_facts=$gd/guest.json
    cell="" rep="" excerpt=""
    if [ "$verdict" = OK ]; then
      if [ -n "$drc" ]; then
        rc=$drc
      else
        lane_error="guest $n: the guest script ended (rc ${guest_rc:-?}) before diobench did (see $gd/console.log)"
      fi
    elif [ "$verdict" = CRASH ] && [ -s "$out/current.json" ]; then
      cell=$(jq -r '.cell // empty' "$out/current.json" 2>/dev/null || true)
      rep=$(jq -r '.repetition // empty' "$out/current.json" 2>/dev/null || true)
      case $reason in
        "guest hung"*) excerpt=$reason ;;  # the console's report, if any, is `crashed`'s to find
        *) excerpt=$(grep -E -m1 -A11 "$crash_re" "$gd/crash.txt" | sed -E 's/^ *[0-9.]+ (\[ *[0-9.]+\] )?//' || true) ;;
      esac
      if [ -z "$cell" ]; then
        lane_error="guest $n crashed ($reason), and $out/current.json names no cell"
      elif jq -e --arg c "$cell" 'any(.[]; .cell == $c)' <<<"$crashes" >/dev/null; then
        lane_error="no progress: cell $cell crashed again in guest $n, although the runner leaves out crashed cells"
      else
        # the kernel's lines of the console, without the host's time stamps
        sed -nE 's/^ *[0-9]+\.[0-9]+ (\[ *[0-9]+\.[0-9]+\] )/\1/p' "$gd/console.log" >"$gd/console.guest.log"
        local crashed=("$top/build/diobench" crashed "$out" --console "$gd/console.guest.log")
        [ "$excerpt" = "$reason" ] && crashed+=(--reason "$reason")
        local crashed_ok=0
        "${crashed[@]}" >"$gd/crashed.log" 2>&1 && crashed_ok=1
        rm -f "$gd/console.guest.log"
        if [ "$crashed_ok" = 1 ]; then
          log "guest $n: CRASH in cell $cell, repetition $rep: recorded; the next guest resumes the run"
          crashes=$(jq -c --arg c "$cell" --arg r "$rep" --argjson g "$n" --arg why "$reason" --arg x "$excerpt" \
            '. + [{cell: $c, repetition: ($r | tonumber? // null), guest: $g, reason: $why, excerpt: $x}]' <<<"$crashes")
          mode=resume
        else
          lane_error="guest $n: \`diobench crashed\` failed to record cell $cell: $(tail -3 "$gd/crashed.log" | tr '\n' ' ')"
        fi
      fi
    elif [ "$verdict" = CRASH ]; then
      lane_error="guest $n: $reason, with no repetition running (no current.json in $out): an error of the lane, not a result"
    else
      lane_error="guest $n: $verdict: $reason"
    fi
    guests=$(jq -c --argjson g "$n" --arg mode "$started_as" --arg v "$verdict" --arg why "$reason" --arg rc "$drc" \
      --arg cell "$cell" --arg b "${t_boot:-}" --arg z "${t_zfs:-}" --arg w "$t_wall" \
      '. + [{guest: $g, diobench: (if $mode == "resume" then "run --resume" else "run" end), verdict: $v, reason: (if $why == "" then null else $why end),
             diobench_rc: ($rc | tonumber? // null), crashed_cell: (if $cell == "" then null else $cell end),
             seconds: {guest_booted: ($b | tonumber? // null), zfs_loaded: ($z | tonumber? // null),
                       wall: ($w | tonumber)}}]' <<<"$guests")
    write_run_facts "$out" "$first_facts" "$guests" "$crashes" "$rc" "$lane_error" "${passthru[@]}"
    if [ -z "$lane_error" ] && [ "$verdict" = CRASH ]; then
      if [ -n "$slice" ] && [ $((slice - (SECONDS - t0))) -lt 1 ]; then
        log "the slice of ${slice}s is used up (crashes included): no further guest in this round"
        rc=$slice_rc
        break
      fi
      continue
    fi
    break
  done

  echo
  echo "guest: $accel, kernel $kver, zfs $zpkg ($variant); $(jq length <<<"$guests") guest(s) booted, $((SECONDS - t0)) s in all"
  echo "run directory: $out (facts: $out/zfsvm.json, guest logs: $out/zfsvm/)"
  if [ "$(jq length <<<"$crashes")" -gt 0 ]; then
    echo "cells that crashed the guest (stored as status crash):"
    jq -r '.[] | "  \(.cell) (repetition \(.repetition), guest \(.guest)): \(.excerpt | split("\n")[0])"' <<<"$crashes"
  fi
  if [ -s "$out/results.db" ] && command -v sqlite3 >/dev/null; then
    echo "repetitions by status: $(sqlite3 "$out/results.db" "SELECT status || ' ' || count(*) FROM repetitions GROUP BY status" 2>/dev/null | paste -sd, - | sed 's/,/, /g')"
  fi
  if [ -n "$lane_error" ]; then
    echo "outcome: ERROR -- $lane_error"
    return 1
  fi
  if [ -n "$slice" ] && [ "$rc" = "$slice_rc" ]; then
    echo "outcome: the slice of ${slice}s ended (diobench stopped after the repetition it was running); continue with: scripts/zfs-vm run$variant_args --slice $slice --resume $out"
  else
    echo "outcome: diobench run exited $rc"
  fi
  return "$rc"
}

# write_run_facts RUNDIR GUEST_JSON GUESTS CRASHES RC LANE_ERROR ARGS...:
# RUNDIR/zfsvm.json, rewritten after every guest.
write_run_facts() {
  local dir=$1 facts=$2 guests=$3 crashes=$4 rc=$5 lane_error=$6
  shift 6
  local extra
  extra=$(jq -n -c --arg rc "$rc" --argjson guests "$guests" --argjson crashes "$crashes" --args \
    '{diobench_args: $ARGS.positional, diobench_rc: ($rc | tonumber? // null),
      guests_booted: ($guests | length), guests: $guests, crashes: $crashes}' -- "$@")
  local verdict=OK reason="" t_boot t_zfs t_wall guest_rc=""
  [ -n "$lane_error" ] && verdict=ERROR reason=$lane_error
  t_boot=$(jq -r '.[0].seconds.guest_booted // empty' <<<"$guests")
  t_zfs=$(jq -r '.[0].seconds.zfs_loaded // empty' <<<"$guests")
  t_wall=$(jq -r 'map(.seconds.wall) | add' <<<"$guests")
  write_facts "$dir/zfsvm.json" "$extra" "$facts"
}
