#!/bin/bash
# tests/integration/ctl.sh - redmilterctl against a private redis-server.
#
# Every command and exit status of the redmilterctl contract, with exact
# output lines: add, del, get, list, export, import (--replace, stdin,
# duplicates, all or nothing, the lock), check (the precedence examples
# of redmilterctl(8), -v trails, multi-line replies, broken rules, Redis failures),
# lint, codes, -p, -c with redis_password_file, -r leaving the
# configuration's password behind (a second Redis, watched with MONITOR)
# and REDISCLI_AUTH, unix: URLs, an unreachable Redis, Redis killed during
# an import, 100,000-rule imports and exports (timed, as TAP comments) and
# concurrent --replace imports.
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
need_program "$CTL" redis-cli
LC_ALL=C
export LC_ALL

start_redis
CONN=(-r "$REDIS_URL")
P=redmilter:

# --- helpers ------------------------------------------------------------------

# c ARGS... - redmilterctl ARGS on our Redis: OUT, ERR, RC
c() {
	run_prog "$CTL" "${CONN[@]}" "$@"
}

# xc CODE DESC ARGS... - c ARGS, one test on the exit status
xc() {
	local code=$1 desc=$2
	shift 2
	expect_exit "$code" "$desc" -- "$CTL" "${CONN[@]}" "$@"
}

# one_err_line DESC - ERR is one line "redmilterctl: ..."
one_err_line() {
	like "$ERR" '^redmilterctl: [^'$'\n'']+$' "$1"
}

flush() {
	rcli FLUSHALL >/dev/null
}

rget() {
	rcli --raw GET "$1"
}

rexists() {
	rcli EXISTS "$1"
}

rttl() {
	rcli TTL "$1"
}

# in_range N LO HI
in_range() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# ttl_ok DESC TTL SET T0 - one test: TTL (seconds left) is what was SET at
# time T0 ($SECONDS then) less the time since (valgrind makes it long)
ttl_ok() {
	local lo=$(($3 - (SECONDS - $4) - 2))
	ok "$1" in_range "$2" "$lo" "$3"
}

