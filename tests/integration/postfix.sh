#!/bin/bash
# postfix.sh - end to end: an SMTP client, a real Postfix, the real
# milter/redmilter and a real redis-server, all private to this script and
# on loopback only.  Every MAIL FROM and RCPT TO reply is compared exactly
# (code, enhanced code, text), and where mail is accepted, Postfix's own log
# and queue show what became of it (delivered by discard(8), dropped by the
# milter's DISCARD, or on hold).
#
# Postfix runs as its own instance (lib/postfix.sh: config, queue and log in
# the temporary directory, every transport discard), started as root with
# `postfix -c DIR start`: this test needs root.  SMTP AUTH goes through
# Cyrus SASL with a sasldb of its own (realm mx.test.example, so the login
# the milter sees is USER@mx.test.example).
#
# Milter configurations, one after the other (the socket stays the same, so
# Postfix is configured once): the defaults (delay_checks = yes, on_error =
# tempfail), on_error = accept, delay_checks = no, mode = test.
#
# By hand:  make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#               REDMILTERCTL=$PWD/policy/redmilterctl \
#               bash tests/integration/postfix.sh

# Not root: no Postfix.  Reported as a skip (as sendmail.sh does), which
# tests/run counts as a failure unless ALLOW_SKIP=1.
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
need_program "$REDMILTER" "$REDMILTERCTL" python3

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi

# --- helpers --------------------------------------------------------------

# ctl ARGS... - redmilterctl on our Redis; a failure is a bail-out (the
# rules are this test's premise, not its subject)
ctl() {
	run_prog "$REDMILTERCTL" -r "$REDIS_URL" "$@"
	if [ "$RC" -ne 0 ]; then
		diag "$ERR"
		bail_out "redmilterctl $* failed (exit status $RC)"
	fi
}

# The rules every scenario relies on, loaded at the start and again after
# each restart of Redis (which keeps nothing: save "").  Client rules are
# added and removed by the scenarios that need them: every message comes
# from 127.0.0.1.
cat >"$H_TMP/base.rules" <<'EOF'
recipient bob@example.com 552 5.2.2 Mailbox full
recipient gone@example.com 550
recipient abuse@example.com OK
recipient noreply@example.com 550 5.1.1 This address receives no mail
recipient pct@example.com 554 5.7.1 100% spam
recipient pct2@example.com 550 5.7.1 50%% off %s %d
recipient multi@example.com 550 5.7.1 line one\nline two
recipient trap@example.com DISCARD spam trap
recipient trap2@example.com DISCARD second spam trap
recipient later@example.com DEFER
sender closer.example 421 4.7.0 Closing this session
sender spammer.example REJECT Go away
sender .spammer.example REJECT
sender partner.example OK
sender news@bulk.example DISCARD unread newsletter
sender held@hold.example HOLD held for review
pair <>,noreply@example.com OK
pair partner.example,board@example.com 550 5.7.1 Please write to info@example.com
helo bad.helo.example REJECT You are not bad.helo.example
auth mallory@mx.test.example REJECT Account suspended
auth alice@mx.test.example OK
EOF

load_rules() {
	ctl import "$H_TMP/base.rules"
}

# send ARGS... - one SMTP session (smtp_session), then the transcript of
# its MAIL, RCPT, DATA and message replies in T
send() {
	smtp_session "$@"
	T=$(smtp_transcript)
}

# delivered_to QID WANT DESC - discard(8) delivered QID to exactly WANT
# (recipients, sorted, one a line)
delivered_to() {
	local got
	if [ -z "$1" ]; then
		fail "$3" "no queue id: the message was not queued"
		return 1
	fi
	if ! got=$(pf_delivered "$1"); then
		fail "$3" "Postfix never logged \"$1: removed\"" \
		    "$(grep -F "$1" "$PF_LOG" | sed 's/^/postfix log: /')"
		return 1
	fi
	is "$got" "$2" "$3"
}

