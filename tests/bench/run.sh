#!/bin/bash
# tests/bench/run.sh - `make bench`: redmilter measured side by side with a
# do-nothing milter and a naive milter, on this machine and on loopback
# only.  BENCHMARKS.md explains the tables it prints.
#
# It starts everything it uses and stops it at exit: one private
# redis-server per contender that uses Redis (so that each one's commands
# are counted apart), nullmilter, naivemilter, redmilter with its defaults
# (cache on) and with cache = off, each of the last three with 10,000 and
# with 1,000,000 rules, a redmilter with limits ("limited": the defaults
# and the 10,000 rules, plus limit rules that concern every message and
# never refuse in the bench: LIMIT_RULES below) and a private Postfix.
#
#   (a) protocol level: loadgen against each milter at concurrency 1 and 8
#       (BENCH_MODES), BENCH_REPS repetitions interleaved (every milter once
#       per mode before the next repetition); Redis commands per decision
#       (INFO stats total_commands_processed, before and after each run)
#       and new Redis connections per 1,000 transactions;
#   (b) edit to effect: while loadgen runs at concurrency 8 against a
#       redmilter, loadgen --edit BENCH_EDITS times a SET (and a DEL) of a
#       fresh recipient's rule until a probe transaction obeys it;
#   (c) start-up: the time from starting redmilter with 1M rules to its
#       "tracking ready" log line, and VmRSS then; the VmRSS of every milter
#       once ready and after the load;
#   (d) MTA level: smtp-source through Postfix with no policy, access maps,
#       the do-nothing milter, the naive milter, redmilter (defaults) and
#       redmilter with limits; for the last two also EVALSHA calls per
#       message (INFO commandstats), against what the limits should cost
#       (from the messages and recipients Postfix queued);
#   a perf profile of redmilter (defaults, 10k rules) at concurrency 8;
#   (w) watching it run: redmilter (defaults, 10k rules) with its metrics
#       on (metrics = inet:PORT@127.0.0.1, PORT free, scraped once a second
#       during each run as Prometheus would) and hit_counters = yes ("watch
#       on") against no metrics and hit_counters = no ("watch off"), each on
#       its own redis-server, at BENCH_MODES, BENCH_REPS repetitions
#       interleaved (the one that goes first alternates); the throughput
#       ratio, Redis commands per decision and the EVALSHA calls of the
#       hit-counter batch (INFO commandstats) against the run's seconds.
#
# Output: the report on stdout and in $BENCH_OUT/report.md; every run's
# numbers in $BENCH_OUT/*.tsv, loadgen's and the daemons' output in
# $BENCH_OUT/logs.  Exit status 1 when a run got a wrong reply or failed;
# a missed target is reported, never a failure.
#
# Environment:
#   BUILDDIR          where loadgen, nullmilter and naivemilter are
#                     (build/cc-std)
#   BENCH_OUT         results directory (build/bench)
#   BENCH_SECONDS     seconds per protocol-level run (5)
#   BENCH_REPS        repetitions (3); also the start-up measurements
#   BENCH_MODES       protocol-level modes ("c1 c8"; also c64, new8: 8
#                     connections, a new one per transaction)
#   BENCH_RCPTS       recipients per transaction (2)
#   BENCH_BIG         rules in the big set (1000000)
#   BENCH_EDITS       edits per edit-to-effect run (200)
#   BENCH_MTA_MSGS    messages per MTA-level run (1500)
#   BENCH_MTA_SESSIONS  parallel SMTP sessions (8)
#   BENCH_PROFILE     1: perf profile (default), 0: none
#   BENCH_PARTS       the parts to run, any of "proto watch edits startup
#                     mta profile" (all of them); the 1,000,000 rules are made
#                     and loaded only for proto, edits and startup, so
#                     BENCH_PARTS=mta runs (d) alone, in a minute or two:
#                       BENCH_PARTS=mta BENCH_MTA_MSGS=1500 BENCH_REPS=3 \
#                           make bench
#                     and BENCH_PARTS=watch runs (w) alone.
#
# Each Redis's log and INFO commandstats are copied to $BENCH_OUT/logs at
# the end (redis-NAME.log, redis-NAME.commandstats).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
export TOP=$top
# shellcheck disable=SC2034 # read by lib/harness.sh
RUN_TIMEOUT=900
. tests/integration/lib/harness.sh
. tests/bench/mta.sh

BUILDDIR=${BUILDDIR:-build/cc-std}
OUT=${BENCH_OUT:-$top/build/bench}
SECS=${BENCH_SECONDS:-5}
REPS=${BENCH_REPS:-3}
read -ra MODES <<<"${BENCH_MODES:-c1 c8}"
K=${BENCH_RCPTS:-2}
BIG=${BENCH_BIG:-1000000}
SMALL=10000
EDITS=${BENCH_EDITS:-200}
MTA_MSGS=${BENCH_MTA_MSGS:-1500}
MTA_SESSIONS=${BENCH_MTA_SESSIONS:-8}
PROFILE=${BENCH_PROFILE:-1}
read -ra PARTS <<<"${BENCH_PARTS:-proto watch edits startup mta profile}"
POOL=4 # redis_connections: redmilter's default
LOADGEN=$top/$BUILDDIR/tests/bench/loadgen
NULLMILTER=$top/$BUILDDIR/tests/bench/nullmilter
NAIVEMILTER=$top/$BUILDDIR/tests/bench/naivemilter
REDMILTER=$top/milter/redmilter
REDMILTERCTL=$top/policy/redmilterctl
# The workload: address pools small enough for a cache to hold them all.
POOLS=(--recipients 2000 --senders 20 --clients 20 -k "$K")
# The limited contender's limits: every message (smtp-source connects from
# 127.0.0.1 without SASL) is under the client one, every recipient under
# the recipient one, and none of them is ever reached.
LIMIT_RULES=("client:*|1000000000 msgs/1d, 1000000000 rcpts/1d"
	"recipient:*|1000000000 msgs/1d")

