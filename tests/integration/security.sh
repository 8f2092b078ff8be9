#!/bin/bash
# security.sh - privileges, the socket, the Redis password and file
# permissions (RELIABILITY.md, item 6).  Needs root, to test dropping it
# (as the Postfix tests do, it reports a skip otherwise); the unprivileged
# user is the system's own nobody/nogroup.
#
#   - started as root without `user` and without -f, redmilter refuses:
#     exit status 64 and the reason on standard error (it has not detached
#     yet), no socket (with -f too: tests/integration/deploy.sh); with
#     `user = root` it runs as root;
#   - with `user`/`group` it gives up root after opening the socket: every
#     uid and gid in /proc/PID/status is nobody's, no supplementary group
#     but nogroup, no capability left; the unix socket belongs to
#     nobody:nogroup with socket_mode (0660, 0600, 0666 tried); the same in
#     the background (no -f), with a pidfile; it stops cleanly as nobody
#     (only once: libmilter takes 5 s to stop, the other runs are killed);
#   - the Redis password (redis_password_file, or in the redis URL) never
#     shows in `ps`, in the milter's log (start, lookups, Redis down, the
#     password changed behind its back), in `redmilter -n`, or in any
#     redmilterctl output, errors included;
#   - a configuration file others or its group can write, and a password
#     file (Redis's or Sentinel's) others can read (or anyone but its owner
#     write), are warned about at start; files that are fine are not.
#
# By hand (as root):  make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#     REDMILTERCTL=$PWD/policy/redmilterctl bash tests/integration/security.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP dropping privileges can only be tested as root"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
need_program "$REDMILTER" "$REDMILTERCTL" python3 stat ps
id nobody >/dev/null 2>&1 || bail_out "no user nobody on this system"
getent group nogroup >/dev/null || bail_out "no group nogroup on this system"
NOBODY_UID=$(id -u nobody)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)
slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi

# A password found nowhere else, so that a grep for it means something.
PW="Pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-secret"
start_redis "requirepass $PW"
rcli SET redmilter:sender:spammer.example "REJECT Go away" >/dev/null
ALL_OUTPUT=$H_TMP/all-output # everything any of our programs printed

# collect TEXT - keep output for the password check at the end
collect() {
	printf '%s\n' "$1" >>"$ALL_OUTPUT"
}

# probe SOCKET - the RCPT reply for a sender with a REJECT rule, through
# the milter socket SOCKET (as libmilter writes it: unix:PATH, inet:...)
probe() {
	rcpt_reply "$1" "<a@spammer.example>" "<x@example.com>"
}

# status_ids PID - "uid: ..., gid: ..., groups: ..., capeff: ..." from /proc
status_ids() {
	awk '/^Uid:/ { u = $2 " " $3 " " $4 " " $5 }
	    /^Gid:/ { g = $2 " " $3 " " $4 " " $5 }
	    /^Groups:/ { $1 = ""; gr = $0; sub(/^ /, "", gr) }
	    /^CapEff:/ { c = $2 }
	    END { printf "uid %s; gid %s; groups %s; capeff %s\n", u, g, gr, c }' \
	    "/proc/$1/status"
}

# dropped PID - PID no longer runs as root.  The socket accepts connections
# (and the pidfile is written) before privileges are dropped, so a check
# right then races with the drop (under valgrind it loses): wait for it,
# at most 10 s (x5 under valgrind), and let the exact check below judge.
dropped() {
	uid_not_0() { ! grep -qE '^Uid:[[:space:]]+0[[:space:]]' "/proc/$1/status"; }
	wait_for $((10 * slow)) uid_not_0 "$1"
}

# kill_milter - SIGKILL for a milter whose clean stop is not under test
# (libmilter takes about 5 s to leave smfi_main after SIGTERM)
kill_milter() {
	kill_wait "$MILTER_PID" KILL
	MILTER_PID=
	rm -f "$MILTER_SOCK_PATH"
}

