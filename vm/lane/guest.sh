# vm/lane/guest.sh: one guest's life (sourced by scripts/zfs-vm). The
# accelerator, qemu with its console captured and time-stamped, the stall
# watch of `run`, the reading of the console (OK, FAIL or CRASH), the
# clean-up of whatever a guest leaves on the host, and zfsvm.json.

# kvm when /dev/kvm can run a guest, else tcg. /dev/kvm can exist and be
# openable and still not boot anything (broken nested virtualisation), so
# the first use boots the guest kernel once without an initramfs and waits
# for its "cannot mount root" panic; the verdict is cached per host
# kernel, qemu and guest kernel.
choose_accel() {
  local want=${ZFSVM_ACCEL:-auto}
  case $want in
    auto|kvm|tcg) ;;
    *) usage_error "invalid ZFSVM_ACCEL value '$want' (expected auto, kvm or tcg)" ;;
  esac
  accel=tcg accel_why="ZFSVM_ACCEL=tcg"
  [ "$want" = tcg ] && return 0
  if kvm_usable; then
    accel=kvm accel_why="/dev/kvm boots a guest"
  elif [ "$want" = kvm ]; then
    die "ZFSVM_ACCEL=kvm, but KVM is not usable here: $kvm_why"
  else
    accel_why="KVM not usable: $kvm_why"
  fi
}

kvm_usable() {
  kvm_why=""
  [ -c /dev/kvm ] || { kvm_why="no /dev/kvm"; return 1; }
  if ! { exec 8<>/dev/kvm; } 2>/dev/null; then kvm_why="/dev/kvm cannot be opened"; return 1; fi
  exec 8>&-
  local key f
  key=$(printf '%s|%s|%s' "$(uname -r)" "$(qemu-system-x86_64 --version | head -1)" "$kver" | sha256sum | cut -c1-16)
  f=$cache/kvm-probe/$key
  if [ ! -f "$f" ]; then
    log "probing KVM: booting the guest kernel once with -accel kvm (at most 30 s)"
    mkdir -p "$cache/kvm-probe"
    local out
    out=$(timeout -k 5 30 qemu-system-x86_64 -accel kvm -cpu host -m 512 -nodefaults -display none \
            -serial stdio -no-reboot -kernel "$kdir/root/boot/vmlinuz-$kver" \
            -append "console=ttyS0 panic=-1" </dev/null 2>&1 | tail -c 4000) || true
    if grep -qE 'Kernel panic|VFS: Unable to mount root' <<<"$out"; then
      echo "ok" >"$f"
    elif [ -z "$out" ] || ! grep -q 'Linux version' <<<"$out"; then
      echo "a -accel kvm guest did not boot${out:+ (qemu: $(grep -m1 -i 'error' <<<"$out" | cut -c1-120))}" >"$f"
    else
      echo "a -accel kvm guest did not finish booting in 30 s" >"$f"
    fi
  fi
  [ "$(cat "$f")" = ok ] && return 0
  kvm_why="$(cat "$f") (cached in $f)"
  return 1
}

# A kernel failure report on the console log: the kernel's own lines carry
# its time stamp ("[   34.32] BUG: ..."), after the host's; programs in the
# guest may print the same words (diobench's summary quotes a crash's
# excerpt) and must not count. The failure lines are the runner's list
# (runner/kernel_failure_lines.txt), right after the kernel's stamp.
crash_re="^ *[0-9]+\.[0-9]+ \[ *[0-9]+\.[0-9]+\] *($(grep -v '^#' "$top/runner/kernel_failure_lines.txt" | grep . | paste -sd'|'))"

# console_to FILE: stdin (the stamped console) into FILE; for `run`
# (show_progress=1) the runner's progress lines also to stderr as they
# come, so a run of an hour is not an hour of silence.
show_progress=0
console_to() {
  if [ "$show_progress" = 1 ]; then
    { tee "$1" | grep --line-buffered -E '^ *[0-9.]+ (\[[0-9]+/[0-9]+\] |(batch [0-9]+ )\[|until decided: )' |
      sed -u -E 's/^ *([0-9.]+) /zfs-vm: guest [\1 s]: /' >&2; } || true
  else
    cat >"$1"
  fi
}

