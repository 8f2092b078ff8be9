#!/bin/bash
# tests/deps.sh - make sure the Debian packages that building and testing
# redmilter need are installed.
#
# usage: tests/deps.sh [deb]
#   (none)  what `make check` and the other targets use
#   deb     what `make deb` uses to build and check the Debian package
#
# Run as root, it installs the missing ones with apt-get (updating the package
# lists first when they are empty, or when the install fails); run as anyone
# else, it fails naming them.  It never skips: `make check` must not run with
# part of its tools missing.  Debian 12 (bookworm) is the reference system.

set -euo pipefail

# Everything `make check` and the other targets use, one package a word.
# Add a package here when a test starts to need it.  m4 builds sendmail.cf
# for tests/integration/sendmail.sh; Sendmail itself is not listed: its
# packages conflict with postfix, so that test fetches sendmail-bin,
# sendmail-cf and libwrap0 with apt-get download and unpacks them with dpkg -x
# into a cache directory, never installing them; iproute2 (ip) brings up the
# loopback of the network namespace it runs Sendmail in.  miltertest drives
# the milter protocol for tests/integration/miltertest.sh.  postfix, python3
# (tests/integration/lib/smtp.py, the SMTP client), sasl2-bin (saslpasswd2
# makes the sasldb), libsasl2-modules (PLAIN) and libsasl2-modules-db (the
# sasldb auxprop plugin) serve tests/integration/postfix.sh and `make demo`,
# which run private Postfix instances; swaks is what `make demo` tells its
# user to send test mail with.  redis-sentinel (Debian's Sentinel) watches
# the primary and two replicas of tests/integration/sentinel.sh.  systemd
# (systemd-analyze) and man-db (man, which systemd-analyze verify runs for
# the Documentation= pages) serve tests/integration/systemd_unit.sh.
# python3-prometheus-client parses the milter's metrics as Prometheus
# would, for tests/integration/metrics.sh (run with Debian's own
# /usr/bin/python3, where Debian's Python packages are).
DEPS="
	build-essential gcc make pkg-config
	clang libclang-rt-14-dev
	check libhiredis-dev libmilter-dev
	redis-server redis-sentinel miltertest
	valgrind cppcheck clang-format
	m4 iproute2
	postfix python3 swaks sasl2-bin libsasl2-modules libsasl2-modules-db
	systemd man-db python3-prometheus-client
"
# `make deb`: debian/control's Build-Depends, dpkg-buildpackage (dpkg-dev)
# and lintian, which checks the package it built.
DEB_DEPS="
	build-essential make pkg-config libhiredis-dev libmilter-dev
	debhelper dpkg-dev lintian
"
case ${1:-} in
'') ;;
deb) DEPS=$DEB_DEPS ;;
*)
	echo "usage: tests/deps.sh [deb]" >&2
	exit 64
	;;
esac
# shellcheck disable=SC2206 # DEPS is a list of words
deps=($DEPS)

# missing - print the packages of DEPS that are not installed
missing() {
	local p st
	for p in "${deps[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) ||
		    st=
		case $st in
		ii*) ;;
		*) echo "$p" ;;
		esac
	done
}

# lists_present - whether apt has any package lists at all
lists_present() {
	local f
	for f in /var/lib/apt/lists/*_Packages*; do
		[ -e "$f" ] && return 0
	done
	return 1
}

apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	    -o DPkg::Lock::Timeout=300 "$@"
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "tests/deps.sh: dpkg-query not found: this is not a Debian system." >&2
	echo "Install the equivalents of these Debian packages: ${deps[*]}" >&2
	exit 1
fi

# shellcheck disable=SC2207
need=($(missing))
if [ ${#need[@]} -eq 0 ]; then
	echo "deps: all ${#deps[@]} packages installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/deps.sh: missing Debian packages: ${need[*]}" >&2
	echo "As root: apt-get install ${need[*]} (or run make check as root)" >&2
	exit 1
fi

echo "deps: installing ${need[*]}"
case " ${need[*]} " in
*" postfix "*)
	# No debconf questions, and no configuration of the host's own mail
	# system: the tests run private Postfix instances.
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	;;
esac
if ! lists_present; then
	apt-get update
fi
if ! apt_install "${need[@]}"; then
	echo "deps: install failed; updating the package lists and trying again"
	apt-get update
	apt_install "${need[@]}"
fi

# shellcheck disable=SC2207
need=($(missing))
if [ ${#need[@]} -ne 0 ]; then
	echo "tests/deps.sh: still missing after apt-get install: ${need[*]}" >&2
	exit 1
fi
echo "deps: all ${#deps[@]} packages installed"
