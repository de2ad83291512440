# vm/lane/variant.sh: what a build variant is (sourced by scripts/zfs-vm).
# The options that pick one, alike for every command (none, --unfixed,
# --patch FILE, --zfs-source DIR), the checks of what they name, and the
# variant's key, module label and hints. image.sh builds what this names.
#
#   none               the packaged zfs-dkms source as it is: "fixed"
#   --patch FILE       that source with FILE applied: patch-<sha8>
#   --unfixed          --patch vm/patches/unfixed-pin-every-iterator.patch:
#                      unfixed-<sha8>, labelled so the runner's crash
#                      guard knows it
#   --zfs-source DIR   an OpenZFS checkout instead of the packaged source:
#                      src-<commit12>[-<diff8>], keyed by the commit and
#                      the sha256 of what is not committed (tracked
#                      changes and untracked files); a tree that is not a
#                      git checkout is keyed by its content: src-tree-<sha12>

want_unfixed=0 want_patch="" want_source="" variant_args=""
patch_file=""   # the variant's patch, absolute; empty unless --patch / --unfixed
source_dir=""   # the variant's source tree, absolute; empty unless --zfs-source
source_commit="" source_diff="" source_version=""

# variant_option CMD ARGS...: takes one variant option off the front of
# ARGS; sets took (how many words it used), or returns 1 when ARGS does
# not start with one. Every command's loop calls it first. --image NAME
# (the image the variant is built for: vm/images) is taken here too.
variant_option() {
  local cmd=$1
  shift
  took=1
  case $1 in
    --unfixed) want_unfixed=1 ;;
    --patch)
      [ $# -ge 2 ] || usage_error "$cmd: --patch needs a file"
      [ -z "$want_patch" ] || [ "$want_patch" = "$2" ] ||
        usage_error "$cmd: invalid --patch value '$2' (--patch '$want_patch' was given already: one patch per build)"
      want_patch=$2 took=2 ;;
    --zfs-source)
      [ $# -ge 2 ] || usage_error "$cmd: --zfs-source needs a directory"
      [ -z "$want_source" ] || [ "$want_source" = "$2" ] ||
        usage_error "$cmd: invalid --zfs-source value '$2' (--zfs-source '$want_source' was given already)"
      want_source=$2 took=2 ;;
    --image)
      [ $# -ge 2 ] || usage_error "$cmd: --image needs a name (scripts/zfs-vm images lists them)"
      [ -z "$want_image" ] || [ "$want_image" = "$2" ] ||
        usage_error "$cmd: invalid --image value '$2' (--image '$want_image' was given already)"
      want_image=$2 took=2 ;;
    *) return 1 ;;
  esac
}

# resolve_variant CMD: the options checked (bad input: exit 2 naming it);
# sets patch_file or source_dir, and variant_args (the options as given).
resolve_variant() {
  local cmd=$1 given
  resolve_image "$cmd"
  if [ "$want_unfixed" = 1 ] && [ -n "$want_patch" ]; then
    usage_error "$cmd: invalid options --unfixed with --patch '$want_patch' (--unfixed is --patch vm/patches/$(basename "$unfixed_patch"): give one of them)"
  fi
  if [ -n "$want_source" ] && { [ "$want_unfixed" = 1 ] || [ -n "$want_patch" ]; }; then
    usage_error "$cmd: invalid options --zfs-source '$want_source' with $([ "$want_unfixed" = 1 ] && echo --unfixed || echo "--patch '$want_patch'") (a source tree carries its own changes: commit them or leave them uncommitted in it)"
  fi
  patch_file="" source_dir="" variant_args="$(image_args)"
  if [ -n "$want_source" ]; then
    check_zfs_source "$cmd" "$want_source"
    source_dir=$(realpath "$want_source")
    variant_args+=" --zfs-source $(printf '%q' "$want_source")"
    return 0
  fi
  given=$want_patch
  [ "$want_unfixed" = 1 ] && given=$unfixed_patch
  [ -n "$given" ] || return 0
  [ -e "$given" ] || usage_error "$cmd: invalid --patch value '$given' (no such file)"
  [ -f "$given" ] || usage_error "$cmd: invalid --patch value '$given' (not a regular file)"
  { : <"$given"; } 2>/dev/null || usage_error "$cmd: invalid --patch value '$given' (not readable)"
  [ -s "$given" ] || usage_error "$cmd: invalid --patch value '$given' (empty)"
  patch_file=$(realpath "$given")
  if [ "$want_unfixed" = 1 ]; then variant_args+=" --unfixed"; else variant_args+=" --patch $(printf '%q' "$given")"; fi
}

