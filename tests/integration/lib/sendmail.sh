# shellcheck shell=bash
# tests/integration/lib/sendmail.sh - a real Sendmail for one test script,
# never installed, and a small SMTP client.  Sourced, never run.
#
# Debian's sendmail packages conflict with postfix, so the Debian packages
# sendmail-bin, sendmail-cf and libwrap0 are fetched with `apt-get download`
# (once: they are kept in $SM_CACHE) and unpacked with `dpkg -x` into the
# script's temporary directory.  Sendmail runs in its own network and UTS
# namespace (`unshare -n -u`: loopback only, and a qualified hostname, or it
# waits 60 s for one at start and looks its name up in DNS), and so does everything that talks to it over TCP: the script
# re-executes itself inside the namespace, where Redis, the milter, Sendmail
# and the SMTP client all live on the namespace's own 127.0.0.1.
#
# Two halves.  Before harness.sh is loaded, outside the namespace:
#   sm_enter_netns SCRIPT ARGS...
#       fetch the packages (the one step that needs the network), then exec
#       `unshare -n -u` on SCRIPT.  Prints "1..0 # SKIP reason" and exits
#       when this machine cannot run a real Sendmail (not root, no network
#       namespace, packages unavailable): never a pass.  A missing m4 is a
#       failure (tests/deps.sh installs it).  Returns only inside the
#       namespace (REDMILTER_SM_NETNS=1), with loopback up and the hostname
#       set to $SM_HOSTNAME.
# Inside, after sourcing this file and redis.sh:
#   sm_unpack              unpack the packages into $SM_ROOT; the sendmail
#                          binary is copied without its setgid bit (the
#                          loader ignores LD_LIBRARY_PATH for setgid
#                          programs)
#   sm_build NAME SNIPPET PORT
#                          $H_TMP/sm.NAME/sendmail.cf: our test .mc (queue,
#                          pid, status and alias files in that directory,
#                          queue-only delivery, no DNS) with SNIPPET (a .mc
#                          file) included where a site puts its milter
#                          lines, Sendmail on 127.0.0.1:PORT; sets SM_CF
#   sm_start NAME          run `sendmail -bD` on that .cf and wait until it
#                          listens; SM_PID[NAME], SM_PORT[NAME]
#   sm_stop NAME           SIGTERM and reap it
#   sm_queue NAME          the queue directory of NAME
#   sm_leftovers           pids of processes running our sendmail binary
# SMTP client (bash /dev/tcp; one session at a time; every line sent waits
# for its reply: no pipelining, as Sendmail wants from a test client):
#   smtp_open PORT         connect, read the banner into SMTP_REPLY
#   smtp_cmd LINE          send LINE, read the reply into SMTP_REPLY: every
#                          line of a multi-line reply, CR removed, joined
#                          by newlines; "(timeout)" or "(closed)" when none
#                          came
#   smtp_data LINE...      the message (dot-stuffed) and the final ".";
#                          reply into SMTP_REPLY
#   smtp_close             close the connection (send QUIT first yourself)
#
# Environment: SM_CACHE (default /var/cache/redmilter-tests) holds the
# downloaded .deb files; SM_DEBUG=1 runs sendmail with -d64.5 (milter
# debugging on its stdout, $H_TMP/sm.NAME/stdout).

SM_CACHE=${SM_CACHE:-/var/cache/redmilter-tests}
SM_HOSTNAME=mx.redmilter.test
SM_PKGS="sendmail-bin sendmail-cf libwrap0"

# --- outside the namespace (no harness loaded yet) -------------------------

# sm_skip REASON [DETAIL...] - report the whole script as skipped and exit
sm_skip() {
	local d
	echo "1..0 # SKIP real Sendmail unavailable: $1"
	shift
	for d in "$@"; do
		printf '%s\n' "$d" | sed 's/^/# /' >&2
	done
	exit 0
}

# sm_fatal REASON - a failure that is ours to fix (a missing tool)
sm_fatal() {
	echo "1..1"
	echo "not ok 1 - $1"
	echo "# $1" >&2
	exit 1
}

