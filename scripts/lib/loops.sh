# shellcheck shell=bash
# The loop devices bound now, for the scripts that check none was left
# (scripts/test on the host, vm/guest/*.sh in the qemu guest, which source
# this file). The C++ code lists them from sysfs (core bound_loop_devices());
# the scripts ask losetup, here and nowhere else.

# bound_loops [TEXT]: "NAME BACK-FILE" a line, one per bound loop device;
# with TEXT, only the lines that hold it (a fixed string). Nothing bound:
# no output, status 0.
bound_loops() {
  local all
  all=$(losetup -l -n -O NAME,BACK-FILE 2>/dev/null) || true
  [ -n "$all" ] || return 0
  if [ $# -gt 0 ]; then
    grep -F -- "$1" <<<"$all" || true
  else
    printf '%s\n' "$all"
  fi
}
