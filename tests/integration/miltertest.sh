#!/bin/bash
# miltertest.sh - the milter protocol, stage by stage, through the real
# milter/redmilter and a private redis-server, driven by Debian's miltertest
# with the Lua scripts of tests/integration/mt/ (all loading mt/lib.lua).
#
# Each Lua check becomes one TAP line here; the reply texts, which
# miltertest cannot read at RCPT (its mt.getreply gives only the kind of
# reply, SMFIR_REPLYCODE and the like, not the code and text), are checked
# in the milter's log, which carries the exact reply of every decision
# (redmilter(8), LOGGING).
# Each miltertest run is one more test: it ran to its end (a Lua error or a
# dead milter fails it).
#
# Milter configurations, one milter process each:
#   yes     defaults (delay_checks = yes, on_error = tempfail): RCPT
#           replies, DISCARD/HOLD at end of message, WARN, RSET, broken
#           rules, early disconnects, 50 connections and RSS, Redis stopped
#   no      delay_checks = no: each table at its own stage
#   test    mode = test (delay_checks = no): log only
#   accept  on_error = accept: broken rules skipped, Redis stopped
#
# By hand:  make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#               bash tests/integration/miltertest.sh
# Unix sockets in a private temporary directory and a loopback Redis only;
# every process is started here and stopped by its pid.

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MILTERTEST=${MILTERTEST:-miltertest}
MT_DIR=$TOP/tests/integration/mt
need_program "$MILTERTEST" "$REDMILTER"

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi
MT_TIMEOUT=$((60 * slow)) # seconds for one miltertest run
MT_READ=$((10 * slow))    # seconds miltertest waits for one reply

M_NAME=
M_MARK=0
MT_SEQ=0

# --- the milter ---------------------------------------------------------

# m_start NAME [LINE...] - start_milter (lib/milter.sh; under valgrind with
# tests/valgrind.supp) for the configuration NAME: socket mode 0600,
# redis_timeout, log_level info, no lookup cache (start_milter's
# cache_ttl = 0: a rule written with redis-cli, or a stopped Redis, must
# show at the very next lookup), and the LINEs
m_start() {
	M_NAME=$1
	shift
	start_milter "socket_mode = 0600" "redis_timeout = $((500 * slow))" \
	    "log_level = info" "$@"
	note "$M_NAME: redmilter pid $MILTER_PID on $MILTER_SOCK_PATH"
}

# m_alive DESC - one test: the milter process still runs
m_alive() {
	if milter_alive; then
		pass "$1"
	else
		fail "$1" "redmilter pid $MILTER_PID is gone" "$(milter_log_tail)"
	fi
}

# m_stop - stop_milter (SIGTERM); two tests: exit status 0, socket removed
m_stop() {
	stop_milter
	is "$MILTER_RC" 0 "$M_NAME: redmilter stops on SIGTERM with status 0"
	is "$MILTER_SOCK_LEFT" 0 "$M_NAME: its unix socket is removed"
}

# m_rss - the milter's resident set size in kB
m_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$MILTER_PID/status" 2>/dev/null
}

# --- the milter's log ---------------------------------------------------

# log_mark - later log_* checks look only at what is logged from now on
log_mark() {
	M_MARK=$(stat -c %s "$MILTER_LOG")
}

# log_new - the lines logged since log_mark, without the "redmilter: "
# prefix of -f (valgrind's lines left out)
log_new() {
	tail -c +$((M_MARK + 1)) "$MILTER_LOG" | sed -n 's/^redmilter: //p'
}

# log_has DESC LINE - exactly this line was logged
log_has() {
	if log_new | grep -qxF -- "$2"; then
		pass "$1"
	else
		fail "$1" "  want line: $2" "$(log_new | head -n 40 |
		    sed 's/^/ logged: /')"
	fi
}

# log_like DESC ERE - a line matching ERE was logged
log_like() {
	if log_new | grep -qE -- "$2"; then
		pass "$1"
	else
		fail "$1" "  want a line matching: $2" "$(log_new |
		    head -n 40 | sed 's/^/ logged: /')"
	fi
}

# log_count ERE - how many lines match
log_count() {
	log_new | grep -cE -- "$1"
}

# --- miltertest ---------------------------------------------------------

