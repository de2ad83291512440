# vm/lane/matrix.sh: `zfs-vm matrix` (sourced by scripts/zfs-vm): one
# profile on several guest images in turn, one `zfs-vm run` directory per
# entry, then `diobench compare` of them side by side.
#
# An entry is an image of vm/images (the fixed build), or the unfixed
# variant of one (--with-unfixed IMAGE: entry IMAGE-unfixed). Each entry
# is a `zfs-vm run` of its own, so a crash, a fresh guest after it and a
# stalled repetition are handled as `run` handles them. DIR/matrix.json
# records the plan and the state of every entry; the same command again
# reuses what finished, continues what was interrupted (`run --resume`)
# and runs what is missing: the matrix is resumable.

# Short enough for a matrix of six entries under TCG: profiles/
# version-matrix.ini, the zfs-answer profile's 18 cells (the verdict's)
# with 3 repetitions of 2 s (54 repetitions, about 15 min a guest under
# TCG as measured on 2026-12-03, two guests side by side); no
# --until-decided (its budget counts the base repetitions, and its
# batches would multiply the time).
matrix_default_args=(--profile version-matrix --backend zfs --arc-drop export)

# matrix_plan IMAGES UNFIXED: the entries into entry_names, entry_image
# and entry_variant; an unknown image is bad usage (exit 2).
matrix_plan() {
  local list=$1 unfixed=$2 name names
  entry_names=() entry_image=() entry_variant=()
  [ -n "$list" ] || list=$(image_names | paste -sd,)
  IFS=, read -ra names <<<"$list"
  for name in "${names[@]}"; do
    matrix_known --images "$name"
    [[ " ${entry_names[*]} " != *" $name "* ]] || usage_error "matrix: invalid --images value '$list' ($name twice)"
    entry_names+=("$name") entry_image+=("$name") entry_variant+=(fixed)
  done
  [ -n "$unfixed" ] || return 0
  matrix_known --with-unfixed "$unfixed"
  entry_names+=("$unfixed-unfixed") entry_image+=("$unfixed") entry_variant+=(unfixed)
}

# matrix_known OPTION NAME: NAME is an image of vm/images, else exit 2.
matrix_known() {
  image_names | grep -qxF -- "$2" ||
    usage_error "matrix: invalid $1 value '$2' (known images: $(image_names | paste -sd' ' | sed 's/ /, /g'))"
}

# entry_state DIR IMAGE: what the entry's run directory (or its image's
# build record) says, into state and why: new, resume, done,
# crashed-guest, failed or does-not-build.
entry_state() {
  local dir=$1 facts=$1/zfsvm.json rc outcome
  want_image=$2 state="" why="" built=""
  resolve_image matrix
  if [ ! -e "$dir" ]; then
    state=new built=$(image_state)
    [[ $built != "does not build"* ]] || state=does-not-build why=$built
    return
  fi
  if [ ! -f "$dir/plan.json" ] || [ ! -f "$dir/results.db" ]; then
    state=failed why="diobench made no run directory (guest logs: $dir/zfsvm/)"
    return
  fi
  rc=$(jq -r '.diobench_rc // empty' "$facts" 2>/dev/null || true)
  outcome=$(jq -r '.outcome // empty' "$facts" 2>/dev/null || true)
  if [ "$outcome" = ERROR ]; then
    state=failed why="lane error: $(jq -r .outcome_reason "$facts")"
  elif [ -z "$rc" ] || [ "$rc" = "$slice_rc" ]; then
    state=resume why="interrupted: $(jq -r '.guests_booted // 0' "$facts" 2>/dev/null || echo 0) guest(s) so far"
  elif [ "$rc" = 2 ]; then
    state=failed why="diobench run refused its arguments (exit 2; $dir/zfsvm/guest-*/diobench.log)"
  elif [ "$(jq '.crashes | length' "$facts")" -gt 0 ]; then
    state=crashed-guest why="$(jq -r '"\(.crashes | length) cell(s) crashed a guest: \([.crashes[].cell] | join(", "))"' "$facts")"
  else
    state=done why="diobench run exited $rc"
  fi
}