# dump [PATTERN] - every key (default: all), sorted, as "KEY = VALUE [ttl]",
# read in one atomic script
DUMP_LUA='local out = {}
for _, k in ipairs(redis.call("KEYS", ARGV[1])) do
	local ty = redis.call("TYPE", k)["ok"]
	local v = "(" .. ty .. ")"
	if ty == "string" then v = redis.call("GET", k) end
	local t = redis.call("TTL", k)
	if t >= 0 then v = v .. " [ttl]" end
	out[#out + 1] = k .. " = " .. v
end
table.sort(out)
return table.concat(out, "\n")'
dump() {
	rcli --raw EVAL "$DUMP_LUA" 0 "${1:-*}"
}

# count PATTERN... - how many keys match each PATTERN, read atomically:
# "N1 N2 ..."
COUNT_LUA='local r = {}
for i, p in ipairs(ARGV) do r[i] = #redis.call("KEYS", p) end
return table.concat(r, " ")'
count() {
	rcli --raw EVAL "$COUNT_LUA" 0 "$@"
}

CLOSED_PORT=$(free_port) || bail_out "no free port for the closed-port tests"

# --- codes --------------------------------------------------------------------

CODES='421 4.3.2 Service not available, closing channel
450 4.2.1 Mailbox unavailable
451 4.3.0 Local error in processing
452 4.2.2 Mailbox full, try again later
500 5.5.2 Syntax error
501 5.5.4 Syntax error in parameters
502 5.5.1 Command not implemented
503 5.5.1 Bad sequence of commands
504 5.5.4 Parameter not implemented
521 5.3.2 Host does not accept mail
530 5.7.0 Authentication required
535 5.7.8 Authentication credentials invalid
550 5.1.1 Mailbox not found (recipient, pair)
550 5.7.1 Rejected by policy (other tables)
551 5.1.6 User not local
552 5.2.2 Mailbox full
553 5.1.3 Mailbox name invalid (recipient, pair)
553 5.1.7 Mailbox name invalid (other tables)
554 5.7.1 Transaction failed
556 5.1.10 Domain does not accept mail'
tctl "codes prints the whole catalogue" 0 "$CODES" "" codes
# The catalogue needs no Redis.
CONN=(-r "redis://127.0.0.1:$CLOSED_PORT/0")
tctl "codes works without Redis" 0 "$CODES" "" codes
CONN=(-r "$REDIS_URL")

# --- add --------------------------------------------------------------------

flush
tctl "add: a valid rule, nothing printed" 0 "" "" \
    add recipient bob@example.com 552 5.2.2 Mailbox full
is "$(rget ${P}recipient:bob@example.com)" "552 5.2.2 Mailbox full" \
    "add: the action words are joined with single spaces"
is "$(rttl ${P}recipient:bob@example.com)" "-1" "add: no -t, no TTL"
tctl "add: the action as one argument" 0 "" "" \
    add recipient bob2@example.com '552 5.2.2 Mailbox full'
is "$(rget ${P}recipient:bob2@example.com)" "552 5.2.2 Mailbox full" \
    "add: one argument stores the same value"
tctl "add: an upper-case key" 0 "" "" \
    add sender Spammer.EXAMPLE 'REJECT Go Away'
is "$(rexists ${P}sender:spammer.example) $(rexists ${P}sender:Spammer.EXAMPLE)" \
    "1 0" "add: the key is folded to lower case"
is "$(rget ${P}sender:spammer.example)" "REJECT Go Away" \
    "add: the action keeps its case"
t0=$SECONDS
tctl "add: -t before TABLE" 0 "" "" \
    add -t 3600 sender temp.example REJECT Go away
ttl_ok "add: -t 3600 before TABLE gives a TTL of 3600 s" \
    "$(rttl ${P}sender:temp.example)" 3600 "$t0"
t0_temp=$t0
is "$(rget ${P}sender:temp.example)" "REJECT Go away" \
    "add: -t before TABLE is not part of the action"
t0=$SECONDS
tctl "add: -t as the last two arguments" 0 "" "" \
    add sender temp2.example REJECT go -t 50
ttl_ok "add: -t 50 at the end gives a TTL of 50 s" \
    "$(rttl ${P}sender:temp2.example)" 50 "$t0"
is "$(rget ${P}sender:temp2.example)" "REJECT go" \
    "add: -t at the end is not part of the action"
tctl "add: -t 2147483647 is accepted" 0 "" "" \
    add -t 2147483647 sender max1.example OK
t0=$SECONDS
tctl "add: -t 2147483648 (2^31) is accepted" 0 "" "" \
    add -t 2147483648 sender max2.example OK
ttl_ok "add: -t 2147483648 gives that TTL" \
    "$(rttl ${P}sender:max2.example)" 2147483648 "$t0"
for bad in 0 2147483649 -5 abc 10s ''; do
	xc 1 "add: -t '$bad' is refused" add -t "$bad" sender ttl.example OK
	one_err_line "add: -t '$bad': one line on stderr"
done
is "$(rexists ${P}sender:ttl.example)" 0 "add: nothing written for a bad -t"
tctl "add: 'OK' alone" 0 "" "" add client 192.0.2.1 OK

# Invalid actions: the engine's message, exit 1, nothing written.
k=recipient:bad@example.com
while IFS='|' read -r action msg; do
	tctl "add: invalid action '$action'" 1 "" \
	    "redmilterctl: recipient bad@example.com: $msg" \
	    add recipient bad@example.com "$action" </dev/null
	is "$(rexists "$P$k")" 0 "add: nothing written for '$action'"
done <<'EOF'
550 4.7.1 x|enhanced code 4.7.1 does not match reply code 550
451 5.3.0 x|enhanced code 5.3.0 does not match reply code 451
FOO|unknown action "FOO"
OK text|OK takes no text
DUNNO x|DUNNO takes no text
WARN|WARN needs a text
250 2.0.0 ok|reply code 250 is not 4xx or 5xx: acceptance is OK
354 go ahead|reply code 354 is not 4xx or 5xx: acceptance is OK
560 5.6.0 x|reply code 560 is invalid: its second digit must be 0 to 5
55 x|malformed reply code "55"
550 5.1 x|malformed enhanced code 5.1
550 5.1000.1 x|malformed enhanced code 5.1000.1
|empty action
EOF
tctl "add: a tab in the text" 1 "" \
    "redmilterctl: recipient bad@example.com: text contains control character 0x09 at offset 8" \
    add recipient bad@example.com $'REJECT a\tb'
tctl "add: a CR in the text" 1 "" \
    "redmilterctl: recipient bad@example.com: text contains control character 0x0d at offset 12" \
    add recipient bad@example.com $'550 5.7.1 ab\rc'
tctl "add: non-ASCII text" 1 "" \
    "redmilterctl: recipient bad@example.com: text contains non-ASCII byte 0xc3 at offset 7" \
    add recipient bad@example.com 'REJECT é'
# 512 octets a line as sent: "550 5.1.1 " + text with '%' doubled + CR LF.
pct250=$(printf '%%%.0s' {1..250})
tctl "add: a reply line of exactly 512 octets with '%' doubled" 0 "" "" \
    add recipient pct@example.com "550 5.1.1 $pct250"
is "$(rget ${P}recipient:pct@example.com)" "550 5.1.1 $pct250" \
    "add: '%' is stored as written"
tctl "add: a reply line of 514 octets" 1 "" \
    "redmilterctl: recipient bad@example.com: reply line 1 is too long (514 octets as sent with % doubled, at most 512)" \
    add recipient bad@example.com "550 5.1.1 $pct250%"
lines32=$(printf 'line\\n%.0s' {1..31})line
tctl "add: a reply of 32 lines" 0 "" "" \
    add recipient lines@example.com "550 5.7.1 $lines32"
tctl "add: a reply of 33 lines" 1 "" \
    "redmilterctl: recipient bad@example.com: reply has 33 lines, at most 32" \
    add recipient bad@example.com "550 5.7.1 $lines32\\nline"
is "$(rexists "$P$k")" 0 "add: nothing written by any invalid action"

# Keys.
tctl "add: client network not canonical, the canonical form suggested" 1 "" \
    "redmilterctl: client 192.0.2.7/24: not the network's canonical form, write 192.0.2.0/24" \
    add client 192.0.2.7/24 REJECT
tctl "add: client /32" 1 "" \
    "redmilterctl: client 192.0.2.7/32: /32 is the address itself: write 192.0.2.7" \
    add client 192.0.2.7/32 REJECT
for bad in 192.0.2.0/7 10.0.0.0/0 2001:db8::/129 2001:db8::/8 2001:db8::/128; do
	xc 1 "add: client $bad: prefix length out of range" \
	    add client "$bad" REJECT
	like "$ERR" "^redmilterctl: client $bad: [^"$'\n'"]+\$" \
	    "add: client $bad: one line naming the key"
done
xc 1 "add: IPv6 address not in canonical form" add client 2001:db8:0::1 REJECT
like "$ERR" '^redmilterctl: client 2001:db8:0::1: [^'$'\n'']*2001:db8::1$' \
    "add: 2001:db8:0::1 refused with 2001:db8::1 suggested"
xc 1 "add: IPv6 network not in canonical form" \
    add client 2001:db8:0:0::/32 REJECT
like "$ERR" '^redmilterctl: client 2001:db8:0:0::/32: [^'$'\n'']*2001:db8::/32$' \
    "add: 2001:db8:0:0::/32 refused with 2001:db8::/32 suggested"
tctl "add: a canonical IPv6 network" 0 "" "" add client 2001:db8::/32 DEFER
tctl "add: a canonical IPv4 network" 0 "" "" add client 198.51.100.0/24 554
tctl "add: IPv6 in upper case is folded, then canonical" 0 "" "" \
    add client 2001:DB8::7 REJECT
is "$(rexists ${P}client:2001:db8::7)" 1 "add: IPv6 key stored in lower case"
for bad in foo ,foo 'foo,' ','; do
	xc 1 "add: pair key '$bad' refused" add pair "$bad" OK
	one_err_line "add: pair key '$bad': one line on stderr"
done
tctl "add: pair key with both sides" 0 "" "" add pair '<>,noreply@example.com' OK
is "$(rget "${P}pair:<>,noreply@example.com")" OK "add: pair key stored"
for bad in 'a b' $'a\tb' $'a\001b' ''; do
	xc 1 "add: key $(printf %q "$bad") refused" add recipient "$bad" OK
	one_err_line "add: key $(printf %q "$bad"): one line on stderr"
done
key512=$(printf 'a%.0s' {1..501})@example.co # 501 + 11 bytes
tctl "add: a key of 512 bytes" 0 "" "" add recipient "$key512" OK
xc 1 "add: a key of 513 bytes" add recipient "${key512}m" OK
one_err_line "add: a key of 513 bytes: one line on stderr"
tctl "add: an 8-bit key" 0 "" "" add recipient müller@example.com OK
is "$(rexists ${P}recipient:müller@example.com)" 1 "add: 8-bit key stored"
xc 1 "add: unknown table" add bogus foo OK
one_err_line "add: unknown table: one line on stderr"
xc 1 "add: no action" add recipient x@example.com
xc 1 "add: no key" add recipient
xc 1 "add: no arguments" add
is "$(count "${P}bogus:*" "${P}recipient:x@example.com")" "0 0" \
    "add: nothing written by the refused commands"

# --- get, del ------------------------------------------------------------

tctl "get: a rule without TTL" 0 "552 5.2.2 Mailbox full
ttl none
hits 0 last never" "" get recipient bob@example.com
c get sender temp.example
like "$OUT" $'^REJECT Go away\nttl [0-9]+\nhits 0 last never$' \
    "get: a rule with TTL"
get_ttl=${OUT##*ttl }
ttl_ok "get: the seconds left" "${get_ttl%%$'\n'*}" 3600 "$t0_temp"
tctl "get: absent" 1 "" "redmilterctl: no rule recipient nobody@example.com" \
    get recipient nobody@example.com
tctl "get: the multi-line reply as stored" 0 "550 5.7.1 $lines32
ttl none
hits 0 last never" "" get recipient lines@example.com
xc 1 "get: unknown table" get bogus foo
xc 1 "get: no key" get recipient
tctl "del: present" 0 "" "" del recipient bob2@example.com
is "$(rexists ${P}recipient:bob2@example.com)" 0 "del: the key is gone"
tctl "del: absent" 1 "" "redmilterctl: no rule recipient bob2@example.com" \
    del recipient bob2@example.com
tctl "del: never existed" 1 "" "redmilterctl: no rule recipient bob@example.org" \
    del recipient bob@example.org
xc 1 "del: unknown table" del bogus foo
xc 1 "del: no key" del recipient
xc 1 "unknown command" frob
like "$ERR" "^redmilterctl: [^"$'\n'"]*frob" \
    "unknown command: the message names it on its first line"
xc 1 "no command at all"

# --- list ---------------------------------------------------------------------

flush
# KEY (without the prefix)|VALUE, in no particular order
while IFS='|' read -r key value; do
	rcli SET "$P$key" "$value" >/dev/null
done <<'EOF'
client:192.0.2.0/24|REJECT bad net
client:192.0.2.1|OK
client:2001:db8::/32|DEFER
client:.dyn.example.net|554
helo:bad.example|REJECT bad helo
sender:spammer.example|REJECT Go away
sender:<>|WARN bounce
sender:a-b.example|OK
sender:a.b.example|OK
sender:a@|DISCARD
auth:alice|OK
recipient:bob@example.com|552 5.2.2 Mailbox full
recipient:abuse@example.com|OK
recipient:.example.com|DEFER
recipient:carol@example.com|550 5.1.1 Carol left\nPlease write to info@example.com
pair:<>,noreply@example.com|OK
pair:spammer.example,abuse@example.com|OK
_import.lock|not a rule
_stats|not a rule either
bogus:x|OK
EOF
rcli SET other:recipient:other@example.com OK >/dev/null
rcli SET redmilterX:recipient:x@example.com OK >/dev/null
t0_list=$SECONDS
rcli EXPIRE "${P}sender:spammer.example" 100000 >/dev/null
rcli EXPIRE "${P}client:192.0.2.1" 100000 >/dev/null
LIST='pair <>,noreply@example.com OK
pair spammer.example,abuse@example.com OK
recipient .example.com DEFER
recipient abuse@example.com OK
recipient bob@example.com 552 5.2.2 Mailbox full
recipient carol@example.com 550 5.1.1 Carol left\nPlease write to info@example.com
auth alice OK
sender <> WARN bounce
sender a-b.example OK
sender a.b.example OK
sender a@ DISCARD
sender spammer.example REJECT Go away
helo bad.example REJECT bad helo
client .dyn.example.net 554
client 192.0.2.0/24 REJECT bad net
client 192.0.2.1 OK
client 2001:db8::/32 DEFER'
tctl "list: every rule, by table in precedence order, then by key" 0 \
    "$LIST" "" list
tctl "list recipient" 0 "$(grep '^recipient ' <<<"$LIST")" "" list recipient
tctl "list client" 0 "$(grep '^client ' <<<"$LIST")" "" list client
tctl "list sender" 0 "$(grep '^sender ' <<<"$LIST")" "" list sender
tctl "list pair" 0 "$(grep '^pair ' <<<"$LIST")" "" list pair
tctl "list auth" 0 "auth alice OK" "" list auth
tctl "list helo" 0 "helo bad.example REJECT bad helo" "" list helo
rcli DEL "${P}auth:alice" >/dev/null
tctl "list: an empty table" 0 "" "" list auth
rcli SET "${P}auth:alice" OK >/dev/null
xc 1 "list: unknown table" list bogus
one_err_line "list: unknown table: one line on stderr"

# SCAN, never KEYS: Redis counts the commands it ran (those of scripts too).
rcli CONFIG RESETSTAT >/dev/null
c list
c list recipient
c export
c lint
c import --replace - <<<"auth alice OK"
stats=$(rcli INFO commandstats)
ok "list, export, lint, import --replace use SCAN" grep -q '^cmdstat_scan:' <<<"$stats"
unlike "$stats" 'cmdstat_keys:' "list, export, lint, import --replace never use KEYS"

# --- export -------------------------------------------------------------------

# TTLs are "-t SECONDS" with the seconds left: compare with N, then the N.
ttl_norm() {
	sed -E 's/^-t [0-9]+ /-t N /'
}
EXPORT="# redmilter rules, prefix redmilter:
$(sed -E 's/^(sender spammer.example |client 192.0.2.1 )/-t N \1/' <<<"$LIST")"
c export
is "$RC" 0 "export: exit 0"
is "$ERR" "" "export: nothing on stderr"
is "$(ttl_norm <<<"$OUT")" "$EXPORT" "export: header, then rules in the import format"
for t in $(sed -nE 's/^-t ([0-9]+) .*/\1/p' <<<"$OUT"); do
	ttl_ok "export: -t with the seconds left of 100000" "$t" 100000 "$t0_list"
done
is "$(sed -nE 's/^-t ([0-9]+) .*/x/p' <<<"$OUT" | wc -l)" 2 \
    "export: exactly the two rules with a TTL carry -t"
c export sender
is "$RC $(ttl_norm <<<"$OUT")" "0 # redmilter rules, prefix redmilter:
$(grep -E '^(-t N )?sender ' <<<"$EXPORT")" "export sender: one table"
c -p other: export
is "$RC $OUT" "0 # redmilter rules, prefix other:
recipient other@example.com OK" "export: the header names the prefix"
xc 1 "export: unknown table" export bogus

# Values that cannot be written on one line, and keys of other types.
rcli SET "${P}recipient:crlf@example.com" $'550 5.7.1 a\r\nb' >/dev/null
rcli HSET "${P}sender:hash.example" a b >/dev/null
c export
is "$RC" 1 "export: exit 1 when something was skipped"
is "$(ttl_norm <<<"$OUT")" "$EXPORT" "export: skipped rules are left out, the others all printed"
is "$(grep -c '^redmilterctl: ' <<<"$ERR") $(wc -l <<<"$ERR")" "2 2" \
    "export: one 'redmilterctl: ' line on stderr for each skipped key"
like "$ERR" 'recipient crlf@example.com' "export: the message names the rule with CR LF"
like "$ERR" 'sender hash.example' "export: the message names the hash"
c list
is "$OUT" "$LIST" "list: skips a value with CR LF and a hash"
rcli DEL "${P}recipient:crlf@example.com" "${P}sender:hash.example" >/dev/null

# --- import -----------------------------------------------------------------

flush
F=$H_TMP/good.rules
cat >"$F" <<'EOF'
# A comment line

   # an indented comment, then blank lines with blanks
	 
recipient Abuse@Example.com OK
recipient bob@example.com 552 5.2.2 Mailbox full
sender spammer.example REJECT Go away # this is text, not a comment
-t 3600 sender temp.example DEFER
pair <>,noreply@example.com OK
client 192.0.2.0/24 REJECT bad net
recipient carol@example.com 550 5.1.1 Carol left\nPlease write to info@example.com
EOF
t0=$SECONDS
tctl "import: a good file" 0 "imported 7 rules, removed 0" "" import "$F"
is "$(dump "$P*")" "redmilter:_audit = (stream)
redmilter:client:192.0.2.0/24 = REJECT bad net
redmilter:pair:<>,noreply@example.com = OK
redmilter:recipient:abuse@example.com = OK
redmilter:recipient:bob@example.com = 552 5.2.2 Mailbox full
redmilter:recipient:carol@example.com = 550 5.1.1 Carol left\nPlease write to info@example.com
redmilter:sender:spammer.example = REJECT Go away # this is text, not a comment
redmilter:sender:temp.example = DEFER [ttl]" \
    "import: comments and blank lines skipped, keys folded, a later hash sign kept in the action"
ttl_ok "import: -t 3600 gives a TTL" "$(rttl ${P}sender:temp.example)" 3600 "$t0"
is "$(rexists "${P}_import.lock")" 0 "import: the lock is gone afterwards"
tctl "import: the same file again" 0 "imported 7 rules, removed 0" "" import "$F"
before=$(dump)

bad_import() { # bad_import DESC WANT_ERR_AFTER_FILE:LINE LINES...
	local desc=$1 want=$2 f=$H_TMP/bad.rules
	shift 2
	printf '%s\n' "$@" >"$f"
	tctl "import: $desc" 1 "" "redmilterctl: $f:$want" import "$f"
	is "$(dump)" "$before" "import: $desc: nothing written"
}
bad_import "bad action on line 3" "3: enhanced code 4.1.1 does not match reply code 550" \
    "recipient new1@example.com OK" "# comment" \
    "recipient new2@example.com 550 4.1.1 x" "recipient new3@example.com OK"
bad_import "an action with control characters" \
    "2: text contains control character 0x01 at offset 7" \
    "recipient new1@example.com OK" $'recipient new2@example.com REJECT \001'
bad_import "duplicate pair" "3: duplicate rule pair x,y (first on line 1)" \
    "pair x,y OK" "" "pair x,y REJECT" "recipient new3@example.com OK"
bad_import "duplicate key after case folding" \
    "2: duplicate rule recipient a@example.com (first on line 1)" \
    "recipient a@example.com OK" "recipient A@Example.COM REJECT"
bad_import "client network not canonical" \
    "2: not the network's canonical form, write 192.0.2.0/24" \
    "recipient new1@example.com OK" "client 192.0.2.7/24 REJECT"
printf '%s\n' "recipient new1@example.com OK" "bogus x OK" >"$H_TMP/bad.rules"
xc 1 "import: unknown table" import "$H_TMP/bad.rules"
like "$ERR" "^redmilterctl: $H_TMP/bad.rules:2: [^"$'\n'"]+\$" \
    "import: unknown table: FILE:LINE: problem"
printf '%s\n' "recipient new1@example.com OK" "recipient x@example.com" >"$H_TMP/bad.rules"
xc 1 "import: no action" import "$H_TMP/bad.rules"
like "$ERR" "^redmilterctl: $H_TMP/bad.rules:2: [^"$'\n'"]+\$" \
    "import: no action: FILE:LINE: problem"
printf '%s\n' "recipient new1@example.com OK" "-t 0 recipient x@example.com OK" >"$H_TMP/bad.rules"
xc 1 "import: -t 0" import "$H_TMP/bad.rules"
like "$ERR" "^redmilterctl: $H_TMP/bad.rules:2: [^"$'\n'"]+\$" \
    "import: -t 0: FILE:LINE: problem"
printf '%s\n' "recipient new1@example.com OK" "pair nocomma OK" >"$H_TMP/bad.rules"
xc 1 "import: pair key without a comma" import "$H_TMP/bad.rules"
like "$ERR" "^redmilterctl: $H_TMP/bad.rules:2: [^"$'\n'"]+\$" \
    "import: pair key without a comma: FILE:LINE: problem"
is "$(dump)" "$before" "import: nothing written by any refused file"
xc 1 "import: a missing file" import "$H_TMP/no-such-file"
one_err_line "import: a missing file: one line on stderr"
like "$ERR" "no-such-file" "import: a missing file: the message names it"
xc 1 "import: no file argument" import

printf '%s\n' "recipient stdin@example.com OK" "sender stdin.example 550 4.7.9 x" \
    >"$H_TMP/bad.rules"
tctl "import -: a bad line on stdin is '-:LINE'" 1 "" \
    "redmilterctl: -:2: enhanced code 4.7.9 does not match reply code 550" \
    import - <"$H_TMP/bad.rules"
is "$(dump)" "$before" "import -: a bad line, nothing written"
printf '%s\n' "recipient stdin@example.com OK" "sender stdin.example 550 5.7.1 x" \
    >"$H_TMP/stdin.rules"
tctl "import -: from stdin" 0 "imported 2 rules, removed 0" "" \
    import - <"$H_TMP/stdin.rules"
is "$(rget ${P}sender:stdin.example)" "550 5.7.1 x" "import -: the rules are written"
tctl "import: an empty file" 0 "imported 0 rules, removed 0" "" import /dev/null

# A rule written by import without -t has no TTL.
tctl "add -t before an import" 0 "" "" add -t 1000 sender clear.example OK
printf 'sender clear.example REJECT\n' >"$H_TMP/clear.rules"
tctl "import: over a rule with TTL" 0 "imported 1 rules, removed 0" "" \
    import "$H_TMP/clear.rules"
is "$(rttl ${P}sender:clear.example) $(rget ${P}sender:clear.example)" \
    "-1 REJECT" "import: a rule without -t clears the previous TTL"

# --- import --replace -------------------------------------------------------

flush
for k in r1 r2 r3 UP; do rcli SET "${P}recipient:$k@example.com" OK >/dev/null; done
for k in s1 s2; do rcli SET "${P}sender:$k.example" OK >/dev/null; done
rcli SET "${P}client:192.0.2.1" OK >/dev/null
rcli SET "${P}auth:alice" OK >/dev/null
rcli SET "${P}_stats" keep >/dev/null
rcli SET "other:recipient:r1@example.com" OK >/dev/null
printf '%s\n' "recipient r2@example.com REJECT" "recipient r4@example.com OK" \
    "-t 500 sender s3.example OK" >"$H_TMP/replace.rules"
tctl "import --replace" 0 "imported 3 rules, removed 5" "" \
    import --replace "$H_TMP/replace.rules"
is "$(dump)" "other:recipient:r1@example.com = OK
redmilter:_audit = (stream)
redmilter:_stats = keep
redmilter:auth:alice = OK
redmilter:client:192.0.2.1 = OK
redmilter:recipient:r2@example.com = REJECT
redmilter:recipient:r4@example.com = OK
redmilter:sender:s3.example = OK [ttl]" \
    "import --replace: the tables in the file hold exactly its rules, others untouched"
printf '%s\n' "recipient r9@example.com OK" "sender s9.example 2 x" \
    >"$H_TMP/bad.rules"
before=$(dump)
xc 1 "import --replace: a bad line" import --replace "$H_TMP/bad.rules"
is "$(dump)" "$before" "import --replace: a bad line, nothing removed or written"
tctl "import --replace -" 0 "imported 1 rules, removed 1" "" \
    import --replace - <<<"sender s4.example OK"
is "$(dump "${P}sender:*")" "redmilter:sender:s4.example = OK" \
    "import --replace -: from stdin"

# --- contrib/rules.example ---------------------------------------------------

flush
EX=$TOP/contrib/rules.example
nrules=$(grep -cvE '^[[:space:]]*(#|$)' "$EX")
tctl "import contrib/rules.example" 0 "imported $nrules rules, removed 0" "" \
    import "$EX"
tctl "lint: contrib/rules.example is clean" 0 "$nrules rules, 0 problems" "" lint
for tb in client helo auth sender recipient pair limit; do
	ok "contrib/rules.example has $tb rules" grep -q "^\(-t [0-9]* \)\?$tb " "$EX"
done

# --- export | import --replace round trip ---------------------------------

t0=$SECONDS
rcli SET "${P}recipient:ttl@example.com" "550 5.1.1 gone" EX 5000 >/dev/null
rcli SET "${P}sender:pct.example" "REJECT 100% sure" >/dev/null
d1=$(dump "$P*")
c export
is "$RC" 0 "round trip: export"
cp "$OUT_FILE" "$H_TMP/export.rules"
t=$(sed -nE 's/^-t ([0-9]+) recipient ttl@example.com .*/\1/p' "$H_TMP/export.rules")
ttl_ok "round trip: export has the seconds left of 5000" "$t" 5000 "$t0"
# Disturb the rule set: a rule more, a rule less, a value changed.
rcli SET "${P}recipient:extra@example.com" OK >/dev/null
rcli DEL "${P}sender:partner.example" >/dev/null
rcli SET "${P}recipient:bob@example.com" DISCARD >/dev/null
rcli PERSIST "${P}recipient:ttl@example.com" >/dev/null
c import --replace "$H_TMP/export.rules"
is "$RC $OUT" "0 imported $((nrules + 2)) rules, removed 1" \
    "round trip: import --replace of the export"
is "$(dump "$P*")" "$d1" "round trip: keys, values and TTL presence restored"
ttl_ok "round trip: the TTL survives" \
    "$(rttl "${P}recipient:ttl@example.com")" 5000 "$t0"
flush
c import "$H_TMP/export.rules"
is "$(dump "$P*")" "$d1" "round trip: export imported into an empty Redis"
# A pipe, as an administrator would write it.
H_PIPE_OUT=$H_TMP/pipe.out
# shellcheck disable=SC2086 # TEST_PREFIX is a command line
timeout -k 5 "$RUN_TIMEOUT" $TEST_PREFIX "$CTL" "${CONN[@]}" export 2>"$H_TMP/pipe1.err" |
    timeout -k 5 "$RUN_TIMEOUT" $TEST_PREFIX "$CTL" "${CONN[@]}" import --replace - \
    >"$H_PIPE_OUT" 2>"$H_TMP/pipe2.err"
st="${PIPESTATUS[0]} ${PIPESTATUS[1]}"
is "$st $(cat "$H_PIPE_OUT")" "0 0 imported $((nrules + 2)) rules, removed 0" \
    "round trip: export | import --replace -"
is "$(dump "$P*")" "$d1" "round trip: the pipe changes nothing"

# --- check --------------------------------------------------------------------

flush
cat >"$H_TMP/check.rules" <<'EOF'
recipient abuse@example.com OK
sender spammer.example REJECT Go away
recipient bob@example.com 552 5.2.2 Mailbox full
sender partner.example OK
pair <>,noreply@example.com OK
sender <> REJECT No bounces here
recipient multi@example.com 550 5.7.1 line one\nline two
recipient warn@example.com WARN watch this
recipient trap@example.com DISCARD
recipient gone@example.com 550
sender gone.example 550
sender held.example HOLD suspicious
recipient dunno.example DUNNO
recipient .example 550 5.7.1 not reached after DUNNO
auth alice OK
helo bad.example REJECT bad helo
client .dyn.example.net 554 5.7.1 dynamic
client 192.0.2.0/24 REJECT bad net
client 2001:db8::/32 DEFER
EOF
c import "$H_TMP/check.rules"
is "$RC" 0 "check: rules imported"

tctl "check: recipient OK beats a sender REJECT (redmilterctl(8) example)" 0 \
    "abuse@example.com: accept (recipient abuse@example.com)
other@example.com: 550 5.7.1 Go away (sender spammer.example)" "" \
    check -f x@spammer.example -r abuse@example.com -r other@example.com
tctl "check: recipient 552 even from a sender marked OK (redmilterctl(8) example)" 0 \
    "bob@example.com: 552 5.2.2 Mailbox full (recipient bob@example.com)
alice@example.com: accept (sender partner.example)" "" \
    check -f a@partner.example -r bob@example.com -r alice@example.com
tctl "check: pair <>,noreply@example.com OK beats sender <>" 0 \
    "noreply@example.com: accept (pair <>,noreply@example.com)
x@example.com: 550 5.7.1 No bounces here (sender <>)" "" \
    check -f '<>' -r noreply@example.com -r x@example.com
tctl "check: extension and case stripped" 0 \
    "Bob+Folder@Example.COM: 552 5.2.2 Mailbox full (recipient bob@example.com)" "" \
    check -f Joe+x@Partner.Example -r Bob+Folder@Example.COM
tctl "check: a multi-line reply" 0 \
    "multi@example.com: 550-5.7.1 line one (recipient multi@example.com)
  550 5.7.1 line two" "" \
    check -f a@ok.example -r multi@example.com
tctl "check: WARN keeps looking" 0 \
    "warn@example.com: 550 5.7.1 Go away (sender spammer.example)" "" \
    check -f x@spammer.example -r warn@example.com
tctl "check: nothing matched" 0 "warn@example.com: accept (no rule)" "" \
    check -f a@ok.example -r warn@example.com
tctl "check: DISCARD" 0 "trap@example.com: discard (recipient trap@example.com)" "" \
    check -f a@ok.example -r trap@example.com
tctl "check: HOLD" 0 "u@example.com: hold (sender held.example)" "" \
    check -f a@held.example -r u@example.com
tctl "check: 550 alone, recipient and sender catalogue texts" 0 \
    "gone@example.com: 550 5.1.1 Mailbox not found (recipient gone@example.com)
u@example.com: 550 5.7.1 Rejected by policy (sender gone.example)" "" \
    check -f a@gone.example -r gone@example.com -r u@example.com
tctl "check: DUNNO ends the recipient table" 0 \
    "u@dunno.example: accept (no rule)
u@other.example: 550 5.7.1 not reached after DUNNO (recipient .example)" "" \
    check -f a@ok.example -r u@dunno.example -r u@other.example
tctl "check: auth OK beats sender" 0 "u@example.com: accept (auth alice)" "" \
    check -f x@spammer.example -r u@example.com -A alice
tctl "check: another login" 0 \
    "u@example.com: 550 5.7.1 Go away (sender spammer.example)" "" \
    check -f x@spammer.example -r u@example.com -A bob
tctl "check: helo" 0 "u@example.com: 550 5.7.1 bad helo (helo bad.example)" "" \
    check -f a@ok.example -r u@example.com -H bad.example -N host.dyn.example.net
tctl "check: client hostname, parent domain" 0 \
    "u@example.com: 554 5.7.1 dynamic (client .dyn.example.net)" "" \
    check -f a@ok.example -r u@example.com -H good.example -N host.dyn.example.net -C 192.0.2.7
tctl "check: client IPv4 network" 0 \
    "u@example.com: 550 5.7.1 bad net (client 192.0.2.0/24)" "" \
    check -f a@ok.example -r u@example.com -C 192.0.2.7
tctl "check: client IPv6 network" 0 \
    "u@example.com: 450 4.7.1 Try again later (client 2001:db8::/32)" "" \
    check -f a@ok.example -r u@example.com -C 2001:db8::7

TRAIL='abuse@example.com: accept (recipient abuse@example.com)
  pair x@spammer.example,abuse@example.com: not found
  pair spammer.example,abuse@example.com: not found
  pair .example,abuse@example.com: not found
  pair x@,abuse@example.com: not found
  pair x@spammer.example,example.com: not found
  pair spammer.example,example.com: not found
  pair .example,example.com: not found
  pair x@,example.com: not found
  pair x@spammer.example,.com: not found
  pair spammer.example,.com: not found
  pair .example,.com: not found
  pair x@,.com: not found
  pair x@spammer.example,abuse@: not found
  pair spammer.example,abuse@: not found
  pair .example,abuse@: not found
  pair x@,abuse@: not found
  recipient abuse@example.com: OK (decided)'
tctl "check -v (global): every key tried, in order" 0 "$TRAIL" "" \
    -v check -f x@spammer.example -r abuse@example.com
tctl "check -v (after check): the same" 0 "$TRAIL" "" \
    check -v -f x@spammer.example -r abuse@example.com
tctl "check -v: no -C, -N, -H, -A: no client, helo or auth keys" 0 \
    "u@example.com: accept (no rule)
$(for r in u@example.com example.com .com u@; do
	for f in a@ok.example ok.example .example a@; do
		echo "  pair $f,$r: not found"
	done
done)
  recipient u@example.com: not found
  recipient example.com: not found
  recipient .com: not found
  recipient u@: not found
  sender a@ok.example: not found
  sender ok.example: not found
  sender .example: not found
  sender a@: not found" "" \
    check -v -f a@ok.example -r u@example.com
c -v check -f x@spammer.example -r warn@example.com
ok "check -v: a WARN line" grep -qxF '  recipient warn@example.com: WARN watch this (warn)' <<<"$OUT"
ok "check -v: the deciding sender line" grep -qxF '  sender spammer.example: REJECT Go away (decided)' <<<"$OUT"
is "$(tail -n 1 <<<"$OUT")" '  sender spammer.example: REJECT Go away (decided)' \
    "check -v: the trail ends with the decision"
c -v check -f a@ok.example -r u@dunno.example
ok "check -v: a DUNNO line" grep -qxF '  recipient dunno.example: DUNNO (dunno)' <<<"$OUT"
ok "check -v: nothing after DUNNO in that table" \
    bash -c '! grep -q "^  recipient \.example" <<<"$1"' _ "$OUT"
c -v check -f 'a b' -r u@example.com
is "$RC" 0 "check -v: a malformed sender"
like "$OUT" $'\n  [^\n]*malformed address[^\n]*: [^\n]+' \
    "check -v: a 'malformed address: problem' line"

rcli SET "${P}recipient:broken@example.com" "OK extra" >/dev/null
tctl "check: a broken rule" 1 \
    "broken@example.com: 451 4.3.5 Server configuration error (broken rule recipient broken@example.com: OK takes no text)" "" \
    check -f a@ok.example -r broken@example.com
c -v check -f a@ok.example -r broken@example.com
ok "check -v: the broken rule's line" \
    grep -qxF '  recipient broken@example.com: OK extra (broken: OK takes no text)' <<<"$OUT"
rcli SET "${P}recipient:broken@example.com" $'REJECT a\r\nb' >/dev/null
tctl "check: a broken rule with CR LF" 1 \
    "broken@example.com: 451 4.3.5 Server configuration error (broken rule recipient broken@example.com: text contains control character 0x0d at offset 8)" "" \
    check -f a@ok.example -r broken@example.com
xc 1 "check: no -f" check -r u@example.com
xc 1 "check: no -r" check -f a@ok.example

cat >"$H_TMP/nodelay.conf" <<EOF
redis = $REDIS_URL
delay_checks = no
EOF
tctl "check: delay_checks = no, the sender decides for every recipient" 0 \
    "abuse@example.com: 550 5.7.1 Go away (sender spammer.example)
u@example.com: 550 5.7.1 Go away (sender spammer.example)" "" \
    -c "$H_TMP/nodelay.conf" check -f x@spammer.example -r abuse@example.com -r u@example.com
CONN=(-r "redis://127.0.0.1:$CLOSED_PORT/0")
c check -f a@ok.example -r u@example.com -r v@example.com
is "$RC" 2 "check: Redis unreachable, exit 2"
like "$OUT" '^u@example\.com: 451 4\.3\.0 Temporary policy lookup failure \(Redis error: [^'$'\n'']+\)'$'\n''v@example\.com: 451 4\.3\.0 Temporary policy lookup failure \(Redis error: [^'$'\n'']+\)$' \
    "check: Redis unreachable, 451 4.3.0 for each recipient"
printf 'on_error = accept\n' >"$H_TMP/accept.conf"
c -c "$H_TMP/accept.conf" check -f a@ok.example -r u@example.com
is "$RC" 2 "check: Redis unreachable, on_error = accept, exit 2"
like "$OUT" '^u@example\.com: accept \(on_error = accept: Redis error: [^'$'\n'']+\)$' \
    "check: Redis unreachable, on_error = accept"
CONN=(-r "$REDIS_URL")

# --- lint ---------------------------------------------------------------------

flush
rcli SET "${P}recipient:fine@example.com" OK >/dev/null
rcli SET "${P}recipient:crlf@example.com" $'550 5.7.1 a\r\nb' >/dev/null
rcli SET "${P}recipient:lf@example.com" $'550 5.7.1 a\nb' >/dev/null
rcli SET "${P}recipient:two50@example.com" '250 2.0.0 ok' >/dev/null
rcli SET "${P}sender:class.example" '550 4.7.1 mismatch' >/dev/null
rcli HSET "${P}sender:hash.example" a b >/dev/null
rcli RPUSH "${P}sender:list.example" a >/dev/null
rcli SET "${P}sender:Upper.Example" OK >/dev/null
rcli SET "${P}client:192.0.2.7/24" OK >/dev/null
rcli SET "${P}bogus:x" OK >/dev/null
rcli SET "${P}_import.lock" x >/dev/null
rcli SET "other:recipient:x" '250 other prefix' >/dev/null
c lint
is "$RC" 1 "lint: problems found, exit 1"
is "$ERR" "" "lint: nothing on stderr"
is "$(sed '$d' <<<"$OUT" | sort)" "$(sort <<'EOF'
bogus:x: unknown table
client 192.0.2.7/24: not the network's canonical form, write 192.0.2.0/24
recipient crlf@example.com: text contains control character 0x0d at offset 11
recipient lf@example.com: text contains control character 0x0a at offset 11
recipient two50@example.com: reply code 250 is not 4xx or 5xx: acceptance is OK
sender Upper.Example: upper-case letters: no lookup can reach it
sender class.example: enhanced code 4.7.1 does not match reply code 550
sender hash.example: a Redis hash, not a string: lookups never see it
sender list.example: a Redis list, not a string: lookups never see it
EOF
)" "lint: every problem, one line each"
like "$(tail -n 1 <<<"$OUT")" '^[0-9]+ rules, 9 problems$' "lint: the summary line"
tctl "lint -p other:" 1 "recipient x: reply code 250 is not 4xx or 5xx: acceptance is OK
1 rules, 1 problems" "" -p other: lint
tctl "lint: an empty prefix" 0 "0 rules, 0 problems" "" -p empty: lint

# --- -p ---------------------------------------------------------------------

flush
tctl "-p a: add" 0 "" "" -p a: add recipient x@example.com OK
tctl "-p b: add" 0 "" "" -p b: add recipient x@example.com REJECT
tctl "-p b: add another" 0 "" "" -p b: add sender s.example OK
is "$(dump)" "a:_audit = (stream)
a:recipient:x@example.com = OK
b:_audit = (stream)
b:recipient:x@example.com = REJECT
b:sender:s.example = OK" "-p: keys under each prefix"
tctl "-p a: get" 0 "OK
ttl none
hits 0 last never" "" -p a: get recipient x@example.com
tctl "-p a: list" 0 "recipient x@example.com OK" "" -p a: list
tctl "-p b: list" 0 "recipient x@example.com REJECT
sender s.example OK" "" -p b: list
tctl "default prefix: nothing" 0 "" "" list
tctl "-p a: import --replace leaves b: alone" 0 "imported 1 rules, removed 1" "" \
    -p a: import --replace - <<<"recipient y@example.com OK"
tctl "-p a: del" 0 "" "" -p a: del recipient y@example.com
is "$(dump)" "a:_audit = (stream)
b:_audit = (stream)
b:recipient:x@example.com = REJECT
b:sender:s.example = OK" "-p: b: untouched by a:"
tctl "-p b: export" 0 "# redmilter rules, prefix b:
recipient x@example.com REJECT
sender s.example OK" "" -p b: export

# --- unix: URLs ----------------------------------------------------------------

flush
CONN=(-r "unix:$REDIS_SOCK")
tctl "unix: add" 0 "" "" add recipient unix@example.com OK
tctl "unix: get" 0 "OK
ttl none
hits 0 last never" "" get recipient unix@example.com
tctl "unix: list" 0 "recipient unix@example.com OK" "" list
CONN=(-r "unix:$REDIS_SOCK?db=2")
tctl "unix:?db=2 add" 0 "" "" add recipient db2@example.com OK
is "$(rcli -n 2 --raw GET "${P}recipient:db2@example.com") $(rexists "${P}recipient:db2@example.com")" \
    "OK 0" "unix:?db=2 writes to database 2"
CONN=(-r "redis://127.0.0.1:$REDIS_PORT/3")
tctl "redis://.../3 list" 0 "" "" list
tctl "redis://.../3 add" 0 "" "" add recipient db3@example.com OK
is "$(rcli -n 3 --raw GET "${P}recipient:db3@example.com")" OK \
    "redis://.../3 writes to database 3"

# --- Redis unreachable --------------------------------------------------------

unreachable() { # unreachable WHAT ARGS...
	local what=$1
	shift
	xc 2 "$what: Redis unreachable, exit 2" "$@"
	like "$ERR" '^redmilterctl: [^'$'\n'']*(refused|No such file)[^'$'\n'']*$' \
	    "$what: Redis unreachable, one line naming the error"
}
printf 'recipient x@example.com OK\n' >"$H_TMP/one.rules"
for url in "redis://127.0.0.1:$CLOSED_PORT/0" "unix:$H_TMP/no-such.sock"; do
	CONN=(-r "$url")
	unreachable "add ($url)" add recipient x@example.com OK
	unreachable "del ($url)" del recipient x@example.com
	unreachable "get ($url)" get recipient x@example.com
	unreachable "list ($url)" list
	unreachable "list TABLE ($url)" list recipient
	unreachable "export ($url)" export
	unreachable "import ($url)" import "$H_TMP/one.rules"
	unreachable "import --replace ($url)" import --replace "$H_TMP/one.rules"
	unreachable "lint ($url)" lint
done
CONN=(-r "$REDIS_URL")

# --- big rule sets: import, export, timings ---------------------------------

# 100,000 rules; under valgrind (TEST_PREFIX) 10,000, which take minutes
# there already.  CTL_BIG_RULES overrides either.
if [ -n "${CTL_BIG_RULES:-}" ]; then
	BIG=$CTL_BIG_RULES
elif [ -n "$TEST_PREFIX" ]; then
	BIG=10000
else
	BIG=100000
fi
HALF=$((BIG / 2))
note "big rule sets: $BIG rules"

flush
awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i++)
	printf "recipient a%06d@example.com 550 5.1.1 No such user %d\n", i, i }' \
    >"$H_TMP/a.rules"
awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i++)
	printf "recipient b%06d@example.com 550 5.1.1 Gone %d\n", i, i }' \
    >"$H_TMP/b.rules"
time_prog "$CTL" "${CONN[@]}" import "$H_TMP/a.rules"
note "import $BIG rules: $TIMING"
is "$RC $OUT" "0 imported $BIG rules, removed 0" "$BIG rules: import"
is "$(count "${P}recipient:*")" $BIG "$BIG rules: all in Redis"
time_prog "$CTL" "${CONN[@]}" export
note "export $BIG rules: $TIMING"
is "$RC" 0 "$BIG rules: export"
ok "$BIG rules: export prints exactly the imported rules" \
    cmp -s <(tail -n +2 "$OUT_FILE") "$H_TMP/a.rules"
time_prog "$CTL" "${CONN[@]}" import --replace "$H_TMP/b.rules"
note "import --replace $BIG rules over $BIG: $TIMING"
is "$RC $OUT" "0 imported $BIG rules, removed $BIG" \
    "$BIG rules: import --replace"

# Readers never see a half-imported set: poll the counts (one atomic script
# each) for as long as the import runs.
# observe PID PATTERN... - counts of PATTERNs until PID exits, one line each
observe() {
	local pid=$1
	shift
	while kill -0 "$pid" 2>/dev/null; do
		count "$@"
	done
	count "$@"
}
flush
spawn_prog imp1 "$CTL" "${CONN[@]}" import "$H_TMP/a.rules"
pid=$SPAWN_PID
observe "$pid" "${P}recipient:a*" "${P}recipient:b*" >"$H_TMP/obs1"
reap_prog "$pid" imp1
is "$RC $OUT" "0 imported $BIG rules, removed 0" "atomic: import into an empty table"
note "atomic: $(wc -l <"$H_TMP/obs1") observations during the import"
is "$(sort -u "$H_TMP/obs1" | grep -cvxE "0 0|$BIG 0")" 0 \
    "atomic: every count observed during an import is 0 or $BIG"
