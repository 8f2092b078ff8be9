#!/bin/bash
# lifecycle.sh - how the milter stops (RELIABILITY.md, item 9).
#
# redmilter(8): "SIGTERM, SIGINT and SIGHUP stop it; it then removes its
# unix socket and pidfile".  For each of the three signals, a milter
# started in the foreground (-f) with a pidfile:
#
#   - the pidfile holds its pid while it runs;
#   - after the signal it exits with status 0 within STOP_BOUND seconds
#     (5, the time redmilter(8) gives; x10 under TEST_PREFIX), its unix socket and its pidfile gone.
#
# Each signal once more, as soon as the socket answers (before smfi_main()
# runs): exit status 0, and the signal taken by the main thread, not by
# libmilter's own signal thread.
#
# As root, once more in the background (no -f) as `user = nobody`, in a
# directory nobody may write: the pidfile holds the daemon's pid (not the
# parent's), and SIGTERM removes the socket and the pidfile there too.
#
# Start-up failures, in the background (no -f; as root with user =
# nobody): an unknown user, a socket that cannot be opened.  Each exits
# with its status (67 EX_NOUSER, 69 EX_UNAVAILABLE) and says why on
# standard error, since it has not detached yet (RELIABILITY.md, section 6).
#
# By hand:  make all build-tests && bash tests/integration/lifecycle.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MC=$TOP/tests/integration/lib/milter_client.py
need_program "$REDMILTER" python3
STOP_BOUND=5
if [ -n "$TEST_PREFIX" ]; then
	STOP_BOUND=50
fi

start_redis
rcli SET redmilter:recipient:blocked@example.com "REJECT Blocked" >/dev/null
m_setup
PIDFILE=$MILTER_DIR/redmilter.pid

# probe - the RCPT reply to a recipient with a rule
probe() {
	python3 "$MC" -s "$MILTER_SOCKET" -T 10 run +optneg \
	    +connect c.test 4 40000 127.0.0.1 +helo c.test \
	    +mail '<a@example.net>' +rcpt '<blocked@example.com>' +quit |
	    sed -n 's/^rcpt: //p'
}

# pidfile_is PID - the pidfile holds PID and a newline, nothing else
pidfile_is() {
	[ -f "$PIDFILE" ] && [ "$(cat "$PIDFILE")" = "$1" ] &&
	    [ "$(wc -l <"$PIDFILE")" = 1 ]
}