# matrix_run_cmd I: the `zfs-vm run` of entry I (by its state) into run_cmd.
matrix_run_cmd() {
  local i=$1 dir=$out/${entry_names[$1]}
  run_cmd=("$0" run --image "${entry_image[i]}")
  [ "${entry_variant[i]}" = unfixed ] && run_cmd+=(--unfixed)
  if [ "$state" = resume ]; then
    run_cmd+=(--resume "$dir")
    if has_arg --force-unsafe "${args[@]}"; then run_cmd+=(-- --force-unsafe); fi
  else
    run_cmd+=(--out "$dir" -- "${args[@]}")
  fi
}

# matrix_check_args: diobench run's own check of the arguments (a
# --dry-run on the host, with the dataset the guest adds), before any
# guest boots: a bad profile or option is exit 2 here, not after a build.
matrix_check_args() {
  local try=("${args[@]}") msg
  has_arg --backend "${try[@]}" || try+=(--backend zfs)
  has_arg --dataset "${try[@]}" || try+=(--dataset zfsvmrun/bench)
  [ -x "$top/build/diobench" ] || { echo "arguments: not checked (no $top/build/diobench: scripts/build)"; return 0; }
  msg=$("$top/build/diobench" run "${try[@]}" --dry-run 2>&1 >/dev/null) ||
    usage_error "matrix: diobench run refuses the arguments '${args[*]}': $(head -3 <<<"$msg")"
}

cmd_matrix() {
  local list="" unfixed="" out="" dry=0 given=() a
  while [ $# -gt 0 ]; do
    case $1 in
      --images) [ $# -ge 2 ] || usage_error "matrix: --images needs a list (A,B,...)"; list=$2; shift
        [[ $list =~ ^[^,]+(,[^,]+)*$ ]] || usage_error "matrix: invalid --images value '$list' (names separated by commas)" ;;
      --with-unfixed) [ $# -ge 2 ] || usage_error "matrix: --with-unfixed needs an image"; unfixed=$2; shift ;;
      --out) [ $# -ge 2 ] || usage_error "matrix: --out needs a directory"; out=$2; shift ;;
      --dry-run) dry=1 ;;
      --) shift; given=("$@"); break ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "matrix: unknown argument '$1' (diobench's own arguments go after --)" ;;
    esac
    shift
  done
  for a in ${given[@]+"${given[@]}"}; do
    case $a in
      --out|--out=*|--resume|--resume=*) usage_error "matrix: invalid argument '$a' after -- (the matrix keeps one run directory per entry under --out)" ;;
    esac
  done
  matrix_plan "$list" "$unfixed"
  out=${out:-/var/tmp/diobench-zfsvm/matrix-$(utc_stamp)}
  check_out_path "$out"
  # the arguments: given, else the default; every entry runs the crashing
  # cells (the guest is disposable: a crash is that entry's result) in
  # one order (one seed); an existing matrix keeps its own
  args=(${given[@]+"${given[@]}"})
  [ ${#args[@]} -gt 0 ] || args=("${matrix_default_args[@]}")
  has_arg --force-unsafe "${args[@]}" || args+=(--force-unsafe)
  has_arg --seed "${args[@]}" || args+=(--seed "$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) | 1 ))")
  if [ -f "$out/matrix.json" ]; then
    [ "$(jq -c .given_args "$out/matrix.json")" = "$(json_words ${given[@]+"${given[@]}"})" ] ||
      usage_error "matrix: invalid --out value '$out' (a matrix made with the arguments '$(jq -r '.given_args | join(" ")' "$out/matrix.json")' after --: give those, or another --out)"
    mapfile -t args < <(jq -r '.args[]' "$out/matrix.json")
  elif [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
    usage_error "matrix: invalid --out value '$out' (exists, is not empty and has no matrix.json)"
  fi
  matrix_check_args
  if [ "$dry" = 1 ]; then matrix_show; return 0; fi
  need_diobench
  mkdir -p "$out"
  matrix_entries
  matrix_compare
}

# matrix_show: --dry-run: each entry, its state and the command it would run.
matrix_show() {
  local i
  echo "matrix: $out (diobench run $(shell_words "${args[@]}"))"
  for i in "${!entry_names[@]}"; do
    entry_state "$out/${entry_names[i]}" "${entry_image[i]}"
    case $state in
      new|resume) matrix_run_cmd "$i"
        echo "${entry_names[i]}: $([ "$state" = new ] && echo "would run" || echo "would resume ($why)")"
        [[ $built != "not built"* ]] || echo "    (the image is not built: run builds it first)"
        echo "    $(shell_words "${run_cmd[@]}")" ;;
      does-not-build) echo "${entry_names[i]}: not run: ${why%%$'\n'*}"
        sed -n '2,$p' <<<"$why" ;;
      failed) echo "${entry_names[i]}: failed earlier, not run again: $why (remove $out/${entry_names[i]} to run it anew)" ;;
      *) echo "${entry_names[i]}: reuse ($state: $why)" ;;
    esac
  done
}

