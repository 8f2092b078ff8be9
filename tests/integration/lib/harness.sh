# tests/integration/lib/harness.sh - TAP output, cleanup and program runner
# shared by the integration scripts.  Sourced, never run: tests/run executes
# every tests/integration/*.sh, so the libraries live in lib/.
#
#   . "$TOP/tests/integration/lib/harness.sh"
#
# Environment (tests/run sets it; defaults make a script runnable by hand):
#   TOP           repository root (default: two levels above this file)
#   TEST_PREFIX   command put before our programs (valgrind ...), never before
#                 redis-server, redis-cli or other tools
#   RUN_TIMEOUT   seconds one program may run (default 120, x5 with a prefix)
#
# After sourcing:
#   H_TMP                 a private temporary directory, removed at exit
#   spawn CMD...          start CMD in the background; SPAWN_PID, killed
#                         at exit
#   register_pid PID      kill PID at exit (TERM, then KILL after 5 s)
#   unregister_pid PID    forget it (after it was stopped and waited for)
#   register_dir DIR      remove DIR at exit
#   kill_wait PID [SIG]   send SIG (TERM), wait at most 10 s, then KILL
#
# TAP (results on stdout, failure diagnostics on stderr as Test::More does,
# since tests/run shows a failing script's stderr):
#   plan N                print "1..N" first (else done_testing prints it)
#   pass DESC / fail DESC [DIAG...]
#   ok DESC CMD...        passes when CMD exits 0
#   is GOT WANT DESC      exact comparison; prints "# got"/"# want" lines
#   isnt GOT UNWANTED DESC
#   like GOT ERE DESC / unlike GOT ERE DESC
#   note MSG              "# MSG" on stdout (timings and the like)
#   diag MSG              "# MSG" on stderr
#   bail_out REASON       a failed test, "Bail out!", exit 1 (a missing tool
#                         is a failure, never a skip)
#   done_testing          prints the plan if none was given; exit 1 if a test
#                         failed or the count differs from the plan
#
# Running programs (bounded by timeout(1); stdin is the caller's):
#   run CMD...            a tool, no prefix; sets OUT, ERR (text, final
#                         newline stripped like $(...)) and RC, and OUT_FILE
#                         and ERR_FILE (the same, kept until the next run)
#   run_prog CMD...       the same with $TEST_PREFIX in front: for our own
#                         programs.  Valgrind's "==PID==" lines are moved out
#                         of ERR into $H_TMP/valgrind.log
#   expect_exit CODE DESC -- CMD...
#                         run_prog CMD, then one test: exit status is CODE
#                         (OUT, ERR, RC stay set for further checks)
#   time_prog CMD...      run_prog, measured: TIMING="1.23 s, 4567 KB"
#   spawn_prog NAME CMD...  our program in the background, with the prefix
#   reap_prog PID NAME    wait for it: RC, OUT, ERR

if [ -n "${H_HARNESS_LOADED:-}" ]; then
	return 0
fi
H_HARNESS_LOADED=1

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
TEST_PREFIX=${TEST_PREFIX:-}
if [ -z "${RUN_TIMEOUT:-}" ]; then
	RUN_TIMEOUT=120
	if [ -n "$TEST_PREFIX" ]; then
		RUN_TIMEOUT=600
	fi
fi
export TOP TEST_PREFIX

H_TMP=$(mktemp -d "${TMPDIR:-/tmp}/redmilter-it.XXXXXX") || {
	echo "Bail out! mktemp -d failed"
	exit 1
}
H_PIDS=()
H_MAIN_PID=$BASHPID
H_DIRS=("$H_TMP")
H_TESTS=0
H_FAILED=0
H_PLAN=
H_DONE=

# spawn CMD... - start CMD in the background (the caller's redirections
# apply), as its own process, not under a copy of this shell; sets SPAWN_PID
# and kills it at exit.  Use it rather than "CMD &": a bare "&" subshell
# inherits the EXIT trap, and killing it would leave CMD running.
spawn() {
	(
		trap - EXIT INT TERM
		exec "$@"
	) &
	SPAWN_PID=$!
	register_pid "$SPAWN_PID"
}

# register_pid PID - kill PID when the script exits
register_pid() {
	H_PIDS+=("$1")
}

# unregister_pid PID - PID is gone: do not kill it (or a recycled pid) later
unregister_pid() {
	local i
	for i in "${!H_PIDS[@]}"; do
		if [ "${H_PIDS[$i]}" = "$1" ]; then
			unset 'H_PIDS[i]'
		fi
	done
}

# register_dir DIR - remove DIR when the script exits
register_dir() {
	H_DIRS+=("$1")
}

# kill_wait PID [SIGNAL] - signal PID (a child of this shell) and reap it,
# escalating to SIGKILL after 10 s; returns the child's wait status
kill_wait() {
	local pid=$1 sig=${2:-TERM} i rc
	# bash reaps its children as they exit, so kill -0 fails once it is
	# gone.  stderr is closed over all of it, for bash's "Killed" notice.
	{
		kill -s "$sig" "$pid"
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" || break
			sleep 0.1
		done
		kill -s KILL "$pid"
		wait "$pid"
		rc=$?
	} 2>/dev/null
	unregister_pid "$pid"
	return $rc
}