is "$(tail -n 1 "$H_TMP/obs1")" "$BIG 0" "atomic: $BIG afterwards"
spawn_prog imp2 "$CTL" "${CONN[@]}" import --replace "$H_TMP/b.rules"
pid=$SPAWN_PID
observe "$pid" "${P}recipient:a*" "${P}recipient:b*" >"$H_TMP/obs2"
reap_prog "$pid" imp2
is "$RC $OUT" "0 imported $BIG rules, removed $BIG" "atomic: import --replace"
note "atomic: $(wc -l <"$H_TMP/obs2") observations during the --replace import"
is "$(sort -u "$H_TMP/obs2" | grep -cvxE "$BIG 0|0 $BIG")" 0 \
    "atomic: during --replace, the old set or the new one, never a mix"
is "$(tail -n 1 "$H_TMP/obs2")" "0 $BIG" "atomic: the new set afterwards"

# Two concurrent --replace imports of different files into the same table:
# the lock serialises them, and the table ends up with one file's rules.
flush
for i in 1 2 3 4 5 6 7 8 9 10; do
	rcli SET "${P}recipient:old$i@example.com" OK >/dev/null
done
awk -v n="$HALF" 'BEGIN { for (i = 0; i < n; i++)
	printf "recipient c%05d@example.com REJECT c %d\n", i, i }' >"$H_TMP/c.rules"
