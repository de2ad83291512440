# vm/lane/apt.sh: where the guest's packages come from (sourced by
# scripts/zfs-vm). bookworm-backports is added beside the machine's own
# Debian archive; the guest kernel and zfs-dkms versions are read from
# local apt data (the host's, or the root of an image of another suite:
# uapt in images.sh); .debs are downloaded into the cache, never installed
# on the host.
# Also the host's own packages (qemu, busybox, build tools).

# The Debian archive URI this machine already uses (deb822 or one-line
# form); bookworm-backports is served from the same archive.
archive_uri() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
      { t = 0; s = 0; u = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) t = 1
          if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) s = 1
          if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); u = a[2] }
        }
        if (t && s && u != "") { print u; exit } }' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                         if ($(i + 1) == "bookworm") { print $i; exit } }')
  fi
  [ -n "$uri" ] || die "no Debian bookworm archive found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list (needed for bookworm-backports)"
  echo "$uri"
}

ensure_apt_source() {
  local uri want
  uri=$(archive_uri)
  want="# Written by diobench scripts/zfs-vm: zfs-dkms 2.3.x and its userland for the
# qemu guest lane (only fetched with apt-get download, never installed).
# The URI is the Debian archive configured in this machine's own sources.
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  if [ ! -f "$apt_source" ] || [ "$(cat "$apt_source")" != "$want" ]; then
    log "adding bookworm-backports (main contrib) in $apt_source"
    printf '%s\n' "$want" >"$apt_source"
    apt_update
  fi
}

apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  log "apt-get update${uroot:+ in the $image_userland root}"
  uapt apt-get update -qq || die "apt-get update failed${uroot:+ in $uroot}"
  apt_updated=1
}

# Sets kver (guest kernel ABI name, e.g. 6.1.0-56-amd64), kpkg (its Debian
# package version), zpkg (zfs-dkms version, e.g. 2.3.2-2~bpo12+2) and zver
# (upstream, 2.3.2) for the image (vm/images): the kernel its package
# ($image_kernel) depends on, the zfs-dkms of $image_zfs_suite whose
# upstream version is $image_zfs. Local apt data only (the host's, or the
# image's root's); updates once if they are missing.
resolve_versions() {
  local try zsuites
  for try in 1 2; do
    kver=${ZFSVM_KERNEL:-$(uapt apt-cache depends "$image_kernel" 2>/dev/null |
      awk '/Depends: linux-image-[0-9]/ && !seen++ { sub("linux-image-", "", $2); print $2 }')}
    zsuites=$(uapt apt-cache madison zfs-dkms 2>/dev/null | awk -F' *[|] *' -v s="$image_zfs_suite" '
      index($3, " " s "/") { print $2 }')
    zpkg=$(awk -v z="$image_zfs" 'index($0, z "-") == 1 && !seen++' <<<"$zsuites")
    kpkg=""
    [ -n "$kver" ] && kpkg=$(uapt apt-cache madison "linux-image-$kver" 2>/dev/null | awk -F' *[|] *' 'NR == 1 { print $2 }')
    [ -n "$kver" ] && [ -n "$zpkg" ] && [ -n "$kpkg" ] && break
    [ "$try" = 1 ] && [ "${no_update:-0}" = 0 ] && apt_update
  done
  [ -n "$kver" ] || die "cannot tell the guest kernel of image $image: $image_kernel is unknown to apt (set ZFSVM_KERNEL=<abi>-amd64)"
  if [ -z "$kpkg" ] && [ -n "${ZFSVM_KERNEL:-}" ]; then
    usage_error "invalid ZFSVM_KERNEL value '$ZFSVM_KERNEL' (apt knows no linux-image-$ZFSVM_KERNEL: no such guest image)"
  fi
  [ -n "$kpkg" ] || die "guest kernel package linux-image-$kver is not available from apt"
  if [ -z "${ZFSVM_KERNEL:-}" ] && [[ $kver != "$image_series".* ]]; then
    die "image $image promises kernel $image_series, but $image_kernel now depends on linux-image-$kver (update $images_file)"
  fi
  [ -n "$zpkg" ] || die "image $image: $image_zfs_suite has no zfs-dkms $image_zfs (it has: $(echo ${zsuites:-none}))"
  zver=${zpkg%%-*}
  case $zver in
    2.[3-9].*|[3-9].*) ;;
    *) die "zfs-dkms $zpkg from $image_zfs_suite has no Direct I/O (2.3 or later needed)" ;;
  esac
  kdir=$cache/kernel/$kver
  zdir=$cache/zfs/$zpkg
}


host_packages=(
  qemu-system-x86 busybox-static cpio fdisk kmod xz-utils zstd
  build-essential gcc-12 make libelf1 libssl3 file
  fio jq util-linux sqlite3
)

# package_installed PKG: dpkg's status read whole, then compared (a
# `dpkg-query | grep -q` under pipefail can fail when grep stops reading).
package_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# ensure_host_packages [PKG...]: host_packages and any others given,
# installed when missing.
ensure_host_packages() {
  local missing=() p
  for p in "${host_packages[@]}" "$@"; do
    package_installed "$p" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# Downloads pkg=version into $cache/debs unless already there; prints the path.
fetch_deb() {
  local spec=$1 file
  file=$(uapt apt-cache show --no-all-versions "$spec" 2>/dev/null | awk '/^Filename:/ && !seen++ { n = split($2, p, "/"); print p[n] }')
  [ -n "$file" ] || die "apt knows no package $spec"
  if [ ! -s "$cache/debs/$file" ]; then
    uapt sh -c 'cd "$1" && apt-get download -q "$2" >/dev/null 2>&1' sh "$cache/debs" "$spec" ||
      die "apt-get download $spec failed"
  fi
  echo "$cache/debs/$file"
}