# mt_run TAG SCRIPT [-D NAME=VALUE...] - run mt/SCRIPT against the milter;
# each of its checks is a test named "TAG: ...", and one more says that it
# ran to its end
mt_run() {
	local tag=$1 script=$2 out rc line ended='' err='' other=''
	shift 2
	MT_SEQ=$((MT_SEQ + 1))
	out=$H_TMP/mt.$MT_SEQ.out
	timeout -k 5 "$MT_TIMEOUT" "$MILTERTEST" -D "lib=$MT_DIR/lib.lua" \
	    -D "socket=$MILTER_SOCKET" -D "read_timeout=$MT_READ" "$@" \
	    -s "$MT_DIR/$script" >"$out" 2>&1 </dev/null
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$tag: ${line#ok - }" ;;
		"not ok - "*) fail "$tag: ${line#not ok - }" ;;
		"# "*) diag "${line#\# }" ;;
		MT-END) ended=1 ;;
		"MT-ERROR "*) err=${line#MT-ERROR } ;;
		*) other+="$line"$'\n' ;;
		esac
	done <"$out"
	if [ "$rc" -eq 0 ] && [ -n "$ended" ] && [ -z "$err" ]; then
		pass "$tag: $script ran to its end"
		return 0
	fi
	fail "$tag: $script ran to its end" "miltertest exit status $rc" \
	    "${err:+Lua error: $err}" "$(h_indent 'output: ' "${other%$'\n'}")" \
	    "$(milter_log_tail 15)"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		diag "timed out after $MT_TIMEOUT s"
	fi
	return 1
}

# --- rules --------------------------------------------------------------

# set_rule TABLE KEY ACTION - SET redmilter:TABLE:KEY ACTION with redis-cli
set_rule() {
	local r
	r=$(rcli SET "redmilter:$1:$2" "$3" 2>&1)
	[ "$r" = OK ] || bail_out "redis-cli SET redmilter:$1:$2: $r"
}

# base_rules - the rule set the scripts of mt/ expect (nothing else)
base_rules() {
	local r
	r=$(rcli FLUSHALL 2>&1)
	[ "$r" = OK ] || bail_out "redis-cli FLUSHALL: $r"
	set_rule client 192.0.2.66 'REJECT Client blocked'
	set_rule client 198.51.100.9 'DISCARD'
	set_rule helo bad.helo.example 'REJECT Bad HELO'
	set_rule sender spammer.example 'REJECT Go away'
	set_rule sender friend.example 'OK'
	set_rule sender discard.example 'DISCARD'
	set_rule sender hold.example 'HOLD suspicious sender'
	set_rule sender warned.example 'WARN sender warned'
	set_rule recipient bob@example.com '552 5.2.2 Mailbox full'
	set_rule recipient abuse@example.com 'OK'
	set_rule recipient later@example.com 'DEFER'
	set_rule recipient pct@example.com 'REJECT 100% sure'
	set_rule recipient dis@example.com 'DISCARD'
	set_rule recipient dis2@example.com 'DISCARD spam trap'
	set_rule recipient held@example.com 'HOLD'
	set_rule recipient watch@example.com 'WARN watched recipient'
}

# broken_rules - rules that break the reply rules, written behind
# redmilterctl's back
broken_rules() {
	set_rule recipient b1@example.com '550 4.7.1 x'
	set_rule recipient b2@example.com $'REJECT a\r\nb'
	set_rule recipient b3@example.com '250 ok'
	set_rule recipient b4@example.com 'OK junk'
}

# ere TEXT - TEXT as an extended regular expression matching itself
ere() {
	printf '%s' "$1" | sed 's/[][\\.*^$+?(){}|]/\\&/g'
}

# The clients and the sender the scripts use most, as log text (CL, BL, A)
# and as EREs (CLR, BLR, AR).
CL='client=mail.example.net[192.0.2.7]'
BL='client=host.blocked.example[192.0.2.66]'
A='from=<alice@example.org>'
CLR=$(ere "$CL")
BLR=$(ere "$BL")
AR=$(ere "$A")

# shellcheck disable=SC2119 # no extra redis.conf lines
start_redis
base_rules

# === delay_checks = yes (the defaults) ==================================
m_start yes

log_mark
mt_run yes delay_yes.lua
log_has "yes: log: bob's 552 with its text" \
    "NOQUEUE: RCPT: reject $A to=<bob@example.com> $CL rule=recipient:bob@example.com: 552 5.2.2 Mailbox full"
log_has "yes: log: abuse accepted by its OK rule" \
    "NOQUEUE: RCPT: accept $A to=<abuse@example.com> $CL rule=recipient:abuse@example.com: OK"
log_has "yes: log: DEFER is 450 4.7.1 Try again later" \
    "NOQUEUE: RCPT: tempfail $A to=<later@example.com> $CL rule=recipient:later@example.com: 450 4.7.1 Try again later"