# check_zfs_source CMD DIR: an OpenZFS source tree, as a checkout of
# openzfs/zfs has it: META naming the package zfs, and module/zfs.
check_zfs_source() {
  local cmd=$1 dir=$2 why=""
  if [ ! -e "$dir" ]; then why="no such directory"
  elif [ ! -d "$dir" ]; then why="not a directory"
  elif [ ! -f "$dir/META" ]; then why="no META file: not an OpenZFS source tree"
  elif ! awk '$1 == "Name:" && $2 == "zfs" { found = 1 } END { exit !found }' "$dir/META"; then
    why="its META does not say 'Name: zfs': not an OpenZFS source tree"
  elif [ ! -d "$dir/module/zfs" ]; then why="no module/zfs directory: not an OpenZFS source tree"
  fi
  [ -z "$why" ] || usage_error "$cmd: invalid --zfs-source value '$dir' ($why)"
}

# git in the source tree, whoever owns it (root reads a reviewer's checkout).
source_git() { git -c safe.directory="$source_dir" -C "$source_dir" "$@"; }

# source_files: the tree's files, NUL-separated, relative: for a git
# checkout what git tracks and what it would add (not what it ignores,
# such as an in-tree build's objects); else every file.
source_files() {
  if [ -n "$source_commit" ]; then
    source_git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do if [ -f "$source_dir/$f" ]; then printf '%s\0' "$f"; fi; done
  else
    (cd "$source_dir" && find . -type f ! -path './.git/*' -printf '%P\0' | sort -z)
  fi
}

# Sets source_commit (empty for a tree that is not a git checkout),
# source_diff (sha256 of the uncommitted changes: git's binary diff
# against HEAD, then each untracked file's name and content; or, for a
# plain tree, of every file's name and content) and source_version (META).
identify_source() {
  source_commit="" source_diff=""
  source_version=$(awk '$1 == "Version:" { v = $2 } $1 == "Release:" { r = $2 } END { print v "-" r }' "$source_dir/META")
  if [ -e "$source_dir/.git" ] && source_commit=$(source_git rev-parse --verify -q HEAD 2>/dev/null); then
    local untracked
    untracked=$(source_git ls-files -z --others --exclude-standard | sort -z | tr '\0' '\n')
    source_diff=$({ source_git diff --binary HEAD
                    while IFS= read -r f; do
                      if [ -n "$f" ] && [ -f "$source_dir/$f" ]; then printf '%s\n' "$f"; cat "$source_dir/$f"; fi
                    done <<<"$untracked"; } | sha256sum | cut -d' ' -f1)
    # nothing uncommitted: the digest of no input at all
    if [ "$source_diff" = "$(printf '' | sha256sum | cut -d' ' -f1)" ]; then source_diff=""; fi
  else
    source_commit=""
    source_diff=$(source_files | (cd "$source_dir" && xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1)
  fi
}

# Sets variant, label (what the module's version gets appended, empty for
# the fixed build), patch_sha (the patch's sha256) and gdir (the guest
# directory of one build). The unfixed patch, by content, keeps its own
# name and the label the runner's crash guard looks for
# (runner/src/safety.cpp); any other patch is patch-<sha8>, a label of its
# own, which the crash guard does not know; a source tree is src-...
select_variant() {
  variant=fixed label="" patch_sha=""
  if [ -n "$source_dir" ]; then
    identify_source
    if [ -z "$source_commit" ]; then
      variant=src-tree-${source_diff:0:12} label=diobench_src_tree_${source_diff:0:8}
    else
      variant=src-${source_commit:0:12} label=diobench_src_${source_commit:0:8}
      [ -z "$source_diff" ] || variant+=-${source_diff:0:8} label+=_${source_diff:0:8}
    fi
  elif [ -n "$patch_file" ]; then
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

# variant_identity: the line of modules/info that ties a build to exactly
# its input (the variant's name holds only a prefix of the digests).
variant_identity() {
  if [ -n "$source_dir" ]; then
    echo "source=$source_dir commit=${source_commit:-none} uncommitted_sha256=${source_diff:-none} version=$source_version"
  elif [ -n "$patch_file" ]; then
    echo "patch=$(basename "$patch_file") sha256=$patch_sha"
  fi
}

# variant_matches INFO: modules/info was built from this very input (a
# source moved elsewhere with the same commit and changes still matches).
variant_matches() {
  local want
  want=$(variant_identity)
  [ -n "$want" ] || return 0
  [ -f "$1" ] || return 1
  if [ -n "$source_dir" ]; then
    grep -qF " ${want#source=* }" "$1"
  else  # by content: a copy of the patch under another name is the same variant
    grep -q "^patch=.* sha256=$patch_sha\$" "$1"
  fi
}

# For result directory names: "", "-unfixed", "-patch-<sha8>" or "-src-...".
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
    fixed) echo "neither --unfixed, --patch nor --zfs-source" ;;
    unfixed-*) echo "--unfixed" ;;
    patch-*) echo "--patch with the patch whose sha256 starts with ${1#patch-}" ;;
    src-*) echo "--zfs-source with the tree of that commit and changes (${1#src-})" ;;
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
