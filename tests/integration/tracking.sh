#!/bin/bash
# tracking.sh - the milter with Redis server-assisted client-side caching
# ("tracking", cache = on, the default; redmilter.conf(5)) against a private
# redis-server, driven through the milter protocol (lib/milter_client.py).
# The milter keeps the names of every rule key (one SCAN, then Redis's
# invalidation messages on a connection of its own) and the values it read;
# these tests check that it never answers from a stale copy:
#
#   1. every kind of edit, by redis-cli: SET (a new rule, a changed one),
#      DEL, UNLINK, EXPIRE, SET ... PX with Redis's active expiry off (only
#      the milter's own clock can then see the TTL run out), MSET, RENAME
#      (the old key and the new one), COPY (and COPY ... REPLACE), MOVE (out
#      of the database and into it), EVAL that SETs, MULTI/EXEC, APPEND,
#      GETDEL, a hash put in a rule's place, FLUSHDB, FLUSHALL; a value
#      changed every 3 ms while four clients keep asking (the last value
#      wins); a read racing an invalidation (a busy script makes Redis
#      answer both at once); and by redmilterctl: add, del, import,
#      import --replace;
#   2. steady state: once warm, decisions on keys that hold no rule (seen
#      before or not, or deleted and seen since) and on rules already read
#      cost no Redis command
#      (INFO commandstats: every command but INFO, ours, and PING, the
#      milter's keepalive on the tracking connection, stays put);
#   3. the tracking connection killed (CLIENT KILL TYPE pubsub) with a rule
#      changed before it can come back: the change applies, and tracking is
#      ready again (its log lines); strings PUBLISHed to
#      __redis__:invalidate by another client do no harm;
#   4. Redis hung (SIGSTOP), then killed and restarted empty: on_error's
#      451 while it is gone, never what the milter remembered; then the
#      rules it lost no longer apply, a new one does, tracking is ready
#      again;
#   5. an ACL user that may not track (-client|tracking) or may not
#      subscribe (no &__redis__:invalidate): one refusal warning, and the
#      milter answers right, uncached, edits included; granted the right,
#      it tracks again;
#   6. a one-million-rule import --replace, whose invalidation message
#      overflows Redis's pubsub output buffer (Redis closes the subscriber):
#      tracking is lost, comes back with the new rule set, and the answers
#      follow the new rules; then the tracking connection killed and rules
#      set and deleted while the milter reads the million names again;
#   7. SWAPDB and DEBUG RELOAD NOSAVE, which Redis does not report, caught
#      by the periodic re-read (cache_reread = 2, Redis on its unix socket),
#      a rule in both databases included; then another database (2) and a
#      prefix with glob characters (prefix = mx[1]*:): only its keys in
#      that database are read and tracked; cache_size = 16 with 40 rules;
#   8. cache = off: no tracking connection, every edit applies at the next
#      decision, and every decision asks Redis;
#   9. reloads (SIGUSR1): ten in a row leave one tracking connection and
#      no more connections to Redis than five did; a new prefix is read
#      and tracked; cache = off, then on again.
# A Sentinel failover is tracking_sentinel.sh's.
#
# Each check polls (a new milter session every 20 ms) until the reply is
# the expected one, bounded (POLL: 1 s, 5 s under valgrind, for an edit
# that an invalidation message reports; longer where a re-read or a
# reconnection is involved), and prints how long that took; no test holds
# the milter to a speed.
#
# By hand:  make all && TOP=$PWD bash tests/integration/tracking.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"
# shellcheck source-path=SCRIPTDIR source=lib/tracking.sh
. "$(dirname "$0")/lib/tracking.sh"

MC=$TOP/tests/integration/lib/milter_client.py
REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
need_program "$REDMILTER" "$REDMILTERCTL" python3 awk
LC_ALL=C
export LC_ALL

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi
POLL=$((1 * slow))  # seconds: an edit that Redis reports
WAIT=$((10 * slow)) # seconds: tracking ready again after a loss
T=$((10 * slow))    # seconds: one read or write of milter_client.py
# Milliseconds: redis_timeout, which also bounds the tracking connection's
# PING; under valgrind a busy milter thread may leave it unread for longer
# than the default 500 ms.
TIMEOUT=$((500 * slow))
# The big import: a million rules, whose invalidation message (some 45 MB)
# overflows Redis's default pubsub output buffer limit (32 MB).  Under
# valgrind redmilterctl's import takes a minute or two.
BIG=1000000
P=redmilter:
NORULE='continue'
OLD='552 5.2.2 Old rule'
NEW='550 5.7.1 New rule'
ONERR='451 4.3.0 Temporary policy lookup failure'
FROM='<probe@sender.example>'
T_EDIT=$(date +%s%N)
CTL=("$REDMILTERCTL")

# --- helpers ------------------------------------------------------------------

# rk ADDR - the recipient rule's key of ADDR
rk() {
	echo "${P}recipient:$1"
}

# r WANT ARGS... - redis-cli ARGS; its output must be WANT (a slip of the
# test, not of the milter, otherwise: bail out)
r() {
	local want=$1 got
	shift
	got=$(rcli "$@" 2>&1)
	if [ "$got" != "$want" ]; then
		bail_out "redis-cli $*: got '$got', want '$want'"
	fi
}

# rpipe - redis-cli reading its commands from stdin, one a line, all sent
# on one connection
rpipe() {
	if [ -n "$REDIS_PASSWORD" ]; then
		REDISCLI_AUTH=$REDIS_PASSWORD timeout -k 5 60 "$REDIS_CLI" \
		    -h 127.0.0.1 -p "$REDIS_PORT"
	else
		timeout -k 5 60 "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT"
	fi
}

# tm_start LINE... - start_milter with redis_timeout $TIMEOUT and LINEs,
# with the mark before its start (so that a "tracking ready" line logged
# before the socket opened counts).  The hit counters are off: their
# batch, once a second (hits.sh), is the one command that is no
# decision's, and the steady state below counts every command.
tm_start() {
	local m
	m_setup
	milter_mark
	m=$MILTER_MARK
	start_milter "redis_timeout = $TIMEOUT" "hit_counters = no" "$@"
	MILTER_MARK=$m
	edited
}

