#!/bin/bash
# greylist.sh - GREYLIST rules end to end: SMTP clients with their own
# source addresses (and SASL logins), a real Postfix, the real
# milter/redmilter and a real redis-server, all private to this script and
# on loopback only; milter-protocol sessions (lib/milter_client.py) for
# client addresses no loopback socket can have (IPv6 networks, 192.0.2.x).
#
# What it shows, by SMTP and milter replies compared exactly, the milter's
# log, Postfix's log and Redis's state:
#   - the first attempt (451 4.7.1 with the delay in seconds), an early
#     retry (the seconds left), the retry after the delay accepted, with
#     X-Greylist in the message as Postfix queued it (milter_header_checks
#     logs each header a milter adds) and not in a later message;
#   - the walk going on after a pass (a lower REJECT of the same table
#     still applies), a higher OK skipping the greylist, SASL sessions
#     never greylisted, the triplet's sender and recipient lower-cased
#     without extension;
#   - IPv4 /24 and IPv6 /64 grouping, greylist_netmask, the network
#     whitelisted after 5 passed triplets (not after 4);
#   - two milters on one Redis (a first attempt on one, the pass on the
#     other), concurrent first attempts starting one delay;
#   - delay_checks = no (a client GREYLIST still decided at RCPT), mode =
#     test, greylist_header = no (header addition not even asked for),
#     Redis down (on_error both ways), hostile values written with
#     redis-cli, redmilterctl check (what would happen, nothing written),
#     and the state's expiries.
#
# Each test has a client network (127.N.0.0/24), a sender and recipients
# of its own, so that one test's triplets never count for another.  The
# delay is a few seconds (more under valgrind); the tests that need it
# make their first attempts, then sleep once, then retry together.
# Seconds announced are checked against the client's own clock around
# each attempt, in the direction that holds however slow a decision is.
#
# Needs root (a Postfix instance).  By hand:
#   make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#       REDMILTERCTL=$PWD/policy/redmilterctl bash tests/integration/greylist.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP a private Postfix instance needs root (postfix start)"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"
# shellcheck source-path=SCRIPTDIR source=lib/postfix.sh
. "$(dirname "$0")/lib/postfix.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
MC=$TOP/tests/integration/lib/milter_client.py
need_program "$REDMILTERCTL" python3

slow=1
D=4
if [ -n "$TEST_PREFIX" ]; then
	slow=5
	D=12
fi
RATE='450 4.7.1 Rate limit exceeded, try again later'
MANY='452 4.5.3 Too many recipients'
LOOKUP_ERR='451 4.3.0 Temporary policy lookup failure'
CONF_ERR='451 4.3.5 Server configuration error'
OK='250 2.1.5 Ok'

# shellcheck source-path=SCRIPTDIR source=lib/mta_session.sh
. "$(dirname "$0")/lib/mta_session.sh"

# grey N - the first attempt's reply for a delay of N seconds
grey() {
	printf '451 4.7.1 Greylisted, please try again in %s seconds' "$1"
}

# now_ms - the client's clock
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# attempt NAME SOURCE FROM RCPT [-a USER:PASS] - one session, one
# recipient; its RCPT reply in R_NAME, the times around it in T0_NAME and
# T1_NAME (ms), the queue id (if queued) in Q_NAME
attempt() {
	local name=$1 src=$2 from=$3 rcpt=$4 t0 t1 r
	shift 4
	t0=$(now_ms)
	send -S "$src" "$@" -f "$from" -t "$rcpt"
	t1=$(now_ms)
	r=$(reply_of "RCPT TO:<$rcpt>" | tail -n 1)
	printf -v "R_$name" '%s' "$r"
	printf -v "T0_$name" '%s' "$t0"
	printf -v "T1_$name" '%s' "$t1"
	printf -v "Q_$name" '%s' "$(queue_id_of_session)"
}

# r NAME - the RCPT reply of attempt NAME
r() {
	local v="R_$1"
	printf '%s' "${!v}"
}

