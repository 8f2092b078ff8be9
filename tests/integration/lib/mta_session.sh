#!/bin/bash
# tests/integration/lib/mta_session.sh - the helpers of the tests that
# send mail through the private Postfix to the milter (limits.sh,
# greylist.sh): redmilterctl on the test's Redis, waiting for the milter
# to hear of an edit, one SMTP session and its transcript compared with
# the one wanted, the milter's log, a reload.
#
# Needs lib/redis.sh, lib/milter.sh and lib/postfix.sh sourced first, and
# REDMILTERCTL, MC (lib/milter_client.py), slow (1, or more under
# valgrind), RATE and MANY (the limits' default replies) set.
#
# start_second_milter - one more milter, as the first is configured but on
# a socket of its own (M2_SOCK), on the same Redis: M2_PID, M2_DIR

# --- the SMTP client --------------------------------------------------------

# lib/smtp.py's output, plus what these tests need: a source address, a
# pause between the last RCPT and DATA (--gate), a transaction aborted
# before DATA, and the timed runs of the sliding-window and concurrency
# tests, which judge themselves from the clients' clocks.
LSMTP=$TOP/tests/integration/lib/limits_smtp.py

# --- helpers ----------------------------------------------------------------

# ctl ARGS... - redmilterctl on our Redis; a failure is a bail-out (the
# rules are the tests' premise, not their subject)
ctl() {
	run_prog "$REDMILTERCTL" -r "$REDIS_URL" "$@"
	if [ "$RC" -ne 0 ]; then
		diag "$OUT" "$ERR"
		bail_out "redmilterctl $* failed (exit status $RC)"
	fi
}

# limit SUBJECT:KEY VALUE - store a limit rule (the value as words, as an
# administrator types it)
limit() {
	local -a words
	read -ra words <<<"$2"
	ctl add limit "$1" "${words[@]}"
}

unlimit() {
	ctl del limit "$1"
}

# sync_rules [SOCKET...] - wait until the milter (or each milter on
# SOCKET) has heard of every edit made so far: Redis reports edits in the
# order they were made, so once a canary rule written now is obeyed, the
# edits before it are known too
SYNC_N=0
sync_rules() {
	local s canary
	SYNC_N=$((SYNC_N + 1))
	canary=sync$SYNC_N@sync.example
	rcli SET "redmilter:recipient:$canary" "REJECT sync $SYNC_N" >/dev/null
	for s in "${@:-$MILTER_SOCKET}"; do
		run python3 "$MC" -s "$s" -T $((10 * slow)) poll \
		    --want "550 5.7.1 sync $SYNC_N" --rcpt "<$canary>" \
		    --max $((5 * slow))
		[ "$RC" -eq 0 ] ||
		    bail_out "the milter on $s did not obey a new rule within $((5 * slow)) s: $OUT"
	done
	rcli DEL "redmilter:recipient:$canary" >/dev/null
}

# send [-S SOURCE] [-a USER:PASS] -f FROM -t RCPT... - one SMTP session;
# T is its transcript without the AUTH line (a failed AUTH bails out: the
# login is the premise)
send() {
	SMTP_OUT=$(timeout -k 5 "$RUN_TIMEOUT" python3 "$LSMTP" one \
	    -p "$PF_PORT" "$@" 2>&1)
	if [[ $SMTP_OUT == *$'\nC: AUTH '* ]] &&
	    [[ $SMTP_OUT != *$'\nS: 235 '* ]]; then
		diag "$SMTP_OUT"
		bail_out "SMTP AUTH failed: $*"
	fi
	T=$(smtp_transcript | grep -v '^AUTH ')
}

# want FROM RCPT=REPLY... - the transcript of a session from FROM: each RCPT
# answered REPLY ("ok" for 250 2.1.5 Ok, "rate" and "many" for the limits'
# default replies), then DATA and the message when one was accepted
want() {
	local from=$1 r reply any=0
	shift
	printf 'MAIL FROM:<%s> => 250 2.1.0 Ok\n' "$from"
	for r in "$@"; do
		reply=${r#*=}
		case $reply in
		ok)
			reply='250 2.1.5 Ok'
			any=1
			;;
		rate) reply=$RATE ;;
		many) reply=$MANY ;;
		esac
		printf 'RCPT TO:<%s> => %s\n' "${r%%=*}" "$reply"
	done
	if [ $any = 1 ]; then
		printf 'DATA => 354 End data with <CR><LF>.<CR><LF>\n'
		printf '<message> => 250 2.0.0 Ok: queued as QID\n'
	fi
}

# session DESC WANT-ARGS -- SEND-ARGS - one session and one test: its
# transcript is want WANT-ARGS
session() {
	local desc=$1 w=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		w+=("$1")
		shift
	done
	shift
	send "$@"
	is "$T" "$(want "${w[@]}")" "$desc"
}

# logged ERE DESC - one test: a line of the milter's log since the last
# milter_mark matches ERE (polled: the log is written after the reply)
logged() {
	if wait_milter_log "$1" $((5 * slow)); then
		pass "$2"
		return 0
	fi
	fail "$2" "no milter log line since the mark matches /$1/" \
	    "$(milter_log_new | tail -n 12 | sed 's/^/milter log: /')"
	return 1
}

# ctl_is DESC WANT-OUTPUT ARGS... - redmilterctl ARGS exits 0 and prints
# exactly WANT-OUTPUT
ctl_is() {
	local desc=$1 want=$2
	shift 2
	run_prog "$REDMILTERCTL" -r "$REDIS_URL" "$@"
	is "exit $RC
$OUT" "exit 0
$want" "$desc"
}

# reload LINE... - the milter's configuration rewritten (LINEs over the
# defaults), SIGUSR1, and its "reload: ... read" line awaited
reload() {
	milter_mark
	m_write_conf "$@"
	kill -s USR1 "$MILTER_PID"
	wait_milter_log 'reload: .* read' $((10 * slow)) ||
	    bail_out "the milter did not log its reload: $(milter_log_tail 5)"
}


start_second_milter() {
	M2_DIR=$H_TMP/m2
	mkdir -p "$M2_DIR"
	chmod 0711 "$M2_DIR"
	M2_SOCK=unix:$M2_DIR/milter.sock
	sed "s|^socket = .*|socket = $M2_SOCK|" "$MILTER_CONF" >"$M2_DIR/redmilter.conf"
	# shellcheck disable=SC2086 # MILTER_PREFIX is a command line
	spawn $MILTER_PREFIX "$REDMILTER" -c "$M2_DIR/redmilter.conf" -f \
	    >"$M2_DIR/milter.log" 2>&1 </dev/null
	M2_PID=$SPAWN_PID
	wait_for $((MILTER_WAIT)) test -S "$M2_DIR/milter.sock" ||
	    bail_out "the second milter did not create its socket: $(tail -n 5 "$M2_DIR/milter.log")"
}