# matrix_entries: every entry in turn, its state in DIR/matrix.json after each.
matrix_entries() {
  local i e rc t0 was
  matrix_record -1 "" 0
  for i in "${!entry_names[@]}"; do
    e=${entry_names[i]}
    was=$(jq -r --arg e "$e" '[.entries[] | select(.entry == $e) | .seconds][0] // 0' "$out/matrix.json")
    entry_state "$out/$e" "${entry_image[i]}"
    case $state in
      new|resume) ;;
      *) log "matrix: $e: $state${why:+: ${why%%$'\n'*}}"; matrix_record "$i" "$why" "$was"; continue ;;
    esac
    matrix_run_cmd "$i"
    log "matrix: entry $((i + 1)) of ${#entry_names[@]}, $e: $(shell_words "${run_cmd[@]}")"
    t0=$SECONDS rc=0
    # tee ignores the signals that stop the run: a Ctrl-C reaches the whole
    # process group, and `run`'s clean-up (stopping the guest, moving the
    # run directory out of its staging directory) must not die writing to
    # a pipe whose reader has gone
    "${run_cmd[@]}" 2>&1 | (trap '' INT TERM HUP; exec tee -a "$out/$e.log") || rc=${PIPESTATUS[0]}
    entry_state "$out/$e" "${entry_image[i]}"
    if [ "$rc" = 2 ]; then state=failed why="zfs-vm run: bad usage (exit 2; $out/$e.log)"
    elif [ "$state" = new ]; then state=failed why="zfs-vm run exited $rc before a run directory existed ($out/$e.log)"
    elif [ "$state" = resume ]; then state=failed why="zfs-vm run exited $rc and the run is not finished ($out/$e.log)"
    fi
    matrix_record "$i" "$why" $((was + SECONDS - t0))
    log "matrix: $e: $state${why:+ (${why%%$'\n'*})} after $((SECONDS - t0)) s"
  done
}