awk -v n="$HALF" 'BEGIN { for (i = 0; i < n; i++)
	printf "recipient d%05d@example.com REJECT d %d\n", i, i }' >"$H_TMP/d.rules"
spawn_prog impc "$CTL" "${CONN[@]}" import --replace "$H_TMP/c.rules"
pidc=$SPAWN_PID
spawn_prog impd "$CTL" "${CONN[@]}" import --replace "$H_TMP/d.rules"
pidd=$SPAWN_PID
reap_prog "$pidc" impc
outc="$RC $OUT"
reap_prog "$pidd" impd
outd="$RC $OUT"
is "$(printf '%s\n' "$outc" "$outd" | sort)" \
    "0 imported $HALF rules, removed 10
0 imported $HALF rules, removed $HALF" \
    "concurrent --replace: both succeed, one after the other"
c export recipient
tail -n +2 "$OUT_FILE" >"$H_TMP/cd.export"
if cmp -s "$H_TMP/cd.export" "$H_TMP/c.rules" ||
    cmp -s "$H_TMP/cd.export" "$H_TMP/d.rules"; then
	pass "concurrent --replace: the table holds exactly one file's rules"
else
	fail "concurrent --replace: the table holds exactly one file's rules" \
	    "$(wc -l <"$H_TMP/cd.export") rules; counts c/d/old: $(count "${P}recipient:c*" "${P}recipient:d*" "${P}recipient:old*")"
