#!/bin/bash
# metrics.sh - the milter's Prometheus metrics (metrics = inet:PORT@HOST):
# the real milter/redmilter and a real redis-server, private to this
# script, decisions made through the milter protocol
# (lib/milter_client.py), the text read with Prometheus's own parser
# (lib/metrics_get.py, Debian's python3-prometheus-client).
#
# What it shows: the families redmilter(8) METRICS names parse; each
# decision moves its counter by exactly one (a reject, a greylist, a
# tempfail when Redis is down, an accept without a rule) and the
# histogram's count with it; replies by code; Redis errors by kind;
# anything but GET or HEAD /metrics answers 404, 405 or 400, a head too
# big 431; clients that send nothing, 200 idle connections and garbage
# neither stop decisions nor the server (the decisions' own times, from
# the histogram, are printed, not asserted); an address that is not
# numeric is refused at start with the file, line and problem;
# contrib/grafana/redmilter.json has the structure Grafana imports, and
# queries only metrics the milter serves.
#
# By hand:
#   make && TOP=$PWD REDMILTER=$PWD/milter/redmilter bash tests/integration/metrics.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MC=$TOP/tests/integration/lib/milter_client.py
MG=$TOP/tests/integration/lib/metrics_get.py
need_program /usr/bin/python3
/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
    bail_out "python3-prometheus-client is not installed (tests/deps.sh)"
slow=1
[ -n "$TEST_PREFIX" ] && slow=5

# metrics - the samples, parsed (a parse error fails the test)
metrics() {
	timeout -k 5 $((30 * slow)) /usr/bin/python3 "$MG" "$MPORT"
}

# sample TEXT NAME{LABELS} - a sample's value, 0 when absent
sample() {
	local v
	v=$(awk -v k="$2" 'index($0, k " ") == 1 { print $2; exit }' <<<"$1")
	printf '%s' "${v:-0.0}"
}

# moved DESC NAME{LABELS} BY BEFORE AFTER - the sample grew by exactly BY
moved() {
	local b a
	b=$(sample "$4" "$2")
	a=$(sample "$5" "$2")
	is "$(awk -v a="$a" -v b="$b" 'BEGIN { print a - b }')" "$3" "$1"
}

# decide FROM RCPT - one RCPT decision through the milter protocol
decide() {
	rcpt_reply "$MILTER_SOCKET" "$1" "$2"
}

start_redis
MPORT=$(free_port) || bail_out "no free loopback port"
start_milter "metrics = inet:$MPORT@127.0.0.1"
note "redis-server pid $REDIS_PID port $REDIS_PORT, redmilter pid $MILTER_PID, metrics on 127.0.0.1:$MPORT"
# The line comes after the milter socket opens (start_milter's cue): polled.
ok "start: 'metrics on inet:PORT@127.0.0.1' logged" \
    wait_for $((5 * slow)) grep -qF "redmilter: metrics on inet:$MPORT@127.0.0.1" "$MILTER_LOG"

m0=$(metrics)
ok "the text parses (Prometheus's parser)" test $? -eq 0
for f in "decisions counter" "replies counter" \
    "decision_seconds histogram" "redis_commands counter" \
    "redis_errors counter" "cache_hits counter" "cache_misses counter" \
    "tracking_up gauge" "sessions gauge" "limit_refusals counter" \
    "greylist counter" "build_info gauge"; do
	ok "family redmilter_${f% *} (${f#* }) is there" \
	    grep -qx "family redmilter_$f" <<<"$m0"
done
is "$(sample "$m0" 'redmilter_build_info{version="0.1.0"}')" 1.0 \
    "redmilter_build_info{version} is 1"
printf '%s\n' "$m0" >"$H_TMP/samples"
run /usr/bin/python3 "$TOP/tests/integration/lib/grafana_check.py" \
    "$TOP/contrib/grafana/redmilter.json" "$H_TMP/samples"
is "$RC $OUT" "0 ok 8 panels" \
    "contrib/grafana/redmilter.json: a dashboard Grafana imports, over metrics the milter serves"
ok "no label value holds an address or a key" \
    bash -c '! grep -E "@|example" <<<"$1"' _ "$m0"