# settled - since the mark, the last tracking line is "tracking ready"
settled() {
	milter_log_new | grep -E 'tracking (lost|ready|refused)' | tail -n 1 |
	    grep -q 'tracking ready: '
}

# await_ready DESC [SECONDS] - one test: a "tracking ready" line since the
# mark (WAIT)
await_ready() {
	local t0 line
	t0=$(date +%s%N)
	if wait_milter_log 'tracking ready: [0-9]+ rules, read in [0-9]+ ms' \
	    "${2:-$WAIT}"; then
		line=$(milter_log_new | grep -E 'tracking ready: ' | tail -n 1)
		pass "$1 (${line##*tracking }; seen $((($(date +%s%N) - t0) / 1000000)) ms after the wait began)"
		return 0
	fi
	fail "$1: 'tracking ready: N rules, read in M ms' in the log within ${2:-$WAIT} s" \
	    "$(milter_log_new | tail -n 15 | sed 's/^/milter log: /')"
	return 1
}

# await_recovery DESC [SECONDS] - one test: "tracking lost" then "tracking
# ready" since the mark
await_recovery() {
	local t0
	t0=$(date +%s%N)
	if wait_for "${2:-$WAIT}" ready_after_loss; then
		note "$(milter_log_new | grep -E 'tracking (lost|ready|refused)' | sed 's/^/milter log: /')"
		pass "$1 ($((($(date +%s%N) - t0) / 1000000)) ms after the wait began)"
		return 0
	fi
	fail "$1: 'tracking lost: ...' then 'tracking ready: ...' in the log within ${2:-$WAIT} s" \
	    "$(milter_log_new | tail -n 15 | sed 's/^/milter log: /')"
	return 1
}

# cmd_stats FILE - INFO commandstats as "NAME CALLS" lines, less INFO (our
# own) and PING (the milter's keepalive on its tracking connection)
cmd_stats() {
	rcli INFO commandstats | tr -d '\r' |
	    awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" &&
	        $1 != "cmdstat_ping" { sub(/^cmdstat_/, "", $1); print $1, $3 }' |
	    sort >"$1"
}

# cmd_moved BEFORE AFTER - the commands whose count moved, "NAME+N ..."
cmd_moved() {
	join -a 2 -e 0 -o 0,1.2,2.2 "$1" "$2" |
	    awk '$3 != $2 { printf "%s%s+%d", sep, $1, $3 - $2; sep = " " }'
}

# pings - how many PINGs Redis has run
pings() {
	rcli INFO commandstats | tr -d '\r' |
	    sed -n 's/^cmdstat_ping:calls=\([0-9]*\),.*/\1/p'
}

# pubsub_clients - how many clients are subscribed (CLIENT LIST TYPE pubsub)
pubsub_clients() {
	rcli CLIENT LIST TYPE pubsub | grep -c 'id='
}

one_pubsub_client() {
	[ "$(pubsub_clients)" = 1 ]
}

no_pubsub_client() {
	[ "$(pubsub_clients)" = 0 ]
}

# --- the server, the milter -----------------------------------------------------

# DEBUG (SET-ACTIVE-EXPIRE, for the SET ... PX test) from loopback only.
start_redis "enable-debug-command local"
rcli FLUSHALL >/dev/null
# The periodic re-read out of the way (a day): here every edit must be
# caught by Redis's invalidation messages, and the steady state must not
# see the re-read's SCAN.  cache_ttl is obsolete: accepted and ignored.
tm_start "cache_reread = 86400" "cache_ttl = 1000" "log_level = info"
await_ready "cache = on (the default): tracking ready at start"
like "$(milter_log_new | grep -m 1 cache_ttl)" \
    'cache_ttl.*(obsolete|ignored)|(obsolete|ignored).*cache_ttl' \
    "cache_ttl, obsolete, is accepted with a warning that names it"
is "$(pubsub_clients)" 1 "one subscribed client: the milter's tracking connection"

# --- 1. every kind of edit ------------------------------------------------------

a=set-new@t.example
await "$a" "$NORULE" "no rule yet"
r OK SET "$(rk "$a")" "$NEW"
edited
await "$a" "$NEW" "SET, a new rule"

a=set-changed@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "SET, the rule before the change"
r OK SET "$(rk "$a")" "$NEW"
edited
await "$a" "$NEW" "SET, a changed value"

for cmd in DEL UNLINK; do
	a=$(tr '[:upper:]' '[:lower:]' <<<"$cmd")@t.example
	r OK SET "$(rk "$a")" "$OLD"
	edited
	await "$a" "$OLD" "$cmd: the rule before"
	r 1 "$cmd" "$(rk "$a")"
	edited
	await "$a" "$NORULE" "$cmd: no rule"
done

a=expire@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "EXPIRE: the rule before"
r 1 EXPIRE "$(rk "$a")" 1
edited
await "$a" "$NORULE" "EXPIRE 1: no rule once it expired" $((1 + POLL))

# With Redis's active expiry off, an expired key stays in memory until it
# is read, and Redis sends no invalidation for it: only the milter's own
# clock can tell that the rule is over.
px=$((2000 * slow))
a=px@t.example
r OK DEBUG SET-ACTIVE-EXPIRE 0
r OK SET "$(rk "$a")" "$NEW" PX "$px"
edited
await "$a" "$NEW" "SET ... PX $px: the rule applies before its TTL runs out" \
    $((px / 1000 - 1))
await "$a" "$NORULE" "SET ... PX $px, Redis's active expiry off: no rule once the TTL ran out" \
    $((px / 1000 + POLL))
r OK DEBUG SET-ACTIVE-EXPIRE 1

a=mset-new@t.example
b=mset-changed@t.example
r OK SET "$(rk "$b")" "$OLD"
edited
await "$b" "$OLD" "MSET: the rule before"
r OK MSET "$(rk "$a")" "$NEW" "$(rk "$b")" '550 5.7.1 Changed by MSET'
edited
await "$a" "$NEW" "MSET: a new rule"
await "$b" '550 5.7.1 Changed by MSET' "MSET: a changed rule"

