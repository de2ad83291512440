# vm/lane/image.sh: the guest image (sourced by scripts/zfs-vm). The
# guest kernel unpacked, zfs-dkms's source and the zfs userland unpacked,
# spl.ko and zfs.ko built out of tree for one variant, and the initramfs;
# all cached under $cache, keyed by guest kernel, ZFS package version and
# variant (vm/README.md, "Cache layout").

# The guest kernel: image, modules, headers and kbuild, unpacked (not
# installed) under $kdir/root.
prepare_kernel() {
  local stamp=$kdir/stamp want="linux-image-$kver $kpkg (unpacked, depmod)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log "fetching guest kernel $kver ($kpkg): image, headers, kbuild"
  mkdir -p "$cache/debs"
  local common kbuild debs=()
  common=$(uapt apt-cache depends "linux-headers-$kver" | awk '/Depends: linux-headers-.*-common/ && !seen++ { print $2 }')
  kbuild=$(uapt apt-cache depends "linux-headers-$kver" | awk '/Depends: linux-kbuild-/ && !seen++ { print $2 }')
  [ -n "$common" ] && [ -n "$kbuild" ] || die "cannot resolve the headers of linux-headers-$kver"
  debs+=("$(fetch_deb "linux-image-$kver=$kpkg")")
  debs+=("$(fetch_deb "linux-headers-$kver=$kpkg")")
  debs+=("$(fetch_deb "$common=$kpkg")")
  debs+=("$(fetch_deb "$kbuild")")
  # Debian's kernels from 7.x on split the image package: the kernel in
  # linux-binary-<abi>, base files and modules in linux-base-<abi> and
  # linux-modules-<abi> (trixie-backports' 7.3)
  local part
  for part in linux-binary linux-base linux-modules; do
    if uapt apt-cache show --no-all-versions "$part-$kver=$kpkg" >/dev/null 2>&1; then
      debs+=("$(fetch_deb "$part-$kver=$kpkg")")
    fi
  done
  log "unpacking the guest kernel into $kdir/root"
  rm -rf "$kdir"
  mkdir -p "$kdir/root"
  local d
  for d in "${debs[@]}"; do dpkg-deb -x "$d" "$kdir/root"; done
  # The headers' Makefile includes the common headers by absolute path.
  sed -i "s|^include /usr/src/|include $kdir/root/usr/src/|" "$kdir/root/usr/src/linux-headers-$kver/Makefile"
  # 7.x's kernel is /usr/lib/modules/<abi>/vmlinuz (in linux-binary-<abi>),
  # not /boot/vmlinuz-<abi>
  if [ ! -e "$kdir/root/boot/vmlinuz-$kver" ] && [ -f "$kdir/root/usr/lib/modules/$kver/vmlinuz" ]; then
    mkdir -p "$kdir/root/boot"
    ln -s "../usr/lib/modules/$kver/vmlinuz" "$kdir/root/boot/vmlinuz-$kver"
  fi
  [ -f "$kdir/root/boot/vmlinuz-$kver" ] || die "linux-image-$kver has no /boot/vmlinuz-$kver"
  # trixie's kernel packages put the modules in /usr/lib/modules (merged
  # /usr); depmod and build-initramfs look in /lib/modules
  if [ ! -e "$kdir/root/lib" ] && [ -d "$kdir/root/usr/lib/modules" ]; then ln -s usr/lib "$kdir/root/lib"; fi
  depmod -b "$kdir/root" "$kver" || die "depmod for the unpacked $kver failed"
  echo "$want" >"$stamp"
}

# needs_pahole: the kernel makes BTF for modules and its headers ship the
# vmlinux that takes (6.12's do, 6.1's do not: Makefile.modfinal then
# skips BTF): every module link, configure's tests too, then runs pahole.
needs_pahole() {
  local kobj=$kdir/root/usr/src/linux-headers-$kver
  [ -f "$kobj/vmlinux" ] && grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$kobj/.config"
}