# part NAME - whether BENCH_PARTS asks for NAME
part() {
	local p
	for p in "${PARTS[@]}"; do
		[ "$p" = "$1" ] && return 0
	done
	return 1
}
for p in "${PARTS[@]}"; do
	case $p in
	proto | watch | edits | startup | mta | profile) ;;
	*) bail_out "BENCH_PARTS: unknown part '$p'" ;;
	esac
done
part profile || PROFILE=0

need_program "$LOADGEN" "$NULLMILTER" "$NAIVEMILTER" "$REDMILTER" \
    "$REDMILTERCTL" smtp-source postfix postmap redis-server redis-cli bc
if part watch; then
	need_program curl
fi
if [ "$PROFILE" = 1 ]; then
	need_program perf
fi
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null

rm -rf "$OUT"
mkdir -p "$OUT/logs"
RUNS=$OUT/runs.tsv
EDITS_TSV=$OUT/edits.tsv
STARTS_TSV=$OUT/starts.tsv
MEM_TSV=$OUT/memory.tsv
CMDS_TSV=$OUT/commands.tsv
REPORT=$OUT/report.md
FAILED=0
T0=$(date +%s)

log() {
	printf '[%4ds] %s\n' $(($(date +%s) - T0)) "$*" >&2
}

# fail_run WHAT - a run got a wrong reply or failed: the bench fails
fail_run() {
	FAILED=1
	log "FAILED: $*"
}

# Whatever else runs on the machine competes for its cores: say so.
{
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "busiest processes at start (%CPU over their lifetime):"
	ps -eo pcpu,comm --sort=-pcpu | head -n 6
} >"$OUT/load.txt"

# Daemons run as root here; postfix's smtpd (user postfix) must reach the
# milters' sockets.
chmod 755 "$H_TMP"
W=$H_TMP/w
mkdir -p "$W"
chmod 755 "$W"

# --- Redis servers and the rules ------------------------------------------

# Each contender that uses Redis has a redis-server of its own: commands
# per decision are then that server's commands, and one milter's periodic
# re-read never lands in another's run.
declare -A RPORT RPID
# DECS[name]: decisions the milter made since it was ready; CMD0[name]: its
# server's total_commands_processed then; NINFO[name]: our INFOs since
declare -A DECS CMD0 NINFO

# bench_redis NAME [RDB] - start NAME's redis-server, from RDB if given
bench_redis() {
	local name=$1 rdb=${2:-} d=$W/redis-$1
	mkdir -p "$d"
	if [ -n "$rdb" ]; then
		cp "$rdb" "$d/dump.rdb"
	fi
	RPORT[$name]=$(free_port) || bail_out "no free port for $name's Redis"
	{
		echo "port ${RPORT[$name]}"
		echo "bind 127.0.0.1"
		echo 'save ""'
		echo "appendonly no"
		echo "daemonize no"
		echo "dir $d"
		echo "dbfilename dump.rdb"
		echo "logfile $d/redis.log"
		echo "maxmemory 0"
	} >"$d/redis.conf"
	spawn redis-server "$d/redis.conf" >"$d/stdout" 2>&1 </dev/null
	# A server loading its RDB answers -LOADING until it is done.
	wait_for 120 bash -c "[ \"\$(redis-cli -h 127.0.0.1 -p ${RPORT[$name]} ping 2>/dev/null)\" = PONG ]" ||
	    bail_out "redis-server for $name did not start: $(tail -n 3 "$d/redis.log")"
	NINFO[$name]=0
	DECS[$name]=0
	RPID[$name]=$(redis-cli -h 127.0.0.1 -p "${RPORT[$name]}" info server |
	    tr -d '\r' | awk -F: '$1 == "process_id" {print $2}')
}

# r NAME ARGS... - redis-cli on NAME's server
r() {
	local name=$1
	shift
	timeout -k 5 300 redis-cli -h 127.0.0.1 -p "${RPORT[$name]}" "$@" \
	    </dev/null
}

# rstat NAME - sets RCMDS and RCONNS: the server's total_commands_processed
# and total_connections_received (one INFO, counted in NINFO)
rstat() {
	local info
	info=$(r "$1" info stats 2>/dev/null | tr -d '\r')
	NINFO[$1]=$((${NINFO[$1]} + 1))
	RCMDS=$(awk -F: '$1 == "total_commands_processed" {print $2}' <<<"$info")
	RCONNS=$(awk -F: '$1 == "total_connections_received" {print $2}' <<<"$info")
	RCMDS=${RCMDS:-0}
	RCONNS=${RCONNS:-0}
}

# The big rule set serves the protocol level, the edits and the start-up.
if part proto || part edits || part startup; then
	BIGS=(naive1m on1m off1m)
else
	BIGS=()
fi
log "starting the Redis servers, loading $SMALL${BIGS[*]:+ and $BIG} rules"
"$LOADGEN" --write-rules "$W/rules-small" --rules "$SMALL" \
    --write-postfix "$W" || bail_out "loadgen --write-rules failed"
chmod -R a+rX "$W"
SMALLS=(naive on lim)
# cache = off serves the protocol level and the edits only.
if part proto || part edits; then
	SMALLS+=(off)
fi
# Watch on and watch off: (w) only.
if part watch; then
	SMALLS+=(won woff)
