#!/bin/bash
# cache.sh - the milter with caching on (cache_ttl), against a private
# redis-server, driven through the milter protocol (lib/milter_client.py):
#   - a decision seen again costs no Redis command at all (INFO
#     commandstats: the MGET count does not move);
#   - a rule edited behind the milter's back with redis-cli applies to
#     every transaction that starts cache_ttl (1000 ms) or more after the
#     edit (redmilter.conf(5): each of the two caches, lookups and whole
#     decisions, gets half of cache_ttl);
#   - a Redis failure is never remembered: the first transaction after
#     Redis answers again gets the rule's reply, not a remembered 451.
#
# By hand:  make all && TOP=$PWD bash tests/integration/cache.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MC=$TOP/tests/integration/lib/milter_client.py
need_program "$REDMILTER" python3
PY=$(python3 -c 'import sys; print(sys.executable)') ||
    bail_out "python3 cannot tell where it is"

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi
TTL=1000
OLD='552 5.2.2 Old rule'
NEW='550 5.7.1 New rule'
RCPT='<cached@example.com>'
ONERR='451 4.3.0 Temporary policy lookup failure'

# probe RCPT - one transaction on a new connection: the RCPT reply
probe() {
	rcpt_reply "$MILTER_SOCKET" '<probe@sender.example>' "$1"
}

# mgets - how many MGETs Redis has run since its start
mgets() {
	rcli INFO commandstats | tr -d '\r' |
	    sed -n 's/^cmdstat_mget:calls=\([0-9]*\),.*/\1/p'
}

plan 10

start_redis
[ "$(rcli SET redmilter:recipient:cached@example.com "$OLD")" = OK ] ||
    bail_out "redis-cli SET failed"
# Steady state, with a cache_ttl longer than the probes take.
start_milter "cache_ttl = 600000" "log_level = warning"
is "$(probe "$RCPT")" "$OLD" "caching on: the rule's reply"
before=$(mgets)
got=
for _ in 1 2 3 4 5; do
	got="$got$(probe "$RCPT")|"
done
is "$got" "$OLD|$OLD|$OLD|$OLD|$OLD|" "the same request five times more: the rule's reply each time"
is "$(($(mgets) - before))" 0 "and not one Redis command for them (MGETs before: $before)"
ok "the milter (cache_ttl 600000) stops cleanly" stop_milter

start_milter "cache_ttl = $TTL" "log_level = warning"
is "$(probe "$RCPT")" "$OLD" "cache_ttl $TTL: the rule's reply, now cached"

# The edit, behind the milter's back.
[ "$(rcli SET redmilter:recipient:cached@example.com "$NEW")" = OK ] ||
    bail_out "redis-cli SET failed"
t_edit=$(date +%s%N)
run "$PY" "$MC" -s "$MILTER_SOCKET" -T 10 poll --want "$NEW" --rcpt "$RCPT" \
    --max $((5 * slow)) --since "$t_edit"
ms=$(sed -n 's/^poll: ok ms=\([0-9]*\) .*/\1/p' <<<"$OUT")
# A probe every 20 ms, each a new connection of a few ms: the first one
# that starts after cache_ttl ends within it plus 300 ms.
bound=$(((TTL + 300) * slow))
if [ -n "$ms" ] && [ "$ms" -le "$bound" ]; then
	pass "an edit with redis-cli is obeyed ${ms} ms after it (cache_ttl $TTL; bound $bound ms)"
else
	fail "an edit with redis-cli is obeyed within $bound ms" "$OUT"
fi
got=
for _ in 1 2 3 4 5 6 7 8; do
	got="$got$(probe "$RCPT")|"
done
is "$got" "$NEW|$NEW|$NEW|$NEW|$NEW|$NEW|$NEW|$NEW|" "and from then on, every time"

# A failure is not remembered.
stop_redis KILL
is "$(probe '<other@example.com>')" "$ONERR" "Redis down: $ONERR for a new request"
restart_redis
[ "$(rcli SET redmilter:recipient:other@example.com "$OLD")" = OK ] ||
    bail_out "redis-cli SET failed"
is "$(probe '<other@example.com>')" "$OLD" "Redis back: the same request gets the rule's reply at once, not a remembered 451"

ok "the milter stops cleanly" stop_milter

done_testing