# stamp_lines T0: copies stdin to stdout with each line prefixed by the
# seconds since T0 (EPOCHREALTIME microseconds), all in bash builtins.
stamp_lines() {
  local t0=$1 line now e
  while IFS= read -r line || [ -n "$line" ]; do
    now=${EPOCHREALTIME/./}
    e=$((now - t0))
    printf '%4d.%02d %s\n' $((e / 1000000)) $((e % 1000000 / 10000)) "${line%$'\r'}"
  done
}

# Run at exit (scripts/zfs-vm sets the trap): stops a guest still
# running, rescues an interrupted `run`'s directory, removes temporary
# directories.
tmpdirs=()
qemu_pidfile="" watchdog_pid=""
cleanup() {
  set +e  # whatever fails here, the rest of the clean-up must still run
  [ -n "$watchdog_pid" ] && kill "$watchdog_pid" 2>/dev/null
  if [ -n "$qemu_pidfile" ] && [ -s "$qemu_pidfile" ]; then
    local pid
    pid=$(cat "$qemu_pidfile")
    if kill -TERM "$pid" 2>/dev/null; then
      log "stopping the guest (qemu under timeout pid $pid)"
      local _
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
  fi
  # an interrupted `run` keeps what diobench wrote (moved out of the staging dir)
  if [ -n "$rescue_from" ] && [ -d "$rescue_from" ] && [ ! -e "$rescue_to" ]; then
    mv "$rescue_from" "$rescue_to" && log "partial run directory kept: $rescue_to (finish it with: scripts/zfs-vm run --resume $rescue_to)"
    [ -n "$rescue_logs" ] && keep_guest_files "$rescue_stage" "$rescue_logs"
  fi
  local t
  for t in "${tmpdirs[@]}"; do rm -rf "$t"; done
}
rescue_from="" rescue_to="" rescue_logs="" rescue_stage=""

# stall_watch FILE LIMIT PIDFILE FLAG: stops the guest (the timeout(1)
# pid in PIDFILE) when FILE exists and has kept the same content for LIMIT
# seconds, after writing why to FLAG. `run` watches the runner's
# current.json with it: a repetition that hangs the guest's kernel without
# a panic ends as a CRASH of that repetition, not after the whole run's
# timeout.
stall_watch() {
  local file=$1 limit=$2 pidfile=$3 flag=$4 last="" since=$SECONDS cur nap=""
  trap '[ -n "$nap" ] && kill "$nap" 2>/dev/null; exit 0' TERM
  while :; do
    sleep 5 &
    nap=$!
    wait "$nap"
    nap=""
    cur=$(cat "$file" 2>/dev/null || true)
    if [ "$cur" != "$last" ]; then
      last=$cur since=$SECONDS
    elif [ -n "$cur" ] && [ $((SECONDS - since)) -ge "$limit" ]; then
      echo "one repetition ran more than ${limit} s ($(tr -d '\n' <<<"$cur"))" >"$flag"
      [ -s "$pidfile" ] && kill -TERM "$(cat "$pidfile")" 2>/dev/null
      return 0
    fi
  done
}

