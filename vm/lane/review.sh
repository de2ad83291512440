# vm/lane/review.sh: `zfs-vm review` (sourced by scripts/zfs-vm): one
# profile on two builds, base and candidate, in alternating guests, then
# `diobench compare` of the two run directories.
#
# Each side is a `zfs-vm run` of its own (its own run directory, with
# --slice): round 1 runs the base for one slice, round 1 the candidate for
# one slice, round 2 the base again (`run --resume`), and so on until both
# runs have ended; the base repetitions are sliced like the added ones, so
# whatever drifts on the machine (other load, the host's caches, TCG's
# speed) falls on both sides alike. Both sides get the same arguments and
# the same seed, so their repetitions come in the same order. A cell that
# crashes a guest is recorded as such by `run` (status crash), and the
# comparison lists it apart.

review_default_slice=240

# review_side_options WHICH SIDE: the variant options of fixed | unfixed |
# patch:FILE | source:DIR into the array side_opts; bad input exits 2.
review_side_options() {
  local which=$1 side=$2
  case $side in
    fixed) side_opts=() ;;
    unfixed) side_opts=(--unfixed) ;;
    patch:?*) side_opts=(--patch "${side#patch:}") ;;
    source:?*) side_opts=(--zfs-source "${side#source:}") ;;
    *) usage_error "review: invalid --$which value '$side' (fixed, unfixed, patch:FILE or source:DIR)" ;;
  esac
  # the options' own checks, as `build` would make them, before anything
  # is built: a bad candidate is found before the base's build
  ( want_unfixed=0 want_patch="" want_source=""
    set -- ${side_opts[@]+"${side_opts[@]}"}
    while [ $# -gt 0 ]; do variant_option "review --$which" "$@"; shift "$took"; done
    resolve_variant "review --$which" ) || exit 2
}

# review_sides: the image (want_image) and both sides' variant options,
# checked, into base_opts and candidate_opts (the caller's locals); both
# sides are built for the same image.
review_sides() {
  resolve_image review
  review_side_options base "$review_base"
  base_opts=(${side_opts[@]+"${side_opts[@]}"} --image "$image")
  review_side_options candidate "$review_candidate"
  candidate_opts=(${side_opts[@]+"${side_opts[@]}"} --image "$image")
}

# has_arg NAME ARGS...: ARGS holds NAME or NAME=...
has_arg() {
  local name=$1 a
  shift
  for a in "$@"; do case $a in "$name"|"$name"=*) return 0 ;; esac; done
  return 1
}