# --- refusing root ----------------------------------------------------------

dir0=$H_TMP/refuse
mkdir -p "$dir0"
cat >"$dir0/redmilter.conf" <<EOF
socket = unix:$dir0/milter.sock
redis = $REDIS_URL
pidfile = $dir0/redmilter.pid
EOF
chmod 0644 "$dir0/redmilter.conf"
expect_exit 64 "as root, without user and without -f: refused, exit status 64 (EX_USAGE)" -- \
    "$REDMILTER" -c "$dir0/redmilter.conf"
collect "$OUT$ERR"
if [ -s "$dir0/redmilter.pid" ]; then # it did run, in the background
	kill -s TERM "$(cat "$dir0/redmilter.pid")"
fi
like "$ERR" 'refusing to run as root' \
    "...saying why on standard error (it has not detached yet)"
if [ ! -e "$dir0/milter.sock" ]; then
	pass "...without opening its socket"
else
	fail "...without opening its socket" "$(ls -l "$dir0")"
fi

# --- dropping root ---------------------------------------------------------

# The milter's directory belongs to nobody, who must remove the socket at exit.
m_setup
chown nobody:nogroup "$MILTER_DIR"
chmod 0755 "$MILTER_DIR"

for mode in 0660 0600 0666; do
	start_milter "user = nobody" "group = nogroup" "socket_mode = $mode"
	dropped "$MILTER_PID"
	want="uid $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID; gid $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID; groups $NOGROUP_GID; capeff 0000000000000000"
	is "$(status_ids "$MILTER_PID")" "$want" \
	    "user = nobody, group = nogroup, -f: every uid and gid is nobody's, no other group, no capability"
	is "$(stat -c '%U:%G %a %F' "$MILTER_SOCK_PATH")" \
	    "nobody:nogroup ${mode#0} socket" \
	    "the unix socket is nobody:nogroup with socket_mode $mode"
	is "$(probe "$MILTER_SOCKET")" "550 5.7.1 Go away" \
	    "after dropping root, lookups work (the password file was read before)"
	collect "$(ps -o args= -p "$MILTER_PID")"
	if [ "$mode" = 0660 ]; then
		ok "stops cleanly as nobody (socket removed)" stop_milter
	else
		kill_milter
	fi
done

start_milter "user = nobody"
dropped "$MILTER_PID"
is "$(status_ids "$MILTER_PID" | cut -d';' -f1-2)" \
    "uid $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID; gid $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID" \
    "user = nobody without group: nobody's login group (nogroup)"
kill_milter

# In the background: no -f, a pidfile.
bg=$H_TMP/bg
mkdir -p "$bg"
chown nobody:nogroup "$bg"
chmod 0755 "$bg"
printf '%s\n' "$PW" >"$bg/redis.pass"
chmod 0600 "$bg/redis.pass"
cat >"$bg/redmilter.conf" <<EOF
socket = unix:$bg/milter.sock
socket_mode = 0660
user = nobody
group = nogroup
pidfile = $bg/redmilter.pid
redis = $REDIS_URL
redis_password_file = $bg/redis.pass
EOF
chmod 0644 "$bg/redmilter.conf"
run_prog "$REDMILTER" -c "$bg/redmilter.conf"
collect "$OUT$ERR"
is "$RC" 0 "in the background (no -f) with user and pidfile: the command returns 0"
pidfile_there() {
	[ -s "$bg/redmilter.pid" ] && [ -S "$bg/milter.sock" ]
}
if wait_for $((10 * slow)) pidfile_there; then
	bgpid=$(cat "$bg/redmilter.pid")
	register_pid "$bgpid"
	dropped "$bgpid"
	is "$(status_ids "$bgpid")" \
	    "uid $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID; gid $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID; groups $NOGROUP_GID; capeff 0000000000000000" \
	    "the daemon (pid $bgpid from the pidfile) runs as nobody:nogroup, no capability"
	is "$(stat -c '%U:%G %a' "$bg/milter.sock")" "nobody:nogroup 660" \
	    "its socket is nobody:nogroup 0660"
	is "$(probe "unix:$bg/milter.sock")" "550 5.7.1 Go away" "it answers"
	collect "$(ps -o args= -p "$bgpid")"
	kill -s KILL "$bgpid"
	unregister_pid "$bgpid"