log_has "yes: log: a '%' in the text is logged as written" \
    "NOQUEUE: RCPT: reject $A to=<pct@example.com> $CL rule=recipient:pct@example.com: 550 5.7.1 100% sure"
log_has "yes: log: Bob+Tag@Example.COM answered by bob's rule" \
    "NOQUEUE: RCPT: reject $A to=<Bob+Tag@Example.COM> $CL rule=recipient:bob@example.com: 552 5.2.2 Mailbox full"
log_has "yes: log: the client rule answers at RCPT" \
    "NOQUEUE: RCPT: reject $A to=<carol@example.com> $BL rule=client:192.0.2.66: 550 5.7.1 Client blocked"
log_has "yes: log: recipient OK beats the client rule" \
    "NOQUEUE: RCPT: accept $A to=<abuse@example.com> $BL rule=recipient:abuse@example.com: OK"
log_has "yes: log: the HELO rule answers at RCPT" \
    "NOQUEUE: RCPT: reject $A to=<carol@example.com> $CL rule=helo:bad.helo.example: 550 5.7.1 Bad HELO"
log_has "yes: log: the sender rule answers at RCPT" \
    "NOQUEUE: RCPT: reject from=<x@spammer.example> to=<carol@example.com> $CL rule=sender:spammer.example: 550 5.7.1 Go away"
log_has "yes: log: recipient 552 beats a sender OK" \
    "NOQUEUE: RCPT: reject from=<pal@friend.example> to=<bob@example.com> $CL rule=recipient:bob@example.com: 552 5.2.2 Mailbox full"
log_has "yes: log: the sender OK accepts carol" \
    "NOQUEUE: RCPT: accept from=<pal@friend.example> to=<carol@example.com> $CL rule=sender:friend.example: OK"
is "$(log_count ': (CONNECT|HELO|MAIL): ')" 0 \
    "yes: log: no decision before RCPT"

log_mark
mt_run yes eom.lua
log_like "yes: log: the recipient DISCARD" \
    "^NOQUEUE: RCPT: discard $AR to=<dis@example.com> $CLR rule=recipient:dis@example.com: ?\$"
log_has "yes: log: a DISCARD's text" \
    "NOQUEUE: RCPT: discard $A to=<dis2@example.com> $CL rule=recipient:dis2@example.com: spam trap"
log_like "yes: log: the sender DISCARD" \
    "^NOQUEUE: RCPT: discard from=<junk@discard.example> to=<carol@example.com> $CLR rule=sender:discard.example: ?\$"
log_has "yes: log: the HOLD with its reason" \
    "NOQUEUE: RCPT: hold from=<who@hold.example> to=<carol@example.com> $CL rule=sender:hold.example: suspicious sender"
log_like "yes: log: the recipient HOLD" \
    "^NOQUEUE: RCPT: hold $AR to=<held@example.com> $CLR rule=recipient:held@example.com: ?\$"
is "$(log_count 'smfi_(delrcpt|quarantine) failed')" 0 \
    "yes: log: no smfi_delrcpt or smfi_quarantine failure"

log_mark
mt_run yes warn.lua
log_has "yes: log: the sender WARN" \
    "NOQUEUE: RCPT: warn from=<someone@warned.example> to=<carol@example.com> $CL rule=sender:warned.example: sender warned"
log_has "yes: log: the recipient WARN" \
    "NOQUEUE: RCPT: warn from=<someone@warned.example> to=<watch@example.com> $CL rule=recipient:watch@example.com: watched recipient"
log_has "yes: log: the sender WARN beside the recipient WARN" \
    "NOQUEUE: RCPT: warn from=<someone@warned.example> to=<watch@example.com> $CL rule=sender:warned.example: sender warned"
log_has "yes: log: WARN, then the sender's REJECT" \
    "NOQUEUE: RCPT: reject from=<x@spammer.example> to=<watch@example.com> $CL rule=sender:spammer.example: 550 5.7.1 Go away"
is "$(log_count "^NOQUEUE: RCPT: (reject|tempfail|accept|discard|hold) from=<someone@warned.example>")" 0 \
    "yes: log: WARN alone decides nothing"

log_mark
mt_run yes rset.lua

# Broken rules: tempfail 451 4.3.5, each logged once however often met.
broken_rules
log_mark
mt_run "yes broken" rcpt.lua -D tag=broken -D messages=3 -D 'from=<alice@example.org>' \
    -D 'rcpts=<b1@example.com>=replycode <b2@example.com>=replycode <b3@example.com>=replycode <carol@example.com>=continue <bob@example.com>=replycode'