# ms_of NAME 0|1 - a time of attempt NAME
ms_of() {
	local v="T$2_$1"
	printf '%s' "${!v}"
}

# left_is DESC FIRST RETRY - the retry's reply says the seconds left of
# the delay since FIRST, as the clocks around the two attempts bound them
left_is() {
	local desc=$1 first=$2 retry=$3 got n lo hi
	got=$(r "$retry")
	n=$(sed -nE 's/^451 4\.7\.1 Greylisted, please try again in ([0-9]+) seconds$/\1/p' <<<"$got")
	# At most: the delay less the least time that can have passed; at
	# least: the delay less the most (and never below 1).
	hi=$(((D * 1000 - ($(ms_of "$retry" 0) - $(ms_of "$first" 1)) + 999) / 1000))
	lo=$(((D * 1000 - ($(ms_of "$retry" 1) - $(ms_of "$first" 0)) + 999) / 1000))
	[ "$lo" -lt 1 ] && lo=1
	if [ -n "$n" ] && [ "$n" -ge "$lo" ] && [ "$n" -le "$hi" ] &&
	    [ "$n" -lt "$D" ]; then
		pass "$desc ($got)"
	else
		fail "$desc" "got '$got', want $(grey "N") with N in $lo..$hi, below $D"
	fi
}

# header_of QID - the X-Greylist value Postfix's cleanup saw a milter add
# to message QID (milter_header_checks WARN logs it as a
# "milter-header-warning"), or nothing
header_of() {
	sed -nE "s/.*: $1: milter-header-warning: header X-Greylist: (.*) from [^;]*;.*/\\1/p" \
	    "$PF_LOG" | head -n 1
}

# after_delay FIRST... - sleep until the delay has passed since the end of
# each first attempt named, and a little more
after_delay() {
	local n latest=0 wait
	for n in "$@"; do
		[ "$(ms_of "$n" 1)" -gt "$latest" ] && latest=$(ms_of "$n" 1)
	done
	wait=$((latest + D * 1000 + 300 - $(now_ms)))
	if [ "$wait" -gt 0 ]; then
		sleep "$((wait / 1000)).$(printf '%03d' $((wait % 1000)))"
	fi
}

# mrun SOCKET ADDR FAMILY FROM RCPT STEP... - a milter-protocol session from
# client ADDR: "rcpt: REPLY" and the lines of the steps after it
mrun() {
	local sock=$1 addr=$2 fam=$3 from=$4 rcpt=$5
	shift 5
	python3 "$MC" -s "$sock" -T $((10 * slow)) run +optneg \
	    +connect client.test.example "$fam" 40000 "$addr" \
	    +helo client.test.example +mail "<$from>" +rcpt "<$rcpt>" "$@" \
	    +quit | grep -E '^(rcpt|eom): '
}

# --- start ------------------------------------------------------------------

start_redis
start_milter
pf_sasl_user sasl secret
echo '/^X-Greylist:/ WARN' >"$H_TMP/milter_header_checks"
start_postfix
postfix_set "milter_header_checks = regexp:$H_TMP/milter_header_checks" ||
    bail_out "milter_header_checks could not be set"
note "redis-server pid $REDIS_PID port $REDIS_PORT, redmilter pid $MILTER_PID on $MILTER_SOCKET"
note "Postfix $PF_NAME (master pid $PF_MASTER_PID) on 127.0.0.1:$PF_PORT; delay $D s"
P=redmilter:

# --- the action, as redmilterctl and the milter read it ----------------------

run_prog "$REDMILTERCTL" -r "$REDIS_URL" add recipient x@example.com GREYLIST 300
is "$RC $ERR" "1 redmilterctl: recipient x@example.com: GREYLIST: delay \"300\" has no unit; write 300s or 300m" \
    "add: GREYLIST 300 refused (seconds or minutes?)"
