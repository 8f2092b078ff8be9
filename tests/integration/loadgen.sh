#!/bin/bash
# loadgen.sh - the benchmark's load generator (tests/bench/loadgen) checked
# against the real thing: redmilter on a private redis-server with
# loadgen's own rule set, a few seconds at concurrency 4, hits and misses,
# every reply as the rules say.  Also: the checker is not vacuous (a wrong
# expectation fails the run), --allow-reply admits the tempfail of a Redis
# that went away, and a target off loopback is refused.
# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

loadgen=$TOP/${BUILDDIR:-build/cc-std}/tests/bench/loadgen
need_program "$loadgen" "$REDMILTER" "$REDMILTERCTL"

# kv KEY TEXT - the value of KEY in loadgen's "loadgen: k=v ..." line
kv() {
	sed -n 's/^loadgen: .* \?'"$1"'=\([^ ]*\).*/\1/p' <<<"$2" | tail -n 1
}

plan 14

start_redis
rules=$H_TMP/rules.txt
run "$loadgen" --write-rules "$rules" --rules 2000
is "$RC" 0 "loadgen --write-rules writes a rule set"
expect_exit 0 "redmilterctl imports loadgen's 2000 rules" -- \
    "$REDMILTERCTL" -r "$REDIS_URL" import "$rules"

# The milter (lib/milter.sh's start_milter): the default socket mode 0660,
# a fixed redis_timeout, warnings only (no line per decision under load);
# its cache_ttl = 0 is the default too.
start_milter "socket_mode = 0660" "redis_timeout = 500" "log_level = warning"

common=(-s "$MILTER_SOCKET" -c 4 --rules 2000 --recipients 500 --senders 50)

run "$loadgen" "${common[@]}" -n 1000000 -k 3 -d 3
note "$(grep -E '^[0-9.]+ s:' <<<"$OUT")"
is "$RC" 0 "3 s at concurrency 4, 3 recipients: every reply as expected"
is "$(kv wrong "$OUT")" 0 "no wrong reply"
like "$(kv decisions "$OUT")" '^[1-9][0-9]*$' "some recipient decisions were made"
n=$(grep -cE '^rcpt +[0-9]+  ([45][0-9][0-9] |continue)' <<<"$OUT")
if [ "$n" -ge 8 ]; then
	pass "hits and misses: $n distinct RCPT replies"
else
	fail "hits and misses: $n distinct RCPT replies, want 8 or more" "$OUT"
fi

run "$loadgen" "${common[@]}" -n 100 --new-conn -d 3
is "$RC" 0 "a new connection per transaction: every reply as expected"
is "$(kv conns "$OUT")" "$(kv txns "$OUT")" "one connection per transaction"

run "$loadgen" "${common[@]}" -n 200 --expect continue
is "$RC" 1 "expecting 'continue' from redmilter fails the run"
like "$(kv wrong "$OUT")" '^[1-9][0-9]*$' "and counts the wrong replies"

stop_redis
run "$loadgen" "${common[@]}" -n 50 --allow-reply "451 4.3.0"
is "$RC" 0 "Redis gone: 451 4.3.0 admitted by --allow-reply"
like "$(kv allowed "$OUT")" '^[1-9][0-9]*$' "and counted as allowed"

run "$loadgen" -s inet:8891@192.0.2.1 -n 1
is "$RC" 2 "a target off loopback is refused" || diag "$ERR"
stop_milter # how it stops is not one of this script's tests
like "$ERR" 'refusing' "with a message saying so"

done_testing