# boot_guest SHARE GUEST_PATH SCRIPT TIMEOUT [interactive]
#   SHARE: host directory shared read-write (9p "results"), mounted in the
#   guest's chroot at GUEST_PATH; SCRIPT: the guest script's path on the
#   host (run with the host's bash in the chroot). Writes SHARE/console.log
#   and sets: verdict (OK, FAIL or CRASH), guest_rc, reason, excerpt_file,
#   t_boot, t_zfs, t_wall (seconds). With stall_file and stall_limit set,
#   stall_watch runs beside the guest. The pool disk is deleted at the end.
stall_file="" stall_limit=""
boot_guest() {
  local share=$1 gpath=$2 script=$3 timeout=$4 interactive=${5:-0}
  choose_accel
  local tmp
  tmp=$(mktemp -d /var/tmp/diobench-zfsvm.XXXXXX)
  tmpdirs+=("$tmp")
  local disk=$tmp/pool.img
  truncate -s "$pool_size" "$disk"
  # GPT with one partition of the ZFS type: zpool then writes no label of
  # its own and waits for no udev (there is none in the guest).
  printf 'label: gpt\nstart=2048, type=6A898CC3-1DD2-11B2-99A6-080020666F2D\n' |
    sfdisk -q "$disk" >/dev/null || die "cannot partition $disk"
  # The guest's chroot is the host's / or the image's suite root, where
  # the repository is $guest_top: a script of the repository is run from
  # there, any other from a copy in the shared directory.
  local hostroot=${uroot:-/} gscript=$script
  if [ -n "$uroot" ]; then
    case $script in
      "$top"/*) gscript=$guest_top/${script#"$top"/} ;;
      *) cp "$script" "$share/zfsvm-script.sh"; gscript=$gpath/zfsvm-script.sh ;;
    esac
  fi
  printf 'ZFSVM_OUT=%s\nZFSVM_SCRIPT=%s\nZFSVM_TOP=%s\n' "$gpath" "$gscript" "$guest_top" >"$share/zfsvm-boot.env"
  local cpu=(-cpu max) accel_opt=tcg,thread=multi
  [ "$accel" = kvm ] && cpu=(-cpu host) accel_opt=kvm
  local append="console=ttyS0 panic=-1 oops=panic spl.spl_panic_halt=1 loglevel=4"
  # an emulated CPU is slow: no watchdog may call that a lockup ("BUG: ...")
  append+=" nowatchdog nosoftlockup workqueue.watchdog_thresh=0 rcupdate.rcu_cpu_stall_suppress=1 mitigations=off"
  [ "$interactive" = 1 ] && append+=" zfsvm.shell"
  local qemu=(qemu-system-x86_64 -name diobench-zfsvm -accel "$accel_opt" "${cpu[@]}"
    -m "${ZFSVM_MEM:-4096}" -smp "${ZFSVM_CPUS:-$(nproc)}" -nodefaults -display none -no-reboot
    -kernel "$kdir/root/boot/vmlinuz-$kver" -initrd "$gdir/initramfs.cpio" -append "$append"
    -drive "file=$disk,if=virtio,format=raw,cache=unsafe"
    -virtfs "local,path=$hostroot,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap,id=hostroot"
    -virtfs "local,path=$share,mount_tag=results,security_model=none,multidevs=remap,id=results")
  log "booting the guest ($accel: $accel_why; image $image: kernel $kver, zfs $zpkg $variant; $([ "$interactive" = 1 ] && echo interactive || echo "timeout ${timeout}s"))"
  local t0=${EPOCHREALTIME/./}
  if [ "$interactive" = 1 ]; then
    "${qemu[@]}" -serial mon:stdio || true
    verdict=OK guest_rc=0 reason="" t_boot="" t_zfs="" t_wall=$(( (${EPOCHREALTIME/./} - t0) / 1000000 ))
    return 0
  fi
  qemu_pidfile=$tmp/timeout.pid
  # In the background and waited for: `wait` returns at once when a signal
  # arrives (a foreground pipeline would delay the trap until qemu ends),
  # and the EXIT trap then stops qemu through timeout(1), which passes the
  # signal on. qemu's status is caught, not left to errexit (inherited by
  # this subshell): timeout(1)'s 124 once ended zfs-vm silently, before
  # any verdict, whenever a guest outlived its timeout.
  {
    timeout -k 10 "$timeout" "${qemu[@]}" -serial stdio </dev/null 2>&1 &
    echo $! >"$qemu_pidfile"
    rc=0
    wait $! || rc=$?
    echo "$rc" >"$tmp/qemu.rc"
  } | stamp_lines "$t0" | console_to "$share/console.log" &
  local guest_pid=$!
  if [ -n "$stall_file" ]; then
    stall_watch "$stall_file" "$stall_limit" "$qemu_pidfile" "$tmp/stalled" &
    watchdog_pid=$!
  fi
  wait "$guest_pid" || true  # qemu's own status is in qemu.rc
  if [ -n "$watchdog_pid" ]; then  # it may have ended already (it stopped the guest)
    kill "$watchdog_pid" 2>/dev/null || true
    wait "$watchdog_pid" 2>/dev/null || true
    watchdog_pid=""
  fi
  local qrc
  qrc=$(cat "$tmp/qemu.rc" 2>/dev/null || echo "?")
  qemu_pidfile=""
  t_wall=$(( (${EPOCHREALTIME/./} - t0) / 10000 ))
  t_wall=$((t_wall / 100)).$(printf '%02d' $((t_wall % 100)))
  local log=$share/console.log
  t_boot=$(awk '/ZFSVM-BOOTED/ { print $1; exit }' "$log")
  t_zfs=$(awk '/ZFSVM-ZFS-LOADED/ { print $1; exit }' "$log")
  excerpt_file=$share/crash.txt
  console_verdict "$log" "$qrc" "$tmp/stalled" "$timeout" "$excerpt_file"
  rm -rf "$tmp"  # the pool disk: each guest starts on a fresh one
  log "guest finished: $verdict${guest_rc:+, script rc $guest_rc}, boot ${t_boot:-?}s, zfs loaded at ${t_zfs:-?}s, wall ${t_wall}s"
  if [ "$verdict" != OK ]; then
    log "$reason"
    log "console excerpt:"
    head -60 "$excerpt_file" | sed 's/^/    /' >&2
  fi
}

# console_verdict LOG QEMU_RC STALL_FLAG TIMEOUT EXCERPT: how the guest
# ended, from its console log LOG, qemu's exit status (124 or 137: its
# timeout(1) stopped it) and the stall watch's flag file: sets verdict
# (OK, FAIL or CRASH), guest_rc and reason, and writes the console lines
# that show it to EXCERPT. A guest stopped by the timeout or the stall
# watch whose console shows no failure but the hung-task detector's is
# "guest hung", with the tasks it names; a failure line of any other kind
# is the kernel's crash, whatever stopped the guest afterwards.
console_verdict() {
  local log=$1 qrc=$2 flag=$3 timeout=$4 excerpt=$5 first line stopped=""
  rm -f "$excerpt"
  first=$(grep -nE "$crash_re" "$log" | head -1 | cut -d: -f1 || true)
  line=$([ -z "$first" ] || sed -n "${first}p" "$log" | sed -E 's/^ *[0-9.]+ (\[ *[0-9.]+\] )?//')
  guest_rc=$(sed -n 's/.*ZFSVM-EXIT rc=\([0-9]*\).*/\1/p' "$log" | tail -1)
  if [ -s "$flag" ]; then
    stopped="$(cat "$flag"): stopped by the stall watch"
  elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    stopped="stopped by its timeout after ${timeout} s"
  fi
  if [ -n "$stopped" ] && { [ -z "$first" ] || [[ $line == "INFO: task "* ]]; }; then
    verdict=CRASH reason=$(hung_reason "$stopped" "$log")
  elif [ -n "$first" ]; then
    verdict=CRASH reason="kernel crash $(awk -v n="$first" 'NR == n { print $1 }' "$log") s after qemu started: $(cut -c1-160 <<<"$line")"
  elif [ -z "$guest_rc" ]; then
    verdict=FAIL reason="qemu exited (rc $qrc) without the guest's ZFSVM-EXIT line"
    tail -30 "$log" >"$excerpt"
    return
  else
    verdict=OK reason=""
    return
  fi
  if [ -n "$first" ]; then
    sed -n "$((first > 5 ? first - 5 : 1)),$((first + 45))p" "$log" | without_stall_lines >"$excerpt"
    # the hung-task reports' stacks the guest copied (vm/guest/lib.sh),
    # those after the lines above
    awk -v from=$((first + 46)) 'NR >= from && /^ *[0-9.]+ zfsvm-hung-task: /' "$log" | head -200 >>"$excerpt"
  else
    tail -50 "$log" | without_stall_lines >"$excerpt"
  fi
  # the stacks the guest dumped when a cell ran too long (stall_dump in
  # vm/guest/lib.sh), if it did
  { grep -E '^ *[0-9.]+ zfsvm-stall: ' "$log" || true; } | head -600 >>"$excerpt"
}

