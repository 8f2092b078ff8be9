#!/bin/bash
# sendmail.sh - redmilter behind a real Sendmail 8.17, built from
# contrib/sendmail/redmilter.mc, with the exact SMTP replies asserted.
#
# Sendmail is fetched as Debian packages and never installed, and runs with
# Redis, the milter and the SMTP client in a network namespace of their
# own (lib/sendmail.sh): every packet stays on that namespace's loopback.
# When this machine cannot run it (not root, no namespaces, no packages),
# the script reports itself as skipped, never as passed.
#
# The .cf is built from contrib/sendmail/redmilter.mc exactly, with one
# change made by sed on a copy: the socket path (local:/run/redmilter/
# redmilter.sock becomes a private directory under /run; Sendmail refuses a
# socket below a world-writable directory such as /tmp).  The test checks
# that nothing else differs.  The "milter down" checks also build variants
# with F=R, F=4 and no F= (said so where they run).
#
# Scenarios, each asserting the reply lines Sendmail sends:
#   per-recipient 552 / 550 / 450 / 553 / accept in one transaction, the
#   message queued for the accepted ones only; a sender rule; addresses as
#   Sendmail passes them (case, +extension, ESMTP parameters, <>);
#   precedence (recipient OK over a sender REJECT, pair over recipient,
#   recipient reply over a sender OK, HELO and client rules at RCPT);
#   reply texts (multi-line,
#   '%', 553, 421); DISCARD of one recipient and of all, HOLD (Sendmail's
#   quarantine); Redis down (on_error = tempfail) and back; the milter down
#   with F=T, F=R, F=4 and no flag; delay_checks = no (where each stage's
#   reply surfaces in Sendmail).
#
# By hand, as root:  make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#     REDMILTERCTL=$PWD/policy/redmilterctl bash tests/integration/sendmail.sh

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/sendmail.sh
. "$here/lib/sendmail.sh"
sm_enter_netns "$0" "$@"

# From here on: inside the namespace.
# shellcheck source=lib/redis.sh
. "$here/lib/redis.sh"
# shellcheck source=lib/milter.sh
. "$here/lib/milter.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
SNIPPET=$TOP/contrib/sendmail/redmilter.mc
SNIPPET_SOCKET=/run/redmilter/redmilter.sock
need_program "$REDMILTER" "$REDMILTERCTL" m4 dpkg-deb
[ -f "$SNIPPET" ] || bail_out "$SNIPPET is missing"

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi
# shellcheck disable=SC2034 # read by lib/sendmail.sh
SMTP_TIMEOUT=$((30 * slow))


# --- the milter ----------------------------------------------------------

M_MARK=0
# The milter's directory (lib/milter.sh's MILTER_DIR), its socket in it:
# below /run (root's, 0755), not below /tmp, since Sendmail refuses a
# socket below a world-writable directory.
MILTER_DIR=$(mktemp -d /run/redmilter-test.XXXXXX) ||
    bail_out "cannot create a socket directory under /run"
register_dir "$MILTER_DIR"
m_setup

# m_start [LINE...] - start_milter (lib/milter.sh) with socket mode 0600,
# redis_timeout, log_level info and the LINEs; log_new reads from its start
m_start() {
	M_MARK=$(stat -c %s "$MILTER_LOG")
	start_milter "socket_mode = 0600" "redis_timeout = $((500 * slow))" \
	    "log_level = info" "$@"
}

# m_stop - stop_milter (SIGTERM); one test: exit status 0
m_stop() {
	stop_milter
	is "$MILTER_RC" 0 "redmilter stops on SIGTERM with status 0"
}

log_mark() {
	M_MARK=$(stat -c %s "$MILTER_LOG")
}

# log_new - what the milter logged since log_mark, without "redmilter: "
log_new() {
	tail -c +$((M_MARK + 1)) "$MILTER_LOG" | sed -n 's/^redmilter: //p'
}

# --- rules -----------------------------------------------------------------

rule() {
	rcli SET "redmilter:$1:$2" "$3" >/dev/null || bail_out "redis SET failed"
}

unrule() {
	rcli DEL "redmilter:$1:$2" >/dev/null || bail_out "redis DEL failed"
}

