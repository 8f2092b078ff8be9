#!/bin/bash
# replica.sh - redis_read on a replica that is not fit to be read
# (redmilter.conf(5), redis_read; RELIABILITY.md, section 1): a primary P
# and a replica R (replicaof P) on loopback, the milter with redis = P and
# redis_read = R, decisions through the milter protocol
# (lib/milter_client.py):
#   - R in sync: a rule set on P gives its exact reply, and the lookups run
#     on R (INFO commandstats: R's MGET count moves, P's does not);
#   - R's link cut (REPLICAOF a dead port: R keeps its stale data, its ROLE
#     state is "connect"): a rule set on P after the cut, absent on R, is
#     obeyed within the check's period, and the milter logs once that R is
#     not fit;
#   - the link back: the milter logs that R is fit again, and the lookups
#     go back to R;
#   - R restarted empty with a dead primary: P's rules still apply, from
#     the first lookup on;
#   - P down too: the decision fails as any Redis failure does (on_error).
#
# The milter runs with cache = off: redis_read serves the lookups that go
# to Redis, which with cache = on (the default) only the decisions made
# while the milter is not sure of what it holds do; the others are
# answered from memory, kept fresh from the primary (redmilter.conf(5),
# "cache"; tracking.sh tests that).
#
# By hand:  make all && TOP=$PWD bash tests/integration/replica.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MC=$TOP/tests/integration/lib/milter_client.py
need_program "$REDMILTER" "$REDIS_SERVER" python3
PY=$(python3 -c 'import sys; print(sys.executable)') ||
    bail_out "python3 cannot tell where it is"

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi
OLD='550 5.1.1 Mailbox not found'
NEW='550 5.7.1 New rule'
LATE='552 5.2.2 Set while the replica was empty'
ONERR='451 4.3.0 Temporary policy lookup failure'
K=redmilter:recipient:
R_PORT=
R_PID=
R_DIR=

# r_cli ARGS... - redis-cli on the replica
r_cli() {
	timeout -k 2 10 "$REDIS_CLI" -h 127.0.0.1 -p "$R_PORT" "$@" </dev/null
}

# r_start PRIMARY_PORT - the replica on R_PORT, in a new empty directory,
# replicaof 127.0.0.1 PRIMARY_PORT; waits (10 s) for PONG
r_start() {
	local i
	R_DIR=$(mktemp -d "$H_TMP/replica.XXXXXX") || bail_out "mktemp failed"
	{
		echo "port $R_PORT"
		echo "bind 127.0.0.1"
		echo 'save ""'
		echo "appendonly no"
		echo "daemonize no"
		echo "dir $R_DIR"
		echo "logfile $R_DIR/redis.log"
		echo "repl-diskless-load on-empty-db"
		echo "replicaof 127.0.0.1 $1"
	} >"$R_DIR/redis.conf"
	spawn "$REDIS_SERVER" "$R_DIR/redis.conf" >>"$R_DIR/stdout" 2>&1 \
	    </dev/null
	R_PID=$SPAWN_PID
	for ((i = 0; i < 200; i++)); do
		[ "$(r_cli ping 2>/dev/null)" = PONG ] && return 0
		kill -0 "$R_PID" 2>/dev/null || break
		sleep 0.05
	done
	diag "$(tail -n 15 "$R_DIR/redis.log" 2>/dev/null)"
	bail_out "the replica did not start on port $R_PORT"
}

# r_has KEY VALUE - the replica holds VALUE at KEY
r_has() {
	[ "$(r_cli GET "$1" 2>/dev/null)" = "$2" ]
}

# r_link_up - the replica's link to its primary is up
r_link_up() {
	r_cli INFO replication | tr -d '\r' | grep -qx 'master_link_status:up'
}

# probe RCPT - one transaction on a new connection: the RCPT reply
probe() {
	rcpt_reply "$MILTER_SOCKET" '<probe@sender.example>' "$1"
}

# calls CMD CLI - how many CMDs (lower case) that Redis ran since its start
calls() {
	local cmd=$1
	shift
	"$@" INFO commandstats | tr -d '\r' |
	    sed -n "s/^cmdstat_$cmd:calls=\\([0-9]*\\),.*/\\1/p" | grep . ||
	    echo 0
}

# mgets CLI - how many MGETs that Redis ran since its start
mgets() {
	calls mget "$@"
}

# probes N RCPT - N probes; their replies joined with "|"
probes() {
	local i got=
	for ((i = 0; i < $1; i++)); do
		got="$got$(probe "$2")|"
	done
	echo "$got"
}

# on_replica - 5 probes of old@ run their MGETs on R, none on P
on_replica() {
	local p0 r0 got
	p0=$(mgets rcli)
	r0=$(mgets r_cli)
	got=$(probes 5 '<old@example.com>')
	[ "$got" = "$OLD|$OLD|$OLD|$OLD|$OLD|" ] &&
	    [ "$(mgets rcli)" = "$p0" ] && [ "$(($(mgets r_cli) - r0))" -ge 5 ]
}

plan 16