for k in b1 b2 b3; do
	is "$(log_count "^broken rule redmilter:recipient:$k@example\\.com ")" 1 \
	    "yes broken: log: the broken rule recipient:$k logged once in 3 messages"
	is "$(log_count "^NOQUEUE: RCPT: tempfail $AR to=<$k@example\\.com> $CLR rule=recipient:$k@example\\.com: ")" 3 \
	    "yes broken: log: each of the 3 tempfails of $k logged"
	log_like "yes broken: log: $k's tempfail carries its reply 451 4.3.5" \
	    "^NOQUEUE: RCPT: tempfail $AR to=<$k@example\\.com> $CLR rule=recipient:$k@example\\.com: .*451 4\\.3\\.5 Server configuration error"
done
log_like "yes broken: log: the CR/LF rule's text is logged without raw control characters" \
    "^broken rule redmilter:recipient:b2@example\\.com \\(\"[[:print:]]+\"\\): "
is "$(log_new | tr -d '\n[:print:]' | wc -c)" 0 \
    "yes broken: log: no control character in any log line"
log_mark
mt_run "yes broken" rcpt.lua -D tag="broken OK above a REJECT" \
    -D 'from=<x@spammer.example>' -D 'rcpts=<b4@example.com>=replycode'
log_like "yes broken: log: a broken OK above a sender REJECT tempfails" \
    "^NOQUEUE: RCPT: tempfail from=<x@spammer\\.example> to=<b4@example\\.com> $CLR rule=recipient:b4@example\\.com: "
is "$(log_count '^NOQUEUE: RCPT: reject from=<x@spammer\.example> to=<b4@example\.com>')" 0 \
    "yes broken: log: the lower REJECT does not bounce it"

# Connections that end early: mlfi_close and mlfi_abort without a context.
log_mark
mt_run yes close.lua
m_alive "yes: the milter survives the early disconnects"

# Many sequential connections: still alive, memory about flat.
mt_run "yes warm-up" many.lua -D count=5
rss0=$(m_rss)
mt_run yes many.lua -D count=50
rss1=$(m_rss)
m_alive "yes: the milter is alive after 50 connections"
note "redmilter RSS after a 5-connection warm-up: ${rss0:-?} kB, after 50 more: ${rss1:-?} kB"
if [ -n "$rss0" ] && [ -n "$rss1" ]; then
	grow=$((rss1 - rss0))
	limit=$((2048 * slow * slow))
	# Under AddressSanitizer (make check SANITIZE=1) freed blocks wait in
	# its quarantine (up to 256 MB) before reuse, so RSS grows with what
	# was freed, not with what leaked; LeakSanitizer checks leaks at exit.
	if [ -n "${SANITIZER:-}" ]; then
		limit=$((limit * 8))
	fi
	ok "yes: RSS grew by $grow kB over 50 connections (limit $limit kB)" \
	    test "$grow" -le "$limit"
else
	fail "yes: RSS readable from /proc/$MILTER_PID/status" "rss0='$rss0' rss1='$rss1'"
fi

# Redis stopped: tempfail at RCPT, 451 4.3.0; back when Redis is.
stop_redis
log_mark
mt_run "yes Redis down" on_error.lua -D expect=tempfail
log_like "yes Redis down: log: the lookup failure is logged at RCPT" \
    "^NOQUEUE: RCPT: tempfail"
log_like "yes Redis down: log: with the recipient, the client and the reply 451 4.3.0" \
    "^NOQUEUE: RCPT: tempfail $AR to=<carol@example\\.com> $CLR .*451 4\\.3\\.0 Temporary policy lookup failure"
restart_redis
base_rules
mt_run "yes Redis back" rcpt.lua -D tag="Redis back" -D 'from=<alice@example.org>' \
    -D 'rcpts=<bob@example.com>=replycode <carol@example.com>=continue' -D eom=continue
m_alive "yes: the milter is alive at the end"
m_stop

# === delay_checks = no ==================================================
m_start no "delay_checks = no"
log_mark
mt_run no delay_no.lua
log_like "no: log: the client rule at CONNECT" \
    "^NOQUEUE: CONNECT: reject .*$BLR rule=client:192\\.0\\.2\\.66: 550 5\\.7\\.1 Client blocked\$"
