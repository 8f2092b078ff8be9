#!/bin/bash
# tests/bench/run.sh - `make bench`: redmilter measured side by side with a
# do-nothing milter, Postfix access maps and postfwd, on this machine and on
# loopback only.  BENCHMARKS.md explains the tables it prints.
#
# It starts everything it uses and stops it at exit: a private redis-server
# (10,000 rules in db 0, 1,000,000 in db 1), nullmilter, three redmilters
# (10k rules; 10k with cache_ttl; 1M rules), postfwd and a private Postfix.
#
#   (a) protocol level: loadgen against each milter at concurrency 1, 8
#       and 64 (persistent connections) and 8 with a new connection per
#       transaction, BENCH_REPS repetitions interleaved (every milter once
#       per mode before the next repetition);
#   (b) MTA level: smtp-source through Postfix with no policy, access maps,
#       postfwd, the do-nothing milter and redmilter, interleaved likewise;
#   (c) Redis commands per decision and new Redis connections per 1,000
#       transactions (INFO commandstats and stats, reset before each run),
#       and the milters' peak RSS at 64 and 500 connections;
#   a perf profile of redmilter at concurrency 8.
#
# Output: the report on stdout and in $BENCH_OUT/report.md; every run's
# numbers in $BENCH_OUT/runs.tsv, loadgen's and the daemons' output in
# $BENCH_OUT/logs.  Exit status 1 when a run got a wrong reply or failed.
#
# Environment:
#   BUILDDIR          where loadgen and nullmilter are (build/cc-std)
#   BENCH_OUT         results directory (build/bench)
#   BENCH_SECONDS     seconds per protocol-level run (5)
#   BENCH_REPS        repetitions (3)
#   BENCH_RCPTS       recipients per transaction (2)
#   BENCH_BIG         rules in the big set (1000000)
#   BENCH_MTA_MSGS    messages per MTA-level run (1500; postfwd gets
#                     BENCH_POSTFWD_MSGS, 80, as it is that much slower)
#   BENCH_MTA_SESSIONS  parallel SMTP sessions (8)
#   BENCH_CACHE_TTL   cache_ttl of the caching redmilter, ms (600000)
#   BENCH_PROFILE     1: perf profile (default), 0: none

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export TOP=$top
# shellcheck disable=SC2034 # read by lib/harness.sh
RUN_TIMEOUT=900
. tests/integration/lib/redis.sh
. tests/bench/mta.sh

BUILDDIR=${BUILDDIR:-build/cc-std}
OUT=${BENCH_OUT:-$top/build/bench}
SECS=${BENCH_SECONDS:-5}
REPS=${BENCH_REPS:-3}
K=${BENCH_RCPTS:-2}
BIG=${BENCH_BIG:-1000000}
SMALL=10000
MTA_MSGS=${BENCH_MTA_MSGS:-1500}
POSTFWD_MSGS=${BENCH_POSTFWD_MSGS:-80}
MTA_SESSIONS=${BENCH_MTA_SESSIONS:-8}
CACHE_TTL=${BENCH_CACHE_TTL:-600000}
PROFILE=${BENCH_PROFILE:-1}
POOL=4 # redis_connections: redmilter's default
LOADGEN=$top/$BUILDDIR/tests/bench/loadgen
NULLMILTER=$top/$BUILDDIR/tests/bench/nullmilter
REDMILTER=$top/milter/redmilter
REDMILTERCTL=$top/policy/redmilterctl
# The workload: address pools small enough for a cache to hold them all.
POOLS=(--recipients 2000 --senders 20 --clients 20 -k "$K")

need_program "$LOADGEN" "$NULLMILTER" "$REDMILTER" "$REDMILTERCTL" \
    smtp-source postfix postmap postfwd2 redis-cli
if [ "$PROFILE" = 1 ]; then
	need_program perf
fi
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null

rm -rf "$OUT"
mkdir -p "$OUT/logs"
RUNS=$OUT/runs.tsv
REPORT=$OUT/report.md
FAILED=0
T0=$(date +%s)