# without_stall_lines: stdin less the guest's stall dump (console_verdict
# appends it once, whole).
without_stall_lines() { grep -v ' zfsvm-stall: ' || true; }

# hung_reason HOW LOG: "guest hung: HOW", and the tasks that the kernel's
# hung-task detector reported blocked on the console LOG.
hung_reason() {
  local tasks
  tasks=$(blocked_tasks "$2")
  local dumped=""
  dumped=$(sed -nE 's/^ *[0-9.]+ zfsvm-stall: (.*) still running after ([0-9]+) s.*/; the guest dumped its stacks when \1 had run \2 s (crash.txt)/p' "$2" | head -1)
  if [ -n "$tasks" ]; then
    echo "guest hung: $1; the kernel reported blocked tasks: $tasks$dumped"
  else
    echo "guest hung: $1 (no result, and no task reported blocked on the console: hung, or too slow)$dumped"
  fi
}

# blocked_tasks LOG: NAME:PID of each task the hung-task detector named on
# the console ("INFO: task NAME:PID blocked for more than N seconds."),
# once each, in the order of their first report, comma-separated.
blocked_tasks() {
  sed -nE 's/^ *[0-9.]+ \[ *[0-9.]+\] *INFO: task (.+:[0-9]+) blocked for more than .*/\1/p' "$1" |
    awk '!seen[$0]++' | paste -sd, - | sed 's/,/, /g'
}