cmd_review() {
  local base="" candidate="" out="" slice=$review_default_slice passthru=() resume="" given=()
  while [ $# -gt 0 ]; do
    case $1 in --base|--candidate|--image|--out|--slice|--) given+=("$1") ;; esac
    case $1 in
      --resume) [ $# -ge 2 ] || usage_error "review: --resume needs a review directory"; resume=$2; shift ;;
      --base) [ $# -ge 2 ] || usage_error "review: --base needs a variant"; base=$2; shift ;;
      --candidate) [ $# -ge 2 ] || usage_error "review: --candidate needs a variant"; candidate=$2; shift ;;
      --image) [ $# -ge 2 ] || usage_error "review: --image needs a name (scripts/zfs-vm images lists them)"
        want_image=$2; shift ;;
      --out) [ $# -ge 2 ] || usage_error "review: --out needs a directory"; out=$2; shift ;;
      --slice) [ $# -ge 2 ] || usage_error "review: --slice needs seconds"; slice=$2; shift
        [[ $slice =~ ^[1-9][0-9]*$ ]] || usage_error "review: invalid --slice value '$slice' (whole seconds)" ;;
      --) shift; passthru=("$@"); break ;;
      -h|--help) usage; exit 0 ;;
      *) usage_error "review: unknown argument '$1' (diobench's own arguments go after --)" ;;
    esac
    shift
  done
  if [ -n "$resume" ]; then
    [ ${#given[@]} -eq 0 ] ||
      usage_error "review: invalid argument '${given[0]}' with --resume (the review directory holds both sides, the image, the slice and diobench's arguments)"
    review_resume "$resume"
    return
  fi
  [ -n "$base" ] || usage_error "review: which build is the base? (--base fixed | unfixed | patch:FILE | source:DIR)"
  [ -n "$candidate" ] || usage_error "review: which build is the candidate? (--candidate fixed | unfixed | patch:FILE | source:DIR)"
  local a
  for a in ${passthru[@]+"${passthru[@]}"}; do
    case $a in
      --out|--out=*|--resume|--resume=*)
        usage_error "review: invalid argument '$a' after -- (review keeps both run directories under --out)" ;;
    esac
  done
  local base_opts candidate_opts
  review_base=$base review_candidate=$candidate
  review_sides
  if [ -n "$out" ]; then
    check_out_path "$out"
    [ -e "$out" ] && usage_error "review: invalid --out value '$out' (exists; review creates it)"
  fi
  # The same run on both sides: the review profile unless one is named,
  # decided as far as its budget goes, the cells that crash a build run
  # all the same (the guest is disposable: the crash is the result), one
  # seed for both orders.
  local args=(${passthru[@]+"${passthru[@]}"})
  has_arg --profile "${args[@]}" || args+=(--profile "$top/profiles/review.ini")
  has_arg --until-decided "${args[@]}" || args+=(--until-decided)
  has_arg --force-unsafe "${args[@]}" || args+=(--force-unsafe)
  has_arg --seed "${args[@]}" || args+=(--seed "$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) | 1 ))")
  out=${out:-/var/tmp/diobench-zfsvm/review-$(utc_stamp)}
  check_out_path "$out"
  need_diobench

  local rc
  log "review: building what is missing (base: $base, candidate: $candidate)"
  local opts
  for a in base candidate; do
    side_options_of "$a"
    rc=0
    "$0" build ${opts[@]+"${opts[@]}"} || rc=$?
    [ "$rc" = 0 ] || { [ "$rc" = 2 ] && exit 2; die "review: the $a build failed (exit $rc)"; }
  done
  mkdir -p "$out"
  review_rounds "$out" "$slice" '[]' 0 "${args[@]}"
}

# review_resume DIR: an interrupted review (Ctrl-C, a lost machine)
# continued from DIR/review.json: the same sides, image, slice and
# arguments; a side whose last round ended its run is not run again, the
# other continues with `run --resume` of its run directory.
review_resume() {
  local out=$1 facts=$1/review.json
  check_out_path "$out"
  [ -f "$facts" ] && [ ! -L "$facts" ] ||
    usage_error "review: invalid --resume value '$out' (no review.json: not a review directory)"
  jq -e '.base and .candidate and (.rounds | type == "array") and (.diobench_args | type == "array")' \
    "$facts" >/dev/null 2>&1 || usage_error "review: invalid --resume value '$out' ($facts is not a review's record)"
  review_base=$(jq -r .base "$facts") review_candidate=$(jq -r .candidate "$facts")
  want_image=$(jq -r '.image // empty' "$facts")
  local base_opts candidate_opts
  review_sides
  local slice args=()
  slice=$(jq -r .slice_seconds "$facts")
  mapfile -t args < <(jq -r '.diobench_args[]' "$facts")
  need_diobench
  log "review: resuming $out (base: $review_base, candidate: $review_candidate, image $image)"
  review_rounds "$out" "$slice" "$(jq -c .rounds "$facts")" "$(jq -r '.seconds // 0' "$facts")" "${args[@]}"
}