log() {
	printf '[%4ds] %s\n' $(($(date +%s) - T0)) "$*" >&2
}

# Whatever else runs on the machine competes for its cores: say so.
{
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "busiest processes at start (%CPU over their lifetime):"
	ps -eo pcpu,comm --sort=-pcpu | head -n 6
} >"$OUT/load.txt"

# Daemons run as root here; postfix's smtpd (user postfix) and postfwd
# (nobody) must reach their sockets and files.
chmod 755 "$H_TMP"
W=$H_TMP/w
mkdir -p "$W"
chmod 755 "$W"

# --- Redis and the rules ----------------------------------------------------

log "starting redis-server and loading $SMALL and $BIG rules"
start_redis "maxmemory 0"
"$LOADGEN" --write-rules "$W/rules-small" --rules "$SMALL" \
    --write-postfix "$W" ||
    bail_out "loadgen --write-rules failed"
mkdir -p "$W/postfwd"
"$LOADGEN" --write-postfwd "$W/postfwd" --rules "$SMALL" ||
    bail_out "loadgen --write-postfwd failed"
"$LOADGEN" --write-rules "$W/rules-big" --rules "$BIG" ||
    bail_out "loadgen --write-rules failed"
chmod -R a+rX "$W"
t=$(date +%s.%N)
"$REDMILTERCTL" -r "redis://127.0.0.1:$REDIS_PORT/0" import \
    "$W/rules-small" >"$OUT/logs/import-small" 2>&1 ||
    bail_out "import of $SMALL rules failed: $(cat "$OUT/logs/import-small")"
"$REDMILTERCTL" -r "redis://127.0.0.1:$REDIS_PORT/1" import \
    "$W/rules-big" >"$OUT/logs/import-big" 2>&1 ||
    bail_out "import of $BIG rules failed: $(cat "$OUT/logs/import-big")"
IMPORT_SECS=$(echo "$(date +%s.%N) - $t" | bc)
rm -f "$W/rules-big"

# --- the milters ------------------------------------------------------------

declare -A SOCK PID NRULES

# start_redmilter NAME DB [CONF-LINE...] - one redmilter on db DB
start_redmilter() {
	local name=$1 db=$2 l
	shift 2
	SOCK[$name]=$W/$name.sock
	{
		echo "socket = unix:${SOCK[$name]}"
		echo "socket_mode = 0666"
		echo "redis = redis://127.0.0.1:$REDIS_PORT/$db"
		echo "redis_connections = $POOL"
		echo "log_level = warning"
		if [ "$(id -u)" -eq 0 ]; then # as root the milter wants `user`
			echo "user = root"
		fi
		for l in "$@"; do
			echo "$l"
		done
	} >"$W/$name.conf"
	spawn "$REDMILTER" -c "$W/$name.conf" -f >"$OUT/logs/$name.out" 2>&1
	PID[$name]=$SPAWN_PID
	wait_for 20 test -S "${SOCK[$name]}" ||
	    bail_out "$name did not start: $(tail -n 5 "$OUT/logs/$name.out")"
}

log "starting the milters"
SOCK[null]=$W/null.sock
(umask 0 && exec "$NULLMILTER" -s "unix:${SOCK[null]}") \
    >"$OUT/logs/null.out" 2>&1 &
PID[null]=$!
register_pid "${PID[null]}"
wait_for 20 test -S "${SOCK[null]}" || bail_out "nullmilter did not start"
NRULES[null]=$SMALL
start_redmilter redmilter 0
NRULES[redmilter]=$SMALL
start_redmilter cached 0 "cache_ttl = $CACHE_TTL" "cache_size = 1000000"
NRULES[cached]=$SMALL
start_redmilter big 1
NRULES[big]=$BIG
MILTERS=(null redmilter cached big)

# --- measuring helpers ----------------------------------------------------