# matrix_record I WHY SECONDS: entry I's state into DIR/matrix.json (I -1:
# the plan alone, each entry as recorded before, or "planned").
matrix_record() {
  local file=$out/matrix.json prev='{}' plan j
  [ -f "$file" ] && prev=$(cat "$file")
  plan=$(for j in "${!entry_names[@]}"; do
    jq -n -c --arg e "${entry_names[j]}" --arg im "${entry_image[j]}" --arg v "${entry_variant[j]}" \
      '{entry: $e, image: $im, variant: $v, state: "planned", reason: null, seconds: 0}'
  done | jq -s -c .)
  local guest_s=null
  [ "$1" -lt 0 ] || guest_s=$(jq '[.guests[]?.seconds.wall] | add' "$out/${entry_names[$1]}/zfsvm.json" 2>/dev/null) || guest_s=null
  jq --argjson plan "$plan" --argjson i "$1" --arg s "${state:-}" --arg why "$2" --argjson sec "$3" --argjson gs "${guest_s:-null}" \
    --arg out "$out" --argjson given "$(json_words ${given[@]+"${given[@]}"})" --argjson args "$(json_words "${args[@]}")" '
    (.entries // []) as $old |
    {given_args: $given, args: $args, dir: $out,
     note: "under qemu TCG absolute guest numbers mean little: compare ratios within one run, and the paths",
     entries: [$plan | to_entries[] | .key as $k | .value as $p |
       if $k == $i then $p + {state: $s, reason: (if $why == "" then null else $why end), seconds: $sec, guest_seconds: $gs}
       else (($old | map(select(.entry == $p.entry)) | first) // $p) end]}' <<<"$prev" >"$file.new"
  mv "$file.new" "$file"
}

json_words() { jq -n -c '$ARGS.positional' --args -- "$@"; }
shell_words() { local w; w=$(printf '%q ' "$@"); echo "${w% }"; }

# matrix_compare: the finished runs side by side, and DIR/summary.md.
matrix_compare() {
  local runs=() e n=0 failed=0
  while IFS=$'\t' read -r e st; do
    case $st in done|crashed-guest) runs+=("$out/$e") ;; does-not-build) ;; *) failed=1 ;; esac
  done < <(jq -r '.entries[] | [.entry, .state] | @tsv' "$out/matrix.json")
  n=${#runs[@]}
  rm -f "$out/comparison.md" "$out/comparison.json"
  if [ "$n" -ge 2 ]; then
    "$top/build/diobench" compare --side-by-side "${runs[@]}" --format md >"$out/comparison.md" ||
      die "matrix: diobench compare failed"
    "$top/build/diobench" compare --side-by-side "${runs[@]}" --format json >"$out/comparison.json" ||
      die "matrix: diobench compare --format json failed"
  fi
  matrix_summary "$n" >"$out/summary.md"
  echo
  cat "$out/summary.md"
  [ "$failed" = 0 ]
}

matrix_summary() {
  echo "# Version matrix: $(jq -r '.args | join(" ")' "$out/matrix.json")"
  echo
  echo "Under qemu TCG the absolute guest numbers mean little: read ratios within one run, and the paths."
  echo
  echo "| entry | image | variant | state | seconds | why |"
  echo "|---|---|---|---|---|---|"
  jq -r '.entries[] | "| \(.entry) | \(.image) | \(.variant) | \(.state) | \(.seconds) | \((.reason // "") | split("\n")[0]) |"' "$out/matrix.json"
  echo
  if jq -e 'any(.entries[]; .state != "done" and .state != "crashed-guest")' "$out/matrix.json" >/dev/null; then
    echo "## Entries that did not run, or did not finish"
    echo
    jq -r '.entries[] | select(.state != "done" and .state != "crashed-guest") |
      ((.reason // "") | split("\n")) as $r |
      "- **\(.entry)** (\(.state)): \($r[0] // "")" +
      (if ($r | length) > 1 then "\n\n  ```\n" + ($r[1:] | map("  " + sub("^ +"; "")) | join("\n")) + "\n  ```" else "" end)' \
      "$out/matrix.json"
    echo
  fi
  case $1 in
    0) echo "No run finished: nothing to set side by side." ;;
    1) echo "One run finished: nothing to set side by side (\`diobench report\` on it)." ;;
    *) echo "Side by side: [comparison.md](comparison.md) (and comparison.json), \`diobench compare --side-by-side\` of the $1 finished runs." ;;
  esac
}
