#!/bin/bash
# deploy.sh - what an audit of an install done by INSTALL found, each
# finding as a test that failed before its fix (RELIABILITY.md,
# "Security").  Needs root, as a real install does (a skip otherwise).
#
#   - pidfile: a symbolic link planted where the pidfile goes (in a
#     directory the unprivileged user owns) truncates nothing: the link is
#     replaced by a file of our own holding the pid;
#   - socket: a link planted at the socket's name right after bind() (an
#     LD_PRELOAD shim plays the attacker at the worst moment) leaves the
#     file it points to with its mode, and the socket ends up in place;
#     a link or a file at the socket's name before start is refused;
#   - a second redmilter on the socket of a running one refuses to start
#     (exit 1, a clear message) and the first one keeps its socket and its
#     replies; a stale socket (nobody listening) is replaced; a milter
#     whose socket was replaced by another one's leaves that one alone at
#     exit;
#   - SIGUSR1 re-reads the configuration: mode = test takes effect for the
#     next transaction, a transaction begun before it keeps the old one
#     (its connection is not dropped), a file with an error is logged with
#     file and line and the running configuration kept, a key that needs a
#     restart (socket) is logged as such;
#   - root without `user` is refused even with -f; `user = root` runs as
#     root, with a warning; a start-up error reaches syslog as well as
#     standard error (a private /dev/log, in a mount namespace);
#   - the MTA's queue id (`i` macro) with CR LF in it forges no log line;
#   - SIGTERM under load: exit 0 within 5 s (the time the signal gives),
#     no error from valgrind or the sanitizers (no use after free at stop).
#
# By hand (as root):  make all build-tests && TOP=$PWD \
#     bash tests/integration/deploy.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP the audit's findings need root to reproduce"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MC=$TOP/tests/integration/lib/milter_client.py
loadgen=$TOP/${BUILDDIR:-build/cc-std}/tests/bench/loadgen
need_program "$REDMILTER" "$loadgen" python3 cc unshare mount stat setpriv
PY=$(python3 -c 'import sys; print(sys.executable)') ||
    bail_out "python3 cannot tell where it is"
id nobody >/dev/null 2>&1 || bail_out "no user nobody on this system"
slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi
REJECT="550 5.1.1 Mailbox not found"
# Valgrind is slow enough to make a lookup miss the default 500 ms.
TIMEOUT_LINE="redis_timeout = $((500 * slow))"

start_redis
rcli SET redmilter:recipient:bad@example.com "$REJECT" >/dev/null

# probe [SOCKET] - the RCPT reply for bad@example.com
probe() {
	rcpt_reply "${1:-$MILTER_SOCKET}" "<a@example.org>" "<bad@example.com>"
}

# mode_of FILE - its permission bits, octal
mode_of() {
	stat -c %a "$1"
}

# victim NAME - a root file that no milter should ever touch
victim() {
	printf 'root secret\n' >"$H_TMP/$1"
	chmod 0600 "$H_TMP/$1"
	printf '%s\n' "$H_TMP/$1"
}

# --- the pidfile --------------------------------------------------------
m_setup
attack_dir=$H_TMP/attacker
mkdir -p "$attack_dir"
chown nobody "$attack_dir"
chmod 0755 "$attack_dir"
v=$(victim pid-victim)
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    ln -s "$v" "$attack_dir/redmilter.pid" ||
    bail_out "cannot plant a link as nobody"
start_milter "$TIMEOUT_LINE" "pidfile = $attack_dir/redmilter.pid"
is "$(cat "$v")" "root secret" \
    "pidfile: the file a planted link points to keeps its contents"
is "$(mode_of "$v")" 600 "pidfile: and its mode"
ok "pidfile: the link was replaced by a regular file" \
    test -f "$attack_dir/redmilter.pid" -a ! -L "$attack_dir/redmilter.pid"
is "$(cat "$attack_dir/redmilter.pid")" "$MILTER_PID" \
    "pidfile: it holds the milter's pid"
