#!/bin/bash
# tests/integration/hits_ctl.sh - redmilterctl get, list --hits, top and
# stale against a private redis-server, the hits seeded in
# <prefix>_hits with redis-cli as the milter writes them.
#
# get: the hits line of a rule hit and of one never hit; list --hits:
# exact lines, a table, --hits before or after it, list without --hits
# unchanged, 1,206 rules read in 3 HMGETs; top: the order (count, then
# name), N, rules with no hits and hits of a deleted rule left out;
# stale: a hit 3 days ago, 1 day ago, a few seconds ago and never, the
# boundary, 0; -p; errors: bad arguments, Redis down.
#
# Environment: TOP, REDMILTERCTL, TEST_PREFIX (see lib/harness.sh).  A
# missing redis-server or redmilterctl is a failure, never a skip.

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/integration/lib/redis.sh
. "$TOP/tests/integration/lib/redis.sh"
# shellcheck source=tests/integration/lib/ctl.sh
. "$TOP/tests/integration/lib/ctl.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
CTL=$REDMILTERCTL
need_program "$CTL" redis-cli date sed
LC_ALL=C
export LC_ALL

start_redis
CONN=(-r "$REDIS_URL")
H=redmilter:_hits
TAB=$'\t'

# --- helpers ------------------------------------------------------------------

# iso SECONDS - a Unix time as redmilterctl prints a last hit
iso() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

# hit RULE COUNT TIME - the milter's two fields of a rule in KEY (default $H)
hit() {
	rcli HSET "${4:-$H}" "n:$1" "$2" "t:$1" "$3" >/dev/null
}

# add ARGS... - redmilterctl add, which must succeed
add() {
	run_prog "$CTL" "${CONN[@]}" add "$@"
	[ "$RC" -eq 0 ] || bail_out "add $*: exit $RC: $ERR"
}

# --- the rules and their hits -------------------------------------------------

add recipient bob@example.com 552 5.2.2 Mailbox full
add recipient alice@example.com OK
add sender spammer.example REJECT Go away
add client 192.0.2.0/24 DEFER
add limit 'auth:*' 100 msgs/1h
NOW=$(rcli --raw TIME | head -n 1)
T3=$((NOW - 3 * 86400))
T1=$((NOW - 86400))
T0=$((NOW - 10))
hit recipient:bob@example.com 12 "$T1"
hit sender:spammer.example 40 "$T3"
hit client:192.0.2.0/24 12 "$T0"
hit 'limit:auth:*' 3 "$T1"
# A rule deleted since it was hit: its fields stay, no command shows them.
hit recipient:gone@example.com 99 "$NOW"

ALICE="recipient alice@example.com OK"
BOB="recipient bob@example.com 552 5.2.2 Mailbox full"
SPAM="sender spammer.example REJECT Go away"
CLIENT="client 192.0.2.0/24 DEFER"
LIMIT="limit auth:* 100 msgs/1h"

# --- get ----------------------------------------------------------------------

tctl "get: the hits and the last hit of a rule hit" 0 \
    "552 5.2.2 Mailbox full
ttl none
hits 12 last $(iso "$T1")" "" get recipient bob@example.com
tctl "get: a rule never hit" 0 "OK
ttl none
hits 0 last never" "" get recipient alice@example.com
tctl "get: a limit rule" 0 "100 msgs/1h
ttl none
hits 3 last $(iso "$T1")" "" get limit 'auth:*'
tctl "get: the key folded as the milter names the rule" 0 \
    "552 5.2.2 Mailbox full
ttl none
hits 12 last $(iso "$T1")" "" get recipient Bob@Example.COM
tctl "get: absent, no hits line" 1 "" \
    "redmilterctl: no rule recipient gone@example.com" \
    get recipient gone@example.com

# --- list --hits --------------------------------------------------------------

LIST="$ALICE${TAB}hits=0 last=never
$BOB${TAB}hits=12 last=$(iso "$T1")
$SPAM${TAB}hits=40 last=$(iso "$T3")
$CLIENT${TAB}hits=12 last=$(iso "$T0")
$LIMIT${TAB}hits=3 last=$(iso "$T1")"
tctl "list --hits: every rule, a tab, its hits and last hit" 0 "$LIST" "" \
    list --hits
tctl "list recipient --hits: one table" 0 "$(head -n 2 <<<"$LIST")" "" \
    list recipient --hits
tctl "list --hits recipient: the flag first" 0 "$(head -n 2 <<<"$LIST")" "" \
    list --hits recipient
tctl "list: without --hits, no hits" 0 \
    "$ALICE"$'\n'"$BOB"$'\n'"$SPAM"$'\n'"$CLIENT"$'\n'"$LIMIT" "" list
tctl "list --hits helo: a table without rules" 0 "" "" list --hits helo

# --- top ----------------------------------------------------------------------

TOPL="40 $(iso "$T3") sender:spammer.example REJECT Go away
12 $(iso "$T0") client:192.0.2.0/24 DEFER
12 $(iso "$T1") recipient:bob@example.com 552 5.2.2 Mailbox full
3 $(iso "$T1") limit:auth:* 100 msgs/1h"
tctl "top: by count, then name; no 0 hits, no deleted rule" 0 "$TOPL" "" top
tctl "top 2" 0 "$(head -n 2 <<<"$TOPL")" "" top 2
tctl "top 1" 0 "$(head -n 1 <<<"$TOPL")" "" top 1
tctl "top 1000000: all there are" 0 "$TOPL" "" top 1000000

# --- stale --------------------------------------------------------------------

NEVER="never recipient:alice@example.com OK"
tctl "stale 2: never hit, and hit 3 days ago" 0 \
    "$NEVER