fi
IMPORT_SECS=
if [ ${#BIGS[@]} -gt 0 ]; then
	"$LOADGEN" --write-rules "$W/rules-big" --rules "$BIG" ||
	    bail_out "loadgen --write-rules failed"
	bench_redis on1m
	t=$(date +%s.%N)
	"$REDMILTERCTL" -r "redis://127.0.0.1:${RPORT[on1m]}/0" import \
	    "$W/rules-big" >"$OUT/logs/import-big" 2>&1 ||
	    bail_out "import of $BIG rules failed: $(cat "$OUT/logs/import-big")"
	IMPORT_SECS=$(echo "$(date +%s.%N) - $t" | bc)
	rm -f "$W/rules-big"
	r on1m save >/dev/null || bail_out "SAVE of the big rule set failed"
	for name in naive1m off1m; do
		bench_redis "$name" "$W/redis-on1m/dump.rdb"
	done
fi
for name in "${SMALLS[@]}"; do
	bench_redis "$name"
	"$REDMILTERCTL" -r "redis://127.0.0.1:${RPORT[$name]}/0" import \
	    "$W/rules-small" >"$OUT/logs/import-small-$name" 2>&1 ||
	    bail_out "import of $SMALL rules failed: $(cat "$OUT/logs/import-small-$name")"
done
for l in "${LIMIT_RULES[@]}"; do
	# shellcheck disable=SC2086 # the terms are words of the command line
	"$REDMILTERCTL" -r "redis://127.0.0.1:${RPORT[lim]}/0" add limit \
	    "${l%%|*}" ${l#*|} >>"$OUT/logs/limit-rules" 2>&1 ||
	    bail_out "redmilterctl add limit ${l%%|*} failed: $(cat "$OUT/logs/limit-rules")"
done
"$REDMILTERCTL" -r "redis://127.0.0.1:${RPORT[lim]}/0" list limit \
    >>"$OUT/logs/limit-rules" 2>&1
for name in "${BIGS[@]}"; do
	n=$(r "$name" dbsize)
	[ "$n" -ge "$BIG" ] || bail_out "$name's Redis holds $n keys, not $BIG"
done
# What our own INFO costs in commands and connections, to take it off.
rstat naive
c0=$RCMDS n0=$RCONNS
rstat naive
INFO_CMDS=$((RCMDS - c0))
INFO_CONNS=$((RCONNS - n0))

# --- the milters ----------------------------------------------------------

declare -A SOCK PID NRULES EXPECT

# Does this redmilter know `cache = off` (client-side caching, on by
# default)?  If not, its caching is cache_ttl's, off by default.
{
	echo "redis = redis://127.0.0.1:${RPORT[on]}/0"
	echo "cache = off"
} >"$W/probe.conf"
if "$REDMILTER" -n -c "$W/probe.conf" >"$OUT/logs/probe-cache" 2>&1; then
	TRACKING=1
	CACHE_OFF="cache = off"
else
	TRACKING=0
	CACHE_OFF="cache_ttl = 0"
	log "this redmilter has no 'cache' key: cache off is '$CACHE_OFF'," \
	    "and its defaults cache nothing either"
fi

# redmilter_conf FILE SOCKET NAME LOG-LEVEL [CONF-LINE...]
redmilter_conf() {
	local file=$1 sock=$2 name=$3 level=$4 l
	shift 4
	{
		echo "socket = unix:$sock"
		echo "socket_mode = 0666"
		echo "redis = redis://127.0.0.1:${RPORT[$name]}/0"
		echo "redis_connections = $POOL"
		echo "redis_timeout = 500"
		echo "log_level = $level"
		if [ "$(id -u)" -eq 0 ]; then # as root the milter wants `user`
			echo "user = root"
		fi
		for l in "$@"; do
			echo "$l"
		done
	} >"$file"
}

# start_milter NAME CMD... - start a milter on $W/NAME.sock
start_milter() {
	local name=$1
	shift
	spawn "$@" >"$OUT/logs/$name.out" 2>&1
	PID[$name]=$SPAWN_PID
	wait_for 30 test -S "${SOCK[$name]}" ||
	    bail_out "$name did not start: $(tail -n 5 "$OUT/logs/$name.out")"
}

# start_redmilter NAME [CONF-LINE...] - redmilter on NAME's server
start_redmilter() {
	local name=$1
	shift
	redmilter_conf "$W/$name.conf" "${SOCK[$name]}" "$name" warning "$@"
	start_milter "$name" "$REDMILTER" -c "$W/$name.conf" -f
}

# busy_count NAME - the commands NAME's server has run but INFO and PING
# (the tracking connection is pinged every 250 ms)
busy_count() {
	r "$1" info commandstats 2>/dev/null | tr -d '\r' |
	    awk -F'[:=,]' '/^cmdstat_/ && $1 !~ /^cmdstat_(info|ping)$/ {s += $3}
	        END {print s + 0}'
}

# wait_quiet NAME - wait until NAME's server has run no command but INFO
# and PING for a second: the milter has read what it reads at start (its
# key names); sets QUIET_SECS
wait_quiet() {
	local name=$1 prev cur quiet=0 t i
	t=$(date +%s.%N)
	prev=$(busy_count "$name")
	for ((i = 0; i < 1500 && quiet < 5; i++)); do
		sleep 0.2
		cur=$(busy_count "$name")
		if [ "$cur" = "$prev" ]; then
			quiet=$((quiet + 1))
		else
			quiet=0
		fi
		prev=$cur
	done
	[ "$quiet" -ge 5 ] || log "warning: $name's Redis never went quiet"
	QUIET_SECS=$(echo "$(date +%s.%N) - $t - 1" | bc)
}

# rss NAME FIELD - VmRSS or VmHWM of a milter, kB
rss() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/${PID[$1]}/status" 2>/dev/null
}

# --- (c) start-up with the big rule set -----------------------------------

printf 'rep\tready_ms\tread_ms\trules\trss_kb\n' >"$STARTS_TSV"
# start_run REP - start redmilter on on1m's server, wait for its "tracking
# ready" line, note the time and VmRSS, stop it
start_run() {
	local rep=$1 sock=$W/start.sock t0 t1 pid line i
	redmilter_conf "$W/start.conf" "$sock" on1m info
	t0=$(date +%s%N)
	spawn "$REDMILTER" -c "$W/start.conf" -f >"$OUT/logs/start-$rep.out" 2>&1
	pid=$SPAWN_PID
	line=
	for ((i = 0; i < 15000; i++)); do # at most 300 s
		line=$(grep -m 1 'tracking ready' "$OUT/logs/start-$rep.out")
		[ -n "$line" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	t1=$(date +%s%N)
	if [ -n "$line" ]; then
		awk -v r="$rep" -v ms=$(((t1 - t0) / 1000000)) -v line="$line" \
		    -v rss="$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status")" 'BEGIN {
			n = split(line, w, " "); rules = ""; read = ""
			for (i = 1; i < n; i++) {
				if (w[i + 1] ~ /^rules/) rules = w[i]
				if (w[i] == "in" && w[i + 1] ~ /^[0-9]/) read = w[i + 1]
			}
			gsub(/,/, "", rules)
			printf "%s\t%s\t%s\t%s\t%s\n", r, ms, read, rules, rss
		}' >>"$STARTS_TSV"
	else
		log "start-up $rep: no 'tracking ready' line within $(((t1 - t0) / 1000000)) ms"
	fi
	kill_wait "$pid" TERM
	rm -f "$sock"
	[ -n "$line" ]
}
if [ "$TRACKING" = 1 ] && part startup; then
	for ((rep = 1; rep <= REPS; rep++)); do
		log "start-up with $BIG rules: $rep/$REPS"
		start_run "$rep" || break
	done
fi

log "starting the milters"
SOCK[null]=$W/null.sock
(umask 0 && exec "$NULLMILTER" -s "unix:${SOCK[null]}") \
    >"$OUT/logs/null.out" 2>&1 &
PID[null]=$!
register_pid "${PID[null]}"
wait_for 20 test -S "${SOCK[null]}" || bail_out "nullmilter did not start"
NRULES[null]=$SMALL
EXPECT[null]="continue"
for name in naive ${BIGS[@]:+naive1m}; do
	SOCK[$name]=$W/$name.sock
	(umask 0 && exec "$NAIVEMILTER" -s "unix:${SOCK[$name]}" \
	    -r "127.0.0.1:${RPORT[$name]}") >"$OUT/logs/$name.out" 2>&1 &
	PID[$name]=$!
	register_pid "${PID[$name]}"
	wait_for 20 test -S "${SOCK[$name]}" || bail_out "$name did not start"
	EXPECT[$name]=naive
done
for name in on off lim on1m off1m; do
	SOCK[$name]=$W/$name.sock
	EXPECT[$name]=rules
done
start_redmilter on
start_redmilter lim
if [ ${#BIGS[@]} -gt 0 ]; then
	start_redmilter on1m
	start_redmilter off1m "$CACHE_OFF"
fi
NRULES[naive]=$SMALL NRULES[on]=$SMALL NRULES[off]=$SMALL NRULES[lim]=$SMALL
NRULES[naive1m]=$BIG NRULES[on1m]=$BIG NRULES[off1m]=$BIG
# MILTERS: the protocol level's; lim is measured at the MTA level only.
MILTERS=(null naive on)
USERS=(naive on lim) # the ones with a Redis
if [ -n "${RPORT[off]:-}" ]; then
	start_redmilter off "$CACHE_OFF"
	MILTERS+=(off)
	USERS+=(off)
fi
if [ ${#BIGS[@]} -gt 0 ]; then
	MILTERS+=(naive1m on1m off1m)
	USERS+=(naive1m on1m off1m)
fi
# WATCH: (w)'s two, apart from MILTERS (not in (a)'s tables).
WATCH=()
if part watch; then
	METRICS_PORT=$(free_port) || bail_out "no free port for the metrics"
	for name in won woff; do
		SOCK[$name]=$W/$name.sock
		EXPECT[$name]=rules
		NRULES[$name]=$SMALL
	done
	start_redmilter won "metrics = inet:$METRICS_PORT@127.0.0.1" \
	    "hit_counters = yes"
	start_redmilter woff "hit_counters = no"
	WATCH=(won woff)
	USERS+=(won woff)
fi

declare -A RSS_READY READY_SECS
printf 'milter\tready_kb\tafter_load_kb\thwm_kb\tthreads\n' >"$MEM_TSV"
for name in "${MILTERS[@]}" lim "${WATCH[@]}"; do
	if [ "$name" != null ]; then
		wait_quiet "$name"
		READY_SECS[$name]=$QUIET_SECS
		rstat "$name"
		CMD0[$name]=$RCMDS
		NINFO[$name]=0
	fi
	RSS_READY[$name]=$(rss "$name" VmRSS)
done

# --- measuring helpers ----------------------------------------------------

# cpu_ticks PID - user + system clock ticks of a process so far
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# kv LINE KEY - the value of KEY=value in a loadgen line
kv() {
	tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k {print $2}'
}

# add_decisions NAME N
add_decisions() {
	DECS[$1]=$((${DECS[$1]:-0} + ${2:-0}))
}

# expect_args NAME - loadgen's --expect for a milter
expect_args() {
	echo "--expect ${EXPECT[$1]}"
}

# cmdstats NAME - "command calls" for each command NAME's server has run
# (INFO commandstats: one command, counted in NINFO)
cmdstats() {
	r "$1" info commandstats 2>/dev/null | tr -d '\r' |
	    awk -F'[:=,]' '/^cmdstat_/ {print substr($1, 9), $3}'
	NINFO[$1]=$((${NINFO[$1]} + 1))
}

# cmd_delta BEFORE AFTER - "command calls" run between two cmdstats
cmd_delta() {
	awk 'NR == FNR {b[$1] = $2; next} $2 - b[$1] > 0 {print $1, $2 - b[$1]}' \
	    "$1" "$2"
}

# The last five columns are the MTA level's ("-" at the protocol level):
# Redis commands and EVALSHA calls per message sent, the messages and
# recipients Postfix queued, the EVALSHA calls the limits should have
# made for them, and the CPU time the milter and its redis-server spent
# per message sent.
printf 'level\tconfig\tmode\trep\tdecisions_s\ttxn_s\trcpt_p50_us\trcpt_p90_us\trcpt_p99_us\trcpt_max_us\tcpu_us_per_decision\tredis_cmds_per_decision\tredis_conns_per_1000\twrong\tredis_cmds_per_msg\tevalsha_per_msg\tqueued_msgs\tqueued_rcpts\tevalsha_expected\tmilter_cpu_us_per_msg\tredis_cpu_us_per_msg\n' >"$RUNS"

# proto_run NAME MODE REP - one loadgen run against milter NAME
proto_run() {
	local name=$1 mode=$2 rep=$3 out c0 c1 line rc cmds=0 conns=0 d
	local -a args=(-s "unix:${SOCK[$name]}" --rules "${NRULES[$name]}"
	    "${POOLS[@]}" -n 100000000 -d "$SECS" -q)
	case $mode in
	c1) args+=(-c 1) ;;
	c8) args+=(-c 8) ;;
	c64) args+=(-c 64) ;;
	new8) args+=(-c 8 --new-conn) ;;
	esac
	# shellcheck disable=SC2207 # two words
	args+=($(expect_args "$name"))
	out=$OUT/logs/proto-$name-$mode-$rep
	if [ "$name" != null ]; then
		rstat "$name"
		cmds=$RCMDS conns=$RCONNS
	fi
	c0=$(cpu_ticks "${PID[$name]}")
	"$LOADGEN" "${args[@]}" >"$out" 2>&1
	rc=$?
	c1=$(cpu_ticks "${PID[$name]}")
	if [ "$name" != null ]; then
		rstat "$name"
		cmds=$((RCMDS - cmds - INFO_CMDS))
		conns=$((RCONNS - conns - INFO_CONNS))
	fi
	line=$(grep '^loadgen: secs=' "$out")
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		fail_run "$name $mode rep $rep (exit $rc): $(head -n 3 "$out")"
	fi
	d=$(kv "$line" decisions)
	add_decisions "$name" "$d"
	awk -v l="$1" -v m="$mode" -v r="$rep" -v line="$line" \
	    -v cpu=$((c1 - c0)) -v calls="$cmds" -v conns="$conns" \
	    -v hz="$(getconf CLK_TCK)" 'BEGIN {
		n = split(line, f, " ")
		for (i = 1; i <= n; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
		d = v["decisions"] + 0; t = v["txns"] + 0
		printf "proto\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.4f\t%.2f\t%s\t-\t-\t-\t-\t-\t-\t-\n",
		    l, m, r, v["decisions_per_s"], v["txn_per_s"],
		    v["rcpt_p50_us"], v["rcpt_p90_us"], v["rcpt_p99_us"],
		    v["rcpt_max_us"], d ? cpu * 1e6 / hz / d : 0,
		    l == "null" ? 0 : (d ? calls / d : 0),
		    l == "null" ? 0 : (t ? conns * 1000 / t : 0), v["wrong"]
	}' >>"$RUNS"
}

# --- (a) protocol level -----------------------------------------------------

part proto && log "warming up: every sender x recipient pair once through each milter"
for name in "${MILTERS[@]}"; do
	part proto || break
	# shellcheck disable=SC2046 # two words
	"$LOADGEN" -s "unix:${SOCK[$name]}" --rules "${NRULES[$name]}" \
	    "${POOLS[@]}" --sweep --new-conn -c 8 \
	    -n $((20 * 2000 / K / 8 + 1)) -d 120 -q $(expect_args "$name") \
	    >"$OUT/logs/warmup-$name" 2>&1 ||
	    fail_run "warm-up of $name: $(head -n 3 "$OUT/logs/warmup-$name")"
	add_decisions "$name" "$(kv "$(grep '^loadgen: secs=' "$OUT/logs/warmup-$name")" decisions)"
done

for ((rep = 1; rep <= REPS; rep++)); do
	part proto || break
	for mode in "${MODES[@]}"; do
		log "protocol level: repetition $rep/$REPS, $mode"
		for name in "${MILTERS[@]}"; do
			proto_run "$name" "$mode" "$rep"
		done
	done
done

# --- (w) watching it run -------------------------------------------------

# scrape PORT N FILE - GET /metrics once a second, N times at most, as
# Prometheus would; each fetch's HTTP status and size on a line of FILE
scrape() {
	local port=$1 n=$2 file=$3 i
	for ((i = 0; i < n; i++)); do
		curl -s -m 2 -o "$file.body" -w '%{http_code} %{size_download}\n' \
		    "http://127.0.0.1:$port/metrics" >>"$file" 2>/dev/null ||
		    echo "000 0" >>"$file"
		sleep 1
	done
}

# watch_run NAME MODE REP - proto_run of NAME, with a scraper on its
# metrics for won; from INFO commandstats, the commands its Redis ran, the
# hit-counter batch's EVALSHA calls (EVAL too, when the server lacked the
# script) and the batch's commands: those calls, SCRIPT, and what the
# script runs (INFO commandstats counts them too: a TIME per call, an
# HINCRBY and an HSET per rule, at most HITS_BATCH rules a call)
watch_run() {
	local name=$1 mode=$2 rep=$3 pre=$OUT/logs/watch-$1-$2-$3 sp='' ok=0 n=0
	local line secs d ev bc all
	cmdstats "$name" >"$pre.cmdstats0"
	if [ "$name" = won ]; then
		: >"$pre.scrapes"
		scrape "$METRICS_PORT" $((SECS + 2)) "$pre.scrapes" &
		sp=$!
		register_pid "$sp"
	fi
	proto_run "$name" "$mode" "$rep"
	if [ -n "$sp" ]; then
		kill -TERM "$sp" 2>/dev/null
		wait "$sp" 2>/dev/null
		unregister_pid "$sp"
		n=$(wc -l <"$pre.scrapes")
		ok=$(awk '$1 == 200 && $2 > 0' "$pre.scrapes" | wc -l)
		grep -q '^redmilter_decisions_total' "$pre.scrapes.body" ||
		    fail_run "won $mode rep $rep: /metrics lacks redmilter_decisions_total"
		[ "$ok" -gt 0 ] || fail_run "won $mode rep $rep: no scrape of /metrics answered"
	fi
	cmdstats "$name" >"$pre.cmdstats1"
	cmd_delta "$pre.cmdstats0" "$pre.cmdstats1" >"$pre.commands"
	line=$(grep '^loadgen: secs=' "$OUT/logs/proto-$name-$mode-$rep")
	secs=$(kv "$line" secs)
	d=$(kv "$line" decisions)
	# proto_run's two INFO stats are INFO too: taken off with every INFO.
	ev=$(awk '$1 == "evalsha" || $1 == "eval" {s += $2} END {print s + 0}' "$pre.commands")
	bc=$(awk '$1 ~ /^(evalsha|eval|script|time|hincrby|hset)$/ {s += $2} END {print s + 0}' "$pre.commands")
	all=$(awk '$1 != "info" {s += $2} END {print s + 0}' "$pre.commands")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$mode" "$rep" \
	    "${secs:-0}" "${d:-0}" "$all" "$ev" "$bc" "$ok" "$n" >>"$WATCH_TSV"
}

WATCH_TSV=$OUT/watch.tsv
printf 'config\tmode\trep\tsecs\tdecisions\tcommands\tbatch_calls\tbatch_commands\tscrapes_ok\tscrapes\n' >"$WATCH_TSV"
part watch && log "watch: warming up: every sender x recipient pair once through won and woff"
for name in "${WATCH[@]}"; do
	# shellcheck disable=SC2046 # two words
	"$LOADGEN" -s "unix:${SOCK[$name]}" --rules "${NRULES[$name]}" \
	    "${POOLS[@]}" --sweep --new-conn -c 8 \
	    -n $((20 * 2000 / K / 8 + 1)) -d 120 -q $(expect_args "$name") \
	    >"$OUT/logs/warmup-$name" 2>&1 ||
	    fail_run "warm-up of $name: $(head -n 3 "$OUT/logs/warmup-$name")"
	add_decisions "$name" "$(kv "$(grep '^loadgen: secs=' "$OUT/logs/warmup-$name")" decisions)"
done
# The first hit-counter batch after the warm-up, before the runs.
part watch && sleep 2
for ((rep = 1; rep <= REPS; rep++)); do
	part watch || break
	for mode in "${MODES[@]}"; do
		log "watch: repetition $rep/$REPS, $mode"
		if [ $((rep % 2)) = 1 ]; then
			order=(won woff)
		else
			order=(woff won)
		fi
		for name in "${order[@]}"; do
			watch_run "$name" "$mode" "$rep"
		done
	done
done

# --- (b) edit to effect -----------------------------------------------------

printf 'config\tedits\tset_p50_us\tset_p90_us\tset_p99_us\tset_max_us\tset_timeouts\tdel_p50_us\tdel_p90_us\tdel_p99_us\tdel_max_us\tdel_timeouts\tprobes\tstale\twrong\tload_decisions_s\n' >"$EDITS_TSV"
# edit_run NAME - loadgen --edit under loadgen -c 8 against milter NAME
edit_run() {
	local name=$1 bg out=$OUT/logs/edit-$1 line bgline rc bgrc
	"$LOADGEN" -s "unix:${SOCK[$name]}" --rules "${NRULES[$name]}" \
	    "${POOLS[@]}" -c 8 -n 100000000 -d 600 -q --expect "${EXPECT[$name]}" \
	    >"$OUT/logs/edit-load-$name" 2>&1 &
	bg=$!
	register_pid "$bg"
	sleep 1
	"$LOADGEN" -s "unix:${SOCK[$name]}" --edit "$EDITS" \
	    --redis "127.0.0.1:${RPORT[$name]}/0" -q >"$out" 2>&1
	rc=$?
	kill -TERM "$bg" 2>/dev/null
	wait "$bg"
	bgrc=$?
	unregister_pid "$bg"
	line=$(grep '^loadgen: edits=' "$out")
	bgline=$(grep '^loadgen: secs=' "$OUT/logs/edit-load-$name")
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		fail_run "edits against $name (exit $rc): $(head -n 3 "$out")"
	fi
	if [ $bgrc -ne 0 ] || [ -z "$bgline" ]; then
		fail_run "the load during the edits against $name (exit $bgrc): $(head -n 3 "$OUT/logs/edit-load-$name")"
	fi
	add_decisions "$name" "$(kv "$bgline" decisions)"
	add_decisions "$name" "$(kv "$line" probes)"
	awk -v n="$name" -v line="$line" -v bg="$(kv "$bgline" decisions_per_s)" 'BEGIN {
		c = split(line, f, " ")
		for (i = 1; i <= c; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
		printf "%s\t%s", n, v["edits"]
		split("set_p50_us set_p90_us set_p99_us set_max_us set_timeouts del_p50_us del_p90_us del_p99_us del_max_us del_timeouts probes stale wrong", k, " ")
		for (i = 1; i <= 13; i++) printf "\t%s", v[k[i]]
		printf "\t%s\n", bg
	}' >>"$EDITS_TSV"
}
for name in on on1m off; do
	part edits || break
	log "edit to effect: $EDITS edits against $name under load"
	edit_run "$name"
done

for name in "${MILTERS[@]}" lim; do
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "${RSS_READY[$name]}" \
	    "$(rss "$name" VmRSS)" "$(rss "$name" VmHWM)" \
	    "$(rss "$name" Threads)" >>"$MEM_TSV"
done

# --- profile ---------------------------------------------------------------

if [ "$PROFILE" = 1 ]; then
	log "perf profile of redmilter (defaults, $SMALL rules) at concurrency 8"
	perf record -a -e cpu-clock -F 997 --call-graph dwarf,16384 \
	    -o "$W/perf.data" -- sleep "$SECS" >"$OUT/logs/perf-record" 2>&1 &
	perf_pid=$!
	sleep 0.3
	"$LOADGEN" -s "unix:${SOCK[on]}" --rules "$SMALL" "${POOLS[@]}" \
	    -c 8 -n 100000000 -d "$((SECS - 1))" -q >"$OUT/logs/perf-loadgen" 2>&1
	add_decisions on "$(kv "$(grep '^loadgen: secs=' "$OUT/logs/perf-loadgen")" decisions)"
	wait "$perf_pid"
	perf report -i "$W/perf.data" --stdio --comm redmilter --no-children \
	    --sort dso,sym --percent-limit 0.7 2>/dev/null |
	    grep -E '^ +[0-9.]+%' >"$OUT/profile-self.txt"
	perf report -i "$W/perf.data" --stdio --comm redmilter --children \
	    --sort sym --percent-limit 2 -g none 2>/dev/null |
	    grep -E '^ +[0-9.]+%' >"$OUT/profile-children.txt"
	perf report -i "$W/perf.data" --stdio --sort comm -g none \
	    2>/dev/null | grep -E '^ +[0-9.]+%' >"$OUT/profile-comm.txt"
	rm -f "$W/perf.data"
fi

# --- (d) MTA level ----------------------------------------------------------

MTA_MAPS=$W
MTA_NULL_SOCK=${SOCK[null]}
MTA_NAIVE_SOCK=${SOCK[naive]}
MTA_REDMILTER_SOCK=${SOCK[on]}
MTA_LIMITED_SOCK=${SOCK[lim]}
# bench_cleanup - the EXIT trap while Postfix runs: stop it, keep the
# Redis logs, then the rest
# shellcheck disable=SC2317 # called by the trap
bench_cleanup() {
	local rc=$? name
	mta_stop
	for name in "${USERS[@]}"; do
		cp "$W/redis-$name/redis.log" "$OUT/logs/redis-$name.log" \
		    2>/dev/null
	done
	(exit "$rc")
	h_cleanup
}
if part mta; then
	log "starting Postfix"
	trap bench_cleanup EXIT
	mta_start "$W/postfix"
fi
declare -A MTA_SERVER=([naive]=naive [redmilter]=on [limited]=lim)

# mta_run NAME REP - smtp-source through listener NAME
#
# For a listener with a Redis: its commands (INFO stats) and EVALSHA calls
# (INFO commandstats; EVAL too, which the milter sends once when the server
# lacks the script) per message sent.  What the limits should cost: for the
# limited one, one EVALSHA at the first recipient of a message that the
# tables accept (the client's counter and that recipient's, in one round
# trip), one at each further one (its recipient's counter), and one at the
# end of DATA (adding to them all): the messages Postfix queued plus their
# recipients; for redmilter none.
mta_run() {
	local name=$1 rep=$2 r0 r1 t0 t1 rc srv=${MTA_SERVER[$1]:-} cmds=0 conns=0
	local q0 q1 ev=0 exp_ev=0 pre=$OUT/logs/mta-$1-$2 mc0=0 mc1=0 rc0=0 rc1=0
	mta_wait_queue 120 || log "warning: the Postfix queue did not drain"
	r0=$(mta_rejects)
	q0=$(mta_queued)
	if [ -n "$srv" ]; then
		cmdstats "$srv" >"$pre.cmdstats0"
		rstat "$srv"
		cmds=$RCMDS conns=$RCONNS
		mc0=$(cpu_ticks "${PID[$srv]}")
		rc0=$(cpu_ticks "${RPID[$srv]}")
	fi
	t0=$(date +%s.%N)
	timeout 600 smtp-source -A -s "$MTA_SESSIONS" -m "$MTA_MSGS" -r "$K" -N \
	    -f 1s@s0.bench.example -t r@d0.bench.example \
	    "127.0.0.1:${MTA_PORT[$name]}" >"$pre" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	if [ -n "$srv" ]; then
		mc1=$(cpu_ticks "${PID[$srv]}")
		rc1=$(cpu_ticks "${RPID[$srv]}")
		rstat "$srv"
		cmds=$((RCMDS - cmds - INFO_CMDS))
		conns=$((RCONNS - conns - INFO_CONNS))
		add_decisions "$srv" $((MTA_MSGS * K))
	fi
	# The last log lines, and every message through qmgr (its "nrcpt=")
	# before the messages are counted.
	sleep 0.5
	mta_wait_queue 120 || log "warning: the Postfix queue did not drain"
	r1=$(mta_rejects)
	q1=$(mta_queued)
	if [ -n "$srv" ]; then
		# The end-of-DATA EVALSHA is done before the milter answers
		# the MTA, so every one is in by now.
		cmdstats "$srv" >"$pre.cmdstats1"
		cmd_delta "$pre.cmdstats0" "$pre.cmdstats1" >"$pre.commands"
		ev=$(awk '$1 == "evalsha" || $1 == "eval" {s += $2} END {print s + 0}' "$pre.commands")
		if [ "$name" = limited ]; then
			exp_ev=$(awk -v a="$q0" -v b="$q1" 'BEGIN {
				split(a, x, " "); split(b, y, " ")
				print y[1] - x[1] + y[2] - x[2] }')
		fi
	fi
	if [ $rc -ne 0 ]; then
		fail_run "smtp-source through $name (exit $rc)"
	fi
	awk -v n="$name" -v r="$rep" -v m="$MTA_MSGS" -v k="$K" -v t0="$t0" \
	    -v t1="$t1" -v rej=$((r1 - r0)) -v calls="$cmds" -v srv="$srv" \
	    -v conns="$conns" -v ev="$ev" -v xev="$exp_ev" -v q0="$q0" \
	    -v q1="$q1" -v mcpu=$((mc1 - mc0)) -v rcpu=$((rc1 - rc0)) \
	    -v hz="$(getconf CLK_TCK)" 'BEGIN {
		s = t1 - t0
		split(q0, x, " "); split(q1, y, " ")
		printf "%s\t%s\t-\t%s\t%.1f\t%.1f\t-\t-\t-\t-\t-\t%.4f\t%.2f\t%d",
		    r == 0 ? "mta-warmup" : "mta", n, r, m * k / s, m / s,
		    srv != "" ? calls / (m * k) : 0,
		    srv != "" ? conns * 1000 / m : 0, rej
		if (srv != "")
			printf "\t%.4f\t%.4f", calls / m, ev / m
		else
			printf "\t-\t-"
		printf "\t%d\t%d\t%s", y[1] - x[1], y[2] - x[2],
		    srv != "" ? sprintf("%.4f", xev / m) : "-"
		if (srv != "")
			printf "\t%.0f\t%.0f\n", mcpu * 1e6 / hz / m, rcpu * 1e6 / hz / m
		else
			printf "\t-\t-\n"
	}' >>"$RUNS"
}

