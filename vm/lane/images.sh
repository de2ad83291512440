# vm/lane/images.sh: the catalogue of guest images (sourced by
# scripts/zfs-vm). vm/images names each image: its userland, guest
# kernel, zfs-dkms suite and version. This file reads it (--image NAME,
# the default image), runs apt where the image's userland is (the host,
# or a Debian suite's root made by scripts/suite-root), records what
# each image's build gave, and lists every image with its state.

images_file=$vmdir/images
want_image=""
image="" image_userland="" image_kernel="" image_series="" image_zfs_suite="" image_zfs=""
uroot=""        # the image's userland root; empty for the host's /
guest_top=$top  # the repository as the guest sees it

image_names() { awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$images_file"; }
default_image() { image_names | head -1; }

# resolve_image CMD: --image's value, or the default, into image_*;
# an image vm/images does not name is bad usage (exit 2).
resolve_image() {
  local cmd=$1 name=${want_image:-$(default_image)} line extra
  line=$(awk -v n="$name" '!/^[[:space:]]*#/ && $1 == n { print; exit }' "$images_file")
  [ -n "$line" ] ||
    usage_error "$cmd: invalid --image value '$name' (known images: $(image_names | paste -sd' ' | sed 's/ /, /g'))"
  read -r image image_userland image_kernel image_series image_zfs_suite image_zfs extra <<<"$line"
  [ -n "$image_zfs" ] && [ -z "$extra" ] || die "$images_file: the line of $image needs 6 columns: $line"
  uroot="" guest_top=$top
}

is_default_image() { [ "$image" = "$(default_image)" ]; }
image_args() { is_default_image || echo " --image $image"; }

# uapt CMD...: CMD where the image's userland is: on the host, or
# chrooted into the suite's root (its apt, its compiler), in a mount
# namespace of its own with /proc, /dev and the cache (at its own path:
# apt downloads into it, the modules build there against the unpacked
# kernel with every path as on the host). The mounts end with CMD: none
# is left behind, and none is seen (or unmounted) by scripts/suite-root
# working in the same root meanwhile.
uapt() {
  if [ -z "$uroot" ]; then
    "$@"
    return
  fi
  unshare --mount --propagation private /bin/sh -c '
    r=$1 c=$2
    shift 2
    mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" && mount --bind "$c" "$r$c" ||
      { echo "zfs-vm: cannot mount /proc, /dev and $c in $r" >&2; exit 97; }
    exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"' sh "$uroot" "$cache" "$@"
}

# ------------------------------------------------ a suite's root as userland

# root_path: the cached root of the image's suite (scripts/suite-root),
# built when missing unless $1 is "cached" (then: exit 1 without one).
root_path() {
  # --cached takes no lock: a suite-root --build-and-test of the same
  # root (which holds it throughout) does not hold this up
  "$top/scripts/suite-root" "$image_userland" --cached 2>/dev/null && return 0
  [ "${1:-}" != cached ] || return 1
  nice -n 10 "$top/scripts/suite-root" "$image_userland"
}

# use_cached_root: for the commands that build nothing (ready, info):
# the suite's root when it is cached; else says so and returns 1.
use_cached_root() {
  [ "$image_userland" = host ] && return 0
  uroot=$(root_path cached) ||
    { echo "not ready: no $image_userland root (scripts/zfs-vm build$(image_args) makes it)" >&2; return 1; }
  guest_top=/srv/diobench
}

# ensure_root_dirs: the mount points uapt needs in the root, and the
# host's resolver for the root's apt.
ensure_root_dirs() {
  local d
  for d in proc dev "${cache#/}"; do
    [ ! -L "$uroot/$d" ] || die "$uroot/$d is a symlink; refusing to follow it"
    mkdir -p "$uroot/$d"
  done
  if [ ! -L "$uroot/etc/resolv.conf" ] && [ ! -s "$uroot/etc/resolv.conf" ]; then
    cp /etc/resolv.conf "$uroot/etc/resolv.conf"
  fi
}

# The root's apt learns the image's suites, in a file of its own: the
# userland's own suite with contrib (zfs-dkms; main is the root's already),
# any other (backports) with main and contrib; the URI is the one the
# root was made from.
ensure_root_apt() {
  local uri file=$uroot/etc/apt/sources.list.d/diobench-zfsvm.sources want s others=""
  local stamp=$uroot/var/lib/apt/diobench-zfsvm.updated  # not beside the sources: apt would warn
  uri=$(sed -n 's/^archive //p' "$uroot/.diobench-suite-root")
  [ -n "$uri" ] || die "$uroot/.diobench-suite-root names no archive"
  for s in "$image_zfs_suite" "${image_kernel#*/}"; do
    case $s in linux-image-*|"$image_userland") continue ;; esac
    [[ " $others " == *" $s "* ]] || others+=" $s"
  done
  want="# Written by diobench scripts/zfs-vm: the suites of image $image.
Types: deb
URIs: $uri
Suites: $image_userland
Components: contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  [ -z "$others" ] || want+="

Types: deb
URIs: $uri
Suites:$others
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  if [ ! -f "$file" ] || [ "$(cat "$file")" != "$want" ]; then
    printf '%s\n' "$want" >"$file"
    rm -f "$stamp"
  fi
  [ -f "$stamp" ] && return 0
  log "apt-get update in the $image_userland root"
  uapt apt-get update -qq || die "apt-get update failed in $uroot"
  touch "$stamp"
}

