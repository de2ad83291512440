# vm/lane/commands.sh: the small commands (sourced by scripts/zfs-vm):
# build, script, shell, ready and info.

# Everything `test`, `run` and `shell` need; cheap when cached.
cmd_build() {
  while [ $# -gt 0 ]; do
    if variant_option build "$@"; then shift "$took"; continue; fi
    case $1 in
      -h|--help) usage; exit 0 ;;
      *) usage_error "build: unknown argument '$1'" ;;
    esac
    shift
  done
  resolve_variant build
  ensure_ready
  log "ready: image $image, kernel $kver, zfs $zpkg, variant $variant"
  log "  kernel:    $kdir/root/boot/vmlinuz-$kver"
  log "  initramfs: $gdir/initramfs.cpio"
}

# script: a guest script of your own (path on the host, run with bash in
# the chroot like vm/guest/*.sh; $ZFSVM_OUT is a fresh shared directory).
cmd_script() {
  local timeout=${ZFSVM_TIMEOUT:-1800} file=""
  while [ $# -gt 0 ]; do
    if variant_option script "$@"; then shift "$took"; continue; fi
    case $1 in
      -h|--help) usage; exit 0 ;;
      -*) usage_error "script: unknown argument '$1'" ;;
      *) file=$1; shift; break ;;
    esac
    shift
  done
  resolve_variant script
  [ -n "$file" ] || usage_error "script: which guest script?"
  local given=$file
  file=$(realpath -e "$file" 2>/dev/null) && [ -f "$file" ] || usage_error "script: invalid script '$given' (no such file)"
  case $file in  # the guest mounts tmpfs there
    /tmp/*|/run/*|/var/tmp/*) usage_error "script: invalid script '$file' (/tmp, /run and /var/tmp are the guest's own tmpfs)" ;;
  esac
  ensure_ready
  local out
  mkdir -p /var/tmp/diobench-zfsvm
  out=$(mktemp -d /var/tmp/diobench-zfsvm/script.XXXXXX)
  { printf 'ZFSVM_REPO=%q\n' "$guest_top"; job_array ZFSVM_ARGS "$@"; } >"$out/zfsvm-job.sh"
  boot_guest "$out" "$out" "$file" "$timeout"
  write_facts "$out/zfsvm.json" '{}' ""
  grep -E 'zfsvm-guest|^ *[0-9.]+ [^[]' "$out/console.log" | tail -200
  echo "output: $out ($verdict)"
  [ "$verdict" = OK ] && [ "${guest_rc:-1}" = 0 ]
}

cmd_shell() {
  while [ $# -gt 0 ]; do
    if variant_option shell "$@"; then shift "$took"; continue; fi
    case $1 in
      -h|--help) usage; exit 0 ;;
      *) usage_error "shell: unknown argument '$1'" ;;
    esac
    shift
  done
  resolve_variant shell
  [ -t 0 ] || die "shell needs a terminal"
  ensure_ready
  local out
  out=$(mktemp -d /var/tmp/diobench-zfsvm/shell.XXXXXX 2>/dev/null || { mkdir -p /var/tmp/diobench-zfsvm; mktemp -d /var/tmp/diobench-zfsvm/shell.XXXXXX; })
  echo "guest: bash in the chroot of the host's /; pool disk /dev/vda1; $out shared read-write; exit powers off" >&2
  boot_guest "$out" "$out" /bin/true 0 1
}

# ready: exit 0 when `test` would start a guest at once (everything built
# and cached for the current versions), 1 when it would build first. Never
# touches the network; for scripts/test to decide whether to run the lane.
cmd_ready() {
  while [ $# -gt 0 ]; do
    if variant_option ready "$@"; then shift "$took"; continue; fi
    case $1 in
      -h|--help) usage; exit 0 ;;
      *) usage_error "ready: unknown argument '$1'" ;;
    esac
    shift
  done
  resolve_variant ready
  no_update=1
  use_cached_root || return 1
  [ -f "$apt_source" ] || { echo "not ready: no $apt_source" >&2; return 1; }
  ( resolve_versions ) >/dev/null 2>&1 || { echo "not ready: versions unknown to apt" >&2; return 1; }
  resolve_versions
  select_variant
  [ -d "$zdir/src" ] && check_patch_applies
  local p
  for p in "${host_packages[@]}"; do
    package_installed "$p" || { echo "not ready: package $p missing" >&2; return 1; }
  done
  [ -f "$gdir/modules/zfs.ko" ] && variant_matches "$gdir/modules/info" && [ -f "$gdir/initramfs.cpio" ] &&
    [ -f "$kdir/root/boot/vmlinuz-$kver" ] ||
    { echo "not ready: $variant not built for $kver / zfs $zpkg" >&2; return 1; }
  [ -z "$uroot" ] || [ -x "$uroot$guest_top/build/diobench" ] ||
    { echo "not ready: no diobench built in $uroot$guest_top" >&2; return 1; }
  echo "ready: $kver, zfs $zpkg, $variant"
}

cmd_info() {
  while [ $# -gt 0 ]; do
    if variant_option info "$@"; then shift "$took"; continue; fi
    case $1 in
      -h|--help) usage; exit 0 ;;
      *) usage_error "info: unknown argument '$1'" ;;
    esac
    shift
  done
  resolve_variant info
  use_cached_root || exit 1
  resolve_versions
  select_variant
  [ -d "$zdir/src" ] && check_patch_applies
  choose_accel
  echo "image:         $image (userland: ${uroot:-/ of the host})"
  echo "guest kernel:  $kver ($kpkg)"
  echo "zfs:           $zpkg ($variant)"
  echo "accelerator:   $accel ($accel_why)"
  echo "cache:         $cache"
  [ -z "$patch_file" ] || echo "patch:         $patch_file (sha256 $patch_sha)"
  [ -z "$source_dir" ] || echo "source:        $source_dir (zfs $source_version, commit ${source_commit:-none: not a git checkout}, uncommitted changes ${source_diff:-none})"
  echo "modules:       $( [ -f "$gdir/modules/info" ] && variant_matches "$gdir/modules/info" && echo "$gdir/modules ($(sed -n 2p "$gdir/modules/info"))" || echo "not built (scripts/zfs-vm build$variant_args)")"
  echo "initramfs:     $( [ -f "$gdir/initramfs.cpio" ] && echo "$gdir/initramfs.cpio" || echo "not built")"
}

# variant: the key and module label the options give, and what ties a
# build to its input; no cache, apt or root needed (a reviewer's "which
# build is this?", and the lane's tests of the keys).
cmd_variant() {
  while [ $# -gt 0 ]; do
    if variant_option variant "$@"; then shift "$took"; continue; fi
    case $1 in
      -h|--help) usage; exit 0 ;;
      *) usage_error "variant: unknown argument '$1'" ;;
    esac
    shift
  done
  resolve_variant variant
  kver=KERNEL zpkg=ZFS  # gdir is not shown: it needs the versions apt gives
  select_variant
  echo "variant: $variant"
  echo "label:   ${label:-none (the version the package gives)}"
  local id
  id=$(variant_identity)
  [ -z "$id" ] || echo "input:   $id"
}