# review_rounds OUT SLICE ROUNDS SECONDS ARGS...: the alternating rounds
# (after ROUNDS, the ones already made, which took SECONDS), then the
# comparison; OUT/review.json records every round.
review_rounds() {
  local out=$1 slice=$2 rounds=$3 before=$4
  shift 4
  local round side rc t0 t_start_review=$((SECONDS - before)) opts
  round=$(jq '[.[].round] | max // 0' <<<"$rounds")
  local -A ended=()
  # a side whose last round did not end on its slice has ended its run
  for side in $(jq -r --argjson s "$slice_rc" 'group_by(.side)[] | max_by(.round) | select(.exit != $s) | .side' <<<"$rounds"); do
    ended[$side]=done
  done
  # Interrupted after the base's round and before the candidate's was
  # recorded: the candidate's round comes first.
  if [ "$(jq '[.[] | select(.side == "base")] | length' <<<"$rounds")" -gt \
       "$(jq '[.[] | select(.side == "candidate")] | length' <<<"$rounds")" ]; then
    ended[base]=${ended[base]:-this-round}
    round=$((round - 1))
  fi
  while [ -z "${ended[base]:-}" ] || [ -z "${ended[candidate]:-}" ]; do
    round=$((round + 1))
    for side in base candidate; do
      [ -z "${ended[$side]:-}" ] || continue
      side_options_of "$side"
      local run_cmd=("$0" run ${opts[@]+"${opts[@]}"} --slice "$slice")
      recover_staged_run "$out/$side"  # a side's run killed with the review
      if [ -d "$out/$side" ]; then
        run_cmd+=(--resume "$out/$side" -- --force-unsafe)
      else
        run_cmd+=(--out "$out/$side" -- "$@")
      fi
      log "review: round $round, $side ($(review_side_name "$side")): ${run_cmd[*]:1}"
      t0=$SECONDS
      rc=0
      "${run_cmd[@]}" >"$out/$side.round-$round.log" 2>&1 || rc=$?
      tail -4 "$out/$side.round-$round.log" | sed 's/^/    /' >&2
      rounds=$(jq -c --argjson r "$round" --arg s "$side" --argjson rc "$rc" --argjson sec $((SECONDS - t0)) \
        '. + [{round: $r, side: $s, exit: $rc, seconds: $sec}]' <<<"$rounds")
      review_facts "$out" "$rounds" "$((SECONDS - t_start_review))" "$@"
      if [ "$rc" = 2 ]; then
        echo "zfs-vm: review: $side: bad usage (see $out/$side.round-$round.log):" >&2
        tail -3 "$out/$side.round-$round.log" >&2
        exit 2
      fi
      [ "$rc" = "$slice_rc" ] && continue
      if [ ! -s "$out/$side/results.db" ] ||
         [ "$(jq -r .outcome "$out/$side/zfsvm.json" 2>/dev/null)" = ERROR ]; then
        die "review: the $side run failed in round $round: $(grep -m1 '^outcome:' "$out/$side.round-$round.log" || echo "exit $rc") (log: $out/$side.round-$round.log)"
      fi
      ended[$side]=$rc
      log "review: the $side run has ended (diobench exited $rc) after round $round"
    done
    [ "${ended[base]:-}" = this-round ] && unset 'ended[base]'
  done
  review_compare "$out"
}

# side_options_of SIDE: that side's variant options into opts (the
# caller's array; base_opts and candidate_opts are cmd_review's).
side_options_of() {
  if [ "$1" = base ]; then opts=(${base_opts[@]+"${base_opts[@]}"}); else opts=(${candidate_opts[@]+"${candidate_opts[@]}"}); fi
}

review_side_name() { if [ "$1" = base ]; then echo "$review_base"; else echo "$review_candidate"; fi; }

# OUT/review.json: both sides, every round so far.
review_facts() {
  local out=$1 rounds=$2 seconds=$3
  shift 3
  jq -n --arg base "$review_base" --arg candidate "$review_candidate" --argjson rounds "$rounds" \
    --argjson seconds "$seconds" --arg slice "$slice" --arg image "$image" --args \
    '{base: $base, candidate: $candidate, image: $image, base_run: "base", candidate_run: "candidate",
      slice_seconds: ($slice | tonumber), diobench_args: $ARGS.positional,
      rounds: $rounds, seconds: $seconds,
      note: "each side is a zfs-vm run of its own; rounds alternate base and candidate, each a fresh guest for one slice"}' \
    -- "$@" >"$out/review.json"
}

# The comparison report, Markdown and JSON, and its head on stdout.
review_compare() {
  local out=$1
  "$top/build/diobench" compare "$out/base" "$out/candidate" >"$out/comparison.md" ||
    die "review: diobench compare failed"
  "$top/build/diobench" compare "$out/base" "$out/candidate" --format json >"$out/comparison.json" ||
    die "review: diobench compare --format json failed"
  echo
  cat "$out/comparison.md"
  echo
  echo "review: base $review_base, candidate $review_candidate: $out (comparison.md, comparison.json, review.json)"
}