# cpu_ticks PID - user + system clock ticks of a process so far
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# redis_db_stats - "calls mget connections" since the last reset: every
# command but our own INFO/CONFIG, MGETs, connections received less ours
redis_db_stats() {
	local info calls mget conns
	info=$(rcli info all 2>/dev/null | tr -d '\r')
	calls=$(awk -F'[:=,]' '/^cmdstat_/ && $1 !~ /^cmdstat_(info|config)/ {s += $3} END {print s + 0}' <<<"$info")
	mget=$(awk -F'[:=,]' '/^cmdstat_mget:/ {print $3}' <<<"$info")
	conns=$(awk -F: '/^total_connections_received:/ {print $2}' <<<"$info")
	echo "$calls ${mget:-0} $((${conns:-1} - 1))"
}

redis_reset() {
	rcli config resetstat >/dev/null
}

printf 'level\tconfig\tmode\trep\tdecisions_s\ttxn_s\trcpt_p50_us\trcpt_p90_us\trcpt_p99_us\trcpt_max_us\tcpu_us_per_decision\tredis_cmds_per_decision\tredis_conns_per_1000\twrong\n' >"$RUNS"

# proto_run NAME MODE REP - one loadgen run against milter NAME
proto_run() {
	local name=$1 mode=$2 rep=$3 out c0 c1 line rc stats
	local -a args=(-s "unix:${SOCK[$name]}" --rules "${NRULES[$name]}"
	    "${POOLS[@]}" -n 100000000 -d "$SECS" -q)
	case $mode in
	c1) args+=(-c 1) ;;
	c8) args+=(-c 8) ;;
	c64) args+=(-c 64) ;;
	new8) args+=(-c 8 --new-conn) ;;
	esac
	if [ "$name" = null ]; then
		args+=(--expect continue)
	fi
	out=$OUT/logs/proto-$name-$mode-$rep
	redis_reset
	c0=$(cpu_ticks "${PID[$name]}")
	"$LOADGEN" "${args[@]}" >"$out" 2>&1
	rc=$?
	c1=$(cpu_ticks "${PID[$name]}")
	read -ra stats <<<"$(redis_db_stats)"
	line=$(grep '^loadgen: secs=' "$out")
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		FAILED=1
		log "FAILED: $name $mode rep $rep (exit $rc): $(head -n 3 "$out")"
	fi
	awk -v l="$1" -v m="$mode" -v r="$rep" -v line="$line" \
	    -v cpu=$((c1 - c0)) -v calls="${stats[0]}" -v conns="${stats[2]}" \
	    -v hz="$(getconf CLK_TCK)" 'BEGIN {
		n = split(line, f, " ")
		for (i = 1; i <= n; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
		d = v["decisions"] + 0; t = v["txns"] + 0
		printf "proto\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.3f\t%.2f\t%s\n",
		    l, m, r, v["decisions_per_s"], v["txn_per_s"],
		    v["rcpt_p50_us"], v["rcpt_p90_us"], v["rcpt_p99_us"],
		    v["rcpt_max_us"], d ? cpu * 1e6 / hz / d : 0,
		    l == "null" ? 0 : (d ? calls / d : 0),
		    l == "null" ? 0 : (t ? conns * 1000 / t : 0), v["wrong"]
	}' >>"$RUNS"
}

# --- (a) protocol level -----------------------------------------------------

log "warming up: every sender x recipient pair once through each milter"
for name in "${MILTERS[@]}"; do
	exp=()
	if [ "$name" = null ]; then
		exp=(--expect continue)
	fi
	"$LOADGEN" -s "unix:${SOCK[$name]}" --rules "${NRULES[$name]}" \
	    "${POOLS[@]}" --sweep --new-conn -c 8 \
	    -n $((20 * 2000 / K / 8 + 1)) -d 120 -q "${exp[@]}" \
	    >"$OUT/logs/warmup-$name" 2>&1 ||
	    {
		    FAILED=1
		    log "FAILED: warm-up of $name: $(head -n 3 "$OUT/logs/warmup-$name")"
	    }
done

MODES=(c1 c8 c64 new8)
for ((rep = 1; rep <= REPS; rep++)); do
	for mode in "${MODES[@]}"; do
		log "protocol level: repetition $rep/$REPS, $mode"
		for name in "${MILTERS[@]}"; do
			proto_run "$name" "$mode" "$rep"
		done
	done