# signal_stop SIG - send SIG to the foreground milter, wait at most
# STOP_BOUND s for it; STOP_RC its status (or "hung"), STOP_MS the time
signal_stop() {
	local pid=$MILTER_PID t0 i
	t0=$(date +%s%N)
	kill -s "$1" "$pid"
	for ((i = 0; i < STOP_BOUND * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	STOP_MS=$((($(date +%s%N) - t0) / 1000000))
	if kill -0 "$pid" 2>/dev/null; then
		kill -s KILL "$pid"
		wait "$pid" 2>/dev/null
		STOP_RC=hung
	else
		wait "$pid"
		STOP_RC=$?
	fi
	unregister_pid "$pid"
	MILTER_PID=
}

# one_signal SIG - the whole check of the milter stopped by SIG
one_signal() {
	local sig=$1
	rm -f "$PIDFILE"
	start_milter "pidfile = $PIDFILE"
	ok "SIG$sig: the pidfile holds the milter's pid while it runs" \
	    wait_for 5 pidfile_is "$MILTER_PID" ||
	    diag "pidfile: $(cat "$PIDFILE" 2>&1), pid $MILTER_PID"
	is "$(probe)" "550 5.7.1 Blocked" "SIG$sig: the milter answers first"
	signal_stop "$sig"
	note "SIG$sig: stopped after $STOP_MS ms"
	is "$STOP_RC" 0 "SIG$sig: it exits with status 0 within $STOP_BOUND s" ||
	    diag "$(milter_log_tail 10)"
	ok "SIG$sig: its unix socket is removed" test ! -e "$MILTER_SOCK_PATH"
	ok "SIG$sig: its pidfile is removed" test ! -e "$PIDFILE"
	rm -f "$MILTER_SOCK_PATH" "$PIDFILE"
}

for s in TERM INT HUP; do
	one_signal "$s"
done

# --- a signal as soon as the socket answers ---------------------------------
# The socket answers before smfi_main() runs, and libmilter's own signal
# thread waits for the same signals as the main thread: one that takes a
# signal sent then stops libmilter up to 5 s later, and with a failure
# (exit 70) when the listening socket is closed under it as it starts
# (RELIABILITY.md, section 8).  Each signal must be the main thread's.

# early_stops SIG N - N milters stopped by SIG as soon as the socket
# answers: the exit statuses that are not 0, and the stops not logged as
# the signal's, counted in EARLY_BAD and EARLY_STOLEN
early_stops() {
	local i num
	num=$(kill -l "$1")
	EARLY_BAD=0 EARLY_STOLEN=0
	for ((i = 0; i < $2; i++)); do
		start_milter
		signal_stop "$1"
		if [ "$STOP_RC" != 0 ]; then
			EARLY_BAD=$((EARLY_BAD + 1))
			diag "SIG$1 at start, $((i + 1)): exit status $STOP_RC"
		fi
		if ! milter_log_new | grep -q "redmilter stopping (signal $num)"; then
			EARLY_STOLEN=$((EARLY_STOLEN + 1))
			diag "SIG$1 at start, $((i + 1)): $(milter_log_new | grep stopping)"
		fi
		rm -f "$MILTER_SOCK_PATH"
	done
}

early_stops TERM 10
is "$EARLY_BAD" 0 "SIGTERM at start, 10 times: exit status 0 each time"
is "$EARLY_STOLEN" 0 "SIGTERM at start: each taken by the main thread"
early_stops INT 5
is "$EARLY_BAD" 0 "SIGINT at start, 5 times: exit status 0 each time"
is "$EARLY_STOLEN" 0 "SIGINT at start: each taken by the main thread"

# --- in the background, as nobody ------------------------------------------

# daemon_pid - the pid in the pidfile, when that process runs
daemon_pid() {
	local p
	p=$(cat "$PIDFILE" 2>/dev/null) && [[ $p =~ ^[0-9]+$ ]] &&
	    kill -0 "$p" 2>/dev/null && echo "$p"
}

# daemon_gone PID - PID no longer runs
daemon_gone() {
	! kill -0 "$1" 2>/dev/null
}

if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	bgdir=$H_TMP/bg
	mkdir -p "$bgdir"
	chown nobody "$bgdir"
	chmod 0755 "$bgdir"
	PIDFILE=$bgdir/redmilter.pid
	printf '%s\n' "socket = unix:$bgdir/milter.sock" "socket_mode = 0666" \
	    "redis = $REDIS_URL" "user = nobody" "pidfile = $PIDFILE" \
	    "log_level = debug" >"$bgdir/redmilter.conf"
	# shellcheck disable=SC2086 # MILTER_PREFIX is a command line
	run $MILTER_PREFIX "$REDMILTER" -c "$bgdir/redmilter.conf"
	is "$RC" 0 "background: the parent exits 0" || diag "$ERR"
	wait_for 10 daemon_pid >/dev/null
	dpid=$(daemon_pid)
	if [ -n "$dpid" ]; then
		pass "background: the pidfile holds the running daemon's pid ($dpid)"
		MILTER_SOCKET=unix:$bgdir/milter.sock
		is "$(probe)" "550 5.7.1 Blocked" "background: the daemon answers"
		kill -s TERM "$dpid"
		ok "background: SIGTERM stops it within $STOP_BOUND s" \
		    wait_for "$STOP_BOUND" daemon_gone "$dpid"
		ok "background (as nobody): its unix socket is removed" \
		    test ! -e "$bgdir/milter.sock"
		ok "background (as nobody): its pidfile is removed" \
		    test ! -e "$PIDFILE"
	else
		fail "background: the pidfile holds the running daemon's pid" \
		    "pidfile: $(cat "$PIDFILE" 2>&1)"
	fi
	[ -n "$dpid" ] && kill -s KILL "$dpid" 2>/dev/null
else
	note "not root (or no user nobody): the background run as nobody is skipped"
fi

# --- start-up failures, in the background -----------------------------------

faildir=$H_TMP/fail
mkdir -p "$faildir"
user_line=
if [ "$(id -u)" -eq 0 ]; then
	user_line="user = nobody"
fi
printf '%s\n' "socket = unix:$faildir/milter.sock" "redis = $REDIS_URL" \
    "user = no-such-user-$$" >"$faildir/nouser.conf"
expect_exit 67 "start-up: an unknown user: exit status 67 (EX_NOUSER)" -- \
    "$REDMILTER" -c "$faildir/nouser.conf"
like "$ERR" "^redmilter: [^"$'\n'"]*no-such-user-$$" \
    "start-up: ...saying why on standard error"
printf '%s\n' "socket = unix:$faildir/no-such-dir/milter.sock" \
    "redis = $REDIS_URL" "$user_line" >"$faildir/nosock.conf"
expect_exit 69 "start-up: a socket that cannot be opened: exit status 69 (EX_UNAVAILABLE)" -- \
    "$REDMILTER" -c "$faildir/nosock.conf"
like "$ERR" "^redmilter: cannot open milter socket" \
    "start-up: ...saying why on standard error"

done_testing