run_prog "$REDMILTERCTL" -r "$REDIS_URL" add auth bob GREYLIST
is "$RC $ERR" "1 redmilterctl: auth bob: GREYLIST is not for the auth table: a session with a login is never greylisted" \
    "add: GREYLIST in the auth table refused"
run_prog "$REDMILTERCTL" -r "$REDIS_URL" add recipient x@example.com GREYLIST 2d
is "$RC $ERR" "1 redmilterctl: recipient x@example.com: GREYLIST: period of \"2d\" is longer than 1d" \
    "add: a delay over 1d refused"

# --- first attempts -----------------------------------------------------------

ctl add recipient g1@example.com GREYLIST "${D}s"
ctl add recipient g2@example.com GREYLIST "${D}s" Come back later
ctl add recipient lower@example.com GREYLIST "${D}s"
ctl add recipient example.net REJECT 5.7.1 Refused after the greylist
ctl add recipient g3@example.net GREYLIST "${D}s"
ctl add recipient ok@example.com GREYLIST "${D}s"
ctl add client 127.3.0.0/24 GREYLIST "${D}s"
ctl add recipient postmaster@example.com OK
ctl add recipient wl.example GREYLIST "${D}s"
ctl add sender grey-sender.example GREYLIST "${D}s"
ctl add recipient v6@example.com GREYLIST "${D}s"
ctl add recipient v4@example.com GREYLIST "${D}s"
sync_rules
milter_mark

attempt a1 127.1.0.1 Alice+tag@A.Example g1@example.com
is "$(r a1)" "$(grey "$D")" "first attempt: 451 4.7.1 with the delay in seconds"
logged "NOQUEUE: RCPT: greylist from=<Alice\+tag@A\.Example> to=<g1@example\.com> client=[^ ]*\[127\.1\.0\.1\] rule=recipient:g1@example\.com: 451 4\.7\.1 Greylisted, please try again in $D seconds" \
    "first attempt: logged as greylist, with the rule and the reply"
is "$(rcli TTL "${P}_grey:t:127.1.0.0/24|alice@a.example|g1@example.com" |
    awk '{ print ($1 > 172700 && $1 <= 172800) }')" 1 \
    "first attempt: the triplet (network, sender lower-cased without extension, recipient) pending for 2 days"
is "$(rcli HGET "${P}_grey:t:127.1.0.0/24|alice@a.example|g1@example.com" pass)" "" \
    "first attempt: the triplet has not passed"
sleep 1.2
attempt a2 127.1.0.1 alice@a.example g1@example.com
left_is "early retry: the seconds left" a1 a2

attempt b1 127.2.0.1 bob@b.example g2@example.com
is "$(r b1)" "451 4.7.1 Come back later" "first attempt: the rule's own text"

attempt c1 127.4.0.1 carol@c.example g3@example.net
is "$(r c1)" "$(grey "$D")" "lower REJECT: first the greylist (higher precedence)"

attempt d0 127.3.0.1 dave@d.example any@example.com
is "$(r d0)" "$(grey "$D")" "a client network's GREYLIST: greylisted"
attempt d1 127.3.0.1 dave@d.example postmaster@example.com
is "$(r d1)" "$OK" "a higher OK (recipient table over client): no greylisting"

attempt e1 127.5.0.1 erin@e.example ok@example.com -a sasl:secret
is "$(r e1)" "$OK" "a session with a SASL login: never greylisted"
is "$(rcli --scan --pattern "${P}_grey:t:127.5.*" | wc -l)" 0 \
    "a session with a SASL login: no triplet"

for i in 1 2 3 4 5; do
	attempt "w$i" 127.6.0.1 wl@w.example "r$i@wl.example"
done
is "$(r w1) / $(r w5)" "$(grey "$D") / $(grey "$D")" \
    "whitelist: five triplets of one network greylisted"

attempt s1 127.7.0.1 someone@grey-sender.example any@example.com
is "$(r s1)" "$(grey "$D")" "a sender rule: greylisted at RCPT, per recipient"