rcli SET redmilter:recipient:bad@example.com "REJECT 5.7.1 No thanks" >/dev/null
rcli SET redmilter:recipient:grey@example.com "GREYLIST 1h" >/dev/null
for ((i = 0; i < 50 * slow; i++)); do
	[ "$(decide '<a@b.example>' '<bad@example.com>')" = "550 5.7.1 No thanks" ] &&
	    break
	sleep 0.1
done
[ "$i" -lt $((50 * slow)) ] || bail_out "the milter never obeyed the rule"

m1=$(metrics)
is "$(decide '<a@b.example>' '<bad@example.com>')" "550 5.7.1 No thanks" "a reject"
m2=$(metrics)
moved "a reject: decisions_total{action=reject,stage=rcpt,table=recipient} +1" \
    'redmilter_decisions_total{action="reject",stage="rcpt",table="recipient"}' 1 "$m1" "$m2"
moved "a reject: replies_total{code=550} +1" \
    'redmilter_replies_total{code="550"}' 1 "$m1" "$m2"
moved "a reject: the histogram's count +1" \
    'redmilter_decision_seconds_count{}' 1 "$m1" "$m2"
moved "a reject: the +Inf bucket +1" \
    'redmilter_decision_seconds_bucket{le="+Inf"}' 1 "$m1" "$m2"

is "$(decide '<a@b.example>' '<nobody@example.com>')" continue "no rule"
m3=$(metrics)
moved "no rule: decisions_total{action=accept,stage=rcpt,table=none} +1" \
    'redmilter_decisions_total{action="accept",stage="rcpt",table="none"}' 1 "$m2" "$m3"
moved "no rule: no reply counted" 'redmilter_replies_total{code="550"}' 0 "$m2" "$m3"

is "$(decide '<a@b.example>' '<grey@example.com>')" \
    "451 4.7.1 Greylisted, please try again in 3600 seconds" "a greylist"
m4=$(metrics)
moved "a greylist: decisions_total{action=greylist,...,table=recipient} +1" \
    'redmilter_decisions_total{action="greylist",stage="rcpt",table="recipient"}' 1 "$m3" "$m4"
moved "a greylist: greylist_total{result=new} +1" \
    'redmilter_greylist_total{result="new"}' 1 "$m3" "$m4"
moved "a greylist: replies_total{code=451} +1" \
    'redmilter_replies_total{code="451"}' 1 "$m3" "$m4"
got=$(decide '<a@b.example>' '<grey@example.com>')
n=$(sed -nE 's/^451 4\.7\.1 Greylisted, please try again in ([0-9]+) seconds$/\1/p' <<<"$got")
ok "a greylist again: the seconds left of the hour ($got)" \
    test -n "$n" -a "${n:-0}" -le 3600 -a "${n:-0}" -ge $((3600 - 10 * slow))
m5=$(metrics)
moved "an early retry: greylist_total{result=wait} +1" \
    'redmilter_greylist_total{result="wait"}' 1 "$m4" "$m5"
c=$(sample "$m5" 'redmilter_redis_commands_total{}')
ok "redis_commands_total counts the greylisting scripts ($c)" \
    awk -v c="$c" 'BEGIN { exit !(c >= 2) }'

# Sessions: one held open.
spawn python3 "$MC" -s "$MILTER_SOCKET" -T $((20 * slow)) run +optneg \
    +connect h.example 4 40000 192.0.2.1 +sleep $((3 * slow)) +quit
hold=$SPAWN_PID
wait_for $((5 * slow)) bash -c '/usr/bin/python3 "$1" "$2" | grep -q "^redmilter_sessions{} 1.0$"' _ "$MG" "$MPORT"
ok "a session open: redmilter_sessions 1" test $? -eq 0
wait "$hold"
unregister_pid "$hold"

# --- HTTP ---------------------------------------------------------------------

is "$(/usr/bin/python3 "$MG" "$MPORT" /nothing | head -n 1)" "status 404" "GET /nothing: 404"
is "$(/usr/bin/python3 "$MG" raw "$MPORT" 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')" \
    "HTTP/1.1 405 Method Not Allowed" "POST /metrics: 405"
is "$(/usr/bin/python3 "$MG" raw "$MPORT" 'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n')" \
    "HTTP/1.1 200 OK" "HEAD /metrics: 200"