# zfs-dkms's source and the zfs userland, unpacked under $zdir.
prepare_zfs_package() {
  local stamp=$zdir/stamp want="zfs $zpkg"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log "fetching zfs-dkms and the zfs userland $zpkg ($image_zfs_suite)"
  mkdir -p "$cache/debs"
  local src user=() p libs
  src=$(fetch_deb "zfs-dkms=$zpkg")
  # zfsutils-linux and the ZFS libraries it depends on (their names carry
  # the library's soname version, which changes between releases)
  libs=$(uapt apt-cache depends "zfsutils-linux=$zpkg" | awk '$1 == "Depends:" && $2 ~ /^lib(zfs|zpool|nvpair|uutil)[0-9]*linux$/ { print $2 }')
  [ -n "$libs" ] || die "apt names no ZFS libraries among the dependencies of zfsutils-linux $zpkg"
  for p in zfsutils-linux $libs; do
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
# of tree in a scratch copy of the source. One path for every variant:
# the packaged source, with the variant's patch applied if it has one, or
# a source tree (--zfs-source: what copy_source copies, autogen.sh first
# when the tree has no configure script, as a git checkout has none); the
# module's version is labelled with the variant.
build_modules() {
  local info=$gdir/modules/info
  local want="kernel=$kver zfs=$zpkg variant=$variant"
  [ -n "$label" ] && want+=" label=$label"
  if [ -f "$info" ] && [ "$(head -1 "$info")" = "$want" ] && variant_matches "$info" &&
     [ -f "$gdir/modules/zfs.ko" ] && [ -f "$gdir/modules/spl.ko" ]; then
    return 0
  fi
  local b=$gdir/build blog=$gdir/build.log t0=$SECONDS what="zfs $zver"
  rm -rf "$b" "$gdir/modules"
  mkdir -p "$gdir" "$b"
  : >"$blog"
  if [ -n "$source_dir" ]; then
    what="zfs $source_version from $source_dir"
    log "copying the source tree $source_dir (variant $variant)"
    copy_source "$b" >>"$blog" 2>&1 || die "cannot copy $source_dir (see $blog)"
  else
    cp -a "$zdir/src/." "$b"
  fi
  if [ -n "$patch_file" ]; then
    log "applying $(basename "$patch_file") (variant $variant)"
    (cd "$b" && patch "${patch_opts[@]}" --quiet <"$patch_file") >>"$blog" 2>&1 ||
      die "$(basename "$patch_file") does not apply to zfs $zpkg (see $blog)"
  fi
  if [ -n "$label" ]; then
    # Label the module: /sys/module/zfs/version then reads
    # <version>-<release>.<label>, so no record can mistake it for the
    # released build (configure takes the version from META).
    sed -i -E "s/^(Release:[[:space:]]*)([^[:space:]]+)[[:space:]]*\$/\1\2.$label/" "$b/META"
    grep -q "^Release:.*\.$label\$" "$b/META" || die "cannot label the $variant build in $b/META"
  fi
  if [ ! -x "$b/configure" ]; then
    log "generating configure (autogen.sh: a source tree without one)"
    (cd "$b" && ./autogen.sh) >>"$blog" 2>&1 ||
      die "autogen.sh failed in the copy of $source_dir; last lines of $blog:$(echo; tail -15 "$blog")"
  fi
  local ksrc=$kdir/root/usr/src/linux-headers-${kver%-amd64}-common
  local kobj=$kdir/root/usr/src/linux-headers-$kver
  [ -d "$ksrc" ] || ksrc=$kobj
  log "configuring $what ($variant) for $kver${uroot:+ in the $image_userland root} (log: $blog)"
  uapt sh -c 'cd "$1" && shift && exec "$@"' sh "$b" ./configure --disable-dependency-tracking --prefix=/usr \
      --with-config=kernel --with-linux="$ksrc" --with-linux-obj="$kobj" >>"$blog" 2>&1 ||
    die "zfs configure failed for $kver: $(configure_why "$b" "$blog"); last lines of $blog:$(echo; tail -15 "$blog")"
  grep -q '^#define HAVE_PIN_USER_PAGES_UNLOCKED 1' "$b/zfs_config.h" ||
    log "note: HAVE_PIN_USER_PAGES_UNLOCKED is not set for $kver: the unfixed variant would not differ"
  log "compiling spl and zfs modules with make -j$(nproc) (about 4-5 minutes on 2 cores)"
  uapt make -C "$b" -j"$(nproc)" >>"$blog" 2>&1 &
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
    uapt strip -g -o "$gdir/modules/$m.ko" "$b/module/$m.ko"
  done
  {
    echo "$want"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) seconds=$((SECONDS - t0))"
    echo "vermagic=$(modinfo -F vermagic "$gdir/modules/zfs.ko")"
    echo "version=$(modinfo -F version "$gdir/modules/zfs.ko")"
    variant_identity
  } >"$info"
  rm -rf "$b"
  log "modules built in $((SECONDS - t0)) s: $gdir/modules"
}

# configure_why DIR LOG: the check configure stopped at, and the first
# error of its kernel test builds (DIR/build/*/build.log), which often
# says more than the check (a tool missing, a kernel too new).
configure_why() {
  local stop said first
  stop=$(grep -B1 -m1 '^configure: error' "$2" | head -1)
  # what configure said: its message's first two lines, without the stars
  said=$(sed -n '/^configure: error/,$p' "$2" | sed -E 's/^configure: error:?//; s/^[[:space:]*]+//' | grep . | head -2 | paste -sd' ')
  first=$(find "$1/build" -name build.log -exec grep -h -m1 -E 'not found|error:|Error [0-9]+' {} + 2>/dev/null | head -1)
  echo "${stop:-?}: ${said:-?}${first:+; first error of its kernel test builds: $first}"
}