# IPv6 and 192.0.2.x through the milter protocol.
got=$(mrun "$MILTER_SOCKET" 2001:db8:1:2::10 6 v6@v.example v6@example.com +abort)
T_V6=$(now_ms)
is "$got" "rcpt: $(grey "$D")" "IPv6 2001:db8:1:2::10: greylisted"
got=$(mrun "$MILTER_SOCKET" 192.0.2.10 4 v4@v.example v4@example.com +abort)
is "$got" "rcpt: $(grey "$D")" "IPv4 192.0.2.10: greylisted"
is "$(rcli --scan --pattern "${P}_grey:t:2001:db8:1:2::/64|*")" \
    "${P}_grey:t:2001:db8:1:2::/64|v6@v.example|v6@example.com" \
    "IPv6: the triplet holds the /64"

# --- after the delay -----------------------------------------------------------

T0_v6=$T_V6 T1_v6=$T_V6
after_delay a2 b1 c1 w5 s1 v6
milter_mark
attempt a3 127.1.0.1 alice@a.example g1@example.com
is "$(r a3)" "$OK" "retry after the delay: accepted"
ok "retry after the delay: the message queued" test -n "$Q_a3"
logged "RCPT: greylist pass from=<alice@a\.example> to=<g1@example\.com> .*rule=recipient:g1@example\.com: passed, delayed [0-9]+ seconds" \
    "retry after the delay: the pass logged"
wait_for $((5 * slow)) test -n "$(header_of "$Q_a3")"
h=$(header_of "$Q_a3")
n=${h#delayed }
n=${n%% *}
if [[ $h =~ ^delayed\ [0-9]+\ seconds\ by\ redmilter$ ]] && [ "$n" -ge "$D" ]; then
	pass "retry after the delay: X-Greylist: $h, in the message as queued"
else
	fail "retry after the delay: X-Greylist in the message as queued" \
	    "got '$h' for $Q_a3, want 'delayed N seconds by redmilter', N >= $D" \
	    "$(grep -F "$Q_a3" "$PF_LOG")"
fi
is "$(rcli TTL "${P}_grey:t:127.1.0.0/24|alice@a.example|g1@example.com" |
    awk '{ print ($1 > 3110000 && $1 <= 3110400) }')" 1 \
    "passed: the triplet kept 36 days"
attempt a4 127.1.0.1 ALICE+other@a.example g1@example.com
is "$(r a4)" "$OK" "a later message: accepted at once (the sender without its extension, any case)"
pf_wait_log "$Q_a4: removed" $((5 * slow))
is "$(header_of "$Q_a4")" "" "a later message: no X-Greylist"
attempt a5 127.1.0.77 alice@a.example g1@example.com
is "$(r a5)" "$OK" "another client of the /24: accepted at once"
attempt a6 127.1.1.1 alice@a.example g1@example.com
is "$(r a6)" "$(grey "$D")" "a client of another /24: greylisted"

attempt b2 127.2.0.1 bob@b.example g2@example.com
is "$(r b2)" "$OK" "the rule's own text: accepted after the delay too"

attempt c2 127.4.0.1 carol@c.example g3@example.net
is "$(r c2)" "550 5.7.1 Refused after the greylist" \
    "after the pass the walk goes on: the lower REJECT of the recipient table"

attempt s2 127.7.0.1 someone@grey-sender.example any@example.com
is "$(r s2)" "$OK" "a sender rule: accepted after the delay"

got=$(mrun "$MILTER_SOCKET" 2001:db8:1:2::99 6 v6@v.example v6@example.com +eom)
like "$got" "^rcpt: continue
eom: addheader X-Greylist: delayed [0-9]+ seconds by redmilter
eom: continue$" \
    "IPv6 2001:db8:1:2::99, same /64: passed, and the header action at end of message"