fi
is "$(rexists "${P}_import.lock")" 0 "concurrent --replace: no lock left behind"

# --- Redis killed during an import --------------------------------------------

# The import goes through a relay (lib/redis_hold.py) that passes every
# byte but its transaction's EXEC: once Redis holds the whole transaction
# queued (CLIENT LIST: multi=N, one run of the audit script per 1,000
# rules), it is killed (SIGKILL).  With an append-only file fsynced at
# every write, what Redis acknowledged survives; the transaction never
# ran, so after the restart the table holds nothing of the import, nor the
# audit trail an entry.  A kill timed from outside raced the
# transaction: Redis may read and run all of it in one pass.
start_redis "appendonly yes" "appendfsync always"
flush
rm -f "$H_TMP/hold.port" "$H_TMP/hold.status"
spawn timeout -k 5 "$RUN_TIMEOUT" python3 \
    "$TOP/tests/integration/lib/redis_hold.py" "$REDIS_PORT" \
    "$H_TMP/hold.port" "$H_TMP/hold.status" "$RUN_TIMEOUT"
hold_pid=$SPAWN_PID
for ((i = 0; i < 200; i++)); do
	[ -s "$H_TMP/hold.port" ] && break
	sleep 0.05
done
spawn_prog kill "$CTL" -r "redis://127.0.0.1:$(cat "$H_TMP/hold.port")" \
    import "$H_TMP/a.rules"