# sm_pick PKG - the newest cached .deb of PKG, or nothing
sm_pick() {
	local f
	for f in "$SM_CACHE/$1"_*.deb; do
		[ -e "$f" ] && printf '%s\n' "$f"
	done | sort -V | tail -n 1
}

# sm_fetch - make sure the cache holds the packages; sets SM_DEBS (paths)
sm_fetch() {
	local p missing=() log rc
	mkdir -p "$SM_CACHE" 2>/dev/null ||
	    sm_skip "cannot create the package cache $SM_CACHE"
	for p in $SM_PKGS; do
		[ -n "$(sm_pick "$p")" ] || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		log=$SM_CACHE/download.log
		# One download at a time: concurrent runs share the cache.
		(
			cd "$SM_CACHE" || exit 1
			flock -w 300 9 || exit 1
			timeout -k 5 300 apt-get download "${missing[@]}" ||
			    { timeout -k 5 300 apt-get update &&
			        timeout -k 5 300 apt-get download "${missing[@]}"; }
		) 9>"$SM_CACHE/.lock" >"$log" 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			sm_skip "apt-get download ${missing[*]} failed (exit $rc; network or package lists)" \
			    "$(tail -n 5 "$log")"
		fi
	fi
	SM_DEBS=
	for p in $SM_PKGS; do
		f=$(sm_pick "$p")
		[ -n "$f" ] || sm_skip "$p is not in $SM_CACHE after the download"
		SM_DEBS="$SM_DEBS $f"
	done
	# sendmail-bin and sendmail-cf must be the same release
	if [ "$(dpkg-deb -f "$(sm_pick sendmail-bin)" Version)" != \
	    "$(dpkg-deb -f "$(sm_pick sendmail-cf)" Version)" ]; then
		sm_skip "sendmail-bin and sendmail-cf in $SM_CACHE differ in version: remove the old ones"
	fi
}

# sm_enter_netns SCRIPT ARGS... - see the top of this file
sm_enter_netns() {
	local script=$1 err
	shift
	if [ "${REDMILTER_SM_NETNS:-}" = 1 ]; then
		sm_netns_setup
		return 0
	fi
	command -v m4 >/dev/null 2>&1 ||
	    sm_fatal "m4 is not installed (run tests/deps.sh): it builds sendmail.cf"
	if ! command -v dpkg-deb >/dev/null 2>&1 ||
	    ! command -v apt-get >/dev/null 2>&1; then
		sm_skip "no dpkg-deb/apt-get: Sendmail is fetched as Debian packages"
	fi
	[ "$(id -u)" -eq 0 ] ||
	    sm_skip "needs root (a network namespace with unshare -n, Sendmail's daemon mode)"
	command -v unshare >/dev/null 2>&1 || sm_skip "unshare(1) is missing"
	if ! err=$(unshare -n -u true 2>&1); then
		sm_skip "cannot create a network namespace (unshare -n -u): $err"
	fi
	sm_fetch
	REDMILTER_SM_NETNS=1 SM_DEBS=$SM_DEBS exec unshare -n -u \
	    bash "$script" "$@"
}

# sm_netns_setup - inside: loopback up and a qualified hostname
sm_netns_setup() {
	if command -v ip >/dev/null 2>&1; then
		ip link set lo up || sm_fatal "ip link set lo up failed"
	else
		sm_fatal "ip (iproute2) is missing: it brings up the namespace's loopback"
	fi
	hostname "$SM_HOSTNAME" 2>/dev/null ||
	    echo "$SM_HOSTNAME" >/proc/sys/kernel/hostname ||
	    sm_fatal "cannot set the namespace's hostname"
	[ "$(uname -n)" = "$SM_HOSTNAME" ] ||
	    sm_fatal "hostname is $(uname -n), not $SM_HOSTNAME"
}

# --- inside: Sendmail ------------------------------------------------------

