#!/bin/bash
# tests/integration/greylist_ctl.sh - redmilterctl greylist list and
# greylist pass against a private redis-server.
#
# pass: its output, the triplet's hash (fields, a TTL of about 36 days),
# the network's count (once per distinct triplet), the null sender, IPv6,
# recipient_delimiter and greylist_netmask from -c, a pending triplet
# passed keeping its first attempt; list: exact lines of each section
# (a pending triplet written as the milter writes it, passed ones,
# networks, whitelisted from 5), the section arguments, keys that are not
# greylisting's, -p; errors: a bad address, bad usage, Redis down.
#
# Environment: TOP, REDMILTERCTL, TEST_PREFIX (see lib/harness.sh).  A
# missing redis-server or redmilterctl is a failure, never a skip.

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/integration/lib/redis.sh
. "$TOP/tests/integration/lib/redis.sh"
# shellcheck source=tests/integration/lib/ctl.sh
. "$TOP/tests/integration/lib/ctl.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
CTL=$REDMILTERCTL
need_program "$CTL" redis-cli date sed
LC_ALL=C
export LC_ALL

start_redis
CONN=(-r "$REDIS_URL")
P=redmilter:_grey
KEEP=$((36 * 86400))

# --- helpers ------------------------------------------------------------------

# hfield KEY FIELD - one field of a hash
hfield() {
	rcli --raw HGET "$1" "$2"
}

# hfields KEY - the field names of a hash, sorted, on one line
hfields() {
	rcli --raw HKEYS "$1" | sort | tr '\n' ' ' | sed 's/ $//'
}

# iso MS - milliseconds of Redis's clock as list prints them
iso() {
	date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%SZ
}

# ttl_near KEY WANT DESC - the key's TTL is WANT seconds, less at most 120
ttl_near() {
	local t
	t=$(rcli TTL "$1")
	if [ "$t" -le "$2" ] && [ "$t" -gt $(($2 - 120)) ]; then
		pass "$3"
	else
		fail "$3" "TTL $t, want $(($2 - 120))..$2"
	fi
}

# list_is DESC WANT ARGS... - greylist list ARGS: exit 0, no stderr, and
# stdout WANT once every expires-in=Ns is written expires-in=N
list_is() {
	local desc=$1 want=$2
	shift 2
	run_prog "$CTL" "${CONN[@]}" greylist list "$@"
	is "exit $RC"$'\n'"$(sed -E 's/expires-in=[0-9]+s/expires-in=N/' \
	    "$OUT_FILE")"$'\n'"stderr:$ERR" \
	    "exit 0"$'\n'"$want"$'\n'"stderr:" "$desc"
}

# passed_line NET FROM TO - the line list prints for a passed triplet
passed_line() {
	local k="$P:t:$1|$2|$3"
	echo "passed $1 $2 $3 first=$(iso "$(hfield "$k" first)")" \
	    "passed=$(iso "$(hfield "$k" pass)")" \
	    "last=$(iso "$(hfield "$k" last)") expires-in=N"
}

# client_line NET [whitelisted] - the line list prints for a network
client_line() {
	local k="$P:c:$1" w=
	[ -n "${2:-}" ] && w=" $2"
	echo "client $1 passed-triplets=$(hfield "$k" n)$w" \
	    "last=$(iso "$(hfield "$k" last)") expires-in=N"
}

# --- greylist pass --------------------------------------------------------------

tctl "pass: the triplet as kept, lower-cased, without the extension" 0 \
    "passed 192.0.2.0/24 a@example.com b@example.org" "" \
    greylist pass 192.0.2.7 A@Example.COM b+ext@Example.org
T1="$P:t:192.0.2.0/24|a@example.com|b@example.org"
is "$(rcli TYPE "$T1")" hash "pass: the triplet's hash"
is "$(hfields "$T1")" "first from last net pass to" "pass: its fields"
is "$(hfield "$T1" net) $(hfield "$T1" from) $(hfield "$T1" to)" \
    "192.0.2.0/24 a@example.com b@example.org" "pass: net, from, to"
first=$(hfield "$T1" first)
is "$(hfield "$T1" pass) $(hfield "$T1" last)" "$first $first" \
    "pass: first, pass and last are the same moment"
like "$first" '^[0-9]{13}$' "pass: times in milliseconds"
ttl_near "$T1" "$KEEP" "pass: the triplet is kept about 36 days"
C1="$P:c:192.0.2.0/24"
is "$(hfield "$C1" n) $(hfield "$C1" net)" "1 192.0.2.0/24" \
    "pass: the network counts one passed triplet"
