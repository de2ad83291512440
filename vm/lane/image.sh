# vm/lane/image.sh: the guest image (sourced by scripts/zfs-vm). The
# guest kernel unpacked, zfs-dkms's source and the zfs userland unpacked,
# spl.ko and zfs.ko built out of tree for one variant, and the initramfs;
# all cached under $cache, keyed by guest kernel, ZFS package version and
# variant (vm/README.md, "Cache layout").

# Sets variant, label (what the module's version gets appended, empty for
# the fixed build), patch_sha (the patch's sha256) and gdir (the guest
# directory of one build). The unfixed patch, by content, keeps its own
# name and the label the runner's crash guard looks for
# (runner/src/safety.cpp); any other patch is patch-<sha8>, a label of its
# own, which the crash guard does not know.
select_variant() {
  variant=fixed label="" patch_sha=""
  if [ -n "$patch_file" ]; then
    patch_sha=$(sha256sum "$patch_file" | cut -d' ' -f1)
    if cmp -s "$patch_file" "$unfixed_patch"; then
      variant=unfixed-${patch_sha:0:8} label=diobench_unfixed
    else
      variant=patch-${patch_sha:0:8} label=diobench_patch_${patch_sha:0:8}
    fi
  fi
  gdir=$cache/guest/$kver/zfs-$zpkg/$variant
}

is_unfixed() { [[ $variant == unfixed-* ]]; }

# For result directory names: "", "-unfixed" or "-patch-<sha8>".
variant_suffix() {
  case $variant in
    fixed) ;;
    unfixed-*) echo -unfixed ;;
    *) echo "-$variant" ;;
  esac
}

# variant_hint VARIANT: the options that select it, for messages.
variant_hint() {
  case $1 in
    fixed) echo "neither --unfixed nor --patch" ;;
    unfixed-*) echo "--unfixed" ;;
    patch-*) echo "--patch with the patch whose sha256 starts with ${1#patch-}" ;;
    *) echo "the options of the $1 build" ;;
  esac
}

# check_patch_applies: the variant's patch against the unpacked packaged
# source, with `patch --dry-run`, before anything is built; a patch that
# does not apply is bad input (exit 2) and patch's own words say why.
patch_opts=(-p1 --forward --batch)
check_patch_applies() {
  [ -n "$patch_file" ] || return 0
  local out
  out=$(cd "$zdir/src" && patch "${patch_opts[@]}" --dry-run <"$patch_file" 2>&1) ||
    usage_error "invalid --patch value '$patch_file' (does not apply to the source of zfs-dkms $zpkg; patch ${patch_opts[*]} --dry-run says:$(echo; sed 's/^/    /' <<<"$out"))"
}

# The guest kernel: image, modules, headers and kbuild, unpacked (not
# installed) under $kdir/root.
prepare_kernel() {
  local stamp=$kdir/stamp want="linux-image-$kver $kpkg (unpacked, depmod)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log "fetching guest kernel $kver ($kpkg): image, headers, kbuild"
  mkdir -p "$cache/debs"
  local common kbuild debs=()
  common=$(apt-cache depends "linux-headers-$kver" | awk '/Depends: linux-headers-.*-common/ { print $2; exit }')
  kbuild=$(apt-cache depends "linux-headers-$kver" | awk '/Depends: linux-kbuild-/ { print $2; exit }')
  [ -n "$common" ] && [ -n "$kbuild" ] || die "cannot resolve the headers of linux-headers-$kver"
  debs+=("$(fetch_deb "linux-image-$kver=$kpkg")")
  debs+=("$(fetch_deb "linux-headers-$kver=$kpkg")")
  debs+=("$(fetch_deb "$common=$kpkg")")
  debs+=("$(fetch_deb "$kbuild")")
  log "unpacking the guest kernel into $kdir/root"
  rm -rf "$kdir"
  mkdir -p "$kdir/root"
  local d
  for d in "${debs[@]}"; do dpkg-deb -x "$d" "$kdir/root"; done
  # The headers' Makefile includes the common headers by absolute path.
  sed -i "s|^include /usr/src/|include $kdir/root/usr/src/|" "$kdir/root/usr/src/linux-headers-$kver/Makefile"
  [ -f "$kdir/root/boot/vmlinuz-$kver" ] || die "linux-image-$kver has no /boot/vmlinuz-$kver"
  depmod -b "$kdir/root" "$kver" || die "depmod for the unpacked $kver failed"
  echo "$want" >"$stamp"
}

# zfs-dkms's source and the zfs userland, unpacked under $zdir.
prepare_zfs_package() {
  local stamp=$zdir/stamp want="zfs $zpkg"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log "fetching zfs-dkms and the zfs userland $zpkg (bookworm-backports)"
  mkdir -p "$cache/debs"
  local src user=() p
  src=$(fetch_deb "zfs-dkms=$zpkg")
  for p in zfsutils-linux libzfs6linux libzpool6linux libnvpair3linux libuutil3linux; do
    user+=("$(fetch_deb "$p=$zpkg")")
  done
  rm -rf "$zdir"
  mkdir -p "$zdir/pkg" "$zdir/user"
  dpkg-deb -x "$src" "$zdir/pkg"
  [ -d "$zdir/pkg/usr/src/zfs-$zver" ] || die "zfs-dkms $zpkg has no /usr/src/zfs-$zver"
  mv "$zdir/pkg/usr/src/zfs-$zver" "$zdir/src"
  rm -rf "$zdir/pkg"
  for p in "${user[@]}"; do dpkg-deb -x "$p" "$zdir/user"; done
  echo "$want" >"$stamp"
}