# --- SMTP helpers ----------------------------------------------------------

PORT=

# expect CMD WANT DESC - send CMD (nothing: read nothing more), one test on
# the exact reply
expect() {
	smtp_cmd "$1"
	is "$SMTP_REPLY" "$2" "$3"
}

# session_start [HELO] - connect, banner 220, EHLO
session_start() {
	smtp_open "$PORT"
	if [[ $SMTP_REPLY != "220 $SM_HOSTNAME ESMTP Sendmail "* ]]; then
		fail "banner: 220 from Sendmail" "   got: $SMTP_REPLY"
		return 1
	fi
	smtp_cmd "EHLO ${1:-client.example}"
	if [[ $SMTP_REPLY != "250-$SM_HOSTNAME Hello "* ]]; then
		fail "EHLO answered 250" "   got: $SMTP_REPLY"
		return 1
	fi
	return 0
}

session_end() {
	smtp_cmd QUIT
	smtp_close
}

# queued_id - the queue id in the reply to the end of DATA
queued_id() {
	local re='^250 2\.0\.0 ([A-Za-z0-9]+) Message accepted for delivery$'
	if [[ $SMTP_REPLY =~ $re ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
	fi
}

# queue_rcpts NAME FILE - the recipients in a Sendmail queue file (its
# "R" lines, flags stripped), one a line
queue_rcpts() {
	sed -n 's/^R[^:]*:\(.*\)$/\1/p' "$(sm_queue "$1")/$2" 2>/dev/null
}

# --- set up ----------------------------------------------------------------

start_redis
sm_unpack
note "Sendmail $SM_VERSION, unpacked from$SM_DEBS"
note "in a network namespace of its own, hostname $(uname -n)"

# The snippet, with its socket path and nothing else changed.
cp "$SNIPPET" "$H_TMP/redmilter.mc" || bail_out "cannot copy $SNIPPET"
sed -i "s#local:$SNIPPET_SOCKET#local:$MILTER_SOCK_PATH#" "$H_TMP/redmilter.mc"
is "$(grep -c "local:$SNIPPET_SOCKET" "$SNIPPET")" 1 \
    "contrib/sendmail/redmilter.mc names the socket $SNIPPET_SOCKET once"
is "$(sed "s#local:$MILTER_SOCK_PATH#local:$SNIPPET_SOCKET#" "$H_TMP/redmilter.mc" |
    cmp - "$SNIPPET" && echo same)" same \
    "the .mc used is contrib/sendmail/redmilter.mc with only the socket path changed"

PORT=$(free_port) || bail_out "no free port"
ok "m4 builds sendmail.cf from the snippet (no m4 message)" \
    sm_build main "$H_TMP/redmilter.mc" "$PORT"
SM_CF_MAIN=$SM_CF
nl=$'\n'
is "$(grep '^Xredmilter' "$SM_CF")" \
    "Xredmilter, S=local:$MILTER_SOCK_PATH, F=T, T=C:10s;S:10s;R:10s;E:1m" \
    "sendmail.cf: the filter line"
is "$(grep -E '^O (InputMailFilters|Milter\.macros\.(connect|helo|envfrom|envrcpt|eom))=' "$SM_CF")" \
    "O InputMailFilters=redmilter
O Milter.macros.connect=j, _, {daemon_name}, {if_name}, {if_addr}
O Milter.macros.helo={tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}
O Milter.macros.envfrom=i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}
O Milter.macros.envrcpt=i, {rcpt_mailer}, {rcpt_host}, {rcpt_addr}
O Milter.macros.eom=i, {msg_id}" \
    "sendmail.cf: the filter is used, with the macro lists of the snippet"

m_start
sm_start main || bail_out "sendmail did not start"
pass "sendmail -bD listens on 127.0.0.1:$PORT"

# --- per-recipient replies in one transaction --------------------------------

rule recipient bob@example.com '552 5.2.2 Mailbox full'
rule recipient nobody@example.com '550'
rule recipient later@example.com 'DEFER Try again later'
"$REDMILTERCTL" -r "$REDIS_URL" add recipient invalid@example.com 553 \
    >/dev/null 2>&1 || bail_out "redmilterctl add failed"