pid=$SPAWN_PID
queued=
for ((i = 0; i < 12000; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	if [ -s "$H_TMP/hold.status" ] &&
	    rcli CLIENT LIST 2>/dev/null | grep -q " multi=$(((BIG + 999) / 1000)) "; then
		queued=1
		break
	fi
	sleep 0.05
done
ok "kill: the import's $BIG rules queued, its EXEC held back" [ -n "$queued" ]
stop_redis KILL
reap_prog "$pid" kill
kill_wait "$hold_pid"
is "$RC" 2 "kill: import exits 2"
one_err_line "kill: one line on stderr"
note "kill: stderr: $ERR"
is "$OUT" "" "kill: nothing on stdout"
restart_redis
is "$(count "${P}recipient:*")" 0 \
    "kill: after the restart, nothing of the import (it never ran)"
is "$(rcli XLEN "${P}_audit")" 0 "kill: nor any audit entry"

# --- -c FILE, redis_password_file, the password never shown -----------------

PW=pw-$RANDOM$RANDOM-secret
start_redis "requirepass $PW"
printf '%s\n' "$PW" >"$H_TMP/redis.pw"
chmod 600 "$H_TMP/redis.pw"
cat >"$H_TMP/pw.conf" <<EOF
# The daemon's keys that redmilterctl does not use are accepted.
socket = inet:10025@127.0.0.1
socket_mode = 0660
pidfile = /run/redmilter/redmilter.pid
log_level = debug
syslog_facility = local3
mode = enforce
on_error = tempfail
delay_checks = yes
recipient_delimiter = +
redis = redis://127.0.0.1:$REDIS_PORT/0
redis_password_file = $H_TMP/redis.pw
redis_timeout = 2000
prefix = cfg:
EOF
# The lock-wait test (60 s) runs in the background meanwhile.
rcli SET "lockwait:_import.lock" held >/dev/null
lock_t0=$(date +%s)
spawn_prog lockwait "$CTL" -c "$H_TMP/pw.conf" -p lockwait: import "$H_TMP/one.rules"
lock_pid=$SPAWN_PID

CONN=(-c "$H_TMP/pw.conf")
allout=
pwc() { # pwc DESC CODE WANT_OUT ARGS... - tctl, and collect the output
	local desc=$1 code=$2 wo=$3
	shift 3
	tctl "$desc" "$code" "$wo" "" "$@"
	allout+="$OUT$ERR"
}
pwc "-c: add with redis_password_file" 0 "" add recipient pw@example.com OK
is "$(rget cfg:recipient:pw@example.com)" OK "-c: the prefix from the file"
pwc "-c: get" 0 "OK
ttl none
hits 0 last never" get recipient pw@example.com
pwc "-c: list" 0 "recipient pw@example.com OK" list
pwc "-c: export" 0 "# redmilter rules, prefix cfg:
recipient pw@example.com OK" export
pwc "-c: import" 0 "imported 1 rules, removed 0" import "$H_TMP/one.rules"
pwc "-c: lint" 0 "2 rules, 0 problems" lint
pwc "-c: check" 0 "pw@example.com: accept (recipient pw@example.com)" \
    check -f a@example.net -r pw@example.com
pwc "-c: del" 0 "" del recipient pw@example.com
pwc "-c with -p" 0 "" -p other: list

# -r names another Redis: the configuration's password (its
# redis_password_file, or the password in its redis URL) belongs to its own
# redis and is never sent to the other one (redmilterctl(8), -r).  The other
# Redis has no password and records every command it gets (MONITOR).
other_dir=$H_TMP/other-redis
mkdir -p "$other_dir"
OTHER_PORT=$(free_port) || bail_out "no free port for the second Redis"
spawn /usr/bin/redis-server --port "$OTHER_PORT" --bind 127.0.0.1 \
    --save "" --appendonly no --dir "$other_dir" \
    --logfile "$other_dir/redis.log" </dev/null >/dev/null 2>&1
other_pid=$SPAWN_PID
ocli() {
	timeout -k 5 60 redis-cli -h 127.0.0.1 -p "$OTHER_PORT" "$@" </dev/null
}
other_up() { [ "$(ocli PING 2>/dev/null)" = PONG ]; }
wait_for 10 other_up || bail_out "the second redis-server did not start"
ocli SET cfg:recipient:other@example.com OK >/dev/null
spawn timeout -k 5 300 redis-cli -h 127.0.0.1 -p "$OTHER_PORT" MONITOR \
    >"$other_dir/monitor" 2>&1 </dev/null
mon_pid=$SPAWN_PID
mon_up() { grep -q '^OK' "$other_dir/monitor"; }
wait_for 10 mon_up || bail_out "redis-cli MONITOR did not start"
ocli CONFIG RESETSTAT >/dev/null
other_url=redis://127.0.0.1:$OTHER_PORT/0
pwc "-c with -r elsewhere: the other Redis, without a password" 0 \
    "recipient other@example.com OK" -r "$other_url" list
printf 'redis = redis://:%s@127.0.0.1:%s/0\nprefix = cfg:\n' "$PW" \
    "$REDIS_PORT" >"$H_TMP/pwurl.conf"
chmod 600 "$H_TMP/pwurl.conf"
CONN=(-c "$H_TMP/pwurl.conf")
pwc "-c with the password in its URL, -r elsewhere: the other Redis" 0 \
    "recipient other@example.com OK" -r "$other_url" list
CONN=(-c "$H_TMP/pw.conf")
# MONITOR shows an AUTH with its argument "(redacted)"; commandstats count
# it even when it fails.
mon_scans() { [ "$(grep -ci '"scan"' "$other_dir/monitor")" -ge 2 ]; }
wait_for 5 mon_scans || diag "MONITOR: $(cat "$other_dir/monitor")"
is "$(grep -ciE '"(auth|hello)"' "$other_dir/monitor")" 0 \
    "-c with -r elsewhere: no AUTH reached the other Redis (MONITOR)" ||
    diag "$(grep -iE '"(auth|hello)"' "$other_dir/monitor")"
unlike "$(ocli INFO commandstats)" 'cmdstat_(auth|hello):' \
    "-c with -r elsewhere: the other Redis counted no AUTH (INFO commandstats)"
kill_wait "$mon_pid"
run_prog "$CTL" -c "$H_TMP/pw.conf" -r "unix:$REDIS_SOCK" list
is "$RC" 2 "-c with -r unix: (the same Redis) the password file is not used: exit 2"
one_err_line "...one line on stderr"
allout+="$OUT$ERR"
# REDISCLI_AUTH, as redis-cli reads it: the password for -r when its URL
# has none; the URL's own wins; without -r the configuration's is used.
export REDISCLI_AUTH=$PW
pwc "-r unix: with REDISCLI_AUTH" 0 "recipient x@example.com OK" \
    -r "unix:$REDIS_SOCK" list
REDISCLI_AUTH=wrong-$PW
CONN=(-r "redis://:$PW@127.0.0.1:$REDIS_PORT/0")
pwc "-r with a password in the URL: REDISCLI_AUTH is not used" 0 \
    "recipient x@example.com OK" -p cfg: list
CONN=(-c "$H_TMP/pw.conf")
pwc "without -r: REDISCLI_AUTH is not used (the password file is)" 0 \
    "recipient x@example.com OK" list
unset REDISCLI_AUTH
# An import waiting for the lock stays in the process list: look at it there.
rcli SET "cfg:_import.lock" held >/dev/null
# other_clients - connections to Redis other than redis-cli's own
other_clients() {
	rcli CLIENT LIST | grep -vc 'cmd=client'
}
base=$(other_clients)
spawn_prog pwimp "$CTL" -c "$H_TMP/pw.conf" import --replace "$H_TMP/one.rules"
pid=$SPAWN_PID
clients() {
	[ "$(other_clients)" -gt "$base" ]
}
ok "-c: the waiting import is connected" wait_for 20 clients
ps_all=$(ps -eo args)
ok "-c: the password is not in any process's argv (ps)" \
    bash -c '! grep -qF -- "$1" <<<"$2"' _ "$PW" "$ps_all"
argv=$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)
unlike "$argv" "$PW" "-c: nor in /proc/PID/cmdline"
rcli DEL "cfg:_import.lock" >/dev/null
reap_prog "$pid" pwimp
is "$RC $OUT" "0 imported 1 rules, removed 0" \
    "import: waits while another holds the lock, then imports"
allout+="$OUT$ERR"

printf 'wrong-%s\n' "$PW" >"$H_TMP/wrong.pw"
sed "s|$H_TMP/redis.pw|$H_TMP/wrong.pw|" "$H_TMP/pw.conf" >"$H_TMP/wrong.conf"
run_prog "$CTL" -c "$H_TMP/wrong.conf" list
is "$RC" 2 "-c: a wrong password, exit 2"
one_err_line "-c: a wrong password, one line on stderr"
allout+="$OUT$ERR"
CONN=(-r "redis://:$PW@127.0.0.1:$REDIS_PORT/0")
pwc "password in the URL" 0 "recipient x@example.com OK" -p cfg: list
run_prog "$CTL" -r "redis://:wrong-$PW@127.0.0.1:$REDIS_PORT/0" list
is "$RC" 2 "a wrong password in the URL, exit 2"
allout+="$OUT$ERR"
run_prog "$CTL" -r "redis://:wrong-$PW@127.0.0.1:$CLOSED_PORT/0" list
is "$RC" 2 "password in the URL, Redis unreachable, exit 2"
allout+="$OUT$ERR"
run_prog "$CTL" -r "$REDIS_URL" list
is "$RC" 2 "no password, exit 2"
like "$ERR" '^redmilterctl: [^'$'\n'']+$' "no password: one line naming the error"
unlike "$allout" "$PW" "the password appears in no output"
CONN=(-r "$REDIS_URL")
xc 1 "-c: a missing file" -c "$H_TMP/no-such.conf" list
one_err_line "-c: a missing file: one line on stderr"
printf 'redis = redis://127.0.0.1:%s/0\nprefix = \n' "$REDIS_PORT" >"$H_TMP/bad.conf"
xc 1 "-c: a bad value" -c "$H_TMP/bad.conf" list
like "$ERR" "^redmilterctl: [^"$'\n'"]*bad\.conf:2" "-c: a bad value: FILE:LINE"
if [ ! -e /usr/local/etc/redmilter.conf ]; then
	run_prog "$CTL" -r "redis://:$PW@127.0.0.1:$REDIS_PORT/0" codes
	is "$RC $ERR" "0 " "no -c and no default file: built-in defaults, silently"
fi

# The import that found the lock held all along gives up after 60 s.
reap_prog "$lock_pid" lockwait
lock_s=$(($(date +%s) - lock_t0))
note "lock: the waiting import had ended $lock_s s after its start"
is "$RC" 2 "lock: held for good, import exits 2"
like "$ERR" '^redmilterctl: [^'$'\n'']*another import holds the lock' \
    "lock: 'another import holds the lock'"
is "$(count 'lockwait:*') $(rget lockwait:_import.lock)" "1 held" \
    "lock: nothing written, the holder's lock untouched"

done_testing
