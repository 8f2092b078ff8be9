# tests/integration/lib/milter.sh - the real milter/redmilter for one test
# script (sourced; loads harness.sh).  Typically after start_redis
# (lib/redis.sh), whose REDIS_URL and REDIS_PASSWORD it uses.
#
#   start_milter [LINE...]
#       write $MILTER_DIR/redmilter.conf: socket, socket_mode 0666 (the
#       socket's directory is private; Postfix's smtpd connects as user
#       postfix), redis = $REDIS_URL (plus redis_password_file when
#       REDIS_PASSWORD is set), user = root as root (MILTER_USER below),
#       log_level debug (cache on, the default: a rule edited with
#       redis-cli applies once Redis has told the milter), then each LINE.  A LINE
#       "key = value" whose key is already there replaces that line (the
#       milter refuses a key set twice); other LINEs are appended.  Starts
#       "$TEST_PREFIX $REDMILTER -c FILE -f" in the background, stdout and
#       stderr to $MILTER_LOG (appended: the log of every start of this
#       script), registers its pid, and waits, polling for at most
#       MILTER_WAIT seconds, until it accepts connections on its socket.  A
#       milter that dies or never listens is a bail-out.
#   stop_milter
#       SIGTERM, wait (libmilter needs about 5 s to leave smfi_main), then
#       return 0 when it exited 0 and removed its unix socket; otherwise
#       diagnostics on stderr and 1 (after SIGKILL if it hung).  Use it as
#       `ok "milter stops cleanly" stop_milter`.  MILTER_RC: its status;
#       MILTER_SOCK_LEFT: 1 when it left its unix socket behind (which
#       stop_milter then removes), else 0, for a script that tests the two
#       apart.  Both are empty when no milter was running.
#   restart_milter [LINE...]
#       stop_milter (bail out if that fails), then start_milter LINE...
#   milter_log              print the log's path
#   milter_mark             remember the log's current end
#   milter_log_new          print the log since the last milter_mark
#   wait_milter_log ERE [SECONDS]
#                           poll (default 5 s) until a line since the last
#                           mark matches ERE; 1 if none did
#   milter_alive            whether the process still runs
#   rcpt_reply SOCKET FROM RCPT
#                           one transaction on a new connection through
#                           lib/milter_client.py (OPTNEG, CONNECT, HELO,
#                           MAIL FROM, RCPT, ABORT, QUIT): the RCPT reply as
#                           it prints it ("550 5.1.1 ...", "continue", ...)
#   m_setup                 choose the directory, the socket and the
#                           command prefix without starting anything (the
#                           first start_milter does it otherwise): for a
#                           script that needs MILTER_SOCKET or MILTER_DIR
#                           first, to configure an MTA
#
# Settings (environment, before start_milter):
#   MILTER_SOCKET_KIND  unix (default): unix:$MILTER_DIR/milter.sock;
#                       inet: inet:PORT@127.0.0.1 on a free loopback port
#   REDMILTER           the binary (default $TOP/milter/redmilter)
#   MILTER_USER         the `user` line of the configuration: root when
#                       this runs as root (the milter then stays root, as
#                       it does without `user` under -f, but says so in
#                       its configuration), none otherwise; set it empty
#                       for no `user` line as root.  A LINE "user = ..."
#                       replaces it.
# and one variable, set after sourcing this file and before m_setup or the
# first start_milter:
#   MILTER_DIR          the directory of the socket, the configuration and
#                       the log (default $H_TMP/milter, made reachable, mode
#                       0711 with $H_TMP, for Postfix's smtpd); a caller's
#                       directory is created if missing and otherwise left
#                       as it is (Sendmail wants a socket below no
#                       world-writable directory, so not below /tmp)
#
# After start_milter: MILTER_PID, MILTER_CONF, MILTER_LOG, MILTER_SOCKET
# (the libmilter spec), MILTER_SOCK_PATH (unix) or MILTER_PORT (inet), and
# MILTER_POSTFIX, the same socket as Postfix's smtpd_milters writes it
# (unix:/abs/path or inet:127.0.0.1:PORT).  The socket stays the same
# across restarts, so an MTA configured once keeps reaching the milter.
#
# The milter runs as $TEST_PREFIX says (MILTER_PREFIX).  Under valgrind it
# also gets --suppressions=$TOP/tests/valgrind.supp when TEST_PREFIX does
# not name that file already (`make valgrind` does): libmilter's own
# errors and its threads' blocks at exit are suppressed there, and only
# those, so that an exit status of 99 means an error of ours.

# shellcheck shell=bash source=harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

REDMILTER=${REDMILTER:-$TOP/milter/redmilter}
MILTER_SOCKET_KIND=${MILTER_SOCKET_KIND:-unix}
if [ "$(id -u)" -eq 0 ]; then
	MILTER_USER=${MILTER_USER-root}
else
	MILTER_USER=${MILTER_USER-}
