#!/bin/bash
# contrib/demo.sh - try redmilter with a real Postfix, on this machine only
# (`make demo` runs it).
#
# Installs what it needs (tests/deps.sh), builds (make all), then starts,
# all private and on loopback only:
#   - a redis-server on a free 127.0.0.1 port, loaded with
#     contrib/rules.example (plus two auth rules for the demo's SASL realm),
#   - milter/redmilter on a unix socket in a temporary directory,
#   - a Postfix instance of its own (config, queue and log in that
#     directory; every message is finally thrown away by discard(8), nothing
#     leaves the machine) with smtpd on 127.0.0.1:PORT and SMTP AUTH for the
#     users alice and mallory (password "secret"),
# prints swaks commands to send test mail and the replies to expect, shows
# the milter's decisions as they happen, and waits.  Ctrl-C (or SIGTERM)
# stops Postfix, the milter and Redis and removes the temporary directory.
#
# Must run as root: Postfix is started with `postfix start`.  The host's own
# Postfix (/etc/postfix) is neither used nor touched.
#
# Environment: DEMO_PORT  the SMTP port (default: a free one)
#              TMPDIR     where the temporary directory goes (default /tmp)

set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must run as root: it starts a private Postfix instance" \
	    "(postfix start needs root); try: sudo make demo" >&2
	exit 1
fi

echo "demo: checking the Debian packages (tests/deps.sh)"
bash tests/deps.sh || exit 1
echo "demo: building (make all)"
${MAKE:-make} --no-print-directory all || exit 1

RULES=$top/contrib/rules.example
if [ ! -f "$RULES" ]; then
	echo "demo: $RULES is missing" >&2
	exit 1
fi

TOP=$top
REDMILTER=$top/milter/redmilter
REDMILTERCTL=$top/policy/redmilterctl
export TOP REDMILTER REDMILTERCTL
# shellcheck source=../tests/integration/lib/redis.sh
. "$top/tests/integration/lib/redis.sh"
# shellcheck source=../tests/integration/lib/milter.sh
. "$top/tests/integration/lib/milter.sh"
# shellcheck source=../tests/integration/lib/postfix.sh
. "$top/tests/integration/lib/postfix.sh"
# No test here: leaving is a success unless something failed.
# shellcheck disable=SC2034 # read by harness.sh's exit trap
H_DONE=1

TAIL_PID=

# demo_stop - stop everything we started, in order, saying so
demo_stop() {
	trap '' INT TERM
	echo
	if [ -n "$TAIL_PID" ]; then
		kill_wait "$TAIL_PID" TERM
		TAIL_PID=
	fi
	echo "demo: stopping Postfix"
	stop_postfix || echo "demo: Postfix did not stop cleanly"
	echo "demo: stopping the milter (libmilter takes a few seconds)"
	if milter_alive; then
		stop_milter || echo "demo: the milter did not stop cleanly"
	fi
	echo "demo: stopping Redis"
	stop_redis
	echo "demo: removing $H_TMP"
}

trap 'demo_stop; exit 0' INT TERM

start_redis
run "$REDMILTERCTL" -r "$REDIS_URL" import "$RULES"
if [ "$RC" -ne 0 ]; then
	echo "$ERR" >&2
	bail_out "redmilterctl import $RULES failed"
fi
# The demo's SASL logins reach the milter as USER@mx.test.example (Cyrus
# SASL appends the realm): the example's alice and mallory, in that form,
# and an outbound limit for the realm small enough to meet by hand.
printf '%s\n' \
    'auth alice@mx.test.example OK' \
    'auth mallory@mx.test.example HOLD compromised account, held for review' \
    'limit auth:@mx.test.example 3 msgs/1m, 5 rcpts/msg' \
    >"$H_TMP/demo.rules"
run "$REDMILTERCTL" -r "$REDIS_URL" import "$H_TMP/demo.rules"
[ "$RC" -eq 0 ] || bail_out "redmilterctl import of the demo's auth rules failed: $ERR"
nrules=$("$REDMILTERCTL" -r "$REDIS_URL" list | wc -l)

start_milter "log_level = info"
pf_sasl_user alice secret
pf_sasl_user mallory secret
# shellcheck disable=SC2034 # read by start_postfix
PF_FIXED_PORT=${DEMO_PORT:-}
start_postfix

P=$PF_PORT
S="swaks --server 127.0.0.1:$P"
cat <<EOF

==============================================================================
 redmilter demo: Postfix on 127.0.0.1:$P -> redmilter -> Redis on 127.0.0.1:$REDIS_PORT
