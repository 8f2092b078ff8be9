#!/bin/bash
# counter.sh - the limit counters (policy/counter.c) against a real
# redis-server: runs the Check program built from counter.c, whose test
# cases are reported as TAP lines.
. "$(dirname "$0")/lib/redis.sh"

bin=$TOP/${BUILDDIR:-build/cc-std}/tests/integration/counter
[ -x "$bin" ] || bail_out "$bin is missing: make build-tests"
start_redis
tap=$H_TMP/counter.tap
# shellcheck disable=SC2086
REDIS_URL=$REDIS_URL REDIS_SOCK=$REDIS_SOCK REDIS_PID=$REDIS_PID \
    CK_TAP_LOG_FILE_NAME=$tap timeout -k 5 600 $TEST_PREFIX "$bin" \
    >"$H_TMP/out" 2>&1
rc=$?
if [ -s "$tap" ]; then
	grep -E '^(not )?ok ' "$tap"
else
	echo "not ok 1 - counter produced no TAP (exit $rc)"
fi
if [ $rc -ne 0 ]; then
	cat "$H_TMP/out" >&2
fi
H_DONE=1 # the TAP lines above are the results
exit $rc