got=$(mrun "$MILTER_SOCKET" 2001:db8:1:3::10 6 v6@v.example v6@example.com +abort)
is "$got" "rcpt: $(grey "$D")" "IPv6 2001:db8:1:3::10, another /64: greylisted"
got=$(mrun "$MILTER_SOCKET" 192.0.2.200 4 v4@v.example v4@example.com +abort)
is "$got" "rcpt: continue" "IPv4 192.0.2.200, the /24 of 192.0.2.10: passed"
got=$(mrun "$MILTER_SOCKET" 192.0.3.10 4 v4@v.example v4@example.com +abort)
is "$got" "rcpt: $(grey "$D")" "IPv4 192.0.3.10, another /24: greylisted"

# The network whitelist: four passes are not enough, the fifth is.
for i in 1 2 3 4; do
	attempt "wp$i" 127.6.0.1 wl@w.example "r$i@wl.example"
done
is "$(r wp1) $(r wp4)" "$OK $OK" "whitelist: four triplets passed"
attempt wn 127.6.0.1 wl@w.example new1@wl.example
is "$(r wn)" "$(grey "$D")" "whitelist: after four passes, a new triplet is greylisted"
attempt wp5 127.6.0.1 wl@w.example r5@wl.example
is "$(r wp5)" "$OK" "whitelist: the fifth triplet passed"
attempt wn2 127.6.0.200 other@w2.example new2@wl.example
is "$(r wn2)" "$OK" "whitelist: after five, a new triplet of the network passes at once"
logged "rule=recipient:wl\.example: passed: the client's network is whitelisted" \
    "whitelist: logged as such"
is "$(rcli HGET "${P}_grey:c:127.6.0.0/24" n)" 5 "whitelist: the network counts 5 passed triplets"

# --- two milters, one Redis ---------------------------------------------------

start_second_milter
ctl add recipient two@example.com GREYLIST "${D}s"
ctl add recipient race@example.com GREYLIST "${D}s"
sync_rules "$MILTER_SOCKET" "$M2_SOCK"
attempt m1 127.8.0.1 two@t.example two@example.com
is "$(r m1)" "$(grey "$D")" "two milters: the first attempt through Postfix and milter 1"
K2="${P}_grey:t:127.8.0.0/24|two@t.example|two@example.com"
first=$(rcli HGET "$K2" first)
got=$(mrun "$M2_SOCK" 127.8.0.1 4 two@t.example two@example.com +abort)
n=$(sed -nE 's/^rcpt: 451 4\.7\.1 Greylisted, please try again in ([0-9]+) seconds$/\1/p' <<<"$got")
ok "two milters: milter 2 greylists the triplet too ($got)" \
    test -n "$n" -a "${n:-0}" -ge 1 -a "${n:-0}" -le "$D"
is "$(rcli HGET "$K2" first)" "$first" \
    "two milters: milter 2 started no delay of its own (the first attempt is milter 1's)"
# Concurrent first attempts of one triplet on both milters: one delay.
for i in 1 2 3 4 5 6; do
	s=$MILTER_SOCKET
	[ $((i % 2)) = 0 ] && s=$M2_SOCK
	spawn bash -c 'python3 "$1" -s "$2" -T "$3" run +optneg +connect c.test 4 40000 192.0.2.77 +helo c.test +mail "<race@r.example>" +rcpt "<race@example.com>" +abort +quit >"$4"' \
	    _ "$MC" "$s" $((10 * slow)) "$H_TMP/race$i"
	pids+=("$SPAWN_PID")
done
for p in "${pids[@]}"; do
	wait "$p"
	unregister_pid "$p"
done
is "$(cat "$H_TMP"/race? | grep -c "^rcpt: 451 4\\.7\\.1 Greylisted, please try again in [0-9]* seconds$")" 6 \
    "two milters, six first attempts at once: all greylisted"
is "$(rcli --scan --pattern "${P}_grey:t:192.0.2.0/24|race@*")" \
    "${P}_grey:t:192.0.2.0/24|race@r.example|race@example.com" \
    "two milters, six first attempts at once: one triplet"