done

# --- (c) peak RSS at 64 and 500 connections ---------------------------------

declare -A RSS
# rss_run NAME CONC - peak RSS (kB) of milter NAME under CONC connections
rss_run() {
	local name=$1 conc=$2 exp=()
	if [ "$name" = null ]; then
		exp=(--expect continue)
	fi
	# 5 resets the peak ("VmHWM") to the current RSS (proc(5)).
	echo 5 >"/proc/${PID[$name]}/clear_refs"
	"$LOADGEN" -s "unix:${SOCK[$name]}" --rules "${NRULES[$name]}" \
	    "${POOLS[@]}" -c "$conc" -n 100000000 -d 4 -q "${exp[@]}" \
	    >"$OUT/logs/rss-$name-$conc" 2>&1 || {
		FAILED=1
		log "FAILED: RSS run $name at $conc: $(head -n 3 "$OUT/logs/rss-$name-$conc")"
	}
	RSS[$name,$conc]=$(awk '/^VmHWM:/ {print $2}' "/proc/${PID[$name]}/status")
	RSS[$name,$conc,threads]=$(awk '/^Threads:/ {print $2}' "/proc/${PID[$name]}/status")
}
log "peak RSS at 64 and 500 connections"
for conc in 64 500; do
	for name in "${MILTERS[@]}"; do
		rss_run "$name" "$conc"
	done
done

# --- profile ---------------------------------------------------------------

if [ "$PROFILE" = 1 ]; then
	log "perf profile of redmilter at concurrency 8"
	perf record -a -e cpu-clock -F 997 --call-graph dwarf,16384 \
	    -o "$W/perf.data" -- sleep "$SECS" >"$OUT/logs/perf-record" 2>&1 &
	perf_pid=$!
	sleep 0.3
	"$LOADGEN" -s "unix:${SOCK[redmilter]}" --rules "$SMALL" "${POOLS[@]}" \
	    -c 8 -n 100000000 -d "$((SECS - 1))" -q >"$OUT/logs/perf-loadgen" 2>&1
	wait "$perf_pid"
	perf report -i "$W/perf.data" --stdio --comm redmilter --no-children \
	    --sort dso,sym --percent-limit 0.7 2>/dev/null |
	    grep -E '^ +[0-9.]+%' >"$OUT/profile-self.txt"
	perf report -i "$W/perf.data" --stdio --comm redmilter --children \
	    --sort sym --percent-limit 2 -g none 2>/dev/null |
	    grep -E '^ +[0-9.]+%' >"$OUT/profile-children.txt"
	perf report -i "$W/perf.data" --stdio --sort comm -g none \
	    2>/dev/null | grep -E '^ +[0-9.]+%' >"$OUT/profile-comm.txt"
fi

# --- (b) MTA level ----------------------------------------------------------

log "starting postfwd and Postfix"
PFW_PORT=$(free_port)
PFW_CACHE_PORT=$(free_port)
mkdir -p "$W/postfwd-run"
chown nobody:nogroup "$W/postfwd-run"
# postfwd2 always detaches; its master's pid is in the pidfile.
postfwd2 -f "$W/postfwd/postfwd.cf" -i 127.0.0.1 -p "$PFW_PORT" \
    --cache_socket "tcp:127.0.0.1:$PFW_CACHE_PORT" -u nobody -g nogroup \
    -n --noidlestats --pidfile "$W/postfwd-run/pid" \
    >"$OUT/logs/postfwd.out" 2>&1 || bail_out "postfwd did not start"
wait_for 20 test -s "$W/postfwd-run/pid" || bail_out "postfwd wrote no pidfile"
register_pid "$(cat "$W/postfwd-run/pid")"
wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PFW_PORT" 2>/dev/null ||
    bail_out "postfwd does not listen"

