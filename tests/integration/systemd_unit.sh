#!/bin/bash
# systemd_unit.sh - the two systemd units, contrib/systemd/redmilter.service
# (a plain `make install`'s paths) and debian/redmilter.service (the
# package's): systemd-analyze verify prints nothing about either, they
# differ only in those paths, and they keep what contrib/systemd/README
# promises (the redmilter user from the start, no capability, SIGUSR1 to
# reload, start-up errors reaching the journal).  systemd-analyze security
# --offline reports the exposure, which must stay "OK" (at most 2.5).
#
# verify checks that ExecStart's program exists and that `man` finds the
# Documentation= pages.  The programs are not installed here, so each unit
# is verified in a private mount namespace (unshare --mount, which needs
# root) with a tmpfs over the program's directory holding the tree's
# milter/redmilter, and MANPATH naming the tree's man pages.  PID 1 need not
# be systemd.
#
# By hand (as root):  make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#     bash tests/integration/systemd_unit.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP a private mount namespace (unshare --mount) needs root"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"

REDMILTER=${REDMILTER:-$TOP/milter/redmilter}
need_program systemd-analyze unshare man "$REDMILTER"

CONTRIB=$TOP/contrib/systemd/redmilter.service
PACKAGE=$TOP/debian/redmilter.service

# The man pages where `man` finds them: MANPATH/man5, MANPATH/man8.
man=$H_TMP/man
mkdir -p "$man/man5" "$man/man8"
for m in milter/redmilter.8 milter/redmilter.conf.5 policy/ctl/redmilterctl.8; do
	ln -s "$TOP/$m" "$man/man${m##*.}/"
done

# directive UNIT KEY - the values of KEY= in UNIT, one a line
directive() {
	sed -n "s/^$2=//p" "$1"
}

# body UNIT - the unit without its comments
body() {
	grep -v '^#' "$1"
}

# verify UNIT - systemd-analyze verify, with ExecStart's program in place;
# sets OUT (stdout and stderr) and RC
verify() {
	local unit=$1 prog dir
	prog=$(directive "$unit" ExecStart | cut -d' ' -f1)
	dir=$(dirname "$prog")
	# shellcheck disable=SC2016 # the inner shell's arguments
	run unshare --mount --propagation private sh -c '
		mount -t tmpfs -o mode=0755 tmpfs "$1" &&
		cp "$2" "$3" &&
		MANPATH=$4 systemd-analyze verify "$5" 2>&1' sh \
	    "$dir" "$REDMILTER" "$prog" "$man" "$unit"
}

plan 19

for unit in "$CONTRIB" "$PACKAGE"; do
	name=${unit#"$TOP"/}
	[ -f "$unit" ] || bail_out "$name is missing"
	verify "$unit"
	is "$RC: $OUT$ERR" "0: " "$name: systemd-analyze verify warns about nothing"
	is "$(directive "$unit" User) $(directive "$unit" Group)" \
	    "redmilter redmilter" "$name: runs as redmilter:redmilter"
	is "$(grep -c '^CapabilityBoundingSet=$' "$unit") $(grep -c '^AmbientCapabilities=$' "$unit")" \
	    "1 1" "$name: an empty capability set"
	# shellcheck disable=SC2016 # systemd's $MAINPID, verbatim
	is "$(directive "$unit" ExecReload)" '/bin/kill -USR1 $MAINPID' \
	    "$name: reload is SIGUSR1"
	is "$(directive "$unit" StandardError)" "" \
	    "$name: stderr (start-up errors) goes to the journal"
	is "$(directive "$unit" RuntimeDirectory) $(directive "$unit" RuntimeDirectoryMode) $(directive "$unit" UMask)" \
	    "redmilter 0750 0007" "$name: /run/redmilter 0750, umask 0007"
	run systemd-analyze security --offline=yes "$unit"
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' \
	    <<<"$OUT")
	note "$name: systemd-analyze security: exposure $score"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }'; then
		pass "$name: exposure $score, at most 2.5"
	else
		fail "$name: exposure '$score', want at most 2.5" "$OUT$ERR"
	fi
done

is "$(directive "$CONTRIB" ExecStart)" \
    "/usr/local/sbin/redmilter -f -c /usr/local/etc/redmilter.conf" \
    "contrib: the paths of a plain make install"
is "$(directive "$PACKAGE" ExecStart)" \
    "/usr/sbin/redmilter -f -c /etc/redmilter/redmilter.conf" \
    "debian: the package's paths"
want=$(body "$CONTRIB" |
    sed -e 's|/usr/local/sbin/|/usr/sbin/|' \
        -e 's|/usr/local/etc/redmilter.conf|/etc/redmilter/redmilter.conf|')
is "$(body "$PACKAGE")" "$want" "the two units differ in those paths only"

# The check is not vacuous: a unit with a mistake is warned about.
bad=$H_TMP/redmilter.service
sed 's/^NoNewPrivileges=yes/NoNewPrivileges=perhaps/' "$CONTRIB" >"$bad"
verify "$bad"
like "$OUT" 'redmilter\.service:[0-9]+: Failed to parse boolean value.*perhaps' \
    "verify warns about a bad value"
sed 's|^Documentation=.*|Documentation=man:redmilter-nope(8)|' "$CONTRIB" >"$bad"
verify "$bad"
like "$OUT" "man redmilter-nope\\(8\\)' failed" \
    "verify warns about a missing man page"

done_testing