log_mark
session_start
expect "MAIL FROM:<alice@example.net>" "250 2.1.0 <alice@example.net>... Sender ok" \
    "MAIL FROM without a rule: Sendmail's 250"
expect "RCPT TO:<bob@example.com>" "552 5.2.2 Mailbox full" \
    "recipient 552 rule: the reply exactly, no address inserted"
expect "RCPT TO:<nobody@example.com>" "550 5.1.1 <nobody@example.com>... Mailbox not found" \
    "recipient 550 rule: catalogue reply, Sendmail inserts the address"
expect "RCPT TO:<later@example.com>" "450 4.7.1 <later@example.com>... Try again later" \
    "recipient DEFER: 450, Sendmail inserts the address"
expect "RCPT TO:<invalid@example.com>" "553 5.1.3 <invalid@example.com>... Mailbox name invalid" \
    "recipient 553 (redmilterctl add): Sendmail inserts the address"
expect "RCPT TO:<carol@example.com>" "250 2.1.5 <carol@example.com>... Recipient ok" \
    "recipient without a rule, same transaction: accepted"
expect "RCPT TO:<Carol+Tag@Example.COM>" "250 2.1.5 <Carol+Tag@Example.COM>... Recipient ok" \
    "second accepted recipient"
expect "DATA" "354 End data with <CR><LF>.<CR><LF>" "DATA: 354"
smtp_data "From: alice@example.net" "Subject: redmilter test" "" "hello"
qid=$(queued_id)
like "$SMTP_REPLY" '^250 2\.0\.0 [A-Za-z0-9]+ Message accepted for delivery$' \
    "end of DATA: queued"
is "$(queue_rcpts main "qf$qid")" "<carol@example.com>
<Carol+Tag@Example.COM>" "the queue file lists only the accepted recipients"
session_end
like "$(log_new | grep 'to=<bob@example.com>')" \
    "^$qid: RCPT: reject from=<alice@example.net> to=<bob@example.com> client=localhost\[127\.0\.0\.1\] rule=recipient:bob@example\.com: 552 5\.2\.2 Mailbox full$" \
    "milter log: Sendmail's queue id (macro i) at RCPT, the client, the rule"

# --- a sender rule ----------------------------------------------------------

rule sender spammer.example 'REJECT Go away'
session_start
expect "MAIL FROM:<x@spammer.example>" "250 2.1.0 <x@spammer.example>... Sender ok" \
    "sender rule with delay_checks = yes: MAIL accepted"
expect "RCPT TO:<carol@example.com>" "550 5.7.1 <carol@example.com>... Go away" \
    "sender REJECT answered at RCPT, with Sendmail's address inserted"
expect "DATA" "503 5.0.0 Need RCPT (recipient)" "DATA with no recipient left: 503"
session_end

# --- addresses as Sendmail hands them over --------------------------------------

rule recipient frank@example.com '552 5.2.2 Mailbox full'
rule sender '<>' 'REJECT No bounces here'
session_start
smtp_cmd "MAIL FROM:<alice@example.net> SIZE=100 BODY=8BITMIME"
expect "RCPT TO:<Frank+Tag@Example.COM>" "552 5.2.2 Mailbox full" \
    "upper case and an extension: the rule for frank@example.com"
expect "RCPT TO:<frank@example.com> NOTIFY=NEVER" "552 5.2.2 Mailbox full" \
    "RCPT with an ESMTP parameter"
expect "RSET" "250 2.0.0 Reset state" "RSET before the null sender"
expect "MAIL FROM:<>" "250 2.1.0 <>... Sender ok" "MAIL FROM:<>"
expect "RCPT TO:<carol@example.com>" "550 5.7.1 <carol@example.com>... No bounces here" \
    "the null sender matches the key <>"
session_end
unrule sender '<>'

# --- precedence ---------------------------------------------------------------

rule recipient abuse@example.com 'OK'
rule recipient postmaster@example.com 'REJECT No postmaster here'
rule pair 'spammer.example,postmaster@example.com' 'OK'
rule sender friend.example 'OK'
session_start
expect "MAIL FROM:<x@spammer.example>" "250 2.1.0 <x@spammer.example>... Sender ok" \
    "precedence: MAIL from the rejected sender"