$(iso "$T3") sender:spammer.example REJECT Go away" "" stale 2
tctl "stale 4: never hit alone" 0 "$NEVER" "" stale 4
tctl "stale 1: a hit 1 day ago is 1 day old; oldest first, then name" 0 \
    "$NEVER
$(iso "$T3") sender:spammer.example REJECT Go away
$(iso "$T1") limit:auth:* 100 msgs/1h
$(iso "$T1") recipient:bob@example.com 552 5.2.2 Mailbox full" "" stale 1
tctl "stale 0: every rule" 0 \
    "$NEVER
$(iso "$T3") sender:spammer.example REJECT Go away
$(iso "$T1") limit:auth:* 100 msgs/1h
$(iso "$T1") recipient:bob@example.com 552 5.2.2 Mailbox full
$(iso "$T0") client:192.0.2.0/24 DEFER" "" stale 0
tctl "stale 36500" 0 "$NEVER" "" stale 36500

# --- -p -----------------------------------------------------------------------

CONN=(-r "$REDIS_URL" -p other:)
add recipient bob@example.com OK
hit recipient:bob@example.com 5 "$T3" other:_hits
tctl "-p other: get, that prefix's hits" 0 "OK
ttl none
hits 5 last $(iso "$T3")" "" get recipient bob@example.com
tctl "-p other: top" 0 "5 $(iso "$T3") recipient:bob@example.com OK" "" top
tctl "-p other: stale 2" 0 "$(iso "$T3") recipient:bob@example.com OK" "" \
    stale 2
CONN=(-r "$REDIS_URL")

# --- many rules: one hits_read() in batches of 500 ----------------------------

for i in $(seq 1000 2200); do
	echo "recipient u$i@example.com OK"
done >"$H_TMP/many.rules"
tctl "import 1,201 rules" 0 "imported 1201 rules, removed 0" "" \
    import "$H_TMP/many.rules"
hit recipient:u1999@example.com 7 "$T0"
hit recipient:u2200@example.com 1 "$T0"
rcli CONFIG RESETSTAT >/dev/null
run_prog "$CTL" "${CONN[@]}" list --hits
is "$RC $(wc -l <"$OUT_FILE")" "0 1206" "list --hits: 1,206 rules"
is "$(grep -c "${TAB}hits=0 last=never$" "$OUT_FILE")" 1200 \
    "list --hits: 1,200 never hit"
is "$(grep -F -e u1999@ -e u2200@ "$OUT_FILE")" \
    "recipient u1999@example.com OK${TAB}hits=7 last=$(iso "$T0")
recipient u2200@example.com OK${TAB}hits=1 last=$(iso "$T0")" \
    "list --hits: hits past the first and second batch"
is "$(rcli INFO commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_hmget:calls=\([0-9]*\),.*/\1/p')" 3 \
    "list --hits: 1,206 rules read in 3 HMGETs"
tctl "top 6: past the batches" 0 "$(head -n 3 <<<"$TOPL")
7 $(iso "$T0") recipient:u1999@example.com OK
$(tail -n 1 <<<"$TOPL")
1 $(iso "$T0") recipient:u2200@example.com OK" "" top 6
run_prog "$CTL" "${CONN[@]}" stale 1
is "$RC $(wc -l <"$OUT_FILE") $(grep -c '^never ' "$OUT_FILE")" \
    "0 1203 1200" "stale 1: the 1,200 never hit and 3 old ones"
rcli DEL "$H" >/dev/null
tctl "top: no hits at all, no lines" 0 "" "" top

# --- bad arguments --------------------------------------------------------------

keys=$(rcli DBSIZE)
NTOP="redmilterctl: top: N must be a whole number from 1 to 1000000"
for n in 0 -1 +3 ' 3' 3x 1.5 '' 1000001 99999999999999999999; do
	tctl "top '$n': exit 1" 1 "" "$NTOP, not '$n'" top "$n"
done
tctl "top 1 2: exit 1" 1 "" "redmilterctl: usage: top [N]" top 1 2
NDAYS="redmilterctl: stale: DAYS must be a whole number from 0 to 36500"
for n in -1 +1 ' 1' abc 1.5 '' 36501 2d; do
	tctl "stale '$n': exit 1" 1 "" "$NDAYS, not '$n'" stale "$n"
done
tctl "stale alone: exit 1" 1 "" "redmilterctl: usage: stale DAYS" stale
tctl "stale 1 2: exit 1" 1 "" "redmilterctl: usage: stale DAYS" stale 1 2
tctl "list --hits bogus: exit 1" 1 "" "redmilterctl: unknown table 'bogus'" \
    list --hits bogus
tctl "export --hits: no such option, exit 1" 1 "" \
    "redmilterctl: unknown table '--hits'" export --hits
is "$(rcli DBSIZE)" "$keys" "bad arguments write nothing"

# --- Redis down -----------------------------------------------------------------

SOCK=$REDIS_SOCK
stop_redis
for url in "$REDIS_URL" "unix:$SOCK"; do
	CONN=(-r "$url")
	for cmd in "get recipient bob@example.com" "list --hits" "top" "top 3" \
	    "stale 2"; do
		# shellcheck disable=SC2086
		run_prog "$CTL" "${CONN[@]}" $cmd
		is "$RC" 2 "$cmd: Redis down ($url), exit 2"
		like "$ERR" '^redmilterctl: [^'$'\n'']*(refused|No such file)[^'$'\n'']*$' \
		    "$cmd: Redis down ($url), one line naming the error"
		is "$OUT" "" "$cmd: Redis down ($url), nothing on stdout"
	done
	tctl "stale x: Redis down ($url), still exit 1" 1 "" "$NDAYS, not 'x'" \
	    stale x
done

done_testing