fi
MILTER_PID=
MILTER_DIR=
MILTER_CONF=
MILTER_LOG=
MILTER_SOCKET=
MILTER_SOCK_PATH=
MILTER_PORT=
MILTER_POSTFIX=
MILTER_RC=
MILTER_MARK=0
MILTER_PREFIX=
MILTER_SOCK_LEFT=
M_SET_UP=
if [ -n "$TEST_PREFIX" ]; then
	MILTER_WAIT=${MILTER_WAIT:-75}
	MILTER_STOP_WAIT=${MILTER_STOP_WAIT:-60}
else
	MILTER_WAIT=${MILTER_WAIT:-15}
	MILTER_STOP_WAIT=${MILTER_STOP_WAIT:-20}
fi

milter_log() {
	echo "$MILTER_LOG"
}

milter_alive() {
	[ -n "$MILTER_PID" ] && kill -0 "$MILTER_PID" 2>/dev/null
}

rcpt_reply() {
	local t=10
	if [ -n "$TEST_PREFIX" ]; then
		t=50
	fi
	python3 "$TOP/tests/integration/lib/milter_client.py" -s "$1" -T "$t" \
	    run +optneg +connect client.test.example 4 40000 127.0.0.1 \
	    +helo client.test.example +mail "$2" +rcpt "$3" +abort +quit |
	    sed -n 's/^rcpt: //p'
}

# milter_log_tail [N] - the end of the log, for a diagnostic
milter_log_tail() {
	tail -n "${1:-25}" "$MILTER_LOG" 2>/dev/null | sed 's/^/milter log: /'
}

milter_mark() {
	MILTER_MARK=$(wc -l <"$MILTER_LOG" 2>/dev/null || echo 0)
	MILTER_MARK=${MILTER_MARK// /}
}

milter_log_new() {
	tail -n "+$((MILTER_MARK + 1))" "$MILTER_LOG" 2>/dev/null
}

# m_log_has ERE - a line since the mark matches ERE
m_log_has() {
	milter_log_new | grep -qE -e "$1"
}

# wait_milter_log ERE [SECONDS] - a line matching ERE since the mark
wait_milter_log() {
	wait_for "${2:-5}" m_log_has "$1"
}

# m_prefix - TEST_PREFIX, plus tests/valgrind.supp under valgrind
m_prefix() {
	local supp=$TOP/tests/valgrind.supp
	MILTER_PREFIX=$TEST_PREFIX
	case $TEST_PREFIX in
	*"--suppressions=$supp"*) ;;
	*valgrind*)
		[ -f "$supp" ] || bail_out "$supp is missing"
		MILTER_PREFIX="$TEST_PREFIX --suppressions=$supp"
		;;
	esac
}

# m_setup - the directory, and the socket (chosen once per script)
m_setup() {
	[ -n "$M_SET_UP" ] && return 0
	need_program "$REDMILTER"
	if [ -n "$MILTER_DIR" ]; then
		mkdir -p "$MILTER_DIR" || bail_out "cannot create $MILTER_DIR"
	else
		MILTER_DIR=$H_TMP/milter
		mkdir -p "$MILTER_DIR" || bail_out "cannot create $MILTER_DIR"
		# Postfix's smtpd (user postfix, not chrooted) must reach the
		# socket: search permission on the way, no listing.
		chmod 0711 "$H_TMP" "$MILTER_DIR"
	fi
	M_SET_UP=1
	MILTER_CONF=$MILTER_DIR/redmilter.conf
	MILTER_LOG=$MILTER_DIR/milter.log
	: >"$MILTER_LOG"
	case $MILTER_SOCKET_KIND in
	unix)
		MILTER_SOCK_PATH=$MILTER_DIR/milter.sock
		if [ ${#MILTER_SOCK_PATH} -gt 100 ]; then
			bail_out "unix socket path too long: $MILTER_SOCK_PATH (set TMPDIR shorter)"
		fi
		MILTER_SOCKET=unix:$MILTER_SOCK_PATH
		MILTER_POSTFIX=unix:$MILTER_SOCK_PATH
		;;
	inet)
		MILTER_PORT=$(free_port) || bail_out "no free loopback port"
		MILTER_SOCKET=inet:$MILTER_PORT@127.0.0.1
		MILTER_POSTFIX=inet:127.0.0.1:$MILTER_PORT
		;;
	*)
		bail_out "MILTER_SOCKET_KIND must be unix or inet, not '$MILTER_SOCKET_KIND'"
		;;
	esac
	m_prefix
	export MILTER_DIR MILTER_CONF MILTER_LOG MILTER_SOCKET MILTER_SOCK_PATH \
	    MILTER_PORT MILTER_POSTFIX
}

