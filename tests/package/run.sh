#!/bin/bash
# tests/package/run.sh - the Debian package, end to end, on this machine:
# `make deb`, `dpkg -i` of the .deb it left in build/deb/, then what the
# package promises (INSTALL, "Installing the package"; debian/README.Debian):
#
#   - the system user and group redmilter exist; /etc/redmilter/redmilter.conf
#     is a conffile, 0640 root:redmilter, with the socket and redis lines
#   - both programs read /etc/redmilter/redmilter.conf when not given -c:
#     the configuration is pointed at a private redis-server on a loopback
#     port, and redmilterctl without -c writes its rules there
#   - the installed unit passes systemd-analyze verify without a word
#   - the installed /usr/sbin/redmilter, started as the unit starts it (user
#     and group redmilter, umask 0007, /run/redmilter 0750 redmilter), makes
#     /run/redmilter/redmilter.sock redmilter:redmilter 0660 and answers a
#     rule added with the installed redmilterctl: `redmilterctl check` and a
#     milter session through that socket (tests/integration/lib/
#     milter_client.py) both give exactly "550 5.1.1 Mailbox not found", and
#     its log names the rule; SIGTERM stops it with status 0
#   - `dpkg --purge redmilter` leaves nothing: no /etc/redmilter, no
#     /usr/sbin/redmilter*, no unit, no user or group, dpkg knows nothing
#
# Root only (dpkg -i): exits 77 otherwise.  It installs the runtime
# packages it needs with apt-get when they are missing (redis-server,
# libmilter1.0.1, libhiredis0.14, adduser), refuses to run when redmilter is
# installed already or a user or group redmilter exists (it would purge
# them), and purges what it installed if it stops early.  Prints TAP.  Run by
# .ci/run after the sanitize suite, not by `make check`.
#
#   bash tests/package/run.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/package/run.sh: installs a package: run it as root" >&2
	exit 77
fi

# shellcheck source-path=SCRIPTDIR source=../integration/lib/redis.sh
. "$(dirname "$0")/../integration/lib/redis.sh"

CONF=/etc/redmilter/redmilter.conf
UNIT=/lib/systemd/system/redmilter.service
RUNDIR=/run/redmilter
SOCK=$RUNDIR/redmilter.sock
CLIENT=$TOP/tests/integration/lib/milter_client.py
REPLY="550 5.1.1 Mailbox not found"
P_INSTALLED=
P_MILTER=

# p_cleanup - the EXIT trap: the milter stopped, the package purged if this
# script installed it and it is still there, then the harness's cleanup
# (redis, H_TMP) with the script's exit status
p_cleanup() {
	local rc=$?
	if [ -n "$P_MILTER" ]; then
		kill_wait "$P_MILTER" TERM
	fi
	if [ -n "$P_INSTALLED" ] && dpkg-query -W redmilter >/dev/null 2>&1; then
		echo "# purging the redmilter package this script installed" >&2
		dpkg --purge redmilter >&2
	fi
	(exit "$rc")
	h_cleanup
}
trap p_cleanup EXIT

# status PKG - dpkg's status abbreviation of PKG ("ii " when installed)
status() {
	dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null
}

# runtime_deps - install what the package and this test need, if missing
runtime_deps() {
	local p need=()
	for p in redis-server libmilter1.0.1 libhiredis0.14 adduser python3; do
		case $(status "$p") in
		ii*) ;;
		*) need+=("$p") ;;
		esac
	done
	if [ ${#need[@]} -gt 0 ]; then
		note "installing ${need[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends -o DPkg::Lock::Timeout=300 \
		    "${need[@]}" >"$H_TMP/apt.log" 2>&1 || {
			diag "$(tail -n 20 "$H_TMP/apt.log")"
			bail_out "apt-get install ${need[*]} failed"
		}
	fi
}

# mode_owner PATH - "MODE USER:GROUP"
mode_owner() {
	stat -c '%a %U:%G' "$1" 2>&1
}