log_has "no: log: a client without a name is logged as unknown, as Postfix does" \
    "NOQUEUE: CONNECT: reject client=unknown[192.0.2.66] rule=client:192.0.2.66: 550 5.7.1 Client blocked"
log_like "no: log: the HELO rule at HELO" \
    "^NOQUEUE: HELO: reject .*$CLR rule=helo:bad\\.helo\\.example: 550 5\\.7\\.1 Bad HELO\$"
log_like "no: log: the sender rule at MAIL" \
    "^NOQUEUE: MAIL: reject from=<x@spammer\\.example> .*$CLR rule=sender:spammer\\.example: 550 5\\.7\\.1 Go away\$"
log_has "no: log: the recipient rule at RCPT" \
    "NOQUEUE: RCPT: reject $A to=<bob@example.com> $CL rule=recipient:bob@example.com: 552 5.2.2 Mailbox full"
log_like "no: log: the client DISCARD at CONNECT" \
    "^NOQUEUE: CONNECT: discard .*client=relay\\.discard\\.example\\[198\\.51\\.100\\.9\\] rule=client:198\\.51\\.100\\.9: ?\$"
is "$(log_count '^NOQUEUE: RCPT: .* rule=(client|helo|sender):')" 0 \
    "no: log: client, helo and sender rules are not looked up again at RCPT"
m_alive "no: the milter is alive at the end"
m_stop

# === mode = test ========================================================
set_rule recipient broken@example.com '250 ok'
m_start test "mode = test" "delay_checks = no"
log_mark
mt_run test testmode.lua
log_like "test: log: the would-be CONNECT reject" \
    "^NOQUEUE: CONNECT: test reject .*$BLR rule=client:192\\.0\\.2\\.66: 550 5\\.7\\.1 Client blocked\$"
log_like "test: log: the would-be HELO reject" \
    "^NOQUEUE: HELO: test reject .*$BLR rule=helo:bad\\.helo\\.example: 550 5\\.7\\.1 Bad HELO\$"
log_like "test: log: the would-be MAIL reject" \
    "^NOQUEUE: MAIL: test reject from=<x@spammer\\.example> .*rule=sender:spammer\\.example: 550 5\\.7\\.1 Go away\$"
log_has "test: log: the would-be RCPT reject with its text" \
    "NOQUEUE: RCPT: test reject from=<x@spammer.example> to=<bob@example.com> $BL rule=recipient:bob@example.com: 552 5.2.2 Mailbox full"
log_like "test: log: the would-be DISCARD" \
    "^NOQUEUE: RCPT: test discard from=<x@spammer\\.example> to=<dis@example\\.com> $BLR rule=recipient:dis@example\\.com: ?\$"
log_like "test: log: the would-be tempfail of a broken rule" \
    "^NOQUEUE: RCPT: test [a-z ()_]+ from=<x@spammer\\.example> to=<broken@example\\.com> $BLR rule=recipient:broken@example\\.com: "
log_like "test: log: the would-be HOLD with its reason" \
    "^NOQUEUE: MAIL: test hold from=<who@hold\\.example> .*rule=sender:hold\\.example: suspicious sender\$"
m_alive "test: the milter is alive at the end"
m_stop

# === on_error = accept ==================================================
broken_rules
m_start accept "on_error = accept"
log_mark
mt_run accept rcpt.lua -D tag="accept: broken rules skipped" \
    -D 'from=<x@spammer.example>' \
    -D 'rcpts=<b4@example.com>=replycode <abuse@example.com>=continue' \
    -D eom=continue
mt_run accept rcpt.lua -D tag="accept: broken rules skipped" \
    -D 'from=<alice@example.org>' \
    -D 'rcpts=<b1@example.com>=continue <b2@example.com>=continue <b3@example.com>=continue <b4@example.com>=continue' \
    -D eom=continue
log_has "accept: log: the broken OK is skipped, the sender's REJECT answers" \
    "NOQUEUE: RCPT: reject from=<x@spammer.example> to=<b4@example.com> $CL rule=sender:spammer.example: 550 5.7.1 Go away"
for k in b1 b2 b3 b4; do
	is "$(log_count "^broken rule redmilter:recipient:$k@example\\.com ")" 1 \
	    "accept: log: the broken rule recipient:$k logged once"
done
stop_redis
log_mark
mt_run "accept Redis down" on_error.lua -D expect=accept
log_like "accept Redis down: log: the lookup failure is logged" \
    "^NOQUEUE: RCPT: accept \\(on_error\\)"
restart_redis
m_alive "accept: the milter is alive at the end"
m_stop

done_testing