ttl_near "$C1" "$KEEP" "pass: the network is kept about 36 days"

tctl "pass again: the same output" 0 \
    "passed 192.0.2.0/24 a@example.com b@example.org" "" \
    greylist pass 192.0.2.200 a@example.com b@example.org
is "$(hfield "$C1" n)" 1 "pass again: the same triplet counts once"
is "$(hfield "$T1" first)" "$first" "pass again: the first attempt stays"

tctl "pass: a second triplet of the network" 0 \
    "passed 192.0.2.0/24 c@example.com b@example.org" "" \
    greylist pass 192.0.2.1 c@example.com b@example.org
is "$(hfield "$C1" n)" 2 "pass: a distinct triplet counts"

tctl "pass: the null sender stays <>, IPv6 cut to 64 bits" 0 \
    "passed 2001:db8::/64 <> c@example.org" "" \
    greylist pass 2001:db8::1:2 '<>' c@example.org
is "$(rcli EXISTS "$P:t:2001:db8::/64|<>|c@example.org")" 1 \
    "pass: the null sender's triplet"

printf 'greylist_netmask = 16 48\nrecipient_delimiter = -\n' \
    >"$H_TMP/mask.conf"
tctl "pass -c: greylist_netmask and recipient_delimiter of the file" 0 \
    "passed 10.1.0.0/16 x@example.com y@example.com" "" \
    -c "$H_TMP/mask.conf" greylist pass 10.1.2.3 x-list@example.com \
    y-foo@example.com

# A pending triplet, as the milter writes it at a first attempt.
T0="$P:t:198.51.100.0/24|p@example.net|r@example.com"
F0=$((($(rcli --raw TIME | head -n 1) - 60) * 1000 + 123))
rcli HSET "$T0" first "$F0" last "$F0" \
    net 198.51.100.0/24 from p@example.net to r@example.com >/dev/null
rcli PEXPIRE "$T0" $((2 * 86400 * 1000)) >/dev/null
# Keys that are not greylisting's: a rule, a limit counter, a string
# under _grey:, another prefix's triplet.
rcli SET redmilter:recipient:u@example.com OK >/dev/null
rcli HSET 'redmilter:_limit:x' a 1 >/dev/null
rcli SET "$P:note" hello >/dev/null
rcli HSET 'other:_grey:t:192.0.2.0/24|o@example.com|o@example.com' \
    first 1 net 192.0.2.0/24 from o@example.com to o@example.com >/dev/null

# --- greylist list --------------------------------------------------------------

PENDING="pending 198.51.100.0/24 p@example.net r@example.com first=$(iso "$F0") expires-in=N"
PASSED="$(passed_line 10.1.0.0/16 x@example.com y@example.com)
$(passed_line 192.0.2.0/24 a@example.com b@example.org)
$(passed_line 192.0.2.0/24 c@example.com b@example.org)
$(passed_line 2001:db8::/64 '<>' c@example.org)"
CLIENTS="$(client_line 10.1.0.0/16)
$(client_line 192.0.2.0/24)
$(client_line 2001:db8::/64)"
list_is "list: every section, sorted" "$PENDING"$'\n'"$PASSED"$'\n'"$CLIENTS"
list_is "list pending" "$PENDING" pending
list_is "list passed" "$PASSED" passed
list_is "list clients" "$CLIENTS" clients
run_prog "$CTL" "${CONN[@]}" greylist list pending
e=$(sed -E 's/.*expires-in=([0-9]+)s$/\1/' "$OUT_FILE")
if [ "$e" -le 172800 ] && [ "$e" -gt 172680 ]; then
	pass "list: expires-in is the key's TTL (2 days for a pending one)"
else
	fail "list: expires-in is the key's TTL" "got $e"
fi
CONN=(-r "$REDIS_URL" -p other:)
list_is "list -p other: that prefix's state alone" \
    "pending 192.0.2.0/24 o@example.com o@example.com first=1970-01-01T00:00:00Z expires-in=never"
CONN=(-r "$REDIS_URL")
rcli HDEL "$T0" first >/dev/null
list_is "list: a missing time is ?" \
    "pending 198.51.100.0/24 p@example.net r@example.com first=? expires-in=N" \
    pending