else
	fail "the daemon wrote its pidfile and opened its socket" "$(ls -l "$bg")"
	for i in 1 2; do
		fail "the daemon (skipped: it did not start)"
	done
fi

# --- the Redis password --------------------------------------------------------

start_milter "log_level = debug"
is "$(status_ids "$MILTER_PID" | cut -d';' -f1)" "uid 0 0 0 0" \
    "as root with user = root, -f: it runs as root (said explicitly)"
probe "$MILTER_SOCKET" >/dev/null
collect "$(ps -o args= -p "$MILTER_PID")"
collect "$(tr '\0' ' ' <"/proc/$MILTER_PID/cmdline")"
# Redis down, then the password changed behind the milter's back.
stop_redis
probe "$MILTER_SOCKET" >/dev/null
restart_redis
rcli SET redmilter:sender:spammer.example "REJECT Go away" >/dev/null
rcli CONFIG SET requirepass "$PW-new" >/dev/null
REDIS_PASSWORD=$PW-new
rcli CLIENT KILL TYPE normal >/dev/null
is "$(probe "$MILTER_SOCKET")" "451 4.3.0 Temporary policy lookup failure" \
    "the password changed behind the milter's back: tempfail"
wait_milter_log 'WRONGPASS|NOAUTH|AUTH' $((5 * slow))
like "$(milter_log_new)" 'Redis AUTH' "...and the failed AUTH is logged"
rcli CONFIG SET requirepass "$PW" >/dev/null
REDIS_PASSWORD=$PW
kill_milter

# redmilterctl and -n, with the password file and with the password in the URL
printf '%s\n' "$PW" >"$H_TMP/ctl.pass"
chmod 0600 "$H_TMP/ctl.pass"
printf 'redis = %s\nredis_password_file = %s\n' "$REDIS_URL" \
    "$H_TMP/ctl.pass" >"$H_TMP/ctl-file.conf"
printf 'redis = redis://:%s@127.0.0.1:%s/0\n' "$PW" "$REDIS_PORT" \
    >"$H_TMP/ctl-url.conf"
printf 'redis = redis://:%s@127.0.0.1:1/0\n' "$PW" >"$H_TMP/ctl-down.conf"
printf 'redis = redis://:%s-wrong@127.0.0.1:%s/0\n' "$PW" "$REDIS_PORT" \
    >"$H_TMP/ctl-wrong.conf"
chmod 0600 "$H_TMP"/ctl-*.conf
n=0
for conf in ctl-file ctl-url ctl-down ctl-wrong; do
	for cmd in "list" "lint" "export" "get sender spammer.example" \
	    "check -f a@spammer.example -r x@example.com" \
	    "add recipient pw@example.com REJECT" "del recipient pw@example.com"; do
		# shellcheck disable=SC2086 # cmd is words
		run_prog "$REDMILTERCTL" -c "$H_TMP/$conf.conf" $cmd
		collect "$OUT$ERR"
		n=$((n + 1))
	done
	run_prog "$REDMILTER" -c "$H_TMP/$conf.conf" -n
	collect "$OUT$ERR"
	n=$((n + 1))
done
run_prog "$REDMILTERCTL" -r "redis://:$PW-wrong@127.0.0.1:$REDIS_PORT/0" list
collect "$OUT$ERR"
run_prog "$REDMILTERCTL" -c "$H_TMP/ctl-url.conf" list
like "$OUT" 'sender spammer\.example REJECT Go away' \
    "(redmilterctl with the password in the URL works: the runs above were real)"