is "$(/usr/bin/python3 "$MG" raw "$MPORT" 'garbage\r\n\r\n')" \
    "HTTP/1.1 400 Bad Request" "garbage: 400"
big=$(printf 'X-Pad: %09000d\\r\\n' 0)
is "$(/usr/bin/python3 "$MG" raw "$MPORT" "GET /metrics HTTP/1.1\\r\\n$big\\r\\n")" \
    "HTTP/1.1 431 Request Header Fields Too Large" "a 9,000-byte head: 431"

# 200 idle connections (the server takes 16 at a time and drops those
# that send nothing after 5 s: the rest wait in the backlog, so the
# metrics wait too, but no decision does), and decisions meanwhile.
m6=$(metrics)
spawn /usr/bin/python3 -c '
import select, socket, sys, time
socks = []
for i in range(200):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", int(sys.argv[1])))
    socks.append(s)
_, w, _ = select.select([], socks, [], 2.0)
print("%d of 200 connected at once" % len(w), flush=True)
time.sleep(float(sys.argv[2]))
' "$MPORT" $((8 * slow)) >"$H_TMP/idle.out"
idle=$SPAWN_PID
wait_for $((10 * slow)) test -s "$H_TMP/idle.out"
note "idle connections open: $(cat "$H_TMP/idle.out")"
n_ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(decide '<a@b.example>' '<bad@example.com>')" = "550 5.7.1 No thanks" ] &&
	    n_ok=$((n_ok + 1))
done
is "$n_ok" 10 "200 idle HTTP connections: ten decisions answered meanwhile"
wait "$idle"
unregister_pid "$idle"
m7=$(metrics)
ok "200 idle HTTP connections gone: /metrics served again" test -n "$m7"
moved "the ten decisions counted" \
    'redmilter_decisions_total{action="reject",stage="rcpt",table="recipient"}' 10 "$m6" "$m7"
us=$(awk -v s6="$(sample "$m6" 'redmilter_decision_seconds_sum{}')" \
    -v s7="$(sample "$m7" 'redmilter_decision_seconds_sum{}')" \
    'BEGIN { printf "%d", (s7 - s6) / 10 * 1e6 }')
note "the ten decisions' own time: $us us each on average (the milter's histogram)"

# --- Redis down ---------------------------------------------------------------

stop_redis
is "$(decide '<a@b.example>' '<grey@example.com>')" \
    "451 4.3.0 Temporary policy lookup failure" "Redis down: the GREYLIST rule's script fails: 451 4.3.0"
m8=$(metrics)
moved "Redis down: redis_errors_total{kind=lookup} +1" \
    'redmilter_redis_errors_total{kind="lookup"}' 1 "$m7" "$m8"
moved "Redis down: decisions_total{action=tempfail,stage=rcpt,table=none} +1" \
    'redmilter_decisions_total{action="tempfail",stage="rcpt",table="none"}' 1 "$m7" "$m8"
restart_redis

restart_milter "metrics = inet6:$MPORT"
ok "inet6:PORT: 'metrics on inet6:PORT' logged" \
    wait_for $((5 * slow)) grep -qxF "redmilter: metrics on inet6:$MPORT" "$MILTER_LOG"
got=$(MG_HOST=::1 /usr/bin/python3 "$MG" "$MPORT" | tail -n 1)
is "$got" "families 12" "inet6:PORT alone: served on ::1, twelve families"
ok "inet6:PORT alone: nothing on 127.0.0.1" \
    bash -c '! /usr/bin/python3 "$1" "$2" 2>/dev/null' _ "$MG" "$MPORT"
ok "the milter stops cleanly" stop_milter
ok "the metrics port is closed after the stop" \
    bash -c '! MG_HOST=::1 /usr/bin/python3 "$1" "$2" 2>/dev/null' _ "$MG" "$MPORT"

# --- the configuration ----------------------------------------------------------

printf 'metrics = inet:%s@localhost\n' "$MPORT" >"$H_TMP/bad.conf"
run_prog "$REDMILTER" -n -c "$H_TMP/bad.conf"
is "$RC $ERR" "78 redmilter: $H_TMP/bad.conf:1: metrics: \"localhost\" is not a numeric IPv4 address (no name is looked up)" \
    "a name as the address: refused with the file, line and problem"

done_testing