# h_cleanup - the EXIT trap: stop what we started, remove what we made
h_cleanup() {
	local rc=$? pid d
	# Subshells forked from here ($(ps ...)) must not run this again.
	trap - EXIT
	if [ "$BASHPID" != "$H_MAIN_PID" ]; then
		exit "$rc"
	fi
	for pid in "${H_PIDS[@]}"; do
		kill -s TERM "$pid" 2>/dev/null
	done
	for pid in "${H_PIDS[@]}"; do
		kill_wait "$pid" TERM
	done
	for d in "${H_DIRS[@]}"; do
		rm -rf "$d"
	done
	if [ -z "$H_DONE" ] && [ "$rc" -eq 0 ]; then
		rc=1
	fi
	exit "$rc"
}
trap h_cleanup EXIT
trap 'echo "# interrupted" >&2; exit 130' INT
trap 'echo "# terminated" >&2; exit 143' TERM

# --- TAP ------------------------------------------------------------------

plan() {
	H_PLAN=$1
	echo "1..$1"
}

note() {
	local l
	while IFS= read -r l; do
		echo "# $l"
	done <<<"$*"
}

diag() {
	local l
	while IFS= read -r l; do
		echo "# $l" >&2
	done <<<"$*"
}

pass() {
	H_TESTS=$((H_TESTS + 1))
	echo "ok $H_TESTS - $1"
}

# fail DESC [DIAG...] - a failed test; each DIAG goes to stderr as "# ..."
fail() {
	local d
	H_TESTS=$((H_TESTS + 1))
	H_FAILED=$((H_FAILED + 1))
	echo "not ok $H_TESTS - $1"
	diag "Failed test $H_TESTS - $1"
	shift
	for d in "$@"; do
		diag "$d"
	done
}

# ok DESC CMD... - pass when CMD exits 0
ok() {
	local desc=$1
	shift
	if "$@"; then
		pass "$desc"
	else
		fail "$desc" "command failed: $*"
	fi
}

# h_indent PREFIX TEXT - TEXT with every line prefixed (for got/want dumps)
h_indent() {
	local l
	while IFS= read -r l; do
		printf '%s%s\n' "$1" "$l"
	done <<<"$2"
}

# is GOT WANT DESC - exact comparison, with a diff-style diagnostic
is() {
	if [ "$1" == "$2" ]; then
		pass "$3"
		return 0
	fi
	fail "$3"
	if [[ $1 == *$'\n'* || $2 == *$'\n'* ]]; then
		diff -u --label want --label got <(printf '%s\n' "$2") \
		    <(printf '%s\n' "$1") | sed 's/^/# /' | head -n 80 >&2
	else
		diag "   got: '$1'"
		diag "  want: '$2'"
	fi
	return 1
}

isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
		return 0
	fi
	fail "$3" "   got: '$1'" "  want: anything else"
	return 1
}

like() {
	if [[ $1 =~ $2 ]]; then
		pass "$3"
		return 0
	fi
	fail "$3" "$(h_indent '   got: ' "$1")" "  want: /$2/"
	return 1
}

unlike() {
	if ! [[ $1 =~ $2 ]]; then
		pass "$3"
		return 0
	fi
	fail "$3" "$(h_indent '   got: ' "$1")" "  want: no match of /$2/"
	return 1
}

bail_out() {
	fail "$1"
	echo "Bail out! $1"
	H_DONE=1
	exit 1
}

done_testing() {
	H_DONE=1
	if [ -z "$H_PLAN" ]; then
		echo "1..$H_TESTS"
	elif [ "$H_PLAN" -ne "$H_TESTS" ]; then
		diag "planned $H_PLAN tests but ran $H_TESTS"
		exit 1
	fi
	if [ "$H_FAILED" -gt 0 ]; then
		diag "failed $H_FAILED of $H_TESTS tests"
		exit 1
	fi
	exit 0
}

# --- running programs -----------------------------------------------------

H_RUN_SEQ=0
H_WRAP=()

# h_strip_valgrind FILE CMD - move valgrind's "==PID==" lines out of FILE
# into $H_TMP/valgrind.log
h_strip_valgrind() {
	if grep -q '^==[0-9]*==' "$1"; then
		{
			echo "--- $2"
			grep '^==[0-9]*==' "$1"
		} >>"$H_TMP/valgrind.log"
		grep -v '^==[0-9]*==' "$1" >"$1.tmp"
		mv "$1.tmp" "$1"
	fi
}