expect "RCPT TO:<abuse@example.com>" "250 2.1.5 <abuse@example.com>... Recipient ok" \
    "precedence: recipient OK beats sender REJECT"
expect "RCPT TO:<postmaster@example.com>" "250 2.1.5 <postmaster@example.com>... Recipient ok" \
    "precedence: pair OK beats recipient REJECT"
expect "RCPT TO:<carol@example.com>" "550 5.7.1 <carol@example.com>... Go away" \
    "precedence: the sender REJECT for the others, same transaction"
expect "DATA" "354 End data with <CR><LF>.<CR><LF>" "precedence: DATA"
smtp_data "Subject: precedence" "" "hello"
qid=$(queued_id)
is "$(queue_rcpts main "qf$qid")" "<abuse@example.com>
<postmaster@example.com>" "precedence: queued for abuse@ and postmaster@ only"
expect "MAIL FROM:<y@friend.example>" "250 2.1.0 <y@friend.example>... Sender ok" \
    "precedence: MAIL from a sender marked OK"
expect "RCPT TO:<bob@example.com>" "552 5.2.2 Mailbox full" \
    "precedence: recipient 552 beats sender OK"
expect "RCPT TO:<nobody@example.com>" "550 5.1.1 <nobody@example.com>... Mailbox not found" \
    "precedence: recipient 550 beats sender OK"
expect "RSET" "250 2.0.0 Reset state" "RSET"
session_end

rule helo bad.example 'REJECT Bad HELO'
session_start bad.example
expect "MAIL FROM:<alice@example.net>" "250 2.1.0 <alice@example.net>... Sender ok" \
    "HELO rule: MAIL accepted (delay_checks = yes)"
expect "RCPT TO:<carol@example.com>" "550 5.7.1 <carol@example.com>... Bad HELO" \
    "HELO rule: answered at RCPT"
expect "RCPT TO:<abuse@example.com>" "250 2.1.5 <abuse@example.com>... Recipient ok" \
    "HELO rule: recipient OK beats it"
session_end
unrule helo bad.example

rule client 127.0.0.1 'DEFER Client on hold'
session_start
expect "MAIL FROM:<alice@example.net>" "250 2.1.0 <alice@example.net>... Sender ok" \
    "client rule: MAIL accepted (delay_checks = yes)"
expect "RCPT TO:<carol@example.com>" "450 4.7.1 <carol@example.com>... Client on hold" \
    "client rule on the address Sendmail passes: answered at RCPT"
session_end
unrule client 127.0.0.1
rule client localhost 'REJECT Client name blocked'
session_start
smtp_cmd "MAIL FROM:<alice@example.net>"
expect "RCPT TO:<carol@example.com>" "550 5.7.1 <carol@example.com>... Client name blocked" \
    "client rule on the verified name Sendmail passes (localhost)"
session_end
unrule client localhost

# --- reply texts --------------------------------------------------------------

rule recipient multi@example.com '550 5.7.1 First line\nSecond line\nThird line'
rule recipient percent@example.com '550 5.7.1 100% sure, 50%% off'
rule recipient tempmulti@example.com '451 4.3.0 Busy\nCome back later'
rule recipient quit@example.com '421'
session_start
smtp_cmd "MAIL FROM:<alice@example.net>"
expect "RCPT TO:<multi@example.com>" "550-5.7.1 <multi@example.com>... First line
550-5.7.1 Second line
550 5.7.1 Third line" "multi-line 550: Sendmail inserts the address in the first line only"
expect "RCPT TO:<percent@example.com>" "550 5.7.1 <percent@example.com>... 100% sure, 50%% off" \
    "'%' arrives as written"
expect "RCPT TO:<tempmulti@example.com>" "451-4.3.0 Busy
451 4.3.0 Come back later" "multi-line 451"
expect "RCPT TO:<quit@example.com>" "421 4.3.2 Service not available, closing channel" \
    "421 at RCPT"
expect "RCPT TO:<carol@example.com>" "(closed)" "Sendmail closes the session after a 421"
smtp_close

# --- DISCARD and HOLD ---------------------------------------------------------