ok "pidfile: the milter stops cleanly" stop_milter
ok "pidfile: removed at stop" test ! -e "$attack_dir/redmilter.pid"

# --- the socket: a link planted right after bind() -------------------------
shim=$H_TMP/bind_attack.so
cat >"$H_TMP/bind_attack.c" <<'EOF'
/* An attacker who owns the socket's directory, at the worst moment: as
 * soon as bind() has made the socket, its name points somewhere else. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
	    (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT,
	                                                            "bind");
	const char *name = getenv("ATTACK_NAME"), *to = getenv("ATTACK_TO");
	char moved[4096];
	int rc = real(fd, sa, len);

	if (rc == 0 && sa->sa_family == AF_UNIX && name != NULL && to != NULL) {
		snprintf(moved, sizeof moved, "%s.moved", name);
		(void)rename(name, moved);
		(void)symlink(to, name);
	}
	return rc;
}
EOF
cc -shared -fPIC -o "$shim" "$H_TMP/bind_attack.c" -ldl ||
    bail_out "cannot build the bind() shim"
v=$(victim sock-victim)
sock=$attack_dir/redmilter.sock
keep_socket=$MILTER_SOCKET
keep_path=$MILTER_SOCK_PATH
MILTER_SOCKET=unix:$sock
MILTER_SOCK_PATH=$sock
ATTACK_NAME=$sock ATTACK_TO=$v LD_PRELOAD=$shim \
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    start_milter "$TIMEOUT_LINE" "socket = unix:$sock" "socket_mode = 0666"
is "$(mode_of "$v")" 600 \
    "socket: a link planted after bind() does not pass chmod to its target"
is "$(stat -c %U "$v")" root "socket: nor chown"
ok "socket: the socket is in place, not the link" test -S "$sock" -a ! -L "$sock"
is "$(mode_of "$sock")" 666 "socket: with socket_mode"
is "$(probe "unix:$sock")" "$REJECT" "socket: and the milter answers on it"
ok "socket: the milter stops cleanly" stop_milter
MILTER_SOCKET=$keep_socket
MILTER_SOCK_PATH=$keep_path

ln -s "$v" "$sock"
expect_exit 69 "socket: a link at the socket's name is refused (EX_UNAVAILABLE)" -- \
    "$REDMILTER" -c "$MILTER_CONF" -f
like "$ERR" "is a symbolic link; refusing" "socket: saying why"
rm -f "$sock"
printf 'data\n' >"$sock"
expect_exit 69 "socket: a file at the socket's name is refused (EX_UNAVAILABLE)" -- \
    "$REDMILTER" -c "$MILTER_CONF" -f
like "$ERR" "exists and is not a socket" "socket: saying why"
is "$(cat "$sock")" data "socket: and the file is left as it was"
rm -f "$sock"

# --- a second instance ---------------------------------------------------
start_milter "$TIMEOUT_LINE"
expect_exit 1 "second instance: refuses to start on a live milter's socket" -- \
    "$REDMILTER" -c "$MILTER_CONF" -f
like "$ERR" "a milter is already listening on $MILTER_SOCK_PATH" \
    "second instance: saying why"
ok "second instance: the first one's socket is still there" \
    test -S "$MILTER_SOCK_PATH"
is "$(probe)" "$REJECT" "second instance: the first one still answers"
ok "second instance: the first one stops cleanly" stop_milter

# A stale socket: bound by a process that is gone.
"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$MILTER_SOCK_PATH"
ok "stale socket: there before start" test -S "$MILTER_SOCK_PATH"
start_milter "$TIMEOUT_LINE"
is "$(probe)" "$REJECT" "stale socket: replaced, the milter answers"

# The first milter's socket removed by hand, another one started: the
# first one's exit must leave the second one's socket alone.
first=$MILTER_PID
rm -f "$MILTER_SOCK_PATH"
spawn $MILTER_PREFIX "$REDMILTER" -c "$MILTER_CONF" -f \
    >>"$MILTER_LOG" 2>&1
second=$SPAWN_PID
wait_for $((10 * slow)) test -S "$MILTER_SOCK_PATH"
is "$(probe)" "$REJECT" "replaced socket: the second milter answers"
kill -TERM "$first"
wait "$first"
is "$?" 0 "replaced socket: the first milter exits 0"
unregister_pid "$first"
MILTER_PID=
ok "replaced socket: the second one's socket is still there" \
    test -S "$MILTER_SOCK_PATH"
is "$(probe)" "$REJECT" "replaced socket: and it still answers"
kill -TERM "$second"
wait "$second"
is "$?" 0 "replaced socket: the second milter exits 0"
unregister_pid "$second"
ok "replaced socket: and removes its socket" test ! -e "$MILTER_SOCK_PATH"

# --- SIGUSR1 ---------------------------------------------------------------
start_milter "$TIMEOUT_LINE"
is "$(probe)" "$REJECT" "reload: enforced before"
# A transaction that starts now and ends after the reload.
"$PY" "$MC" -s "$MILTER_SOCKET" -T $((20 * slow)) run +optneg \
    +connect c.test 4 40000 127.0.0.1 +helo c.test \
    +mail "<a@example.org>" +sleep $((2 * slow)) +rcpt "<bad@example.com>" \
    +abort +mail "<a@example.org>" +rcpt "<bad@example.com>" +quit \
    >"$H_TMP/across" 2>&1 &
across=$!
sleep 0.5
milter_mark
printf 'mode = test\n' >>"$MILTER_CONF"
kill -USR1 "$MILTER_PID"
ok "reload: logged" wait_milter_log "reload: .*redmilter.conf read .*mode test" \
    $((5 * slow))
ok "reload: the milter is alive after SIGUSR1" milter_alive
is "$(probe)" continue "reload: mode = test for a new transaction"
wait "$across"
is "$(sed -n 's/^rcpt: //p' "$H_TMP/across" | tr '\n' '|')" \
    "$REJECT|continue|" \
    "reload: a transaction begun before keeps the old mode, the next one has the new"

milter_mark
printf 'no_such_key = 1\n' >>"$MILTER_CONF"
kill -USR1 "$MILTER_PID"
ok "reload: a bad file is logged with file and line" \
    wait_milter_log "reload: $MILTER_CONF:[0-9]+: .*no_such_key.*; the running configuration is kept" \
    $((5 * slow))
is "$(probe)" continue "reload: and the running configuration is kept"
sed -i '/^no_such_key/d; /^mode = test/d' "$MILTER_CONF"
sed -i "s|^socket = .*|socket = unix:$H_TMP/elsewhere.sock|" "$MILTER_CONF"
milter_mark
kill -USR1 "$MILTER_PID"
ok "reload: a changed socket needs a restart, and says so" \
    wait_milter_log "reload: socket changed; it takes effect at the next restart" \
    $((5 * slow))
is "$(probe)" "$REJECT" "reload: the other keys took effect (mode enforce)"
ok "reload: the socket stays where it was" test -S "$MILTER_SOCK_PATH"
ok "reload: the milter stops cleanly" stop_milter
sed -i "s|^socket = .*|socket = $MILTER_SOCKET|" "$MILTER_CONF"

# --- root, and start-up errors in syslog ------------------------------------
grep -v '^user = ' "$MILTER_CONF" >"$H_TMP/no-user.conf"
expect_exit 64 "root: refused without user, even with -f" -- \
    "$REDMILTER" -c "$H_TMP/no-user.conf" -f
like "$ERR" "refusing to run as root" "root: saying why"
ok "root: no socket made" test ! -e "$MILTER_SOCK_PATH"
start_milter "$TIMEOUT_LINE"
ok "root: user = root runs, with a warning" \
    grep -q "warning: running as root (user = root)" "$MILTER_LOG"
ok "root: the milter stops cleanly" stop_milter

cat >"$H_TMP/catch.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.2)
end = time.time() + float(sys.argv[3])
with open(sys.argv[2], "ab") as out:
    while time.time() < end:
        try:
            out.write(s.recv(65536) + b"\n")
            out.flush()
        except socket.timeout:
            pass
EOF
printf 'redis_timeout = banana\n' >"$H_TMP/bad.conf"
: >"$H_TMP/syslog"
# The milter in a mount namespace whose /dev is private, with a /dev/log
# that writes what it gets into $H_TMP/syslog.
run unshare -m bash -c '
	set -e
	mount --make-rprivate /
	mkdir -p "$1/dev"
	mount --rbind /dev "$1/dev"
	mount -t tmpfs none /dev
	for n in null zero full random urandom tty; do
		touch "/dev/$n"
		mount --bind "$1/dev/$n" "/dev/$n"
	done
	"$2" "$1/catch.py" /dev/log "$1/syslog" 10 &
	for i in $(seq 100); do [ -S /dev/log ] && break; sleep 0.05; done
	set +e
	$4 "$3" -c "$1/bad.conf" -f
	echo "rc=$?"
	sleep 0.3
	kill $! 2>/dev/null
	exit 0' unshare "$H_TMP" "$PY" "$REDMILTER" "$MILTER_PREFIX"
like "$OUT" "rc=78" "start-up error: exit 78 (EX_CONFIG)"
like "$ERR" "bad.conf:1: .*redis_timeout" "start-up error: on standard error"
like "$(tr -d '\0' <"$H_TMP/syslog")" "redmilter\[[0-9]+\]: .*bad.conf:1: .*redis_timeout" \
    "start-up error: and in syslog"

# --- the queue id in the log --------------------------------------------------
# The MTA's `i` macro with CR LF in it, on a transaction whose recipient is
# malformed (its own log line) and one that a rule rejects.
start_milter "$TIMEOUT_LINE"
milter_mark
"$PY" "$MC" -s "$MILTER_SOCKET" -T $((10 * slow)) run +optneg \
    +connect c.test 4 40000 127.0.0.1 +helo c.test \
    +macro M 'i=Q1\r\nredmilter: FORGED line' +mail "<a@example.org>" \
    +macro R 'i=Q1\r\nredmilter: FORGED line' +rcpt "<a@b@example.com>" \
    +rcpt "<bad@example.com>" +quit >/dev/null
wait_milter_log "rule=recipient:bad@example.com" $((5 * slow)) ||
    diag "no decision logged"
log_new=$(milter_log_new)
unlike "$log_new" $'\n[^\n]*redmilter: FORGED' \
    "queue id: CR LF in the i macro forges no log line"
like "$log_new" 'Q1\?\?redmilter:\?FORGED\?line: RCPT: malformed' \
    "queue id: shown with ? for what is not printable (malformed address line)"
like "$log_new" 'Q1\?\?redmilter:\?FORGED\?line: RCPT: reject' \
    "queue id: the same in the decision line"
ok "queue id: the milter stops cleanly" stop_milter

# --- SIGTERM under load ------------------------------------------------------
start_milter "$TIMEOUT_LINE" "log_level = warning"
"$loadgen" -s "$MILTER_SOCKET" -c 8 -n 1000000 -d $((3 * slow)) \
    --allow-reply "451 4.3.0" >"$H_TMP/load" 2>&1 &
load=$!
sleep $((1 * slow))
t0=$(date +%s%N)
kill -TERM "$MILTER_PID"
for ((i = 0; i < 200 * slow; i++)); do
	kill -0 "$MILTER_PID" 2>/dev/null || break
	sleep 0.05
done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
note "stopped under load in $ms ms"
ok "stop: gone within 5 s of SIGTERM under load" test "$ms" -le $((5000 * slow))
ok "stop: exit 0, socket removed (no error from valgrind or the sanitizers)" \
    stop_milter
wait "$load"
unlike "$(cat "$MILTER_LOG")" "AddressSanitizer|runtime error|heap-use-after-free" \
    "stop: nothing from the sanitizers in the log"

done_testing