run_prog "$REDMILTER" -c "$H_TMP/ctl-url.conf" -n
like "$OUT" 'redis://\*+@127\.0\.0\.1' "redmilter -n shows the URL's password as *****"
collect "$OUT$ERR"

for f in "$ALL_OUTPUT" "$MILTER_LOG"; do
	[ -s "$f" ] || bail_out "nothing collected in $f"
done
hits=$(grep -F -- "$PW" "$ALL_OUTPUT" "$MILTER_LOG" | head -n 5)
is "$hits" "" "the password is in no ps line, no log line, no output of $((n + 2)) redmilterctl and redmilter -n runs ($(wc -l <"$ALL_OUTPUT") lines of output, $(wc -l <"$MILTER_LOG") of log)"

# --- files others can read or write -------------------------------------------

warn_dir=$H_TMP/warn
mkdir -p "$warn_dir"
printf '%s\n' "$PW" >"$warn_dir/redis.pass"

printf '%s\n' "sentinel-$PW" >"$warn_dir/sentinel.pass"

# warnings CONF-MODE PASS-MODE [SENTINEL-PASS-MODE] - start, stop; print
# the warning lines (the running-as-root one aside)
warnings() {
	local log=$warn_dir/log
	cat >"$warn_dir/redmilter.conf" <<EOF
socket = unix:$warn_dir/milter.sock
redis = $REDIS_URL
redis_password_file = $warn_dir/redis.pass
user = root
EOF
	if [ -n "${3:-}" ]; then
		printf 'redis_sentinel_password_file = %s\n' \
		    "$warn_dir/sentinel.pass" >>"$warn_dir/redmilter.conf"
		chmod "$3" "$warn_dir/sentinel.pass"
	fi
	chmod "$1" "$warn_dir/redmilter.conf"
	chmod "$2" "$warn_dir/redis.pass"
	: >"$log"
	# shellcheck disable=SC2086 # MILTER_PREFIX is a command line
	spawn $MILTER_PREFIX "$REDMILTER" -c "$warn_dir/redmilter.conf" -f \
	    >"$log" 2>&1 </dev/null
	local pid=$SPAWN_PID
	# shellcheck disable=SC2317 # called by wait_for
	sock_there() { [ -S "$warn_dir/milter.sock" ]; }
	wait_for $((15 * slow)) sock_there || diag "no socket: $(cat "$log")"
	kill_wait "$pid" KILL
	rm -f "$warn_dir/milter.sock"
	collect "$(cat "$log")"
	grep -i 'warning' "$log" | grep -v 'running as root'
}
got=$(warnings 0644 0600)
is "$got" "" "config 0644, password file 0600: no warning"
got=$(warnings 0666 0600)
like "$got" "$warn_dir/redmilter\.conf is writable by others" \
    "config 0666: warned (writable by others)"
got=$(warnings 0602 0600)
like "$got" "redmilter\.conf is writable by others" "config 0602: warned"
got=$(warnings 0644 0644)
like "$got" "$warn_dir/redis\.pass holds a password and is readable by others" \
    "password file 0644: warned (readable by others)"
got=$(warnings 0644 0602)
like "$got" "redis\.pass is writable by others" "password file 0602: warned (writable by others)"
got=$(warnings 0644 0640)
is "$got" "" "password file 0640 (group only): no warning"
got=$(warnings 0664 0600)
like "$got" "redmilter\.conf is writable by its group" \
    "config 0664: warned (writable by its group)"
got=$(warnings 0644 0620)
like "$got" "redis\.pass is writable by its group" \
    "password file 0620: warned (writable by its group)"
got=$(warnings 0644 0600 0644)
like "$got" "sentinel\.pass holds a password and is readable by others" \
    "Sentinel password file 0644: warned (readable by others)"
got=$(warnings 0644 0600 0600)
is "$got" "" "Sentinel password file 0600: no warning"
hits=$(grep -cF -- "$PW" "$ALL_OUTPUT")
is "$hits" 0 "...and the warnings do not quote the password either"

done_testing