rule recipient dave@example.com 'DISCARD'
rule recipient erin@example.com 'HOLD Suspicious'
log_mark
session_start
smtp_cmd "MAIL FROM:<alice@example.net>"
expect "RCPT TO:<carol@example.com>" "250 2.1.5 <carol@example.com>... Recipient ok" \
    "DISCARD: the other recipient"
expect "RCPT TO:<dave@example.com>" "250 2.1.5 <dave@example.com>... Recipient ok" \
    "DISCARD: the discarded recipient is accepted at SMTP level"
smtp_cmd DATA
smtp_data "Subject: discard one" "" "hello"
qid=$(queued_id)
like "$SMTP_REPLY" '^250 2\.0\.0 [A-Za-z0-9]+ Message accepted for delivery$' \
    "DISCARD of one recipient: message accepted"
is "$(queue_rcpts main "qf$qid")" "<carol@example.com>" \
    "DISCARD of one recipient: smfi_delrcpt removed dave@ from the queue file"

smtp_cmd "MAIL FROM:<alice@example.net>"
expect "RCPT TO:<dave@example.com>" "250 2.1.5 <dave@example.com>... Recipient ok" \
    "DISCARD of the only recipient: accepted at SMTP level"
smtp_cmd DATA
smtp_data "Subject: discard all" "" "hello"
qid=$(queued_id)
like "$SMTP_REPLY" '^250 2\.0\.0 [A-Za-z0-9]+ Message accepted for delivery$' \
    "DISCARD of the only recipient: the client sees success"
is "$(cd "$(sm_queue main)" && ls ./*"$qid" 2>/dev/null)" "" \
    "DISCARD of the only recipient: nothing left in the queue"

smtp_cmd "MAIL FROM:<alice@example.net>"
smtp_cmd "RCPT TO:<carol@example.com>"
expect "RCPT TO:<erin@example.com>" "250 2.1.5 <erin@example.com>... Recipient ok" \
    "HOLD: accepted at SMTP level"
smtp_cmd DATA
smtp_data "Subject: hold" "" "hello"
qid=$(queued_id)
like "$SMTP_REPLY" '^250 2\.0\.0 [A-Za-z0-9]+ Message accepted for delivery$' \
    "HOLD: message accepted"
ok "HOLD: Sendmail quarantined it (hf file, no qf file)" \
    test -f "$(sm_queue main)/hf$qid" -a ! -e "$(sm_queue main)/qf$qid"
is "$(grep '^q' "$(sm_queue main)/hf$qid")" "qSuspicious" \
    "HOLD: the quarantine reason is the rule's text"
# The commands INSTALL gives: mailq -qQ lists, sendmail -qQ -Q releases.
run env LD_LIBRARY_PATH="$SM_LIBDIR" "$SM_BIN" -C "$SM_CF_MAIN" -bp -qQ
like "$OUT" "(^|$nl)$qid .*$nl +QUARANTINE: Suspicious$nl" \
    "HOLD: mailq -qQ lists it with the reason"
run env LD_LIBRARY_PATH="$SM_LIBDIR" "$SM_BIN" -C "$SM_CF_MAIN" -qQ -Q -qI"$qid"
ok "HOLD: sendmail -qQ -Q -qI<id> releases it (qf file again)" \
    test -f "$(sm_queue main)/qf$qid" -a ! -e "$(sm_queue main)/hf$qid"
session_end
unlike "$(log_new)" 'failed' "milter log: smfi_delrcpt and smfi_quarantine did not fail"

# --- Redis down ---------------------------------------------------------------

stop_redis
log_mark
session_start
expect "MAIL FROM:<alice@example.net>" "250 2.1.0 <alice@example.net>... Sender ok" \
    "Redis down: MAIL (no lookup yet with delay_checks = yes)"
expect "RCPT TO:<carol@example.com>" "451 4.3.0 Temporary policy lookup failure" \
    "Redis down: 451 4.3.0 at RCPT (on_error = tempfail)"
expect "DATA" "503 5.0.0 Need RCPT (recipient)" "Redis down: no recipient, no DATA"
session_end
like "$(log_new)" 'Redis lookup failed' "Redis down: logged"
restart_redis
# a Redis without persistence: the rules are gone; these are needed below
rule recipient bob@example.com '552 5.2.2 Mailbox full'
rule recipient abuse@example.com 'OK'
rule sender spammer.example 'REJECT Go away'
session_start
smtp_cmd "MAIL FROM:<alice@example.net>"
expect "RCPT TO:<bob@example.com>" "552 5.2.2 Mailbox full" \
    "Redis back: the milter reconnects by itself"