# dropped QID DESC - the milter's DISCARD dropped QID: Postfix logged
# milter-discard, delivered nothing and kept no queue file
dropped() {
	local qid=$1 problems=()
	if [ -z "$qid" ]; then
		fail "$2" "no queue id: the message was not accepted"
		return 1
	fi
	if ! pf_wait_log "[[:space:]]$qid: milter-discard: END-OF-MESSAGE .*milter triggers DISCARD action" $((10 * slow)); then
		problems+=("no milter-discard line for $qid in the maillog")
	fi
	if grep -qE "[[:space:]]$qid: to=<" "$PF_LOG"; then
		problems+=("$qid was delivered: $(grep -E "[[:space:]]$qid: to=<" "$PF_LOG")")
	fi
	if [ -n "$(find "$PF_QUEUE" -type f -name "$qid")" ]; then
		problems+=("$qid is still queued: $(find "$PF_QUEUE" -type f -name "$qid")")
	fi
	if [ ${#problems[@]} -eq 0 ]; then
		pass "$2"
		return 0
	fi
	fail "$2" "${problems[@]}" "$(grep -F "$qid" "$PF_LOG" | sed 's/^/postfix log: /')"
	return 1
}

# wait_reply SECONDS WANT-TRANSCRIPT ARGS... - send ARGS until the
# transcript is WANT (bounded); T is the last one
wait_reply() {
	local secs=$1 want=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		send "$@"
		[ "$T" = "$want" ] && return 0
		sleep 0.2
	done
	return 1
}

# --- start ----------------------------------------------------------------

start_redis
load_rules
start_milter
pf_sasl_user alice secret
pf_sasl_user mallory secret
start_postfix
note "redis-server pid $REDIS_PID port $REDIS_PORT, redmilter pid $MILTER_PID on $MILTER_SOCKET"
note "Postfix $PF_NAME (master pid $PF_MASTER_PID) on 127.0.0.1:$PF_PORT, config $PF_CONF"

# --- one message, three recipients, three answers ----------------------------

milter_mark
send -f someone@sender.example -t bob@example.com -t gone@example.com \
    -t ok1@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<bob@example.com> => 552 5.2.2 Mailbox full
RCPT TO:<gone@example.com> => 550 5.1.1 Mailbox not found
RCPT TO:<ok1@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "three recipients: 552 5.2.2 Mailbox full, 550 (catalogue: 5.1.1 Mailbox not found), accepted"
delivered_to "$(queue_id_of_session)" "ok1@example.com" \
    "three recipients: delivered by discard(8) to the accepted one only"
wait_milter_log 'NOQUEUE: RCPT: reject from=<someone@sender.example> to=<bob@example.com> client=.*\[127\.0\.0\.1\] rule=recipient:bob@example\.com: 552 5\.2\.2 Mailbox full$' $((5 * slow))
like "$(milter_log_new)" 'NOQUEUE: RCPT: reject from=<someone@sender\.example> to=<bob@example\.com> client=[^ ]*\[127\.0\.0\.1\] rule=recipient:bob@example\.com: 552 5\.2\.2 Mailbox full' \
    "the milter logs the rejection: queue id (NOQUEUE), stage, sender, recipient, client, rule and reply"

# --- every table -------------------------------------------------------------

ctl add client 127.0.0.1 REJECT Your host is blocked
send -f someone@sender.example -t ok2@example.com
ctl del client 127.0.0.1
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 550 5.7.1 Your host is blocked" \
    "client table: the address 127.0.0.1, answered at RCPT TO (delay_checks = yes)"

ctl add client 127.0.0.0/8 554
send -f someone@sender.example -t ok2@example.com
ctl del client 127.0.0.0/8
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 554 5.7.1 Transaction failed" \
    "client table: the network 127.0.0.0/8, 554 alone (catalogue: 5.7.1 Transaction failed)"

send -H bad.helo.example -f someone@sender.example -t ok2@example.com \
    -t abuse@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 550 5.7.1 You are not bad.helo.example
RCPT TO:<abuse@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "helo table: HELO bad.helo.example rejected at RCPT TO; recipient abuse@ OK wins"

send -a mallory:secret -f someone@sender.example -t ok2@example.com
is "$T" "AUTH PLAIN AG1hbGxvcnkAc2VjcmV0 => 235 2.7.0 Authentication successful
MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 550 5.7.1 Account suspended" \
    "auth table: SASL login mallory@mx.test.example rejected"

send -a alice:secret -f alice@spammer.example -t ok2@example.com
is "$T" "AUTH PLAIN AGFsaWNlAHNlY3JldA== => 235 2.7.0 Authentication successful
MAIL FROM:<alice@spammer.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "auth table: login alice@mx.test.example OK beats the sender REJECT of spammer.example"

send -f bulk@spammer.example -t ok2@example.com
is "$T" "MAIL FROM:<bulk@spammer.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 550 5.7.1 Go away" \
    "sender table: domain spammer.example, REJECT Go away at RCPT TO"

send -f bulk@mail.spammer.example -t ok2@example.com
is "$T" "MAIL FROM:<bulk@mail.spammer.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 550 5.7.1 Access denied" \
    "sender table: parent key .spammer.example, REJECT without text (550 5.7.1 Access denied)"

send -f someone@sender.example -t Bob+Lists@Example.COM -t gone@example.com.
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<Bob+Lists@Example.COM> => 552 5.2.2 Mailbox full
RCPT TO:<gone@example.com.> => 550 5.1.1 Mailbox not found" \
    "recipient table: case folded, +extension stripped, trailing dot dropped"

send -f '' -t noreply@example.com -t ok2@example.com
is "$T" "MAIL FROM:<> => 250 2.1.0 Ok
RCPT TO:<noreply@example.com> => 250 2.1.5 Ok
RCPT TO:<ok2@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "pair table: <>,noreply@example.com OK lets bounces through to noreply@"
send -f someone@sender.example -t noreply@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<noreply@example.com> => 550 5.1.1 This address receives no mail" \
    "pair table: ...while any other sender gets noreply@'s recipient rule"

send -f ceo@partner.example -t board@example.com -t ok2@example.com
is "$T" "MAIL FROM:<ceo@partner.example> => 250 2.1.0 Ok
RCPT TO:<board@example.com> => 550 5.7.1 Please write to info@example.com
RCPT TO:<ok2@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "pair table: partner.example,board@example.com rejected although sender partner.example is OK"

# --- the precedence examples of redmilterctl(8), RULES, Precedence -----------

send -f bulk@spammer.example -t abuse@example.com -t postmaster@example.com
is "$T" "MAIL FROM:<bulk@spammer.example> => 250 2.1.0 Ok
RCPT TO:<abuse@example.com> => 250 2.1.5 Ok
RCPT TO:<postmaster@example.com> => 550 5.7.1 Go away
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "precedence: recipient:abuse@example.com OK lets blocked spammer.example reach abuse@, not postmaster@"
delivered_to "$(queue_id_of_session)" "abuse@example.com" \
    "precedence: the blocked sender's message delivered to abuse@ only"

send -f ceo@partner.example -t bob@example.com -t ok3@example.com
is "$T" "MAIL FROM:<ceo@partner.example> => 250 2.1.0 Ok
RCPT TO:<bob@example.com> => 552 5.2.2 Mailbox full
RCPT TO:<ok3@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "precedence: recipient:bob@example.com 552 answers bob even from sender partner.example OK; others accepted"

# --- reply texts -------------------------------------------------------------

send -f someone@sender.example -t pct@example.com -t pct2@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<pct@example.com> => 554 5.7.1 100% spam
RCPT TO:<pct2@example.com> => 550 5.7.1 50%% off %s %d" \
    "'%' in reply texts arrives exactly ('100% spam', '50%% off %s %d')"

milter_mark
send -f someone@sender.example -t multi@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<multi@example.com> => 550-5.7.1 line one
RCPT TO:<multi@example.com> => 550 5.7.1 line two" \
    "a '\\n' in a rule makes a multi-line reply: 550-5.7.1 line one / 550 5.7.1 line two"
# redmilter(8), LOGGING: one decision is one log line, the lines of a
# multi-line reply joined with " / ".
wait_milter_log 'rule=recipient:multi@example\.com' $((5 * slow))
line=$(milter_log_new | grep -E 'RCPT: reject from=<someone@sender\.example> to=<multi@example\.com> .*rule=recipient:multi@example\.com: ')
if [[ $line == *"line one"*"line two"* ]] && [ "$(wc -l <<<"$line")" -eq 1 ]; then
	pass "the multi-line reply's decision is logged on one line, with both lines of the reply"
else
	fail "the multi-line reply's decision is logged on one line, with both lines of the reply" \
	    "$(milter_log_new | sed 's/^/milter log: /')"
fi

send -f someone@sender.example -t later@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<later@example.com> => 450 4.7.1 Try again later" \
    "DEFER without text: 450 4.7.1 Try again later"

send -f someone@closer.example -t ok2@example.com
is "$T:$SMTP_RC" "MAIL FROM:<someone@closer.example> => 250 2.1.0 Ok
RCPT TO:<ok2@example.com> => 421 4.7.0 Closing this session:1" \
    "a 421 rule: 421 4.7.0 with the rule's text, then Postfix ends the session"

# --- live edits and TTLs -----------------------------------------------------

rcli SET redmilter:recipient:edit@example.com '550 5.7.1 First text' >/dev/null
send -f someone@sender.example -t edit@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<edit@example.com> => 550 5.7.1 First text" \
    "redis-cli SET: a new rule applies to the next message"
rcli SET redmilter:recipient:edit@example.com '450 4.2.1 Second text' >/dev/null
send -f someone@sender.example -t edit@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<edit@example.com> => 450 4.2.1 Second text" \
    "redis-cli SET: the edited rule applies to the next message"
rcli DEL redmilter:recipient:edit@example.com >/dev/null
send -f someone@sender.example -t edit@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<edit@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "redis-cli DEL: the next message is accepted"

ttl=$((2 * slow))
rcli SET redmilter:recipient:ttl@example.com 'REJECT Temporary block' EX "$ttl" >/dev/null
send -f someone@sender.example -t ttl@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<ttl@example.com> => 550 5.7.1 Temporary block" \
    "a rule with a TTL (SET ... EX $ttl) applies while it lasts"
accepted_ttl="MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<ttl@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID"
t0=$(date +%s)
wait_reply $((ttl + 8 * slow)) "$accepted_ttl" -f someone@sender.example \
    -t ttl@example.com
is "$T" "$accepted_ttl" \
    "...and no longer once it expired (after $(($(date +%s) - t0)) s; polled)"

# --- Redis down, with on_error = tempfail (the default) ------------------------

stop_redis
send -f someone@sender.example -t bob@example.com -t ok4@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<bob@example.com> => 451 4.3.0 Temporary policy lookup failure
RCPT TO:<ok4@example.com> => 451 4.3.0 Temporary policy lookup failure" \
    "Redis stopped, on_error = tempfail: 451 4.3.0 Temporary policy lookup failure"

restart_redis
load_rules
pid_before=$MILTER_PID
bob_552="MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<bob@example.com> => 552 5.2.2 Mailbox full"
t0=$(date +%s)
wait_reply $((5 * slow)) "$bob_552" -f someone@sender.example \
    -t bob@example.com
is "$T" "$bob_552" \
    "Redis restarted: rules obeyed again within 5 s ($(($(date +%s) - t0)) s), no milter restart"
is "$MILTER_PID:$(milter_alive && echo alive)" "$pid_before:alive" \
    "...by the same milter process"

ok "the milter (defaults) stops cleanly on SIGTERM: exit 0, socket removed" \
    stop_milter

# --- on_error = accept -------------------------------------------------------

start_milter "on_error = accept"
stop_redis
send -f bulk@spammer.example -t bob@example.com -t ok4@example.com
is "$T" "MAIL FROM:<bulk@spammer.example> => 250 2.1.0 Ok
RCPT TO:<bob@example.com> => 250 2.1.5 Ok
RCPT TO:<ok4@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "Redis stopped, on_error = accept: the mail is accepted"
delivered_to "$(queue_id_of_session)" "bob@example.com
ok4@example.com" "Redis stopped, on_error = accept: delivered to both"

restart_redis
load_rules
pid_before=$MILTER_PID
t0=$(date +%s)
wait_reply $((5 * slow)) "$bob_552" -f someone@sender.example \
    -t bob@example.com
is "$T" "$bob_552" \
    "on_error = accept, Redis restarted: rules obeyed again within 5 s ($(($(date +%s) - t0)) s)"
is "$MILTER_PID:$(milter_alive && echo alive)" "$pid_before:alive" \
    "...by the same milter process"

ok "the milter (on_error = accept) stops cleanly" stop_milter

# --- DISCARD and HOLD ----------------------------------------------------------

start_milter

send -f someone@sender.example -t trap@example.com -t keep@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<trap@example.com> => 250 2.1.5 Ok
RCPT TO:<keep@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "recipient DISCARD: accepted at SMTP level"
delivered_to "$(queue_id_of_session)" "keep@example.com" \
    "recipient DISCARD: delivered to the other recipient only"

send -f news@bulk.example -t keep@example.com -t abuse@example.com
is "$T" "MAIL FROM:<news@bulk.example> => 250 2.1.0 Ok
RCPT TO:<keep@example.com> => 250 2.1.5 Ok
RCPT TO:<abuse@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "sender DISCARD: accepted at SMTP level (abuse@ OK too)"
qid=$(queue_id_of_session)
dropped "$qid" "sender DISCARD: the whole message dropped (milter-discard), nothing delivered"

send -f someone@sender.example -t trap@example.com -t trap2@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<trap@example.com> => 250 2.1.5 Ok
RCPT TO:<trap2@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "recipient DISCARD for every recipient: accepted at SMTP level"
dropped "$(queue_id_of_session)" \
    "recipient DISCARD for every recipient: the message dropped, nothing delivered"

milter_mark
send -f held@hold.example -t keep@example.com
is "$T" "MAIL FROM:<held@hold.example> => 250 2.1.0 Ok
RCPT TO:<keep@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "sender HOLD: accepted at SMTP level"
qid=$(queue_id_of_session)
pf_wait_log "[[:space:]]$qid: milter-hold: END-OF-MESSAGE .*milter triggers HOLD action" $((10 * slow))
held=$(pf_hold_ids)
pq=$(pf_postqueue 2>&1)
if [ -n "$qid" ] && [ "$held" = "$qid" ] && [[ $pq == *"$qid!"* ]] &&
    ! grep -qE "[[:space:]]$qid: to=<" "$PF_LOG"; then
	pass "sender HOLD: the message is in Postfix's hold queue, undelivered"
else
	fail "sender HOLD: the message is in Postfix's hold queue, undelivered" \
	    "queue id: '$qid'; hold queue: '$held'" \
	    "$(h_indent 'postqueue -p: ' "$pq")" \
	    "$(grep -F "${qid:-none}" "$PF_LOG" | sed 's/^/postfix log: /')"
fi
wait_milter_log 'RCPT: hold from=<held@hold\.example> to=<keep@example\.com> .*rule=sender:held@hold\.example: held for review$' $((5 * slow))
like "$(milter_log_new)" \
    'RCPT: hold from=<held@hold\.example> to=<keep@example\.com> .*rule=sender:held@hold\.example: held for review' \
    "sender HOLD: the milter logs the rule and the reason"

ok "the milter stops cleanly" stop_milter

# --- delay_checks = no ----------------------------------------------------------

start_milter "delay_checks = no"

send -f bulk@spammer.example -t abuse@example.com
is "$T" "MAIL FROM:<bulk@spammer.example> => 550 5.7.1 Go away" \
    "delay_checks = no: the sender REJECT shows at MAIL FROM (no recipient exception)"

send -a mallory:secret -f someone@sender.example -t ok5@example.com
is "$T" "AUTH PLAIN AG1hbGxvcnkAc2VjcmV0 => 235 2.7.0 Authentication successful
MAIL FROM:<someone@sender.example> => 550 5.7.1 Account suspended" \
    "delay_checks = no: an auth rule answers at MAIL FROM"

send -H bad.helo.example -f someone@sender.example -t ok5@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 550 5.7.1 You are not bad.helo.example" \
    "delay_checks = no: a HELO rule's reply shows at MAIL FROM"

ctl add client 127.0.0.1 REJECT Your host is blocked
send -k -f someone@sender.example -t ok5@example.com
ctl del client 127.0.0.1
is "$T" "(banner) => 554 mx.test.example ESMTP not accepting connections
MAIL FROM:<someone@sender.example> => 550 5.7.1 Your host is blocked" \
    "delay_checks = no: a client REJECT gives Postfix's 554 banner, and the rule's reply at MAIL FROM"

send -f someone@sender.example -t bob@example.com -t ok5@example.com
is "$T" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<bob@example.com> => 552 5.2.2 Mailbox full
RCPT TO:<ok5@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "delay_checks = no: recipient rules still answer per recipient"

ok "the milter (delay_checks = no) stops cleanly" stop_milter

# --- mode = test -------------------------------------------------------------

start_milter "mode = test"
milter_mark
send -f bulk@spammer.example -t bob@example.com -t trap@example.com \
    -t ok6@example.com
is "$T" "MAIL FROM:<bulk@spammer.example> => 250 2.1.0 Ok
RCPT TO:<bob@example.com> => 250 2.1.5 Ok
RCPT TO:<trap@example.com> => 250 2.1.5 Ok
RCPT TO:<ok6@example.com> => 250 2.1.5 Ok
DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID" \
    "mode = test: everything accepted"
delivered_to "$(queue_id_of_session)" "bob@example.com
ok6@example.com
trap@example.com" "mode = test: delivered to every recipient (no DISCARD)"
wait_milter_log 'test reject from=<bulk@spammer\.example> to=<ok6@example\.com> .*rule=sender:spammer\.example: 550 5\.7\.1 Go away' $((5 * slow))
log=$(milter_log_new)
problems=()
for ere in \
    'RCPT: test reject from=<bulk@spammer\.example> to=<bob@example\.com> .*rule=recipient:bob@example\.com: 552 5\.2\.2 Mailbox full' \
    'RCPT: test discard from=<bulk@spammer\.example> to=<trap@example\.com> .*rule=recipient:trap@example\.com: spam trap' \
    'RCPT: test reject from=<bulk@spammer\.example> to=<ok6@example\.com> .*rule=sender:spammer\.example: 550 5\.7\.1 Go away'; do
	grep -qE -e "$ere" <<<"$log" || problems+=("no line matching /$ere/")
done
if [ ${#problems[@]} -eq 0 ]; then
	pass "mode = test: the milter logs what it would have done (552 for bob, DISCARD for trap, 550 Go away for ok6)"
else
	fail "mode = test: the milter logs what it would have done (552 for bob, DISCARD for trap, 550 Go away for ok6)" \
	    "${problems[@]}" "$(h_indent 'milter log: ' "$log")"
fi

ok "the milter (mode = test) stops cleanly" stop_milter

# --- the end -------------------------------------------------------------------

master=$PF_MASTER_PID
ok "Postfix stops cleanly (postfix -c DIR stop)" stop_postfix
# Postfix's processes carry MAIL_CONFIG=<our config_directory>.
left=$(
	for e in /proc/[0-9]*/environ; do
		if { tr '\0' '\n' <"$e"; } 2>/dev/null |
		    grep -qxF "MAIL_CONFIG=$PF_CONF"; then
			p=${e#/proc/}
			echo "${p%/environ}"
		fi
	done
	kill -0 "$master" 2>/dev/null && echo "$master"
)
is "$left" "" "no Postfix process of this instance is left"

done_testing