# socket_up - the milter listens on its socket
socket_up() {
	[ -S "$SOCK" ]
}

plan 32

case $(status redmilter) in
'' | un* | pn*) ;;
*) bail_out "the redmilter package is installed already ($(status redmilter)): purge it first" ;;
esac
if getent passwd redmilter >/dev/null || getent group redmilter >/dev/null; then
	bail_out "a user or group redmilter exists already: this test would remove it"
fi
[ -e "$RUNDIR" ] && bail_out "$RUNDIR exists already"
need_program dpkg setpriv

# --- build and install ------------------------------------------------------

run make -C "$TOP" --no-print-directory deb
if [ "$RC" -ne 0 ]; then
	diag "$(tail -n 40 "$OUT_FILE")" "$(tail -n 20 "$ERR_FILE")"
	bail_out "make deb failed (exit $RC)"
fi
pass "make deb"
note "$(grep -E '^[EWI]: ' "$OUT_FILE")"
unlike "$OUT" $'(^|\n)E: ' "lintian: no error"
debs=("$TOP"/build/deb/redmilter_*_*.deb)
is "${#debs[@]} $(test -f "${debs[0]}" && echo found)" "1 found" \
    "make deb leaves one redmilter .deb in build/deb/"
deb=${debs[0]}
note "package: ${deb#"$TOP"/}"

runtime_deps
P_INSTALLED=1
run dpkg -i "$deb"
is "$RC" 0 "dpkg -i ${deb##*/}" || diag "$OUT" "$ERR"
like "$(status redmilter)" '^ii' "redmilter is installed"

# --- what it installed --------------------------------------------------------

like "$(getent passwd redmilter)" '^redmilter:x:[0-9]+:[0-9]+:[^:]*:/nonexistent:' \
    "system user redmilter, home /nonexistent"
like "$(getent group redmilter)" '^redmilter:x:[0-9]+:$' "system group redmilter, no members"
is "$(id -gn redmilter 2>&1)" redmilter "its primary group is redmilter"
is "$(mode_owner "$CONF")" "640 root:redmilter" "$CONF: 0640 root:redmilter"
is "$(dpkg-query -W -f='${Conffiles}' redmilter | awk '{ print $1 }')" \
    "$CONF" "$CONF is the package's one conffile"
is "$(grep -E '^(socket|redis|user|group) *=' "$CONF")" \
    "socket = unix:$SOCK"$'\n'"redis = redis://127.0.0.1:6379/0" \
    "it sets socket and redis, not user or group"
ok "/usr/sbin/redmilter and /usr/sbin/redmilterctl are there" \
    test -x /usr/sbin/redmilter -a -x /usr/sbin/redmilterctl
ok "both name /etc/redmilter/redmilter.conf as their default" \
    grep -qF "$CONF" /usr/sbin/redmilter /usr/sbin/redmilterctl
run man -w redmilter.conf
is "$RC $OUT" "0 /usr/share/man/man5/redmilter.conf.5.gz" "man redmilter.conf finds the page"
pages=(/usr/share/man/man8/redmilter.8.gz /usr/share/man/man8/redmilterctl.8.gz
    /usr/share/man/man5/redmilter.conf.5.gz)
run zgrep -c -F /etc/redmilter/redmilter.conf "${pages[@]}"
unlike "$OUT" ':0$' "each man page names /etc/redmilter/redmilter.conf"
run zgrep -l -F /usr/local/etc/redmilter.conf "${pages[@]}"
is "$OUT" "" "none names /usr/local/etc/redmilter.conf"
run systemd-analyze verify "$UNIT"
is "$RC: $OUT$ERR" "0: " "systemd-analyze verify $UNIT warns about nothing"

# --- the default configuration, redmilterctl -------------------------------------

# shellcheck disable=SC2119 # no extra redis.conf lines
start_redis
sed -i -e "s|^redis = .*|redis = redis://127.0.0.1:$REDIS_PORT/0|" \
    -e "s|^socket = .*|socket = unix:$SOCK|" "$CONF"