# ensure_root_packages DEB...: what the unpacked kernel headers and kbuild
# need to build modules (their Depends that are not linux-* packages:
# the suite's gcc, libelf, libssl), and make, installed in the root.
ensure_root_packages() {
  local deps
  deps=$(for d in "$@"; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' |
    sed -E 's/\|.*//; s/\(.*\)//; s/^[[:space:]]+//; s/[[:space:]]+$//' | grep -v '^linux-' | grep . | sort -u)
  local missing=() p
  needs_pahole && deps+=" dwarves"
  for p in make file kmod jq $deps; do  # jq: the guest scripts'
    uapt dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing in the $image_userland root: ${missing[*]}"
  uapt apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed in $uroot"
}

# ensure_root_diobench: the checkout built inside the root against its
# fio (scripts/suite-root --build-and-test, no tests run: -N lists them),
# again only when the checkout's files changed; the guest runs it there.
ensure_root_diobench() {
  local stamp=$uroot/srv/diobench/.zfsvm-checkout want
  want=$(cd "$top" && git ls-files -z -co --exclude-standard | xargs -0 -r sha256sum 2>/dev/null | sha256sum | cut -c1-16)
  guest_top=/srv/diobench
  [ -x "$uroot/srv/diobench/build/diobench" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  log "building diobench in the $image_userland root (scripts/suite-root $image_userland --build-and-test -- -N)"
  nice -n 10 "$top/scripts/suite-root" "$image_userland" --build-and-test -- -N >&2 ||
    die "diobench does not build in the $image_userland root (scripts/suite-root $image_userland --build-and-test)"
  echo "$want" >"$stamp"
}

# ------------------------------------------------ what each build gave

# record_image STATE TEXT: $cache/images/<image>.built or .failed (only
# the packaged source's build speaks for the image; a patch's failure is
# the patch's).
record_image() {
  [ "${variant:-fixed}" = fixed ] && [ -z "${patch_file:-}" ] && [ -z "${source_dir:-}" ] || return 0
  [ -n "$image" ] && [ -d "$cache" ] || return 0
  mkdir -p "$cache/images"
  if [ "$1" = built ]; then
    rm -f "$cache/images/$image.failed"
    printf 'kernel=%s zfs=%s gdir=%s\n' "$kver" "$zpkg" "$gdir" >"$cache/images/$image.built"
  else
    rm -f "$cache/images/$image.built"
    { echo "kernel=${kver:-?} zfs=${zpkg:-?} at $(date -u +%Y-%m-%dT%H:%M:%SZ)"; printf '%s\n' "$2"; } \
      >"$cache/images/$image.failed"
  fi
}
building_image=0  # set while ensure_ready builds: die() records the failure

# images: every image of vm/images with its state, from the records the
# builds left (no apt, no network); the default image's warm cache from
# before the records is found by its versions (local apt data).
cmd_images() {
  [ $# -eq 0 ] || case $1 in -h|--help) usage; exit 0 ;; *) usage_error "images: unknown argument '$1'" ;; esac
  local name state
  for name in $(image_names); do
    want_image=$name
    resolve_image images
    state=$(image_state)
    printf '%-22s %s\n' "$name" "$state"
  done
}

image_state() {
  local r=$cache/images/$image g
  if [ -f "$r.built" ]; then
    g=$(sed -n 's/.* gdir=//p' "$r.built")
    if [ -f "$g/initramfs.cpio" ] && [ -f "$g/modules/zfs.ko" ]; then
      echo "built: $(sed -E 's/ gdir=.*//; s/kernel=/kernel /; s/ zfs=/, zfs /' "$r.built")"
      return
    fi
  fi
  if [ -f "$r.failed" ]; then
    echo "does not build: $(head -1 "$r.failed")"
    sed -n '2,6p' "$r.failed" | sed 's/^/    /'
    return
  fi
  if [ "$image_userland" = host ] && (no_update=1 resolve_versions >/dev/null 2>&1 &&
     variant=fixed select_variant 2>/dev/null && [ -f "$gdir/initramfs.cpio" ]); then
    no_update=1 resolve_versions 2>/dev/null
    echo "built: kernel $kver, zfs $zpkg"
    return
  fi
  echo "not built (scripts/zfs-vm build$(image_args))"
}