# A warm-up round first, not recorded: smtp-source -N sends the same
# recipients in every run, and a caching milter sees them first here.
for ((rep = 0; rep <= REPS; rep++)); do
	part mta || break
	if [ "$rep" = 0 ]; then
		log "MTA level: warm-up round"
	else
		log "MTA level: repetition $rep/$REPS"
	fi
	for name in "${MTA_NAMES[@]}"; do
		mta_run "$name" "$rep"
	done
done
mta_stop
trap h_cleanup EXIT

# Redis commands per decision over the whole bench, from each milter's
# ready to now: periodic re-reads included.
# The log lines of lost tracking and of decisions slower than redis_timeout
# (log_level = warning logs both) say whether a run was steady.
printf 'milter\tdecisions\tcommands\tcommands_per_decision\tready_wait_s\ttracking_lost\tslow_decisions\n' >"$CMDS_TSV"
for name in "${USERS[@]}"; do
	rstat "$name"
	c=$((RCMDS - ${CMD0[$name]} - ${NINFO[$name]} * INFO_CMDS))
	awk -v n="$name" -v d="${DECS[$name]}" -v c="$c" -v q="${READY_SECS[$name]}" \
	    -v lost="$(grep -c 'tracking lost' "$OUT/logs/$name.out")" \
	    -v slow="$(grep -c 'slow decision' "$OUT/logs/$name.out")" \
	    'BEGIN {printf "%s\t%d\t%d\t%.5f\t%s\t%d\t%d\n", n, d, c, d ? c / d : 0, q, lost, slow}' \
	    >>"$CMDS_TSV"
	r "$name" info commandstats >"$OUT/logs/redis-$name.commandstats" 2>&1
	cp "$W/redis-$name/redis.log" "$OUT/logs/redis-$name.log" 2>/dev/null
done

# --- report ----------------------------------------------------------------

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/load.txt"
log "writing the report"
ELAPSED=$(($(date +%s) - T0))
tests/bench/report.sh "$OUT" >"$REPORT" 2>&1 <<EOF
parts ${PARTS[*]}
limit_rules $(printf '%s; ' "${LIMIT_RULES[@]}" | sed 's/|/ = /g; s/; $//')
elapsed $ELAPSED
import_secs $IMPORT_SECS
secs $SECS
reps $REPS
modes ${MODES[*]}
rcpts $K
big $BIG
small $SMALL
edits $EDITS
mta_msgs $MTA_MSGS
mta_sessions $MTA_SESSIONS
pool $POOL
tracking $TRACKING
cache_off $CACHE_OFF
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