MTA_MAPS=$W
MTA_POSTFWD=inet:127.0.0.1:$PFW_PORT
MTA_NULL_SOCK=${SOCK[null]}
MTA_REDMILTER_SOCK=${SOCK[redmilter]}
# bench_cleanup - the EXIT trap while Postfix runs: stop it, then the rest
# shellcheck disable=SC2317 # called by the trap
bench_cleanup() {
	local rc=$?
	mta_stop
	(exit "$rc")
	h_cleanup
}
trap bench_cleanup EXIT
mta_start "$W/postfix"

# mta_run NAME REP - smtp-source through listener NAME
mta_run() {
	local name=$1 rep=$2 msgs=$MTA_MSGS r0 r1 t0 t1 stats rc
	if [ "$name" = postfwd ]; then
		msgs=$POSTFWD_MSGS
	fi
	mta_wait_queue 120 || log "warning: the Postfix queue did not drain"
	r0=$(mta_rejects)
	redis_reset
	t0=$(date +%s.%N)
	timeout 600 smtp-source -A -s "$MTA_SESSIONS" -m "$msgs" -r "$K" -N \
	    -f 1s@s0.bench.example -t r@d0.bench.example \
	    "127.0.0.1:${MTA_PORT[$name]}" >"$OUT/logs/mta-$name-$rep" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	read -ra stats <<<"$(redis_db_stats)"
	sleep 0.5 # the last log lines
	r1=$(mta_rejects)
	if [ $rc -ne 0 ]; then
		FAILED=1
		log "FAILED: smtp-source through $name (exit $rc)"
	fi
	awk -v n="$name" -v r="$rep" -v m="$msgs" -v k="$K" -v t0="$t0" \
	    -v t1="$t1" -v rej=$((r1 - r0)) -v calls="${stats[0]}" \
	    -v conns="${stats[2]}" 'BEGIN {
		s = t1 - t0
		printf "mta\t%s\t-\t%s\t%.1f\t%.1f\t-\t-\t-\t-\t-\t%.3f\t%.2f\t%d\n",
		    n, r, m * k / s, m / s,
		    n == "redmilter" ? calls / (m * k) : 0,
		    n == "redmilter" ? conns * 1000 / m : 0, rej
	}' >>"$RUNS"
}

for ((rep = 1; rep <= REPS; rep++)); do
	log "MTA level: repetition $rep/$REPS"
	for name in "${MTA_NAMES[@]}"; do
		mta_run "$name" "$rep"
	done
done
mta_stop
trap h_cleanup EXIT

# --- report ----------------------------------------------------------------

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.txt"
log "writing the report"
ELAPSED=$(($(date +%s) - T0))
tests/bench/report.sh "$RUNS" >"$REPORT" 2>&1 <<EOF
elapsed $ELAPSED
import_secs $IMPORT_SECS
secs $SECS
reps $REPS
rcpts $K
big $BIG
small $SMALL
mta_msgs $MTA_MSGS
postfwd_msgs $POSTFWD_MSGS
mta_sessions $MTA_SESSIONS
cache_ttl $CACHE_TTL
pool $POOL
rss_null_64 ${RSS[null,64]}
rss_null_500 ${RSS[null,500]}
rss_redmilter_64 ${RSS[redmilter,64]}
rss_redmilter_500 ${RSS[redmilter,500]}
rss_cached_64 ${RSS[cached,64]}
rss_cached_500 ${RSS[cached,500]}
rss_big_64 ${RSS[big,64]}
rss_big_500 ${RSS[big,500]}
threads_redmilter_64 ${RSS[redmilter,64,threads]}
threads_redmilter_500 ${RSS[redmilter,500,threads]}
profile $OUT
EOF
{
	echo
	echo "### Other load on the machine"
	echo
	echo '```'
	cat "$OUT/load.txt"
	echo '```'
} >>"$REPORT"
cat "$REPORT"
if [ "$FAILED" -ne 0 ]; then
	echo "bench: some runs FAILED (wrong replies or errors); see $OUT/logs" >&2
fi
# shellcheck disable=SC2034 # read by h_cleanup (lib/harness.sh)
H_DONE=1
exit "$FAILED"
