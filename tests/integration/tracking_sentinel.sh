#!/bin/bash
# tracking_sentinel.sh - tracking (cache = on, the default; redmilter.conf(5))
# behind Redis Sentinel: one primary, two replicas, three Sentinels
# (lib/sentinel.sh), the milter with redis = sentinel://..., its tracking
# connection on the primary.  Twice, a failover with edits right after it,
# made with redmilterctl (redis = sentinel://..., so on the new primary):
#
#   1. SENTINEL FAILOVER: the old primary stays up and becomes a replica
#      (the Sentinels kill its clients);
#   2. the primary killed (SIGKILL), the Sentinels promote a replica.
#
# Each time: a changed rule, a deleted one and a new one apply (the milter
# never answers from what it knew of the old primary), tracking is lost and
# ready again, now on the new primary (its one subscribed client that is
# no Sentinel), an edit with redis-cli on the new primary applies, and the
# steady state is back (repeated decisions cost the new primary no read
# command: MGET, GET, PTTL, SCAN, EVAL).
#
# redmilter.conf(5), cache: an edit applies "never more than a second
# after" Redis has it, and "never a stale answer", with Sentinels on the
# current primary.  In the graceful failover the old primary stays a
# primary, with the old rules, until the Sentinels reconfigure it (at their
# next INFO to it, up to 10 s later); a milter that keeps reading it until
# then answers the rules as they were, and fails here.
#
# A promotion counts once every Sentinel names the new primary (sn_agree,
# lib/sentinel.sh): on a loaded machine a Sentinel that missed it may fail
# over once more, to another replica, and an edit made on the first would
# be lost to the resync; each round ends by checking that the primary did
# not move.
#
# Every check polls until the reply is the expected one, bounded (EDIT_MAX,
# 5 s, for an edit right after a failover: the milter may answer on_error's
# 451 until it has found the new primary; POLL, 1 s, for an edit once
# tracking is back; both x5 under valgrind), and prints how long it took;
# no test holds the milter to a speed.
#
# By hand:  make all && TOP=$PWD bash tests/integration/tracking_sentinel.sh

slow=1
if [ -n "${TEST_PREFIX:-}" ]; then
	slow=5
fi
# As in sentinel.sh: under valgrind the Sentinels' timings scale too.
SN_DOWN_AFTER=$((1000 * slow))
SN_FAILOVER_TIMEOUT=$((3000 * slow))
# shellcheck source-path=SCRIPTDIR source=lib/sentinel.sh
. "$(dirname "$0")/lib/sentinel.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tracking.sh
. "$(dirname "$0")/lib/tracking.sh"

MC=$TOP/tests/integration/lib/milter_client.py
REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
need_program "$REDMILTER" "$REDMILTERCTL" python3
LC_ALL=C
export LC_ALL

POLL=$((1 * slow))      # seconds: an edit that Redis reports
WAIT=$((20 * slow))     # seconds: tracking ready on the new primary
EDIT_MAX=$((5 * slow))  # seconds: an edit right after a failover
PROMOTE_MAX=$((30 * slow))
T=$((10 * slow))
NORULE='continue'
OLD='552 5.2.2 Old rule'
FROM='<probe@sender.example>'
T_EDIT=$(date +%s%N)

# --- helpers (edited, probe, await: lib/tracking.sh) ---------------------------

# tm_start LINE... - start_milter with LINEs and the hit counters off:
# their batch, once a second (hits.sh), runs a script, which reads() would
# count as a decision's read on the new primary
tm_start() {
	local m
	m_setup
	milter_mark
	m=$MILTER_MARK
	start_milter "hit_counters = no" "$@"
	MILTER_MARK=$m
	edited
}

# tracking_clients I - subscribed clients of server I that are no Sentinel's
tracking_clients() {
	rs_cli "$1" CLIENT LIST TYPE pubsub 2>/dev/null | grep 'id=' |
	    grep -vc 'name=sentinel-'
}

# one_tracking_client I - exactly one (the milter's) on server I
one_tracking_client() {
	[ "$(tracking_clients "$1")" = 1 ]
}

# reads I - the read commands server I has run: MGET, GET, PTTL, SCAN, EVAL
reads() {
	rs_cli "$1" INFO commandstats | tr -d '\r' |
	    awk -F'[:=,]' '$1 ~ /^cmdstat_(mget|get|pttl|scan|eval)$/ { n += $3 }
	        END { print n + 0 }'
}

# ctl ARGS... - redmilterctl on the Sentinels' primary
ctl() {
	run_prog "$REDMILTERCTL" -c "$H_TMP/ctl.conf" "$@"
	if [ "$RC" -ne 0 ]; then
		diag "redmilterctl $*: exit status $RC: $ERR"
	fi
}

