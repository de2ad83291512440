# Sourced by the shell tests. expect NAME WANT_STATUS PATTERN -- command...
# runs the command and checks its exit status and that its output (stdout
# and stderr) matches PATTERN (grep); a failure sets fail=1.
fail=0
expect() {
  local name=$1 want=$2 pattern=$3; shift 4
  local out status
  out=$("$@" 2>&1); status=$?
  if [ "$status" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL $name: status $status (want $want), output: $out"; fail=1
  else
    echo "ok   $name"
  fi
}