# Each change heard is logged (redmilter(8), CACHE): a line a rule, 100 a
# second, the rest summed up.  The burst starts over a second after the
# last change, so that it is in one second of its own.
for x in "1 $a" "2 $b"; do
	is "$(milter_log_new | grep -cxF "redmilter: rule changed: recipient:${x#* }")" \
	    "${x%% *}" "MSET: the milter logged 'rule changed: recipient:${x#* }' ${x%% *} time(s), a line a change"
done
sleep 1.2
milter_mark
burst=()
for ((i = 0; i < 300; i++)); do
	burst+=("$(rk "burst-$i@t.example")" "$NEW")
done
r OK MSET "${burst[@]}"
edited
await burst-299@t.example "$NEW" "MSET of 300 rules: the last one"
if wait_milter_log 'rule changed: 200 more changes in a second, not logged one by one$' \
    $((2 * POLL)); then
	pass "MSET of 300 rules: 'rule changed: 200 more changes in a second, not logged one by one'"
else
	fail "MSET of 300 rules: 'rule changed: 200 more changes in a second, not logged one by one'" \
	    "$(milter_log_new | grep -v 'recipient:burst-' | tail -n 5)"
fi
is "$(milter_log_new | grep -c 'rule changed: recipient:burst-')" 100 \
    "MSET of 300 rules: 100 of them logged one by one"

a=rename-old@t.example
b=rename-new@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "RENAME: the rule before, under the old key"
await "$b" "$NORULE" "RENAME: no rule under the new key before"
r OK RENAME "$(rk "$a")" "$(rk "$b")"
edited
await "$a" "$NORULE" "RENAME: no rule under the old key"
await "$b" "$OLD" "RENAME: the rule under the new key"

a=copy-new@t.example
c=copy-replaced@t.example
r OK SET "$(rk "$c")" '450 4.7.1 Copy target'
edited
await "$c" '450 4.7.1 Copy target' "COPY ... REPLACE: the target's rule before"
await "$a" "$NORULE" "COPY: no rule under the target before"
r 1 COPY "$(rk "$b")" "$(rk "$a")"
edited
await "$a" "$OLD" "COPY: the copied rule"
r 1 COPY "$(rk "$b")" "$(rk "$c")" REPLACE
edited
await "$c" "$OLD" "COPY ... REPLACE: the copied rule over the target"

a=move-out@t.example
b=move-in@t.example
r OK SET "$(rk "$a")" "$OLD"
r OK -n 1 SET "$(rk "$b")" '550 5.7.1 Moved in'
edited
await "$a" "$OLD" "MOVE: the rule before"
await "$b" "$NORULE" "MOVE: no rule before, the key is in database 1"
r 1 MOVE "$(rk "$a")" 1
edited
await "$a" "$NORULE" "MOVE to database 1: no rule"
r 1 -n 1 MOVE "$(rk "$b")" 0
edited
await "$b" '550 5.7.1 Moved in' "MOVE from database 1: the rule"
rcli -n 1 FLUSHDB >/dev/null

a=eval@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "EVAL: the rule before"
r OK EVAL "return redis.call('SET', KEYS[1], ARGV[1])" 1 "$(rk "$a")" \
    '550 5.7.1 Set by a script'
edited
await "$a" '550 5.7.1 Set by a script' "EVAL that SETs: the changed rule"

a=multi-set@t.example
b=multi-del@t.example
r OK SET "$(rk "$a")" "$OLD"
r OK SET "$(rk "$b")" "$OLD"
edited
await "$a" "$OLD" "MULTI/EXEC: the rule before"
await "$b" "$OLD" "MULTI/EXEC: the other rule before"
out=$(printf '%s\n' MULTI "SET $(rk "$a") \"550 5.7.1 Set in a transaction\"" \
    "DEL $(rk "$b")" EXEC | rpipe 2>&1)
edited
is "$(tr '\n' ' ' <<<"$out")" "OK QUEUED QUEUED OK 1 " "MULTI, SET, DEL, EXEC by redis-cli"
await "$a" '550 5.7.1 Set in a transaction' "MULTI/EXEC: the SET"
await "$b" "$NORULE" "MULTI/EXEC: the DEL"

a=append@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "APPEND: the rule before"
tail=', appended'
r $((${#OLD} + ${#tail})) APPEND "$(rk "$a")" "$tail"
edited
await "$a" "$OLD, appended" "APPEND: the longer text"
r "$OLD, appended" GETDEL "$(rk "$a")"
edited
await "$a" "$NORULE" "GETDEL: no rule"

# A key of another type under a rule's name is no rule (redmilterctl(8)).
a=hash@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "a hash in place of a rule: the rule before"
out=$(printf '%s\n' MULTI "DEL $(rk "$a")" "HSET $(rk "$a") f \"$NEW\"" EXEC |
    rpipe 2>&1)
edited
is "$(tr '\n' ' ' <<<"$out")" "OK QUEUED QUEUED 1 1 " "MULTI, DEL, HSET, EXEC by redis-cli"
await "$a" "$NORULE" "a hash in place of a rule: no rule"
r 1 DEL "$(rk "$a")"

# Edits racing with decisions: four clients keep asking about one key
# while a script changes its value every 3 ms, 300 times; the milter must
# end up with the last value (a value read before an invalidation and kept
# after it would stay).
a=race@t.example
for round in 1 2 3; do
	pids=()
	for i in 1 2 3 4; do
		spawn python3 "$MC" -s "$MILTER_SOCKET" -T "$T" poll --want never \
		    --rcpt "<$a>" --max $((2 * slow)) >"$H_TMP/race.$i" 2>&1 </dev/null
		pids+=("$SPAWN_PID")
	done
	sleep 0.2
	rcli -r 300 -i 0.003 EVAL "local n = redis.call('INCR', KEYS[2])
return redis.call('SET', KEYS[1], '550 5.7.1 Race ' .. n)" 2 "$(rk "$a")" \
	    race-counter >/dev/null
	edited
	n=$(rcli GET race-counter)
	for p in "${pids[@]}"; do
		wait "$p"
		unregister_pid "$p"
	done
	last=$(cat "$H_TMP"/race.[1-4] | sed -n 's/^poll: gave up .* last=//p' |
	    sort -u | tr '\n' '|')
	like "$last" '^(550 5\.7\.1 Race [0-9]+\|)+$' \
	    "edits racing with decisions, round $round: every client's last reply was a rule's ($last)"
	await "$a" "550 5.7.1 Race $n" "edits racing with decisions, round $round: the last of 300 values"
done
r 1 DEL "$(rk "$a")"

# A read racing an invalidation, made likely: a script keeps Redis busy for
# 300 ms; meanwhile a decision sends its MGET for a rule not in memory, and
# then a SET of that rule is sent.  When the script ends, Redis answers the
# MGET with the old value and then tells the milter of the SET, both at
# once: a milter that stored the old value after the invalidation would
# keep it.  (The decision itself may get either value.)
a=fill-race@t.example
busy="local t0 = redis.call('TIME')
local s0 = t0[1] * 1000000 + t0[2]
while true do
	local t = redis.call('TIME')
	if t[1] * 1000000 + t[2] - s0 > 300000 then break end
end
return 1"
raced=0
stale=
for round in 1 2 3 4 5 6 7 8 9 10; do
	r OK SET "$(rk "$a")" "550 5.7.1 Before $round"
	sleep 0.1 # the invalidation reaches the milter: the value is not held
	rcli EVAL "$busy" 0 >/dev/null &
	bp=$!
	probe "$a" >"$H_TMP/during" &
	pp=$!
	sleep 0.2
	r OK SET "$(rk "$a")" "550 5.7.1 After $round"
	wait "$bp" "$pp"
	if [ "$(cat "$H_TMP/during")" = "550 5.7.1 Before $round" ]; then
		raced=$((raced + 1))
	fi
	edited
	run python3 "$MC" -s "$MILTER_SOCKET" -T "$T" poll \
	    --want "550 5.7.1 After $round" --rcpt "<$a>" --max "$POLL"
	if [ "$RC" -ne 0 ] ||
	    [ "$(probe "$a")" != "550 5.7.1 After $round" ]; then
		stale="$stale round $round: $OUT;"
	fi
done
note "a read racing an invalidation: in $raced of 10 rounds the MGET was answered before the SET"
is "$stale" "" "a read racing an invalidation, 10 rounds: the value after the SET each time, never the one read before it"
r 1 DEL "$(rk "$a")"

for cmd in FLUSHDB FLUSHALL; do
	a=$(tr '[:upper:]' '[:lower:]' <<<"$cmd")@t.example
	b=after-$a
	r OK SET "$(rk "$a")" "$OLD"
	edited
	await "$a" "$OLD" "$cmd: the rule before"
	milter_mark
	r OK "$cmd"
	edited
	await "$a" "$NORULE" "$cmd: no rule"
	r OK SET "$(rk "$b")" "$NEW"
	edited
	await "$b" "$NEW" "$cmd: a rule set after it" $((2 * POLL))
	wait_milter_log 'tracking ready: ' "$WAIT"
	note "after $cmd: $(milter_log_new | grep -E 'tracking (lost|ready)' | tr '\n' '|')"
done

a=ctl@t.example
run_prog "${CTL[@]}" -r "$REDIS_URL" add recipient "$a" REJECT Added by redmilterctl
edited
is "$RC $ERR" "0 " "redmilterctl add"
await "$a" '550 5.7.1 Added by redmilterctl' "redmilterctl add: the rule"
run_prog "${CTL[@]}" -r "$REDIS_URL" del recipient "$a"
edited
is "$RC $ERR" "0 " "redmilterctl del"
await "$a" "$NORULE" "redmilterctl del: no rule"

a=import-new@t.example
b=import-changed@t.example
c=import-kept@t.example
r OK SET "$(rk "$b")" "$OLD"
edited
await "$b" "$OLD" "redmilterctl import: the rule before"
printf '%s\n' "recipient $a 550 5.7.1 Imported" \
    "recipient $b 550 5.7.1 Changed by import" \
    "recipient $c 550 5.7.1 Kept" >"$H_TMP/import.rules"
run_prog "${CTL[@]}" -r "$REDIS_URL" import "$H_TMP/import.rules"
edited
is "$RC $OUT" "0 imported 3 rules, removed 0" "redmilterctl import"
await "$a" '550 5.7.1 Imported' "redmilterctl import: a new rule"
await "$b" '550 5.7.1 Changed by import' "redmilterctl import: a changed rule"
# The recipient table now holds the rules of this section that are left;
# the file of --replace keeps only $c.
n=$(rcli --scan --pattern "${P}recipient:*" | wc -l)
printf '%s\n' "recipient $c 550 5.7.1 Kept" \
    "recipient import-replaced@t.example 550 5.7.1 Import replace" \
    >"$H_TMP/replace.rules"
run_prog "${CTL[@]}" -r "$REDIS_URL" import --replace "$H_TMP/replace.rules"
edited
is "$RC $OUT" "0 imported 2 rules, removed $((n - 1))" "redmilterctl import --replace"
await import-replaced@t.example '550 5.7.1 Import replace' "redmilterctl import --replace: a new rule"
await "$a" "$NORULE" "redmilterctl import --replace: a rule removed"
await "$b" "$NORULE" "redmilterctl import --replace: another rule removed"
await "$c" '550 5.7.1 Kept' "redmilterctl import --replace: a rule kept"

# --- 2. steady state ------------------------------------------------------------

a=steady@t.example
r OK SET "$(rk "$a")" '552 5.2.2 Mailbox full'
edited
await "$a" '552 5.2.2 Mailbox full' "steady state: the rule, read once"
await no-rule@t.example "$NORULE" "steady state: no rule, seen once"
d=deleted@t.example
r OK SET "$(rk "$d")" "$OLD"
edited
await "$d" "$OLD" "steady state: a rule before it is deleted"
r 1 DEL "$(rk "$d")"
edited
await "$d" "$NORULE" "steady state: the rule deleted, seen once"
cmd_stats "$H_TMP/stats.before"
p0=$(pings)
got=
want=
for i in 1 2 3 4 5 6 7 8 9 10; do
	got="$got$(probe "$a")|$(probe no-rule@t.example)|$(probe "never-$i@t.example")|"
	want="${want}552 5.2.2 Mailbox full|$NORULE|$NORULE|"
done
cmd_stats "$H_TMP/stats.after"
p1=$(pings)
is "$got" "$want" "steady state: 30 decisions, each reply right"
is "$(cmd_moved "$H_TMP/stats.before" "$H_TMP/stats.after")" "" \
    "steady state: and not one Redis command for them (a rule read before, a key with no rule seen before, 10 keys never seen; PING: $((p1 - p0)) meanwhile)"
cmd_stats "$H_TMP/stats.before"
got=$(probe "$d")/$(probe "$d")/$(probe "$d")/$(probe "$d")/$(probe "$d")
cmd_stats "$H_TMP/stats.after"
is "$got" "$NORULE/$NORULE/$NORULE/$NORULE/$NORULE" "steady state: a deleted rule, 5 decisions, each reply right"
is "$(cmd_moved "$H_TMP/stats.before" "$H_TMP/stats.after")" "" \
    "steady state: and not one Redis command for them (the rule was deleted, and that was read once)"

# --- 3. the tracking connection killed ------------------------------------------

a=killed@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "tracking connection killed: the rule before"
milter_mark
# The kill and the edit on one connection, back to back: the edit is made
# before the milter can have subscribed again, and nobody tells it.
out=$(printf '%s\n' "CLIENT KILL TYPE pubsub" \
    "SET $(rk "$a") \"$NEW\"" | rpipe 2>&1)
edited
is "$(tr '\n' ' ' <<<"$out")" "1 OK " "CLIENT KILL TYPE pubsub, then SET at once"
await "$a" "$NEW" "tracking connection killed: the rule changed meanwhile applies"
await_recovery "tracking connection killed: lost, then ready again"
is "$(pubsub_clients)" 1 "tracking connection killed: one subscribed client again"
r OK SET "$(rk "$a")" '550 5.7.1 After the kill'
edited
await "$a" '550 5.7.1 After the kill' "tracking connection killed: an edit after it is back"
await no-rule@t.example "$NORULE" "tracking connection killed: no rule, once more"
wait_for "$WAIT" settled || diag "tracking lost again: $(milter_log_new | grep tracking)"
cmd_stats "$H_TMP/stats.before"
got=$(probe "$a")/$(probe no-rule@t.example)/$(probe "$a")/$(probe no-rule@t.example)
cmd_stats "$H_TMP/stats.after"
is "$got" "550 5.7.1 After the kill/$NORULE/550 5.7.1 After the kill/$NORULE" \
    "tracking connection killed: the replies once it is back"
is "$(cmd_moved "$H_TMP/stats.before" "$H_TMP/stats.after")" "" \
    "tracking connection killed: once it is back, decisions again cost no Redis command"

# Anyone allowed to may PUBLISH to __redis__:invalidate: a string, an empty
# one, a long one, in place of Redis's arrays of key names.
a=publish@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "PUBLISH to __redis__:invalidate: the rule before"
milter_mark
r 1 PUBLISH __redis__:invalidate "$(rk "$a")"
r 1 PUBLISH __redis__:invalidate ''
head -c 1048576 /dev/zero | tr '\0' x >"$H_TMP/1mb"
out=$(timeout -k 5 60 "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" -x PUBLISH \
    __redis__:invalidate <"$H_TMP/1mb" 2>&1)
[ "$out" = 1 ] || bail_out "redis-cli -x PUBLISH: got '$out', want 1"
r 1 PUBLISH __redis__:invalidate "$(rk nothing@t.example)"
edited
await "$a" "$OLD" "PUBLISH to __redis__:invalidate (a key name, an empty string, 1 MB, another name): the rule"
ok "PUBLISH to __redis__:invalidate: the milter is still running" milter_alive
wait_for "$WAIT" one_pubsub_client ||
    diag "no subscribed client after the PUBLISHes: $(milter_log_new | grep tracking)"
note "after the PUBLISHes: $(milter_log_new | grep -E 'tracking (lost|ready)' | tr '\n' '|')"
r OK SET "$(rk "$a")" "$NEW"
edited
await "$a" "$NEW" "PUBLISH to __redis__:invalidate: an edit after them" $((2 * POLL))

# --- 4. Redis restarted ---------------------------------------------------------

# Hung (SIGSTOP): the PINGs go unanswered, the milter forgets what it knew
# and asks Redis, which does not answer: on_error's 451, never the rule it
# remembered.
a=hung@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "Redis hung: the rule before"
milter_mark
kill -STOP "$REDIS_PID"
edited
await "$a" "$ONERR" "Redis hung (SIGSTOP): on_error's reply, not the rule it knew" \
    $((2 * POLL))
if wait_milter_log 'tracking lost: ' "$WAIT"; then
	pass "Redis hung: tracking lost ($(milter_log_new | grep -m 1 'tracking lost: ' | sed 's/.*tracking lost: //'))"
else
	fail "Redis hung: 'tracking lost: ...' in the log" "$(milter_log_tail 10)"
fi
kill -CONT "$REDIS_PID"
edited
await "$a" "$OLD" "Redis going again (SIGCONT): the rule"
await_ready "Redis going again: tracking ready again"

# Killed, then started again empty (no persistence).
a=restart@t.example
r OK SET "$(rk "$a")" "$OLD"
edited
await "$a" "$OLD" "Redis restarted: the rule before"
milter_mark
stop_redis KILL
edited
await "$a" "$ONERR" "Redis killed: on_error's reply, not the rule it knew" $((2 * POLL))
await no-rule@t.example "$ONERR" "Redis killed: on_error's reply for a key it knew held no rule"
restart_redis
edited
await "$a" "$NORULE" "Redis restarted empty: the rule it lost no longer applies" \
    $((2 * POLL))
await_recovery "Redis restarted: tracking lost, then ready again"
r OK SET "$(rk "$a")" "$NEW"
edited
await "$a" "$NEW" "Redis restarted: a rule set afterwards"

# --- 6. a big import --replace ----------------------------------------------------

a='big-old@t.example'
r OK SET "$(rk "$a")" "$OLD"
r OK SET "${P}sender:keep.example" '550 5.7.1 Sender kept'
edited
await "$a" "$OLD" "big import: a rule before, which the import removes"
await other@t.example '550 5.7.1 Sender kept' "big import: a sender rule before, which it keeps" \
    "$POLL" '<x@keep.example>'
awk -v n="$BIG" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "recipient u%d@big.example 550 5.7.1 Big rule %d\n", i, i
}' >"$H_TMP/big.rules"
milter_mark
t0=$(date +%s%N)
RUN_TIMEOUT=$((300 * slow)) run_prog "${CTL[@]}" -r "$REDIS_URL" import --replace \
    "$H_TMP/big.rules"
edited
note "big import: redmilterctl import --replace of $BIG rules took $(((T_EDIT - t0) / 1000000)) ms"
rm -f "$H_TMP/big.rules"
is "$RC $OUT" "0 imported $BIG rules, removed 2" "big import: redmilterctl import --replace of $BIG rules"
# The machine is busy with Redis's and the milter's work: 5 s (25 s).
big=$((5 * slow))
await u0@big.example '550 5.7.1 Big rule 0' "big import: the first new rule" "$big"
await "u$((BIG - 1))@big.example" "550 5.7.1 Big rule $((BIG - 1))" "big import: the last new rule" "$big"
await "$a" "$NORULE" "big import: the rule removed" "$big"
await other@t.example '550 5.7.1 Sender kept' "big import: the sender rule kept" \
    "$big" '<x@keep.example>'
if grep -q 'output buffer limits' "$REDIS_DIR/redis.log"; then
	pass "big import: Redis closed the tracking connection for its output buffer ($(grep -m 1 'output buffer' "$REDIS_DIR/redis.log" | sed 's/.*Client id=\([0-9]*\).*/client id \1/'))"
else
	fail "big import: Redis closed the tracking connection for its output buffer" \
	    "$(tail -n 5 "$REDIS_DIR/redis.log")"
fi
await_recovery "big import: tracking lost, then ready again" $((120 * slow))
like "$(milter_log_new | grep -E 'tracking ready: ' | tail -n 1)" \
    "tracking ready: $((BIG + 1)) rules" "big import: ready with the new rule set ($BIG rules and the sender rule)"
await "u$((BIG / 2))@big.example" "550 5.7.1 Big rule $((BIG / 2))" "big import: a rule in the middle, once ready" "$big"
wait_for "$WAIT" settled || diag "tracking lost again: $(milter_log_new | grep tracking)"
cmd_stats "$H_TMP/stats.before"
got=$(probe "u$((BIG / 2))@big.example")/$(probe nothing@big.example)/$(probe "u$((BIG / 2))@big.example")
cmd_stats "$H_TMP/stats.after"
is "$got" "550 5.7.1 Big rule $((BIG / 2))/$NORULE/550 5.7.1 Big rule $((BIG / 2))" \
    "big import: the replies once ready"
is "$(cmd_moved "$H_TMP/stats.before" "$H_TMP/stats.after")" "" \
    "big import: once ready, decisions again cost no Redis command"
# Edits while the milter reads the million names again (after its
# tracking connection is killed): the SCAN may miss a key made meanwhile
# and still return one deleted meanwhile; the invalidations must win.
milter_mark
r 1 CLIENT KILL TYPE pubsub
n=0
while [ $n -lt 40 ] && ! m_log_has 'tracking ready: '; do
	r OK SET "$(rk "during-$n@big.example")" "550 5.7.1 During $n"
	r 1 DEL "$(rk "u$n@big.example")"
	n=$((n + 1))
	sleep "0.0$slow"
done
edited
await_ready "big import: tracking ready again after the kill" $((120 * slow))
note "big import: $n rules set and $n deleted while the names were read again ($(milter_log_new | grep -m 1 'tracking ready: ' | sed 's/.*tracking //'))"
got=
want=
for ((i = 0; i < n; i++)); do
	got="$got$(probe "during-$i@big.example")|$(probe "u$i@big.example")|"
	want="${want}550 5.7.1 During $i|$NORULE|"
done
is "$got" "$want" "big import: each rule set while the names were read applies, each one deleted does not"
r OK FLUSHALL
edited
await u0@big.example "$NORULE" "big import: FLUSHALL, no rule" $((2 * POLL))
ok "the milter (cache_reread = 86400) stops cleanly" stop_milter

# --- 7. SWAPDB, caught by the periodic re-read ----------------------------------

REREAD=2
# On the unix socket this time.
tm_start "redis = unix:$REDIS_SOCK" "cache_reread = $REREAD" "log_level = info"
await_ready "cache_reread = $REREAD, redis = unix:...: tracking ready"
r OK SET "$(rk swap-0@t.example)" '550 5.7.1 Only in db 0'
r OK SET "$(rk swap-both@t.example)" '550 5.7.1 Both, db 0'
r OK -n 1 SET "$(rk swap-1@t.example)" '550 5.7.1 Only in db 1'
r OK -n 1 SET "$(rk swap-both@t.example)" '550 5.7.1 Both, db 1'
edited
await swap-0@t.example '550 5.7.1 Only in db 0' "SWAPDB: a rule only in database 0, before"
await swap-both@t.example '550 5.7.1 Both, db 0' "SWAPDB: a rule in both, database 0's value before"
await swap-1@t.example "$NORULE" "SWAPDB: no rule before for a key only in database 1"
r OK SWAPDB 0 1
edited
swap=$(((REREAD + 2) * slow))
await swap-0@t.example "$NORULE" "SWAPDB: no rule once the re-read saw it" "$swap"
await swap-1@t.example '550 5.7.1 Only in db 1' "SWAPDB: the rule that was in database 1" "$swap"
await swap-both@t.example '550 5.7.1 Both, db 1' "SWAPDB: a rule in both: database 1's value" "$swap"
# DEBUG RELOAD NOSAVE: the data set replaced by the last SAVE's, which
# Redis does not report either.
r OK FLUSHALL
r OK SET "$(rk reload-changed@t.example)" '550 5.7.1 As saved'
r OK SET "$(rk reload-gone@t.example)" '550 5.7.1 Saved, then deleted'
r OK SAVE
r OK SET "$(rk reload-changed@t.example)" '550 5.7.1 After the save'
r 1 DEL "$(rk reload-gone@t.example)"
r OK SET "$(rk reload-new@t.example)" '550 5.7.1 New after the save'
edited
await reload-changed@t.example '550 5.7.1 After the save' "DEBUG RELOAD: a rule changed after the SAVE, before"
await reload-gone@t.example "$NORULE" "DEBUG RELOAD: a rule deleted after the SAVE, before"
await reload-new@t.example '550 5.7.1 New after the save' "DEBUG RELOAD: a rule added after the SAVE, before"
r OK DEBUG RELOAD NOSAVE
edited
await reload-changed@t.example '550 5.7.1 As saved' "DEBUG RELOAD NOSAVE: the saved value" "$swap"
await reload-gone@t.example '550 5.7.1 Saved, then deleted' "DEBUG RELOAD NOSAVE: the saved rule back" "$swap"
await reload-new@t.example "$NORULE" "DEBUG RELOAD NOSAVE: the rule added after the SAVE gone" "$swap"
r OK FLUSHALL
ok "the milter (cache_reread = $REREAD) stops cleanly" stop_milter

# --- 7b. another prefix and database, a small cache ----------------------------

# Only the prefix's keys in the milter's database (2) are read, and
# tracked; the prefix's glob characters are literal (SCAN MATCH would
# otherwise take mx1X: for mx[1]*: and miss mx[1]*: itself).
# cache_size = 16, its least: 40 rules read in turn, then all changed, must
# all be right each time.
PX1='mx[1]*:'
r OK -n 2 SET "${PX1}recipient:pre@t.example" '550 5.7.1 Prefix mx1'
r OK -n 2 SET "mx1X:recipient:pre@t.example" '550 5.7.1 Not this prefix'
r OK -n 2 SET "$(rk pre@t.example)" "$OLD"
r OK SET "${PX1}recipient:db0@t.example" '550 5.7.1 Database 0'
tm_start "redis = redis://127.0.0.1:$REDIS_PORT/2" "prefix = $PX1" \
    "cache_size = 16" "cache_reread = 86400" "log_level = info"
await_ready "prefix = $PX1: tracking ready"
like "$(milter_log_new | grep 'tracking ready: ')" 'tracking ready: 1 rules' \
    "prefix = $PX1: one rule read, the one under $PX1 in database 2"
await db0@t.example "$NORULE" "database 2: no rule for a key that only database 0 holds"
await pre@t.example '550 5.7.1 Prefix mx1' "prefix = $PX1: the rule under $PX1"
r OK -n 2 SET "${PX1}recipient:pre@t.example" "$NEW"
edited
await pre@t.example "$NEW" "prefix = $PX1: a changed rule"
r OK -n 2 SET "${PX1}recipient:new@t.example" '550 5.7.1 New under mx1'
edited
await new@t.example '550 5.7.1 New under mx1' "prefix = $PX1: a new rule"
r 1 -n 2 DEL "${PX1}recipient:pre@t.example"
edited
await pre@t.example "$NORULE" "prefix = $PX1: a rule deleted, those under other prefixes do not count"
for v in 1 2; do
	for ((i = -1; i < 40; i++)); do
		[ $i -lt 0 ] && echo "SELECT 2" && continue
		echo "SET \"${PX1}recipient:small-$i@t.example\" \"550 5.7.1 Small $i.$v\""
	done | rpipe >/dev/null
	edited
	await small-39@t.example "550 5.7.1 Small 39.$v" "cache_size = 16: 40 rules set (round $v)"
	for k in 1 2; do
		got=
		want=
		for ((i = 0; i < 40; i++)); do
			got="$got$(probe "small-$i@t.example")|"
			want="${want}550 5.7.1 Small $i.$v|"
		done
		is "$got" "$want" "cache_size = 16: 40 rules read in turn, each right (round $v, pass $k)"
	done
done
r OK FLUSHALL
ok "the milter (prefix = $PX1) stops cleanly" stop_milter

# --- 5. an ACL user without the tracking grant ------------------------------------

acl_case() {
	local user=$1 why=$2 a=acl-$1@t.example n
	shift 2
	r OK ACL SETUSER "$user" on ">pw-$user" '~*' "$@"
	r OK SET "$(rk "$a")" "$OLD"
	tm_start "redis = redis://$user:pw-$user@127.0.0.1:$REDIS_PORT/0" \
	    "log_level = info"
	edited
	if wait_milter_log 'tracking refused by Redis: ' $((5 * slow)); then
		pass "ACL user $why: the refusal is logged ($(milter_log_new | grep -m 1 'tracking refused by Redis: ' | sed 's/.*tracking refused/tracking refused/'))"
	else
		fail "ACL user $why: 'tracking refused by Redis: ...' in the log" \
		    "$(milter_log_tail 10)"
	fi
	await "$a" "$OLD" "ACL user $why: the rule"
	r OK SET "$(rk "$a")" "$NEW"
	edited
	await "$a" "$NEW" "ACL user $why: a changed rule"
	r 1 DEL "$(rk "$a")"
	edited
	await "$a" "$NORULE" "ACL user $why: a rule deleted"
	r OK SET "$(rk "new-$a")" '550 5.7.1 New for the ACL user'
	edited
	await "new-$a" '550 5.7.1 New for the ACL user' "ACL user $why: a new rule"
	sleep "$slow"
	n=$(milter_log_new | grep -c 'tracking refused by Redis: ')
	is "$n" 1 "ACL user $why: one refusal warning (one streak), not one per try"
	is "$(milter_log_new | grep -c 'tracking ready: ')" 0 "ACL user $why: tracking never ready"
	if [ -n "$GRANT" ]; then
		# The milter asks again every 30 s after a refusal (redmilter.conf(5)).
		milter_mark
		r OK ACL SETUSER "$user" "$GRANT"
		await_ready "ACL user $why, granted $GRANT: tracking ready" \
		    $((30 + WAIT))
		r OK SET "$(rk "$a")" '550 5.7.1 Granted'
		edited
		await "$a" '550 5.7.1 Granted' "ACL user $why, granted $GRANT: an edit"
		cmd_stats "$H_TMP/stats.before"
		got=$(probe "$a")/$(probe "$a")/$(probe "none-$a")
		cmd_stats "$H_TMP/stats.after"
		is "$got/$(cmd_moved "$H_TMP/stats.before" "$H_TMP/stats.after")" \
		    "550 5.7.1 Granted/550 5.7.1 Granted/$NORULE/" \
		    "ACL user $why, granted $GRANT: decisions right, and cached (no Redis command after the first)"
	fi
	ok "the milter (ACL user $user) stops cleanly" stop_milter
}
GRANT='+client|tracking' acl_case notrack "with -client|tracking" '&*' +@all \
    '-client|tracking'
GRANT='' acl_case nochannel "without &__redis__:invalidate" resetchannels +@all
rcli FLUSHALL >/dev/null

# --- 9. reload (SIGUSR1) ----------------------------------------------------------

# reload_with LINE... - the configuration rewritten (lib/milter.sh's
# defaults, then LINEs), SIGUSR1, and its "reload: ... read" line awaited
reload_with() {
	m_write_conf "redis_timeout = $TIMEOUT" "$@"
	milter_mark
	kill -USR1 "$MILTER_PID"
	wait_milter_log 'reload: .* read ' $((5 * slow)) ||
	    diag "no 'reload: ... read' line: $(milter_log_tail 5)"
}

a=reload@t.example
r OK SET "$(rk "$a")" "$OLD"
r OK SET "mx2:recipient:$a" '550 5.7.1 Under mx2'
tm_start "cache_reread = 86400" "log_level = info"
await_ready "reload: tracking ready at start"
await "$a" "$OLD" "reload: the rule before"
# clients - Redis's clients but this redis-cli
clients() {
	echo $(($(rcli CLIENT LIST | grep -c 'id=') - 1))
}
for i in 1 2 3 4 5 6 7 8 9 10; do
	reload_with "cache_reread = 86400" "log_level = info"
	edited
	await "$a" "$OLD" "reload $i of 10: the rule"
	if [ $i = 5 ]; then
		wait_for "$WAIT" one_pubsub_client
		c5=$(clients)
	fi
done
if wait_for "$WAIT" one_pubsub_client; then
	pass "reload: after 10 reloads, one subscribed client"
else
	fail "reload: after 10 reloads, one subscribed client" \
	    "CLIENT LIST TYPE pubsub: $(rcli CLIENT LIST TYPE pubsub)"
fi
c10=$(clients)
if [ "$c10" -le "$c5" ]; then
	pass "reload: Redis's clients do not grow with reloads ($c5 after 5, $c10 after 10)"
else
	fail "reload: Redis's clients do not grow with reloads" \
	    "$c5 after 5 reloads, $c10 after 10" "$(rcli CLIENT LIST)"
fi
await_ready "reload: tracking ready after the reloads"
r OK SET "$(rk "$a")" "$NEW"
edited
await "$a" "$NEW" "reload: an edit after 10 reloads"

reload_with "prefix = mx2:" "cache_reread = 86400" "log_level = info"
edited
await "$a" '550 5.7.1 Under mx2' "reload to prefix = mx2:: its rule"
await_ready "reload to prefix = mx2:: tracking ready"
like "$(milter_log_new | grep 'tracking ready: ' | tail -n 1)" 'tracking ready: 1 rules' \
    "reload to prefix = mx2:: one rule read, the one under mx2:"
r OK SET "mx2:recipient:$a" '550 5.7.1 Changed under mx2'
edited
await "$a" '550 5.7.1 Changed under mx2' "reload to prefix = mx2:: an edit under mx2:"
r OK SET "mx2:recipient:new-$a" '550 5.7.1 New under mx2'
edited
await "new-$a" '550 5.7.1 New under mx2' "reload to prefix = mx2:: a new rule under mx2:"

reload_with "prefix = mx2:" "cache = off" "log_level = info"
edited
wait_for "$WAIT" no_pubsub_client
is "$(pubsub_clients)" 0 "reload to cache = off: no subscribed client"
r OK SET "mx2:recipient:$a" '550 5.7.1 Uncached'
is "$(probe "$a")" '550 5.7.1 Uncached' "reload to cache = off: an edit applies to the next decision"

reload_with "prefix = mx2:" "log_level = info"
await_ready "reload to cache = on: tracking ready"
is "$(pubsub_clients)" 1 "reload to cache = on: one subscribed client"
r OK SET "mx2:recipient:$a" '550 5.7.1 Cached again'
edited
await "$a" '550 5.7.1 Cached again' "reload to cache = on: an edit"
r OK FLUSHALL
ok "the milter (reloaded) stops cleanly" stop_milter

# --- 8. cache = off -------------------------------------------------------------

tm_start "cache = off" "log_level = info"
a=off@t.example
await "$a" "$NORULE" "cache = off: no rule"
is "$(pubsub_clients)" 0 "cache = off: no subscribed client (CLIENT LIST TYPE pubsub)"
is "$(milter_log_new | grep -cE 'tracking (ready|lost|refused)')" 0 "cache = off: no tracking line in the log"
r OK SET "$(rk "$a")" "$NEW"
is "$(probe "$a")" "$NEW" "cache = off: SET applies to the next decision"
r OK SET "$(rk "$a")" "$OLD"
is "$(probe "$a")" "$OLD" "cache = off: a changed rule applies to the next decision"
r 1 DEL "$(rk "$a")"
is "$(probe "$a")" "$NORULE" "cache = off: DEL applies to the next decision"
cmd_stats "$H_TMP/stats.before"
probe "$a" >/dev/null
cmd_stats "$H_TMP/stats.after"
like "$(cmd_moved "$H_TMP/stats.before" "$H_TMP/stats.after")" '[a-z]+\+[1-9]' \
    "cache = off: a decision asks Redis ($(cmd_moved "$H_TMP/stats.before" "$H_TMP/stats.after"))"
ok "the milter (cache = off) stops cleanly" stop_milter

done_testing
