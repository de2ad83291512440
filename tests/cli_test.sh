#!/bin/bash
# The diobench command line: help, version, engine-path, and bad usage
# (exit 2, the offending value named).
# usage: cli_test.sh DIOBENCH ENGINE_SO
set -u
bin=$1 engine=$2
fail=0
expect() {  # expect NAME WANT_STATUS PATTERN -- command...
  local name=$1 want=$2 pattern=$3; shift 4
  local out status
  out=$("$@" 2>&1); status=$?
  if [ "$status" -ne "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
    echo "FAIL $name: status $status (want $want), output: $out"; fail=1
  else
    echo "ok   $name"
  fi
}
expect "help" 0 "engine-path" -- "$bin" --help
expect "run help" 0 "--submit" -- "$bin" run --help
expect "version" 0 "^diobench [0-9]" -- "$bin" --version
expect "engine-path" 0 "^$(readlink -f "$engine")\$" -- "$bin" engine-path
expect "engine-path is absolute and loadable" 0 "" -- test -f "$("$bin" engine-path)"
expect "no command" 2 "Usage" -- "$bin"
expect "unknown command" 2 "unknown command 'frob'" -- "$bin" frob
expect "unknown option" 2 "unrecognised option '--bogus'" -- "$bin" run --bogus
expect "bad submit" 2 "invalid --submit value 'aio'" -- "$bin" run --submit aio
expect "bad size" 2 "invalid --size value '12Q'" -- "$bin" run --size 12Q
expect "bad runtime" 2 "runtime" -- "$bin" run --runtime abc
exit $fail