rcli HSET "$T0" first "$F0" >/dev/null

# Passing a pending triplet keeps its first attempt.
tctl "pass: a pending triplet" 0 \
    "passed 198.51.100.0/24 p@example.net r@example.com" "" \
    greylist pass 198.51.100.9 p@example.net r@example.com
is "$(hfield "$T0" first)" "$F0" \
    "pass: a pending triplet keeps its first attempt"
ttl_near "$T0" "$KEEP" "pass: a pending triplet passed is kept 36 days"
list_is "list pending: none left" "" pending
run_prog "$CTL" "${CONN[@]}" greylist list passed
l=$(grep '^passed 198' "$OUT_FILE")
is "$(sed -E 's/expires-in=[0-9]+s/expires-in=N/' <<<"$l")" \
    "$(passed_line 198.51.100.0/24 p@example.net r@example.com)" \
    "list passed: the first attempt shown"
e=${l##*expires-in=}
e=${e%s}
if [ "$e" -le "$KEEP" ] && [ "$e" -gt $((KEEP - 120)) ]; then
	pass "list passed: expires-in about 36 days"
else
	fail "list passed: expires-in about 36 days" "got $e"
fi

# Whitelisted from GREYLIST_CLIENT_PASSES (5) passed triplets.
for i in 2 3 4; do
	run_prog "$CTL" "${CONN[@]}" greylist pass 198.51.100.$i \
	    "s$i@example.net" r@example.com
done
list_is "list clients: 4 passed triplets, not whitelisted" \
    "$(client_line 10.1.0.0/16)
$(client_line 192.0.2.0/24)
client 198.51.100.0/24 passed-triplets=4 last=$(iso "$(hfield \
    "$P:c:198.51.100.0/24" last)") expires-in=N
$(client_line 2001:db8::/64)" clients
run_prog "$CTL" "${CONN[@]}" greylist pass 198.51.100.5 s5@example.net \
    r@example.com
list_is "list clients: 5 passed triplets, whitelisted" \
    "$(client_line 10.1.0.0/16)
$(client_line 192.0.2.0/24)
client 198.51.100.0/24 passed-triplets=5 whitelisted last=$(iso "$(hfield \
    "$P:c:198.51.100.0/24" last)") expires-in=N
$(client_line 2001:db8::/64)" clients

# --- bad input ------------------------------------------------------------------

keys=$(rcli DBSIZE)

tctl "pass: not an IP address, exit 1" 1 "" \
    "redmilterctl: greylist pass: not an IP address: 300.1.1.1" \
    greylist pass 300.1.1.1 a@example.com b@example.org
tctl "pass: a host name is no address, exit 1" 1 "" \
    "redmilterctl: greylist pass: not an IP address: mx.example.com" \
    greylist pass mx.example.com a@example.com b@example.org
tctl "pass: two arguments, exit 1" 1 "" \
    "redmilterctl: usage: greylist pass CLIENT-IP SENDER RECIPIENT" \
    greylist pass 192.0.2.1 a@example.com
tctl "list: an unknown section, exit 1" 1 "" \
    "redmilterctl: usage: greylist list [pending|passed|clients]" \
    greylist list whitelisted
tctl "greylist alone, exit 1" 1 "" \
    "redmilterctl: usage: greylist list [pending|passed|clients] | greylist pass CLIENT-IP SENDER RECIPIENT" \
    greylist
is "$(rcli DBSIZE)" "$keys" "bad input writes nothing"

# --- Redis down -----------------------------------------------------------------

SOCK=$REDIS_SOCK
stop_redis
for url in "$REDIS_URL" "unix:$SOCK"; do
	CONN=(-r "$url")
	run_prog "$CTL" "${CONN[@]}" greylist pass 192.0.2.7 a@example.com \
	    b@example.org
	is "$RC" 2 "pass: Redis down ($url), exit 2"
	like "$ERR" '^redmilterctl: [^'$'\n'']*(refused|No such file)[^'$'\n'']*$' \
	    "pass: Redis down ($url), one line naming the error"
	is "$OUT" "" "pass: Redis down ($url), nothing on stdout"
	run_prog "$CTL" "${CONN[@]}" greylist list
	is "$RC" 2 "list: Redis down ($url), exit 2"
	like "$ERR" '^redmilterctl: [^'$'\n'']*(refused|No such file)[^'$'\n'']*$' \
	    "list: Redis down ($url), one line naming the error"
done

done_testing