# copy_source DEST: the files of the source tree (variant.sh's
# source_files: a checkout's tracked and untracked files, no build
# products of its own) into DEST, with their modes.
copy_source() {
  source_files | tar -C "$source_dir" --null -T - -cf - | tar -C "$1" -xf -
}

build_initramfs() {
  local inputs
  inputs=$(cat "$gdir/modules/info" "$kdir/stamp" "$zdir/stamp" "$vmdir/build-initramfs" "$vmdir/guest/init" |
    { cat; [ -z "$uroot" ] || echo "userland $uroot"; } | sha256sum | cut -c1-16)
  if [ -f "$gdir/initramfs.cpio" ] && [ "$(cat "$gdir/initramfs.inputs" 2>/dev/null)" = "$inputs" ]; then
    return 0
  fi
  log "building the guest initramfs"
  "$vmdir/build-initramfs" --kernel-root "$kdir/root" --kver "$kver" --zfs-modules "$gdir/modules" \
      --zfs-user "$zdir/user" --init "$vmdir/guest/init" --out "$gdir/initramfs.cpio" \
      ${uroot:+--userland-root "$uroot"} >"$gdir/initramfs.log" 2>&1 ||
    die "initramfs build failed:$(echo; tail -15 "$gdir/initramfs.log")"
  echo "$inputs" >"$gdir/initramfs.inputs"
}

# ensure_ready: everything a guest of the image and variant needs, built
# when missing (root; holds the cache's locks while it builds). A failure
# of the packaged source's build is recorded for `images` (die() calls
# record_image while building_image is set). ZFSVM_TEST_STANDIN=1 (the
# lane's own tests): nothing is built, see standin_ready.
ensure_ready() {
  case ${ZFSVM_TEST_STANDIN:-0} in
    0) ;;
    1) standin_ready; return ;;
    *) usage_error "invalid ZFSVM_TEST_STANDIN value '$ZFSVM_TEST_STANDIN' (1 for the lane's tests, or unset)" ;;
  esac
  [ "$(id -u)" -eq 0 ] || die "must run as root (apt, qemu and the cache under $cache)"
  mkdir -p "$cache"
  building_image=1
  if [ "$image_userland" != host ]; then  # suite-root has its own lock: the cache's is not held
    uroot=$(root_path) || die "no $image_userland root (scripts/suite-root $image_userland failed)"
    guest_top=/srv/diobench
  fi
  exec 9>"$cache/.lock"
  flock -w 3600 9 || { building_image=0; die "another zfs-vm holds $cache/.lock"; }
  ensure_apt_source
  ensure_host_packages
  if [ -n "$uroot" ]; then
    ensure_root_dirs
    ensure_root_apt
  fi
  resolve_versions
  select_variant
  prepare_kernel
  [ -n "$uroot" ] || ! needs_pahole || ensure_host_packages dwarves
  [ -z "$uroot" ] || ensure_root_packages "$cache"/debs/linux-headers-"$kver"_*.deb "$cache"/debs/linux-kbuild-*"${kpkg%%-*}"*.deb
  prepare_zfs_package
  # a source tree's copy may have no configure script (a checkout's is
  # generated, and ignored by git): autogen.sh needs the autotools
  [ -z "$source_dir" ] || ensure_host_packages autoconf automake libtool
  flock -u 9
  building_image=0
  check_patch_applies
  # one build per variant at a time; another variant may build meanwhile
  mkdir -p "$gdir"
  exec 9>"$gdir.lock"
  flock -w 3600 9 || { building_image=0; die "another zfs-vm holds $gdir.lock"; }
  building_image=1
  build_modules
  build_initramfs
  flock -u 9
  # last: suite-root's lock is held while it builds (and another
  # zfs-vm's build of this root may be under way meanwhile)
  [ -z "$uroot" ] || ensure_root_diobench
  building_image=0
  record_image built
}

# standin_ready: for the lane's tests of `run` and `review` with no image
# and no guest (tests/zfs_vm_resume_test.sh): the versions are stand-ins,
# nothing is built, checked or locked, and root is not needed; a stand-in
# qemu-system-x86_64 first on PATH (tests/zfs_vm_standin_guest.sh) plays
# the guest. Never for a real run: the guest's kernel and modules do not
# exist.
standin_ready() {
  kver=standin-kernel kpkg=standin zpkg=standin-zfs
  kdir=$cache/kernel/$kver zdir=$cache/zfs/$zpkg
  select_variant
}
