#!/bin/bash
# hits.sh - the milter's rule hit counters (redmilter(8), HIT COUNTERS):
# the real milter/redmilter and a real redis-server, private to this
# script, decisions made through the milter protocol
# (lib/milter_client.py).
#
# What it shows: each rule a decision met (the deciding rule, WARN, a limit
# rule a recipient was checked against) is counted exactly, in
# <prefix>_hits, within 2 s (x5 under TEST_PREFIX); the last hit's time is
# Redis's clock; a rule no decision met is not there; hit_counters = no
# counts nothing; a batch Redis refuses is lost and logged once, decisions
# answered as before, and the next batch that is written says so; the hits
# of the last second before a stop are written at the stop.
#
# By hand:
#   make && TOP=$PWD bash tests/integration/hits.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

need_program "$REDMILTER" python3
slow=1
[ -n "$TEST_PREFIX" ] && slow=5
H=redmilter:_hits

# decide FROM RCPT - one RCPT decision through the milter protocol
decide() {
	rcpt_reply "$MILTER_SOCKET" "$1" "$2"
}

# hits RULE - the count of RULE (TABLE:KEY), empty when none
hits() {
	rcli HGET "$H" "n:$1"
}

# hits_are RULE N - RULE's count is N
hits_are() {
	[ "$(hits "$1")" = "$2" ]
}

# now - Redis's clock, in seconds
now() {
	rcli TIME | head -n 1
}

start_redis
rcli SET redmilter:recipient:blocked@example.com "REJECT Blocked" >/dev/null
rcli SET redmilter:recipient:ok@example.com "OK" >/dev/null
rcli SET redmilter:recipient:never@example.com "REJECT Never asked" >/dev/null
rcli SET redmilter:sender:watch@example.com "WARN watched" >/dev/null
rcli SET "redmilter:limit:client:*" "1000 msgs/1h" >/dev/null
start_milter

# --- counted, exactly --------------------------------------------------------
t0=$(now)
for i in 1 2 3; do
	is "$(decide a@example.net blocked@example.com)" "550 5.7.1 Blocked" \
	    "REJECT rule, decision $i: the rule's reply"
done
is "$(decide a@example.net ok@example.com)" "continue" "OK rule: accepted"
is "$(decide watch@example.com other@example.com)" "continue" \
    "WARN rule: accepted"
ok "the REJECT rule's 3 hits are in $H within $((2 * slow)) s" \
    wait_for $((2 * slow)) hits_are recipient:blocked@example.com 3 ||
    diag "hits: $(rcli HGETALL "$H" | tr '\n' ' ')"
t1=$(now)
ok "the OK rule's hit too" wait_for $((2 * slow)) hits_are recipient:ok@example.com 1
ok "the WARN rule's" wait_for $((2 * slow)) hits_are sender:watch@example.com 1
ok "the limit rule's, once per recipient checked against it (ok@, other@)" \
    wait_for $((2 * slow)) hits_are 'limit:client:*' 2
is "$(hits recipient:never@example.com)" "" "a rule no decision met is not there"
last=$(rcli HGET "$H" t:recipient:blocked@example.com)
ok "its last hit is Redis's time of the batch ($t0 <= $last <= $t1)" \
    test "$t0" -le "$last" -a "$last" -le "$t1"
is "$(rcli HLEN "$H")" 8 "two fields for each of the 4 rules met, no more"
is "$(rcli TYPE "$H")" hash "$H is one hash"

# --- the last batch at a stop ------------------------------------------------
is "$(decide a@example.net blocked@example.com)" "550 5.7.1 Blocked" \
    "a decision just before SIGTERM"
ok "the milter stops cleanly" stop_milter
is "$(hits recipient:blocked@example.com)" 4 "its hit was written at the stop"

# --- hit_counters = no --------------------------------------------------------
start_milter "hit_counters = no"
is "$(decide a@example.net blocked@example.com)" "550 5.7.1 Blocked" \
    "hit_counters = no: the rule still decides"
sleep $((2 * slow))
ok "hit_counters = no: the milter stops cleanly" stop_milter
is "$(hits recipient:blocked@example.com)" 4 "hit_counters = no: nothing counted"

# --- a batch Redis refuses ----------------------------------------------------
start_milter
is "$(rcli ACL SETUSER default -evalsha -eval)" OK "scripts refused by an ACL"
is "$(decide a@example.net blocked@example.com)" "550 5.7.1 Blocked" \
    "scripts refused: the decision is answered as before"
ok "the batch's loss is logged" \
    wait_for $((3 * slow)) m_log_has "hit counters: the hits of 1 rules are lost: "
is "$(decide a@example.net blocked@example.com)" "550 5.7.1 Blocked" \
    "scripts refused: a second decision"
sleep $((2 * slow))
is "$(milter_log_new | grep -c 'hit counters: the hits')" 1 \
    "logged once, not once a batch"
is "$(rcli ACL SETUSER default +evalsha +eval)" OK "scripts allowed again"
is "$(decide a@example.net blocked@example.com)" "550 5.7.1 Blocked" \
    "scripts allowed: a decision"
ok "the next batch written is logged" \
    wait_for $((3 * slow)) m_log_has "hit counters: written again"
ok "and counted: 4 before, the 2 refused lost, 1 after" \
    wait_for $((2 * slow)) hits_are recipient:blocked@example.com 5
ok "the milter stops cleanly" stop_milter

done_testing
