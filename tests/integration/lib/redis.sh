# tests/integration/lib/redis.sh - a private redis-server for one test script
# (sourced; see harness.sh, which it loads).
#
#   start_redis [LINE...]   start Debian's /usr/bin/redis-server (a missing
#                           one is a failure) on a free 127.0.0.1 port and a
#                           unix socket in a private directory, no
#                           persistence; each LINE is appended to its
#                           redis.conf ("requirepass secret", "appendonly
#                           yes"...).  Waits, by polling PING for at most
#                           10 s, until it answers.  Exports REDIS_PORT,
#                           REDIS_SOCK, REDIS_PID, REDIS_URL
#                           (redis://127.0.0.1:PORT/0), REDIS_DIR and
#                           REDIS_PASSWORD (from a requirepass line, or empty)
#   stop_redis [SIGNAL]     signal it (TERM) and reap it
#   restart_redis           start it again with the same file, port and socket
#   rcli ARGS...            redis-cli on that Redis (authenticated; the
#                           password goes through REDISCLI_AUTH, not argv)
#   redis_alive             whether the process still runs
#
# One Redis per script: a second start_redis stops the first.

# shellcheck source=harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
REDIS_PID=
REDIS_PORT=
REDIS_PASSWORD=

# rcli ARGS... - redis-cli on our Redis
rcli() {
	if [ -n "$REDIS_PASSWORD" ]; then
		REDISCLI_AUTH=$REDIS_PASSWORD timeout -k 5 60 "$REDIS_CLI" \
		    -h 127.0.0.1 -p "$REDIS_PORT" "$@" </dev/null
	else
		timeout -k 5 60 "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" "$@" \
		    </dev/null
	fi
}

redis_alive() {
	[ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null
}

# redis_ready - PONG on TCP and the unix socket exists
redis_ready() {
	[ -S "$REDIS_SOCK" ] && [ "$(rcli ping 2>/dev/null)" = PONG ]
}

# redis_write_conf PORT - the configuration file, extra lines last so that
# they win over the defaults
redis_write_conf() {
	local l
	{
		echo "port $1"
		echo "bind 127.0.0.1"
		echo "unixsocket $REDIS_SOCK"
		echo "unixsocketperm 700"
		echo 'save ""'
		echo "appendonly no"
		echo "daemonize no"
		echo "dir $REDIS_DIR"
		echo "logfile $REDIS_DIR/redis.log"
		echo "pidfile $REDIS_DIR/redis.pid"
		for l in "${REDIS_EXTRA[@]}"; do
			printf '%s\n' "$l"
		done
	} >"$REDIS_DIR/redis.conf"
}

# redis_launch - start the server on the written configuration and wait for
# it; 0 ready, 1 it died, 2 it did not answer within 10 s
redis_launch() {
	local i
	spawn "$REDIS_SERVER" "$REDIS_DIR/redis.conf" >>"$REDIS_DIR/stdout" \
	    2>&1 </dev/null
	REDIS_PID=$SPAWN_PID
	export REDIS_PID
	for ((i = 0; i < 200; i++)); do
		if ! redis_alive; then
			wait "$REDIS_PID" 2>/dev/null
			unregister_pid "$REDIS_PID"
			REDIS_PID=
			return 1
		fi
		redis_ready && return 0
		sleep 0.05
	done
	return 2
}

# redis_log_tail - the end of the server's log, for a diagnostic
redis_log_tail() {
	tail -n 15 "$REDIS_DIR/redis.log" "$REDIS_DIR/stdout" 2>/dev/null
}

start_redis() {
	local attempt port l rc
	if [ ! -x "$REDIS_SERVER" ]; then
		bail_out "$REDIS_SERVER is missing: install the redis-server package (tests/deps.sh)"
	fi
	command -v "$REDIS_CLI" >/dev/null 2>&1 ||
	    bail_out "redis-cli is missing: install the redis-server package (tests/deps.sh)"
	if [ -n "$REDIS_PID" ]; then
		stop_redis TERM
	fi
	REDIS_EXTRA=("$@")
	REDIS_PASSWORD=
	for l in "$@"; do
		case $l in
		requirepass\ *) REDIS_PASSWORD=${l#requirepass } ;;
		esac
	done
	REDIS_DIR=$(mktemp -d "$H_TMP/redis.XXXXXX") ||
	    bail_out "cannot create a directory for redis"
	REDIS_SOCK=$REDIS_DIR/redis.sock
	if [ ${#REDIS_SOCK} -gt 100 ]; then
		bail_out "unix socket path too long for redis: $REDIS_SOCK (set TMPDIR shorter)"
	fi
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port=$(free_port) || bail_out "no free loopback port found"
		REDIS_PORT=$port
		redis_write_conf "$port"
		redis_launch
		rc=$?
		if [ $rc -eq 0 ]; then
			REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
			export REDIS_PORT REDIS_SOCK REDIS_URL REDIS_DIR \
			    REDIS_PASSWORD
			return 0
		fi
		if [ $rc -eq 1 ] &&
		    grep -qi 'address already in use' "$REDIS_DIR/redis.log" \
		    "$REDIS_DIR/stdout" 2>/dev/null; then
			: >"$REDIS_DIR/redis.log"
			continue # lost the race for the port: another one
		fi
		diag "$(redis_log_tail)"
		bail_out "redis-server did not start (attempt $attempt)"
	done
	bail_out "redis-server found no free port in 5 attempts"
}

# stop_redis [SIGNAL] - stop it (SIGTERM by default; KILL for a crash)
stop_redis() {
	if [ -n "$REDIS_PID" ]; then
		kill_wait "$REDIS_PID" "${1:-TERM}"
		REDIS_PID=
	fi
	# A killed server leaves its socket file behind.
	rm -f "$REDIS_SOCK"
}

# restart_redis - the same configuration, port and socket again
restart_redis() {
	if [ -n "$REDIS_PID" ]; then
		stop_redis TERM
	fi
	if ! redis_launch; then
		diag "$(redis_log_tail)"
		bail_out "redis-server did not restart on port $REDIS_PORT"
	fi
}

# run_check_program NAME - tests/integration/NAME.c's Check program
# against a server started here (REDIS_URL, REDIS_SOCK and REDIS_PID in
# its environment), its test cases printed as TAP lines; exits with the
# program's status (store_redis.sh, counter.sh)
run_check_program() {
	local bin=$TOP/${BUILDDIR:-build/cc-std}/tests/integration/$1
	local tap=$H_TMP/$1.tap rc
	[ -x "$bin" ] || bail_out "$bin is missing: make build-tests"
	start_redis
	# shellcheck disable=SC2086
	REDIS_URL=$REDIS_URL REDIS_SOCK=$REDIS_SOCK REDIS_PID=$REDIS_PID \
	    CK_TAP_LOG_FILE_NAME=$tap timeout -k 5 600 $TEST_PREFIX "$bin" \
	    >"$H_TMP/out" 2>&1
	rc=$?
	if [ -s "$tap" ]; then
		grep -E '^(not )?ok ' "$tap"
	else
		echo "not ok 1 - $1 produced no TAP (exit $rc)"
	fi
	if [ $rc -ne 0 ]; then
		cat "$H_TMP/out" >&2
	fi
	H_DONE=1 # the TAP lines above are the results
	exit $rc
}