# zfsvm.json: what ran where (accelerator, guest kernel, ZFS, timings).
write_facts() {
  local file=$1 extra=${2:-}
  [ -n "$extra" ] || extra='{}'
  local guest='{}'
  [ -s "$3" ] && guest=$(cat "$3")
  jq -n --arg accel "$accel" --arg accel_why "$accel_why" --arg kver "$kver" --arg kpkg "$kpkg" \
    --arg zpkg "$zpkg" --arg variant "$variant" --arg image "$image" --arg userland "$image_userland" --arg qemu "$(qemu-system-x86_64 --version | head -1)" \
    --arg host_kernel "$(uname -r)" --arg verdict "$verdict" --arg reason "$reason" \
    --arg guest_rc "${guest_rc:-}" --arg t_boot "${t_boot:-}" --arg t_zfs "${t_zfs:-}" --arg t_wall "${t_wall:-}" \
    --arg patch "$([ -n "$patch_file" ] && basename "$patch_file" || true)" --arg patch_sha "$patch_sha" \
    --arg source "$source_dir" --arg source_commit "$source_commit" --arg source_diff "$source_diff" \
    --arg cpus "${ZFSVM_CPUS:-$(nproc)}" --arg mem "${ZFSVM_MEM:-4096}" \
    --argjson guest "$guest" --argjson extra "$extra" '
    { accelerator: $accel, accelerator_reason: $accel_why,
      emulated_cpu: ($accel == "tcg"),
      note: (if $accel == "tcg" then "emulated CPU (qemu TCG): compare numbers only within the same run" else null end),
      image: $image, userland: $userland,
      guest_kernel: $kver, guest_kernel_package: $kpkg,
      zfs_package: $zpkg, zfs_variant: $variant,
      zfs_patch: (if $patch == "" then null else $patch end),
      zfs_patch_sha256: (if $patch_sha == "" then null else $patch_sha end),
      zfs_unfixed_patch: (if $patch == "" or ($variant | startswith("unfixed-") | not) then null else $patch end),
      zfs_source: (if $source == "" then null else
        {dir: $source, commit: (if $source_commit == "" then null else $source_commit end),
         uncommitted_sha256: (if $source_diff == "" then null else $source_diff end)} end),
      guest: $guest, qemu: $qemu, host_kernel: $host_kernel,
      guest_cpus: ($cpus | tonumber), guest_mem_mib: ($mem | tonumber),
      outcome: $verdict, outcome_reason: (if $reason == "" then null else $reason end),
      guest_script_rc: (if $guest_rc == "" then null else ($guest_rc | tonumber) end),
      seconds: { guest_booted: (if $t_boot == "" then null else ($t_boot | tonumber) end),
                 zfs_loaded: (if $t_zfs == "" then null else ($t_zfs | tonumber) end),
                 wall: (if $t_wall == "" then null else ($t_wall | tonumber) end) } } + $extra' >"$file"
}

need_diobench() {
  [ -x "$top/build/diobench" ] || die "no $top/build/diobench: run scripts/build first"
  "$top/build/diobench" engine-path >/dev/null || die "$top/build/diobench has no engine: run scripts/build"
  [ -z "$uroot" ] || [ -x "$uroot$guest_top/build/diobench" ] ||
    die "no diobench built in the $image_userland root ($uroot$guest_top/build/diobench)"
}

utc_stamp() { date -u +%Y%m%dT%H%M%SZ; }

# A bash array assignment, safely quoted, for the guest's zfsvm-job.sh.
job_array() {
  local name=$1
  shift
  printf '%s=(' "$name"
  [ $# -gt 0 ] && printf '%q ' "$@"
  printf ')\n'
}