# h_run PREFIXED CMD... - run CMD bounded in time; set OUT, ERR, RC, and
# OUT_FILE and ERR_FILE (kept until the next run, for big outputs).  H_WRAP,
# when set, goes first (before timeout and TEST_PREFIX: /usr/bin/time).
h_run() {
	local prefixed=$1
	shift
	if [ -n "${OUT_FILE:-}" ]; then
		rm -f "$OUT_FILE" "$ERR_FILE"
	fi
	H_RUN_SEQ=$((H_RUN_SEQ + 1))
	OUT_FILE=$H_TMP/run.$H_RUN_SEQ.out
	ERR_FILE=$H_TMP/run.$H_RUN_SEQ.err
	if [ "$prefixed" = 1 ] && [ -n "$TEST_PREFIX" ]; then
		# shellcheck disable=SC2086 # TEST_PREFIX is a command line
		"${H_WRAP[@]}" timeout -k 5 "$RUN_TIMEOUT" $TEST_PREFIX "$@" \
		    >"$OUT_FILE" 2>"$ERR_FILE"
	else
		"${H_WRAP[@]}" timeout -k 5 "$RUN_TIMEOUT" "$@" >"$OUT_FILE" \
		    2>"$ERR_FILE"
	fi
	RC=$?
	if [ "$prefixed" = 1 ]; then
		h_strip_valgrind "$ERR_FILE" "$*"
	fi
	OUT=$(cat "$OUT_FILE")
	ERR=$(cat "$ERR_FILE")
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		diag "timed out after $RUN_TIMEOUT s: $*"
	fi
	return 0
}

# time_prog CMD... - run_prog CMD, measured: sets TIMING to "1.23 s, 4567 KB"
# (elapsed time and peak RSS from /usr/bin/time) or "1.23 s" (bash's time,
# when /usr/bin/time is missing: no RSS, and a note says so)
time_prog() {
	local tf=$H_TMP/time.out t0 t1
	if [ -x /usr/bin/time ]; then
		H_WRAP=(/usr/bin/time -o "$tf" -f '%e s, %M KB')
		run_prog "$@"
		H_WRAP=()
		TIMING=$(tail -n 1 "$tf")
	else
		note "/usr/bin/time is missing (Debian package time): no peak RSS"
		t0=$(date +%s%N)
		run_prog "$@"
		t1=$(date +%s%N)
		# shellcheck disable=SC2034 # for the caller
		TIMING=$(printf '%d.%02d s' $(((t1 - t0) / 1000000000)) \
		    $(((t1 - t0) / 10000000 % 100)))
	fi
}

# spawn_prog NAME CMD... - start our program CMD in the background with
# $TEST_PREFIX, stdout and stderr to $H_TMP/NAME.out and .err; SPAWN_PID
spawn_prog() {
	local name=$1
	shift
	# shellcheck disable=SC2086 # TEST_PREFIX is a command line
	spawn timeout -k 5 "$RUN_TIMEOUT" $TEST_PREFIX "$@" \
	    >"$H_TMP/$name.out" 2>"$H_TMP/$name.err"
}

# reap_prog PID NAME - wait for a spawn_prog; set RC, OUT and ERR
reap_prog() {
	wait "$1"
	RC=$?
	unregister_pid "$1"
	h_strip_valgrind "$H_TMP/$2.err" "$2"
	OUT=$(cat "$H_TMP/$2.out")
	ERR=$(cat "$H_TMP/$2.err")
}

run() {
	h_run 0 "$@"
}

run_prog() {
	h_run 1 "$@"
}

# expect_exit CODE DESC -- CMD... - run_prog CMD; one test on its status
expect_exit() {
	local code=$1 desc=$2
	shift 2
	if [ "${1:-}" = -- ]; then
		shift
	fi
	run_prog "$@"
	if [ "$RC" -eq "$code" ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc" "command: $*" "exit status $RC, want $code" \
	    "$(h_indent 'stdout: ' "$(head -n 20 "$OUT_FILE")")" \
	    "$(h_indent 'stderr: ' "$(head -n 20 "$ERR_FILE")")"
	if [ "$RC" -eq 99 ] && [ -f "$H_TMP/valgrind.log" ]; then
		diag "$(tail -n 40 "$H_TMP/valgrind.log")"
	fi
	return 1
}

# need_program NAME... - bail out (a failure) unless each NAME is executable
need_program() {
	local p
	for p in "$@"; do
		if [[ $p == */* ]]; then
			[ -x "$p" ] || bail_out "$p is missing or not executable"
		else
			command -v "$p" >/dev/null 2>&1 ||
			    bail_out "$p is not installed (run tests/deps.sh)"
		fi
	done
}

# free_port - print a loopback TCP port nobody listens on right now.  Racy by
# nature: callers retry when the port is taken before they bind it.
free_port() {
	local p i
	if command -v python3 >/dev/null 2>&1 &&
	    p=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null) && [ -n "$p" ]; then
		echo "$p"
		return 0
	fi
	# No python3: probe random high ports until a connect is refused.
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_for SECONDS CMD... - poll CMD every 0.05 s until it succeeds; 1 if it
# never did within SECONDS
wait_for() {
	local n=$(($1 * 20)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