session_end

# --- the milter down ------------------------------------------------------------

m_stop
session_start
expect "MAIL FROM:<alice@example.net>" "451 4.3.2 Please try again later" \
    "milter down, F=T (the snippet): 451 4.3.2 at MAIL"
session_end

# Variants of the snippet's copy with another F= (the only change).
variant() {
	local name=$1 flags=$2 port
	sed "s/F=T, /$flags/" "$H_TMP/redmilter.mc" >"$H_TMP/redmilter.$name.mc"
	port=$(free_port) || bail_out "no free port"
	sm_build "$name" "$H_TMP/redmilter.$name.mc" "$port" ||
	    bail_out "m4 failed on the $name variant"
	sm_start "$name" || bail_out "sendmail ($name) did not start"
}

variant flagR 'F=R, '
smtp_open "${SM_PORT[flagR]}"
is "$SMTP_REPLY" "554 $SM_HOSTNAME ESMTP not accepting messages" \
    "milter down, F=R: 554 banner"
smtp_cmd "EHLO client.example"
expect "MAIL FROM:<alice@example.net>" "550 5.0.0 Command rejected" \
    "milter down, F=R: 550 at MAIL"
expect "RCPT TO:<carol@example.com>" "550 5.0.0 Command rejected" \
    "milter down, F=R: 550 at RCPT"
session_end
sm_stop flagR

variant flag4 'F=4, '
smtp_open "${SM_PORT[flag4]}"
is "$SMTP_REPLY" "421 4.7.0 $SM_HOSTNAME closing connection" \
    "milter down, F=4: 421 at once"
smtp_close
sm_stop flag4

variant noflag ''
smtp_open "${SM_PORT[noflag]}"
smtp_cmd "EHLO client.example"
smtp_cmd "MAIL FROM:<alice@example.net>"
expect "RCPT TO:<bob@example.com>" "250 2.1.5 <bob@example.com>... Recipient ok" \
    "milter down, no F=: mail passes unchecked"
session_end
sm_stop noflag

# --- delay_checks = no ----------------------------------------------------------

m_start "delay_checks = no"
rule client 127.0.0.1 'REJECT Client blocked'
smtp_open "$PORT"
is "$SMTP_REPLY" "554 $SM_HOSTNAME ESMTP not accepting messages" \
    "delay_checks = no, client REJECT: Sendmail's 554 banner (the text is dropped)"
smtp_cmd "EHLO client.example"
expect "MAIL FROM:<alice@example.net>" "550 5.0.0 Command rejected" \
    "delay_checks = no, client REJECT: 550 5.0.0 at MAIL"
session_end
unrule client 127.0.0.1

rule helo bad.example 'REJECT Bad HELO'
smtp_open "$PORT"
expect "EHLO bad.example" "250-$SM_HOSTNAME Hello localhost [127.0.0.1], pleased to meet you
250 ENHANCEDSTATUSCODES" \
    "delay_checks = no, HELO REJECT: EHLO answered 250 without the other extensions"
expect "MAIL FROM:<alice@example.net>" "550 5.7.1 Bad HELO" \
    "delay_checks = no, HELO REJECT: at MAIL"
session_end
unrule helo bad.example

session_start
expect "MAIL FROM:<x@spammer.example>" "550 5.7.1 <x@spammer.example>... Go away" \
    "delay_checks = no, sender REJECT at MAIL"
expect "MAIL FROM:<alice@example.net>" "250 2.1.0 <alice@example.net>... Sender ok" \
    "delay_checks = no: the next MAIL is fine"
expect "RCPT TO:<abuse@example.com>" "250 2.1.5 <abuse@example.com>... Recipient ok" \
    "delay_checks = no: recipient"
session_end

# --- the end ------------------------------------------------------------------

m_stop
sm_stop main
left=$(sm_leftovers)
is "$left" "" "no sendmail process left"
for pid in $left; do
	kill -s KILL "$pid" 2>/dev/null
done

done_testing
