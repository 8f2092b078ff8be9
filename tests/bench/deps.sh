#!/bin/bash
# tests/bench/deps.sh - the Debian packages `make bench` needs beyond
# tests/deps.sh (which `make check` uses, and which never needs these):
# Postfix (smtp-source, the MTA), perf for the profile, bc.  Run as
# root it installs the missing ones; otherwise it fails naming them.

set -euo pipefail

DEPS="postfix linux-perf bc"
# shellcheck disable=SC2206 # DEPS is a list of words
deps=($DEPS)
need=()
for p in "${deps[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) || st=
	case $st in
	ii*) ;;
	*) need+=("$p") ;;
	esac
done
if [ ${#need[@]} -eq 0 ]; then
	echo "bench deps: all ${#deps[@]} packages installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/bench/deps.sh: missing Debian packages: ${need[*]}" >&2
	echo "As root: apt-get install ${need[*]}" >&2
	exit 1
fi
echo "bench deps: installing ${need[*]}"
# No debconf questions, no configuration of the host's mail system: the
# bench runs a private Postfix.  Postfix's services are not
# started (there is no init system here, and the bench starts its own).
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends -o DPkg::Lock::Timeout=300 "$@"
}
if ! install "${need[@]}"; then
	apt-get update
	install "${need[@]}"
fi