# m_write_conf LINE... - the defaults, each overridden by a LINE with the
# same key, then the other LINEs
m_write_conf() {
	local -a keys=() vals=()
	local line k i found
	m_conf_set() {
		local key=$1 val=$2 j
		for j in "${!keys[@]}"; do
			if [ "${keys[$j]}" = "$key" ]; then
				vals[j]=$val
				return 0
			fi
		done
		keys+=("$key")
		vals+=("$val")
	}
	m_conf_set socket "$MILTER_SOCKET"
	m_conf_set socket_mode 0666
	m_conf_set redis "${REDIS_URL:-redis://127.0.0.1:6379/0}"
	if [ -n "${REDIS_PASSWORD:-}" ]; then
		printf '%s\n' "$REDIS_PASSWORD" >"$MILTER_DIR/redis.password"
		chmod 0600 "$MILTER_DIR/redis.password"
		m_conf_set redis_password_file "$MILTER_DIR/redis.password"
	fi
	if [ -n "$MILTER_USER" ]; then
		m_conf_set user "$MILTER_USER"
	fi
	m_conf_set log_level debug
	{
		for line in "$@"; do
			if [[ $line =~ ^[[:space:]]*([a-z_]+)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
				k=${BASH_REMATCH[1]}
				found=0
				for i in "${!keys[@]}"; do
					[ "${keys[$i]}" = "$k" ] && found=1
				done
				if [ $found = 1 ]; then
					m_conf_set "$k" "${BASH_REMATCH[2]}"
					continue
				fi
			fi
			printf '%s\n' "$line"
		done >"$MILTER_CONF.extra"
		echo "# written by tests/integration/lib/milter.sh"
		for i in "${!keys[@]}"; do
			printf '%s = %s\n' "${keys[$i]}" "${vals[$i]}"
		done
		cat "$MILTER_CONF.extra"
	} >"$MILTER_CONF.new"
	rm -f "$MILTER_CONF.extra"
	mv "$MILTER_CONF.new" "$MILTER_CONF"
	unset -f m_conf_set
}

# m_accepting - the socket takes a connection
m_accepting() {
	case $MILTER_SOCKET_KIND in
	unix)
		[ -S "$MILTER_SOCK_PATH" ] || return 1
		python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.close()' "$MILTER_SOCK_PATH" 2>/dev/null
		;;
	inet)
		(exec 3<>"/dev/tcp/127.0.0.1/$MILTER_PORT") 2>/dev/null
		;;
	esac
}

start_milter() {
	local i st
	m_setup
	if milter_alive; then
		bail_out "start_milter: the milter (pid $MILTER_PID) is running already"
	fi
	m_write_conf "$@"
	echo "--- start_milter $(date '+%H:%M:%S')" >>"$MILTER_LOG"
	# shellcheck disable=SC2086 # MILTER_PREFIX is a command line
	spawn $MILTER_PREFIX "$REDMILTER" -c "$MILTER_CONF" -f \
	    >>"$MILTER_LOG" 2>&1 </dev/null
	MILTER_PID=$SPAWN_PID
	export MILTER_PID
	for ((i = 0; i < MILTER_WAIT * 20; i++)); do
		if ! milter_alive; then
			wait "$MILTER_PID"
			st=$?
			unregister_pid "$MILTER_PID"
			MILTER_PID=
			diag "configuration:"
			diag "$(sed 's/^/  /' "$MILTER_CONF")"
			diag "$(milter_log_tail)"
			bail_out "redmilter died at start (exit status $st)"
		fi
		if m_accepting; then
			milter_mark
			return 0
		fi
		sleep 0.05
	done
	diag "$(milter_log_tail)"
	bail_out "redmilter did not accept connections on $MILTER_SOCKET within $MILTER_WAIT s"
}

stop_milter() {
	local pid=$MILTER_PID i problems=()
	MILTER_RC=
	MILTER_SOCK_LEFT=
	if [ -z "$pid" ]; then
		diag "stop_milter: no milter running"
		return 1
	fi
	kill -s TERM "$pid" 2>/dev/null
	for ((i = 0; i < MILTER_STOP_WAIT * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		problems+=("still running $MILTER_STOP_WAIT s after SIGTERM: SIGKILL")
		kill -s KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	MILTER_RC=$?
	unregister_pid "$pid"
	MILTER_PID=
	MILTER_SOCK_LEFT=0
	if [ "$MILTER_RC" -ne 0 ]; then
		problems+=("exit status $MILTER_RC, want 0")
	fi
	if [ -n "$MILTER_SOCK_PATH" ] && [ -e "$MILTER_SOCK_PATH" ]; then
		# shellcheck disable=SC2034 # for the caller
		MILTER_SOCK_LEFT=1
		problems+=("its unix socket $MILTER_SOCK_PATH was left behind")
		rm -f "$MILTER_SOCK_PATH"
	fi
	if [ ${#problems[@]} -eq 0 ]; then
		return 0
	fi
	for i in "${problems[@]}"; do
		diag "redmilter pid $pid: $i"
	done
	diag "$(milter_log_tail 15)"
	return 1
}

restart_milter() {
	if milter_alive; then
		stop_milter || bail_out "the milter did not stop cleanly"
	fi
	start_milter "$@"
}