# failover HOW TAG NAME - make the Sentinels fail over (HOW: graceful or
# kill), wait for the promotion, then edit at once with redmilterctl and
# check the milter; TAG tells the rules of this round apart, NAME the tests
failover() {
	local how=$1 tag=$2 name=$3 old oi t0 c d n r0 got
	c=changed-$tag@t.example
	d=deleted-$tag@t.example
	n=new-$tag@t.example
	ctl add recipient "$c" "$OLD"
	ctl add recipient "$d" "$OLD"
	edited
	await "$c" "$OLD" "$name: a rule before"
	await "$d" "$OLD" "$name: another rule before"
	old=$(sn_primary_port)
	oi=$(rs_index_of_port "${old:-none}") ||
	    bail_out "the Sentinels name no known primary (${old:-none}): $(sentinel_logs)"
	ok "$name: the tracking connection is on the primary (server $oi)" \
	    one_tracking_client "$oi"
	rs_wait_synced $((20 * slow)) ||
	    diag "the replicas were not in sync before the failover"
	milter_mark
	t0=$(date +%s%N)
	if [ "$how" = kill ]; then
		rs_stop "$oi" KILL
	else
		is "$(sn_cli 0 SENTINEL FAILOVER "$SN_MASTER")" OK "$name: SENTINEL FAILOVER"
	fi
	new=
	ni=
	new_primary() {
		new=$(sn_primary_port) && [ "$new" != "$old" ] &&
		    ni=$(rs_index_of_port "$new") &&
		    [ "$(rs_role "$ni")" = master ] && sn_agree "$new"
	}
	if wait_for "$PROMOTE_MAX" new_primary; then
		pass "$name: the Sentinels promoted server $ni (port $new) and all agree on it $((($(date +%s%N) - t0) / 1000000)) ms after the $how"
	else
		fail "$name: the Sentinels promoted a replica within $PROMOTE_MAX s" \
		    "$(sentinel_logs)"
		return 1
	fi
	ctl add recipient "$c" REJECT Changed after the failover
	ctl del recipient "$d"
	ctl add recipient "$n" REJECT Added after the failover
	edited
	is "$(rs_cli "$ni" GET "redmilter:recipient:$n")" \
	    "REJECT Added after the failover" "$name: redmilterctl wrote to the new primary"
	await "$c" '550 5.7.1 Changed after the failover' "$name: the changed rule" "$EDIT_MAX"
	await "$d" "$NORULE" "$name: the deleted rule" "$EDIT_MAX"
	await "$n" '550 5.7.1 Added after the failover' "$name: the new rule" "$EDIT_MAX"
	if [ "$how" != kill ]; then
		note "$name: the old primary (server $oi) is now a $(rs_role "$oi")"
	fi
	if wait_for "$WAIT" ready_after_loss; then
		note "$(milter_log_new | grep -E 'tracking (lost|ready|refused)' | sed 's/^/milter log: /')"
		pass "$name: tracking lost, then ready again"
	else
		fail "$name: 'tracking lost: ...' then 'tracking ready: ...' in the log within $WAIT s" \
		    "$(milter_log_new | tail -n 15 | sed 's/^/milter log: /')"
	fi
	if wait_for "$WAIT" one_tracking_client "$ni"; then
		pass "$name: the tracking connection is on the new primary"
	else
		fail "$name: the tracking connection is on the new primary" \
		    "subscribed clients there, Sentinels' left out: $(tracking_clients "$ni")"
	fi
	[ "$(rs_cli "$ni" SET "redmilter:recipient:$c" '550 5.7.1 Set on the new primary')" = OK ] ||
	    diag "redis-cli SET on the new primary failed"
	edited
	await "$c" '550 5.7.1 Set on the new primary' "$name: an edit by redis-cli on the new primary"
	await "$n" '550 5.7.1 Added after the failover' "$name: the new rule, once more"
	await "nothing-$tag@t.example" "$NORULE" "$name: no rule"
	r0=$(reads "$ni")
	got=$(probe "$c")/$(probe "$n")/$(probe "nothing-$tag@t.example")/$(probe "$c")
	is "$got" "550 5.7.1 Set on the new primary/550 5.7.1 Added after the failover/$NORULE/550 5.7.1 Set on the new primary" \
	    "$name: the replies, four decisions"
	is "$(($(reads "$ni") - r0))" 0 "$name: and not one read command on the new primary for them"
	is "$(sn_primary_port)" "$new" "$name: and the primary is still server $ni"
}

# --- the servers, the milter ------------------------------------------------------

start_sentinel_set
pass "a primary (port ${RS_PORT[0]}), two replicas (${RS_PORT[1]}, ${RS_PORT[2]}) and three Sentinels (${SN_PORT[*]}) are up and agree"
printf '%s\n' "redis = $SENTINEL_URL" >"$H_TMP/ctl.conf"

tm_start "redis = $SENTINEL_URL" "redis_timeout = $((300 * slow))" \
    "on_error = tempfail" "cache_reread = 86400" "log_level = info"
if wait_milter_log 'tracking ready: [0-9]+ rules' "$WAIT"; then
	pass "sentinel://: tracking ready at start"
else
	fail "sentinel://: tracking ready at start" "$(milter_log_tail 10)"
fi

failover graceful graceful "SENTINEL FAILOVER"
rs_wait_synced $((20 * slow)) || diag "the replicas did not sync after the failover"
failover kill killed "primary killed"
ok "the milter stops cleanly" stop_milter

done_testing