note "$CONF: redis = redis://127.0.0.1:$REDIS_PORT/0"
run /usr/sbin/redmilterctl add recipient bad@example.com 550 5.1.1 \
    Mailbox not found
is "$RC" 0 "redmilterctl add recipient bad@example.com $REPLY" ||
    diag "$ERR"
is "$(rcli GET redmilter:recipient:bad@example.com)" "$REPLY" \
    "it wrote to the Redis that $CONF names (no -c, no -r)"
run /usr/sbin/redmilterctl check -f alice@example.net -r bad@example.com \
    -r good@example.com
is "$OUT" "bad@example.com: $REPLY (recipient bad@example.com)"$'\n'"good@example.com: accept (no rule)" \
    "redmilterctl check: the rule's reply, exactly" || diag "$ERR"

# --- the daemon, as the unit runs it -------------------------------------------

install -d -o redmilter -g redmilter -m 0750 "$RUNDIR"
register_dir "$RUNDIR"
log=$H_TMP/redmilter.log
(
	umask 0007
	exec setpriv --reuid=redmilter --regid=redmilter --init-groups \
	    /usr/sbin/redmilter -f
) >"$log" 2>&1 </dev/null &
P_MILTER=$!
register_pid "$P_MILTER"
if ! wait_for 10 socket_up; then
	diag "$(cat "$log")"
	bail_out "redmilter did not make $SOCK within 10 s"
fi
is "$(stat -c '%U %G' "/proc/$P_MILTER")" "redmilter redmilter" \
    "redmilter runs as redmilter:redmilter"
is "$(mode_owner "$SOCK")" "660 redmilter:redmilter" \
    "$SOCK: 0660 redmilter:redmilter"
run python3 "$CLIENT" -s "unix:$SOCK" run +optneg \
    +connect mail.example.net 4 25 192.0.2.7 +helo mail.example.net \
    +mail '<alice@example.net>' +rcpt '<bad@example.com>' \
    +rcpt '<good@example.com>' +quit
is "$(grep '^rcpt' <<<"$OUT")" "rcpt: $REPLY"$'\n'"rcpt: continue" \
    "through the socket: RCPT bad@example.com gets '$REPLY', good@ continues" ||
    diag "$OUT" "$ERR" "$(cat "$log")"
like "$(cat "$log")" "rule=recipient:bad@example.com: $REPLY" \
    "the log names the rule and its reply"
# Debian's python3 (the pyenv of root's PATH may be out of nobody's reach)
run setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 \
    "$CLIENT" -s "unix:$SOCK" run +optneg
like "$RC $ERR" '^1 .*PermissionError' \
    "a user outside group redmilter cannot connect (Permission denied)"
run setpriv --reuid=nobody --regid=nogroup --groups=redmilter \
    /usr/bin/python3 "$CLIENT" -s "unix:$SOCK" run +optneg +quit
like "$OUT" '^optneg: ' "a user in group redmilter can (adduser postfix redmilter)" ||
    diag "$ERR"
kill_wait "$P_MILTER" TERM
rc=$?
P_MILTER=
is "$rc" 0 "SIGTERM stops it with status 0"
ok "it removed its socket" test ! -e "$SOCK"
stop_redis

# --- purge ------------------------------------------------------------------------

run dpkg --purge redmilter
is "$RC" 0 "dpkg --purge redmilter" || diag "$OUT" "$ERR"
left=
for f in /etc/redmilter /usr/sbin/redmilter /usr/sbin/redmilterctl "$UNIT" \
    /etc/systemd/system/multi-user.target.wants/redmilter.service \
    /usr/share/doc/redmilter; do
	if [ -e "$f" ] || [ -L "$f" ]; then
		left+=" $f"
	fi
done
is "$left" "" "no file is left behind"
is "$(getent passwd redmilter)$(getent group redmilter)" "" \
    "no user or group redmilter"
run dpkg -L redmilter
like "$RC $ERR" "^1 .*redmilter.* is not installed" "dpkg -L redmilter: not installed"
P_INSTALLED=

done_testing