declare -A SM_PID=() SM_PORT=()
SM_ROOT=
SM_BIN=
SM_CFDIR=
SM_LIBDIR=
# shellcheck disable=SC2034 # for the scripts that source this file
SM_VERSION=

# sm_unpack - the packages into $H_TMP/sm-root
sm_unpack() {
	local deb lib
	SM_ROOT=$H_TMP/sm-root
	mkdir -p "$SM_ROOT" || bail_out "cannot create $SM_ROOT"
	for deb in $SM_DEBS; do
		dpkg -x "$deb" "$SM_ROOT" || bail_out "dpkg -x $deb failed"
	done
	deb=${SM_DEBS# }
	# shellcheck disable=SC2034 # for the scripts that source this file
	SM_VERSION=$(dpkg-deb -f "${deb%% *}" Version 2>/dev/null)
	SM_BIN=$H_TMP/sendmail
	# a copy without setgid, so that LD_LIBRARY_PATH applies
	if ! cp "$SM_ROOT/usr/libexec/sendmail/sendmail" "$SM_BIN" ||
	    ! chmod 0755 "$SM_BIN"; then
		bail_out "cannot copy the sendmail binary"
	fi
	lib=$(find "$SM_ROOT" -name 'libwrap.so.0' | head -n 1)
	SM_LIBDIR=${lib%/*}
	SM_CFDIR=$SM_ROOT/usr/share/sendmail/cf
	[ -f "$SM_CFDIR/m4/cf.m4" ] || bail_out "no m4/cf.m4 in sendmail-cf"
}

# sm_dir NAME - the directory of one Sendmail instance
sm_dir() {
	printf '%s\n' "$H_TMP/sm.$1"
}

sm_queue() {
	printf '%s\n' "$(sm_dir "$1")/mqueue"
}

# sm_build NAME SNIPPET PORT - the .mc and sendmail.cf of one instance
sm_build() {
	local name=$1 snippet=$2 port=$3 d
	d=$(sm_dir "$name")
	if ! mkdir -p "$d" || ! mkdir -m 0700 "$d/mqueue"; then
		bail_out "cannot create $d"
	fi
	: >"$d/aliases"
	: >"$d/statistics"
	printf 'hosts files\naliases files\n' >"$d/service.switch"
	printf '127.0.0.1 localhost %s\n' "$SM_HOSTNAME" >"$d/hosts"
	cp "$SM_ROOT/etc/mail/helpfile" "$d/helpfile" 2>/dev/null || : >"$d/helpfile"
	# The site part: everything a test instance needs and no more (its
	# files in $d, queue-only delivery, no interface probing, no ident, no
	# canonification or DNS checks of domains, no MSA port), then the
	# snippet where a site's milter lines go, then the mailers.
	cat >"$d/test.mc" <<EOF
divert(-1)
# redmilter test instance $name, built by tests/integration/lib/sendmail.sh
divert(0)dnl
VERSIONID(\`redmilter test $name')dnl
OSTYPE(\`linux')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`ALIAS_FILE', \`$d/aliases')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/service.switch')dnl
define(\`confHOSTS_FILE', \`$d/hosts')dnl
define(\`confHELP_FILE', \`$d/helpfile')dnl
define(\`confDELIVERY_MODE', \`queue')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confTO_IDENT', \`0s')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$port, Addr=127.0.0.1, Name=MTA')dnl
include(\`$snippet')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	SM_PORT[$name]=$port
	SM_CF=$d/sendmail.cf
	if ! m4 -D_CF_DIR_="$SM_CFDIR/" "$SM_CFDIR/m4/cf.m4" "$d/test.mc" \
	    >"$SM_CF" 2>"$d/m4.err" || [ -s "$d/m4.err" ]; then
		diag "$(cat "$d/m4.err")"
		return 1
	fi
	return 0
}

# sm_listening PORT - a socket listens on 127.0.0.1:PORT (no connection made)
sm_listening() {
	local hex
	hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$hex" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' \
	    /proc/net/tcp
}

# sm_start NAME - sendmail -bD on the instance's .cf; returns 1 (with a
# diagnostic) unless it listens within 30 s
sm_start() {
	local name=$1 d i pid
	local -a dbg=()
	d=$(sm_dir "$name")
	if [ "${SM_DEBUG:-}" = 1 ]; then
		dbg=(-d64.5)
	fi
	spawn env LD_LIBRARY_PATH="$SM_LIBDIR" "$SM_BIN" -C "$d/sendmail.cf" -bD \
	    "${dbg[@]}" >>"$d/stdout" 2>&1 </dev/null
	pid=$SPAWN_PID
	SM_PID[$name]=$pid
	for ((i = 0; i < 600; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			diag "sendmail $name exited with status $?:"
			diag "$(tail -n 20 "$d/stdout")"
			unregister_pid "$pid"
			SM_PID[$name]=
			return 1
		fi
		if sm_listening "${SM_PORT[$name]}"; then
			return 0
		fi
		sleep 0.05
	done
	diag "$(tail -n 20 "$d/stdout")"
	return 1
}

# sm_stop NAME - stop the daemon; its SMTP children end with their sessions
sm_stop() {
	local pid=${SM_PID[$1]:-}
	if [ -n "$pid" ]; then
		kill_wait "$pid" TERM
		SM_PID[$1]=
	fi
}

# sm_leftovers - pids of processes running our copy of sendmail
sm_leftovers() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		if [ "$exe" = "$SM_BIN" ]; then
			printf '%s\n' "${p#/proc/}"
		fi
	done
}

# --- inside: the SMTP client ------------------------------------------------

SMTP_FD=
SMTP_REPLY=
SMTP_TIMEOUT=${SMTP_TIMEOUT:-30}

# smtp_read - one reply (all its lines) into SMTP_REPLY
smtp_read() {
	local line rc
	SMTP_REPLY=
	while :; do
		IFS= read -r -t "$SMTP_TIMEOUT" -u "$SMTP_FD" line
		rc=$?
		if [ $rc -ne 0 ] && [ -z "$line" ]; then
			if [ $rc -gt 128 ]; then
				SMTP_REPLY+=${SMTP_REPLY:+$'\n'}"(timeout)"
			else
				SMTP_REPLY+=${SMTP_REPLY:+$'\n'}"(closed)"
			fi
			return 1
		fi
		line=${line%$'\r'}
		SMTP_REPLY+=${SMTP_REPLY:+$'\n'}$line
		if ! [[ $line =~ ^[0-9]{3}- ]]; then
			return 0
		fi
	done
}

# smtp_write LINE... - send lines with CRLF; a dead peer is an error, not
# a SIGPIPE for this shell
smtp_write() {
	(
		trap '' PIPE
		printf '%s\r\n' "$@" >&"$SMTP_FD"
	) 2>/dev/null
}

# smtp_open PORT - connect to 127.0.0.1:PORT and read the banner
smtp_open() {
	smtp_close
	if ! exec {SMTP_FD}<>"/dev/tcp/127.0.0.1/$1"; then
		SMTP_FD=
		SMTP_REPLY="(connect failed)"
		return 1
	fi 2>/dev/null
	smtp_read
}

# smtp_cmd LINE - send one command and read its reply
smtp_cmd() {
	if [ -z "$SMTP_FD" ]; then
		SMTP_REPLY="(not connected)"
		return 1
	fi
	if ! smtp_write "$1"; then
		SMTP_REPLY="(closed)"
		return 1
	fi
	smtp_read
}

# smtp_data LINE... - the message body after a 354, then "."
smtp_data() {
	local l out=()
	for l in "$@"; do
		if [[ $l == .* ]]; then
			l=.$l
		fi
		out+=("$l")
	done
	out+=(".")
	if ! smtp_write "${out[@]}"; then
		SMTP_REPLY="(closed)"
		return 1
	fi
	smtp_read
}

smtp_close() {
	if [ -n "$SMTP_FD" ]; then
		exec {SMTP_FD}>&-
		SMTP_FD=
	fi
}
