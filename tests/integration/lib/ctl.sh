#!/bin/bash
# tests/integration/lib/ctl.sh - what the tests of redmilterctl share,
# sourced after lib/redis.sh (whose run_prog and is it uses).
#
#   tctl DESC CODE WANT_STDOUT WANT_STDERR ARGS...
#       run "$CTL" "${CONN[@]}" ARGS (the caller sets CTL, the program,
#       and CONN, its connection options); one test on exit status,
#       stdout and stderr together

tctl() {
	local desc=$1 code=$2 wo=$3 we=$4
	shift 4
	run_prog "$CTL" "${CONN[@]}" "$@"
	is "exit $RC"$'\n'"stdout:"$'\n'"$OUT"$'\n'"stderr:"$'\n'"$ERR" \
	    "exit $code"$'\n'"stdout:"$'\n'"$wo"$'\n'"stderr:"$'\n'"$we" "$desc"
}
