#!/bin/bash
# million.sh - 1,000,000 transactions through the load generator with the
# milter's RSS flat (RELIABILITY.md, item 4; `make stress`, a few minutes).
#
# The load generator (16 persistent connections, 1 recipient a
# transaction, its own 2,000 rules, every reply checked) first warms the
# milter up with WARMUP transactions (default 100,000: every pool, worker
# thread and malloc arena it will use is in place), then runs TOTAL
# (default 1,000,000) more in one run, the milter's RSS read from /proc
# every 2 s meanwhile.  Then 100,000 transactions with a new connection
# each, for what a connection costs (libmilter context, our per-connection
# state).
#
# The milter runs with MALLOC_ARENA_MAX=1 (STRESS_MALLOC_ARENA_MAX to
# change it): with glibc's default of up to 8 arenas a core, libmilter's
# worker threads, which come and go, spread allocations over several
# arenas whose fragmentation makes RSS creep by about 1 MB per million
# transactions (6.5 to 10 MB over this run, still creeping at the end;
# RELIABILITY.md); with one arena RSS is a flat line, so that a leak of one
# byte a transaction (1 MB here) stands out.
#
# Passes when every reply was the rule's, not one "451 4.3.0" among them
# (Redis is healthy: the fail-safe answer of a lookup slower than
# redis_timeout must not show; a starved machine can cause it, and then
# this fails: run `make stress` on a quiet machine), RSS after the run is
# at most RSS after the warm-up plus 1 MB, and the least-squares trend of
# the second half's readings, extrapolated to 1,000,000 transactions, is
# under 1 MB.  For the new-connection run, the last reading is at most the first
# plus 1 MB.  RSS at start, after the warm-up and at the end are printed as
# TAP comments.

# By hand:  make all build-tests && bash tests/stress/million.sh

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib/redis.sh
. "$here/../integration/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=../integration/lib/milter.sh
. "$here/../integration/lib/milter.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
LOADGEN=${LOADGEN:-$TOP/${BUILDDIR:-build/cc-std}/tests/bench/loadgen}
need_program "$REDMILTER" "$REDMILTERCTL" "$LOADGEN"
TOTAL=${STRESS_TRANSACTIONS:-1000000}
WARMUP=${STRESS_WARMUP:-100000}
NEWCONN=${STRESS_NEWCONN:-100000}
CONC=16
# shellcheck disable=SC2034 # read by run() in lib/harness.sh
RUN_TIMEOUT=3600

start_redis
run "$LOADGEN" --write-rules "$H_TMP/rules" --rules 2000
[ "$RC" -eq 0 ] || bail_out "loadgen --write-rules: $ERR"
run_prog "$REDMILTERCTL" -r "$REDIS_URL" import "$H_TMP/rules"
[ "$RC" -eq 0 ] || bail_out "redmilterctl import: $ERR"
export MALLOC_ARENA_MAX=${STRESS_MALLOC_ARENA_MAX:-1}
start_milter "log_level = warning"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$MILTER_PID/status"; }
kv() { sed -n 's/^loadgen: .* \?'"$1"'=\([^ ]*\).*/\1/p' <<<"$2" | tail -n 1; }

# load TXNS [LOADGEN-OPTION...] - TXNS transactions over CONC connections;
# adds to DONE, WRONG and ERRORS
DONE=0
WRONG=0
ERRORS=0
TEMPFAILS=0
load() {
	local n=$1
	shift
	run "$LOADGEN" -s "unix:$MILTER_SOCK_PATH" -c "$CONC" \
	    -n $(((n + CONC - 1) / CONC)) -d 86400 -k 1 --rules 2000 \
	    --recipients 2000 --senders 100 -q \
	    --allow-reply "451 4.3.0 Temporary policy lookup failure" "$@"
	DONE=$((DONE + $(kv txns "$OUT")))
	TEMPFAILS=$((TEMPFAILS + $(kv allowed "$OUT")))
	WRONG=$((WRONG + $(kv wrong "$OUT") + (RC != 0)))
	ERRORS=$((ERRORS + $(kv io_errors "$OUT")))
	[ "$RC" -eq 0 ] || diag "loadgen exit status $RC: $ERR"
}

