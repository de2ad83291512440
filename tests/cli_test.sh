#!/bin/bash
# The diobench command line: help, version, engine-path, and bad usage
# (exit 2, the offending value named).
# usage: cli_test.sh DIOBENCH ENGINE_SO
set -u
bin=$1 engine=$2
. "$(dirname "$0")/expect.sh"
expect "help" 0 "engine-path" -- "$bin" --help
expect "run help" 0 "--submit" -- "$bin" run --help
expect "version" 0 "^diobench [0-9]" -- "$bin" --version
expect "engine-path" 0 "^$(readlink -f "$engine")\$" -- "$bin" engine-path
expect "engine-path names an existing file" 0 "" -- test -f "$("$bin" engine-path)"
expect "no command" 2 "Usage" -- "$bin"
expect "unknown command" 2 "unknown command 'frob'" -- "$bin" frob
expect "unknown option" 2 "unrecognised option '--bogus'" -- "$bin" run --bogus
expect "bad submit" 2 "invalid --submit value 'aio'" -- "$bin" run --submit aio
expect "bad size" 2 "invalid --size value '12Q'" -- "$bin" run --size 12Q
expect "bad runtime" 2 "runtime" -- "$bin" run --runtime abc
exit $fail