# Builds spl.ko and zfs.ko for the guest kernel, the way dkms builds
# zfs-dkms (its dkms.conf: the same configure flags, make, strip -g), out
# of tree in a scratch copy of the source.
build_modules() {
  local info=$gdir/modules/info
  local want="kernel=$kver zfs=$zpkg variant=$variant"
  [ -n "$label" ] && want+=" label=$label"
  if [ -f "$info" ] && [ "$(head -1 "$info")" = "$want" ] && patch_matches "$info" &&
     [ -f "$gdir/modules/zfs.ko" ] && [ -f "$gdir/modules/spl.ko" ]; then
    return 0
  fi
  local b=$gdir/build blog=$gdir/build.log t0=$SECONDS
  rm -rf "$b" "$gdir/modules"
  mkdir -p "$gdir"
  cp -a "$zdir/src" "$b"
  if [ -n "$patch_file" ]; then
    log "applying $(basename "$patch_file") (variant $variant)"
    (cd "$b" && patch "${patch_opts[@]}" --quiet <"$patch_file") >"$blog" 2>&1 ||
      die "$(basename "$patch_file") does not apply to zfs $zpkg (see $blog)"
    # Label the module: /sys/module/zfs/version then reads
    # 2.3.2-<release>.<label>, so no record can mistake it for the released
    # build (configure takes the version from META).
    sed -i -E "s/^(Release:[[:space:]]*)([^[:space:]]+)[[:space:]]*\$/\1\2.$label/" "$b/META"
    grep -q "^Release:.*\.$label\$" "$b/META" || die "cannot label the $variant build in $b/META"
  fi
  local ksrc=$kdir/root/usr/src/linux-headers-${kver%-amd64}-common
  local kobj=$kdir/root/usr/src/linux-headers-$kver
  [ -d "$ksrc" ] || ksrc=$kobj
  log "configuring zfs $zver ($variant) for $kver (log: $blog)"
  (cd "$b" && ./configure --disable-dependency-tracking --prefix=/usr --with-config=kernel \
      --with-linux="$ksrc" --with-linux-obj="$kobj") >>"$blog" 2>&1 ||
    die "zfs configure failed for $kver; last lines of $blog:$(echo; tail -15 "$blog")"
  grep -q '^#define HAVE_PIN_USER_PAGES_UNLOCKED 1' "$b/zfs_config.h" ||
    log "note: HAVE_PIN_USER_PAGES_UNLOCKED is not set for $kver: the unfixed variant would not differ"
  log "compiling spl and zfs modules with make -j$(nproc) (about 4-5 minutes on 2 cores)"
  (cd "$b" && make -j"$(nproc)") >>"$blog" 2>&1 &
  local mk=$!
  while kill -0 "$mk" 2>/dev/null; do
    sleep 30
    kill -0 "$mk" 2>/dev/null &&
      log "  compiling... $(find "$b/module" -name '*.o' 2>/dev/null | wc -l) objects so far"
  done
  wait "$mk" || die "zfs make failed; last lines of $blog:$(echo; tail -15 "$blog")"
  mkdir -p "$gdir/modules"
  local m
  for m in spl zfs; do
    [ -f "$b/module/$m.ko" ] || die "the build produced no module/$m.ko (see $blog)"
    strip -g -o "$gdir/modules/$m.ko" "$b/module/$m.ko"
  done
  {
    echo "$want"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) seconds=$((SECONDS - t0))"
    echo "vermagic=$(modinfo -F vermagic "$gdir/modules/zfs.ko")"
    if [ -n "$patch_file" ]; then echo "patch=$(basename "$patch_file") sha256=$patch_sha"; fi
  } >"$info"
  rm -rf "$b"
  log "modules built in $((SECONDS - t0)) s: $gdir/modules"
}

build_initramfs() {
  local inputs
  inputs=$(cat "$gdir/modules/info" "$kdir/stamp" "$zdir/stamp" "$vmdir/build-initramfs" "$vmdir/guest/init" | sha256sum | cut -c1-16)
  if [ -f "$gdir/initramfs.cpio" ] && [ "$(cat "$gdir/initramfs.inputs" 2>/dev/null)" = "$inputs" ]; then
    return 0
  fi
  log "building the guest initramfs"
  "$vmdir/build-initramfs" --kernel-root "$kdir/root" --kver "$kver" --zfs-modules "$gdir/modules" \
      --zfs-user "$zdir/user" --init "$vmdir/guest/init" --out "$gdir/initramfs.cpio" >"$gdir/initramfs.log" 2>&1 ||
    die "initramfs build failed:$(echo; tail -15 "$gdir/initramfs.log")"
  echo "$inputs" >"$gdir/initramfs.inputs"
}

# patch_matches INFO: a patched variant's modules/info names the whole
# sha256 of its patch (the variant's name has only 8 digits of it).
patch_matches() {
  [ -z "$patch_file" ] || grep -q "^patch=.* sha256=$patch_sha\$" "$1" 2>/dev/null
}

# ensure_ready: everything a guest of the variant needs, built when
# missing (root; holds the cache's locks while it builds).
ensure_ready() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (apt, qemu and the cache under $cache)"
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock -w 3600 9 || die "another zfs-vm holds $cache/.lock"
  ensure_apt_source
  ensure_host_packages
  resolve_versions
  select_variant
  prepare_kernel
  prepare_zfs_package
  flock -u 9
  check_patch_applies
  # one build per variant at a time; another variant may build meanwhile
  mkdir -p "$gdir"
  exec 9>"$gdir.lock"
  flock -w 3600 9 || die "another zfs-vm holds $gdir.lock"
  build_modules
  build_initramfs
  flock -u 9
}