start_redis
R_PORT=$(free_port) || bail_out "no free loopback port"
DEAD=$(free_port) || bail_out "no free loopback port"
r_start "$REDIS_PORT"
wait_for 10 r_link_up || bail_out "the replica did not sync"
[ "$(rcli SET "${K}old@example.com" "$OLD")" = OK ] ||
    bail_out "redis-cli SET failed"
wait_for 5 r_has "${K}old@example.com" "$OLD" ||
    bail_out "the rule did not reach the replica"

t0=$(date +%s%N)
start_milter "redis_read = redis://127.0.0.1:$R_PORT/0" "log_level = info" \
    "redis_timeout = $((500 * slow))" "cache = off"
is "$(probe '<old@example.com>')" "$OLD" "replica in sync: the rule's exact reply"
ok "replica in sync: lookups run on the replica, none on the primary" \
    on_replica
probes 20 '<old@example.com>' >/dev/null
# ROLE rides with an MGET: on each new connection (4 at most, the default
# redis_connections), then once a second at most.
roles=$(calls role r_cli)
mg=$(mgets r_cli)
secs=$((($(date +%s%N) - t0 + 999999999) / 1000000000))
if [ "$roles" -ge 1 ] && [ "$roles" -le $((4 + secs)) ]; then
	pass "replica in sync: $roles ROLE for $mg MGET in ${secs} s (bound $((4 + secs)))"
else
	fail "replica in sync: ROLE asked at all, at most once a second" \
	    "$roles ROLE for $mg MGET in ${secs} s"
fi

# The cut: R keeps what it has, its link is down.
milter_mark
[ "$(r_cli REPLICAOF 127.0.0.1 "$DEAD")" = OK ] ||
    bail_out "REPLICAOF a dead port failed"
[ "$(rcli SET "${K}new@example.com" "$NEW")" = OK ] ||
    bail_out "redis-cli SET failed"
is "$(r_cli GET "${K}new@example.com")" "" "link cut: the new rule is not on the replica"
t_cut=$(date +%s%N)
run "$PY" "$MC" -s "$MILTER_SOCKET" -T 10 poll --want "$NEW" \
    --rcpt '<new@example.com>' --max $((5 * slow)) --since "$t_cut"
ms=$(sed -n 's/^poll: ok ms=\([0-9]*\) .*/\1/p' <<<"$OUT")
# The check runs at most once a second, and a replica found unfit is left
# alone for a second: 2 s, plus time for a probe.
bound=$((2500 * slow))
if [ -n "$ms" ] && [ "$ms" -le "$bound" ]; then
	pass "link cut: a rule set on the primary since is obeyed after ${ms} ms (bound $bound ms)"
else
	fail "link cut: a rule set on the primary since is obeyed within $bound ms" "$OUT"
fi
is "$(probes 5 '<new@example.com>')" "$NEW|$NEW|$NEW|$NEW|$NEW|" "and from then on, every time"
if wait_milter_log "redis_read 127\.0\.0\.1:$R_PORT not fit \(master link down\); reading from the primary" 3; then
	pass "the milter logs that the replica is not fit"
else
	fail "the milter logs that the replica is not fit" "$(milter_log_tail)"
fi
is "$(milter_log_new | grep -c 'not fit')" 1 "and logs it once"

# The link back.
milter_mark
[ "$(r_cli REPLICAOF 127.0.0.1 "$REDIS_PORT")" = OK ] ||
    bail_out "REPLICAOF the primary failed"
wait_for 10 r_link_up || bail_out "the replica did not sync again"
wait_for 5 r_has "${K}new@example.com" "$NEW" ||
    bail_out "the new rule did not reach the replica"
# Within the check's period (and the second the replica is left alone),
# a round of probes runs on the replica alone.
if wait_for $((5 * slow)) on_replica; then
	pass "link back: lookups run on the replica again, none on the primary"
else
	fail "link back: lookups run on the replica again" \
	    "primary MGETs $(mgets rcli), replica MGETs $(mgets r_cli)"
fi
if wait_milter_log "redis_read 127\.0\.0\.1:$R_PORT fit again; reading from it" 3; then
	pass "the milter logs that the replica is fit again"
else
	fail "the milter logs that the replica is fit again" "$(milter_log_tail)"
fi
is "$(probe '<new@example.com>')" "$NEW" "link back: the new rule, from the replica"

# R restarted empty, its primary dead: state "connect", no keys at all.
kill_wait "$R_PID" TERM
r_start "$DEAD"
is "$(r_cli DBSIZE)" 0 "replica restarted empty with a dead primary"
[ "$(rcli SET "${K}late@example.com" "$LATE")" = OK ] ||
    bail_out "redis-cli SET failed"
is "$(probe '<old@example.com>')" "$OLD" "empty replica: the first lookup gets the primary's rule"
is "$(probes 5 '<late@example.com>')" "$LATE|$LATE|$LATE|$LATE|$LATE|" "empty replica: every lookup gets the primary's rules"

# P down as well: a Redis failure.
stop_redis KILL
is "$(probe '<old@example.com>')" "$ONERR" "primary down, replica unfit: $ONERR (on_error)"

ok "the milter stops cleanly" stop_milter

done_testing