after_delay m1
got=$(mrun "$M2_SOCK" 127.8.0.1 4 two@t.example two@example.com +abort)
is "$got" "rcpt: continue" "two milters: the retry passes on milter 2"
kill_wait "$M2_PID" TERM
ok "the second milter exited 0" test $? -eq 0

# --- redmilterctl check -------------------------------------------------------

run_prog "$REDMILTERCTL" -r "$REDIS_URL" check -C 127.9.0.1 -f chk@k.example -r g1@example.com
is "$RC $OUT" "0 g1@example.com: $(grey "$D") (greylisted by recipient g1@example.com)" \
    "check: a recipient that would be greylisted, and for how long"
is "$(rcli --scan --pattern "${P}_grey:t:127.9.*" | wc -l)" 0 "check: nothing written"
run_prog "$REDMILTERCTL" -r "$REDIS_URL" check -C 127.1.0.5 -f alice@a.example -r g1@example.com
is "$RC $OUT" "0 g1@example.com: accept (no rule)" \
    "check: a triplet that passed: accepted"

# --- greylist_header = no, mode = test, delay_checks = no -----------------------

got=$(python3 "$MC" -s "$MILTER_SOCKET" run +optneg +quit)
like "$got" "^optneg: version=6 actions=0x29 " \
    "greylist_header = yes: header addition asked for (actions 0x29)"
reload "greylist_header = no"
got=$(python3 "$MC" -s "$MILTER_SOCKET" run +optneg +quit)
like "$got" "^optneg: version=6 actions=0x28 " \
    "greylist_header = no: no header addition asked for (actions 0x28)"

reload "mode = test"
attempt t1 127.10.0.1 tst@t.example g1@example.com
is "$(r t1)" "$OK" "mode = test: accepted"
logged "NOQUEUE: RCPT: test greylist from=<tst@t\.example> to=<g1@example\.com> .*rule=recipient:g1@example\.com: $(grey "$D")" \
    "mode = test: what would have been done logged"

reload "delay_checks = no"
ctl add client 127.11.0.1 GREYLIST "${D}s"
sync_rules
attempt k1 127.11.0.1 early@k.example any@example.com
is "$(r k1)" "$(grey "$D")" "delay_checks = no: a client GREYLIST decided at RCPT"
reload "delay_checks = no" "greylist_netmask = 32 128"
attempt k2 127.1.0.90 alice@a.example g1@example.com
is "$(r k2)" "$(grey "$D")" "greylist_netmask = 32 128: another address of a passed /24 is a network of its own"
reload

# --- hostile values, Redis down -----------------------------------------------

rcli SET "${P}recipient:h1@example.com" "GREYLIST 300" >/dev/null
rcli SET "${P}auth:sasl@mx.test.example" "GREYLIST 1m" >/dev/null
sync_rules
attempt h1 127.12.0.1 h@h.example h1@example.com
is "$(r h1)" "$CONF_ERR" "GREYLIST 300 written with redis-cli: 451 4.3.5"
attempt h2 127.12.0.2 h@h.example ok@example.com -a sasl:secret
is "$(r h2)" "$CONF_ERR" "a GREYLIST written in the auth table with redis-cli: 451 4.3.5"
logged "broken rule redmilter:auth:sasl@mx\\.test\\.example \\(\"GREYLIST 1m\"\\): GREYLIST is not for the auth table" \
    "a GREYLIST in the auth table: logged as a broken rule"
rcli DEL "${P}auth:sasl@mx.test.example" "${P}recipient:h1@example.com" >/dev/null

stop_redis
attempt r1 127.13.0.1 down@d.example g1@example.com
is "$(r r1)" "$LOOKUP_ERR" "Redis down, on_error = tempfail: 451 4.3.0"
reload "on_error = accept"
attempt r2 127.13.0.1 down@d.example g1@example.com
is "$(r r2)" "$OK" "Redis down, on_error = accept: accepted"
restart_redis

ok "the milter stops cleanly" stop_milter
done_testing