==============================================================================
 Redis       $REDIS_URL, $nrules rules from contrib/rules.example (+2 auth, +1 limit)
 redmilter   pid $MILTER_PID, $MILTER_SOCKET
             config $MILTER_CONF
             log    $MILTER_LOG (shown below as it grows)
 Postfix     $PF_NAME, master pid $PF_MASTER_PID, config $PF_CONF
             log    $PF_LOG
             every accepted message is delivered to discard(8): nothing
             leaves this machine.  SASL users alice and mallory, password
             "secret".  The client is 127.0.0.1, which no client rule names.

 Send test mail from another terminal.  swaks prints the whole dialogue:
 "->" marks what it sends, "<-" the server's positive replies and "<**" its
 rejections.  The replies to expect:

 1. A full mailbox, a gone user (catalogue text) and a normal recipient:
    $S --from someone@sender.example --to bob@example.com,old-list@example.com,info@example.com
      RCPT TO:<bob@example.com>       -> 552 5.2.2 Mailbox full
      RCPT TO:<old-list@example.com>  -> 550 5.1.1 Mailbox not found
      RCPT TO:<info@example.com>      -> 250 2.1.5 Ok  (the message goes to info@ only)

 2. A multi-line reply:
    $S --from someone@sender.example --to carol@example.com
      550-5.1.1 Carol has left the company
      550 5.1.1 Please write to office #2 at info@example.com

 3. A blocked sender still reaches abuse@ (recipient OK beats sender REJECT):
    $S --from bulk@spammer.example --to abuse@example.com,info@example.com
      RCPT TO:<abuse@example.com>  -> 250 2.1.5 Ok
      RCPT TO:<info@example.com>   -> 550 5.7.1 Go away

 4. A HELO rule (checked at RCPT TO: delay_checks = yes):
    $S --helo mail.example.com --from someone@sender.example --to info@example.com
      RCPT TO:<info@example.com>  -> 550 5.7.1 You are not mail.example.com

 5. No bounces to noreply@ (a pair rule):
    $S --from '<>' --to noreply@example.com
      RCPT TO:<noreply@example.com>  -> 550 5.7.1 This address does not accept bounces

 6. A partner (sender OK) may not write to the board (pair rule), but to bob
    the recipient rule still answers:
    $S --from ceo@partner.example --to board@example.com,bob@example.com,info@example.com
      RCPT TO:<board@example.com>  -> 550 5.7.1 Please write to info@example.com
      RCPT TO:<bob@example.com>    -> 552 5.2.2 Mailbox full
      RCPT TO:<info@example.com>   -> 250 2.1.5 Ok

 7. DISCARD: accepted, then dropped (the milter log says why; Postfix's log
    shows "milter-discard" for the newsletter, and no delivery to trap@):
    $S --from news@bulk.example --to info@example.com
    $S --from someone@sender.example --to trap@example.com,info@example.com

 8. SASL: alice may send as anyone (auth OK beats the sender REJECT);
    mallory's mail is put on hold:
    $S --auth PLAIN --auth-user alice --auth-password secret --from bulk@spammer.example --to info@example.com
      RCPT TO:<info@example.com>  -> 250 2.1.5 Ok
    $S --auth PLAIN --auth-user mallory --auth-password secret --from mallory@example.net --to info@example.com
      accepted (250), then:  postqueue -c $PF_CONF -p   shows it with a '!'

 9. An outbound limit: every login of the demo's realm may send 3 messages
    in any minute and 5 recipients a message (limit auth:@mx.test.example);
    the OK rule for alice does not lift it.  Send this four times:
    $S --auth PLAIN --auth-user alice --auth-password secret --from alice@example.com --to info@example.com
      the fourth:  RCPT TO:<info@example.com>  -> 450 4.7.1 Rate limit exceeded, try again later
    $REDMILTERCTL -r $REDIS_URL usage auth alice@mx.test.example
    $REDMILTERCTL -r $REDIS_URL reset auth alice@mx.test.example

10. Edit rules live, no restart, no reload:
    redis-cli -p $REDIS_PORT SET redmilter:recipient:info@example.com 'REJECT Not today'
    $S --from someone@sender.example --to info@example.com
      RCPT TO:<info@example.com>  -> 550 5.7.1 Not today
    redis-cli -p $REDIS_PORT SET redmilter:recipient:temp@example.com '450 4.2.1 Back in a minute' EX 60
    $REDMILTERCTL -r $REDIS_URL list recipient
    $REDMILTERCTL -r $REDIS_URL check -f bulk@spammer.example -r abuse@example.com -r info@example.com
    $REDMILTERCTL -r $REDIS_URL del recipient info@example.com

 Press Ctrl-C to stop Postfix, the milter and Redis.
==============================================================================

EOF

spawn tail -n +1 -f "$MILTER_LOG"
TAIL_PID=$SPAWN_PID

while :; do
	sleep 1 &
	wait $! 2>/dev/null
	if ! milter_alive; then
		echo "demo: the milter exited; see $MILTER_LOG" >&2
		demo_stop
		exit 1
	fi
	if ! redis_alive; then
		echo "demo: redis-server exited" >&2
		demo_stop
		exit 1
	fi
	if ! kill -0 "$PF_MASTER_PID" 2>/dev/null; then
		echo "demo: the Postfix master exited; see $PF_LOG" >&2
		PF_MASTER_PID=
		demo_stop
		exit 1
	fi
done