# sampler FILE - the milter's RSS every 2 s into FILE, until killed
sampler() {
	while :; do
		rss_kb >>"$1" || exit 0
		sleep 2
	done
}

rss_start0=$(rss_kb)
load "$WARMUP"
rss_warm=$(rss_kb)
note "RSS at start $rss_start0 kB; after $DONE warm-up transactions $rss_warm kB"
DONE=0
(trap - EXIT INT TERM; sampler "$H_TMP/rss") &
sp=$!
t0=$(date +%s)
load "$TOTAL"
secs=$(($(date +%s) - t0))
kill "$sp" 2>/dev/null
wait "$sp" 2>/dev/null
rss_end=$(rss_kb)
is "$WRONG:$TEMPFAILS:$ERRORS" "0:0:0" "$DONE transactions in $secs s: every reply the rule's, not one 451 4.3.0, no I/O error" ||
    diag "wrong replies $WRONG, 451 4.3.0 answers $TEMPFAILS, I/O errors $ERRORS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$DONE" -ge "$TOTAL" ]; then
	pass "at least $TOTAL transactions ran ($DONE)"
else
	fail "at least $TOTAL transactions ran" "only $DONE"
fi
mapfile -t r <"$H_TMP/rss"
[ ${#r[@]} -ge 8 ] || bail_out "too few RSS readings: ${#r[@]}"
# kB per 1,000,000 transactions: slope over the second half of the readings
half=$((${#r[@]} / 2))
per_million=$(printf '%s\n' "${r[@]:half}" | awk -v n="${#r[@]}" -v done="$DONE" '
	{ x[NR] = NR; y[NR] = $1; sx += NR; sy += $1 }
	END {
		mx = sx / NR; my = sy / NR
		for (i = 1; i <= NR; i++) { num += (x[i] - mx) * (y[i] - my); den += (x[i] - mx) ^ 2 }
		printf "%d\n", (num / den) * 1000000 / (done / n)
	}')
note "RSS readings (kB, every 2 s): ${r[*]}"
note "RSS (MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX): $rss_start0 kB at start, $rss_warm kB after the warm-up, $rss_end kB after $DONE more transactions; second-half trend $per_million kB per 1,000,000 transactions"
if [ "$rss_end" -le $((rss_warm + 1024)) ]; then
	pass "RSS after $DONE transactions $rss_end kB <= after the warm-up $rss_warm kB + 1 MB"
else
	fail "RSS after $DONE transactions <= after the warm-up + 1 MB" \
	    "$rss_warm kB -> $rss_end kB" "${r[*]}"
fi
if [ "$per_million" -lt 1024 ]; then
	pass "RSS flat over $DONE transactions (second-half trend $per_million kB per million < 1 MB)"
else
	fail "RSS flat over $DONE transactions" \
	    "second-half trend $per_million kB per million transactions" "${r[*]}"
fi

# One connection per transaction.
DONE=0
WRONG=0
ERRORS=0
TEMPFAILS=0
load 10000 --new-conn
rss_nc0=$(rss_kb)
DONE=0
load "$NEWCONN" --new-conn
rss_nc1=$(rss_kb)
is "$WRONG:$TEMPFAILS:$ERRORS" "0:0:0" "$DONE transactions with a connection each: every reply the rule's, not one 451 4.3.0" ||
    diag "wrong replies $WRONG, 451 4.3.0 answers $TEMPFAILS, I/O errors $ERRORS; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
lim=$((rss_nc0 + 1024))
note "new connection per transaction: RSS $rss_nc0 kB -> $rss_nc1 kB over $DONE connections (bound $lim kB)"
if [ "$rss_nc1" -le "$lim" ]; then
	pass "RSS flat over $DONE connections: $rss_nc0 kB -> $rss_nc1 kB"
else
	fail "RSS flat over $DONE connections" "$rss_nc0 kB -> $rss_nc1 kB, bound $lim kB"
fi
ok "the milter stops cleanly (under valgrind: no leak)" stop_milter

done_testing
