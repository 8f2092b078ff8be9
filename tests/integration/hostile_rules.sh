#!/bin/bash
# hostile_rules.sh - rules that redmilterctl would refuse, written straight
# into Redis with redis-cli (RELIABILITY.md, item 2): CR and LF (an attempt
# to make the milter send a second SMTP reply), NUL bytes, 2xx and 3xx
# codes, enhanced codes of the wrong class, a 100 kB value, lines too long
# and too many, binary junk and terminal escapes, and keys of other Redis
# types (hash, list, set, sorted set) where a rule would be.
#
# For every one of them:
#   - straight through the milter protocol (lib/milter_client.py), the
#     milter answers exactly its own "451 4.3.5 Server configuration error"
#     (on_error = tempfail) or, for a key of another type, no rule at all;
#   - through a real Postfix (lib/postfix.sh, root only), the SMTP client
#     sees exactly the same, line for line: nothing of the hostile value
#     reaches it;
#   - after three messages, the milter has logged the broken value once,
#     not once per message, and its log holds no raw control character;
#   - `redmilterctl lint` and `redmilter -n` name every key, the ones of
#     another type included, and exit 1; redmilterctl's own output (list,
#     get, check, export) holds no raw control character either.
# A broken OK above a REJECT of a lower table is a 451, never the REJECT
# (redmilterctl(8), RULES, Actions: a broken OK cannot let a lower REJECT
# bounce mail); with on_error = accept (redmilter.conf(5)), broken rules
# count as absent.
#
# By hand (as root for the Postfix part):
#   make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#       REDMILTERCTL=$PWD/policy/redmilterctl \
#       bash tests/integration/hostile_rules.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"
# shellcheck source-path=SCRIPTDIR source=lib/postfix.sh
. "$(dirname "$0")/lib/postfix.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
MC=$TOP/tests/integration/lib/milter_client.py
need_program "$REDMILTER" "$REDMILTERCTL" python3 redis-cli
is_root=0
if [ "$(id -u)" -eq 0 ]; then
	is_root=1
fi

BROKEN="451 4.3.5 Server configuration error"
P=redmilter:

# The hostile rules, as redis-cli reads them on its standard input (double
# quotes, \r \n \xHH escapes): NAME|VALUE|the milter's RCPT reply for
# NAME@example.com.  VALUE is written to recipient:NAME@example.com.
big=$(head -c 100000 /dev/zero | tr '\0' A)
long=$(head -c 600 /dev/zero | tr '\0' B)
lines=$(for i in $(seq 1 33); do printf 'line %d\\\\n' "$i"; done)
CASES=(
	"crlf|550 5.7.1 first\\r\\n250 2.1.5 Ok|$BROKEN"
	"lf|550 5.7.1 first\\n250 2.1.5 Ok|$BROKEN"
	"cr|550 5.7.1 first\\r250 2.1.5 Ok|$BROKEN"
	"crlfok|OK\\r\\n550 5.7.1 injected|$BROKEN"
	"nul|550 5.7.1 first\\x00250 2.1.5 Ok|$BROKEN"
	"nulstart|\\x00REJECT|$BROKEN"
	"code250|250 2.1.5 Ok|$BROKEN"
	"code220|220|$BROKEN"
	"code354|354 3.0.0 Start mail input|$BROKEN"
	"mismatch54|550 4.7.1 Mismatch|$BROKEN"
	"mismatch45|450 5.7.1 Mismatch|$BROKEN"
	"mismatch52|550 2.0.0 Mismatch|$BROKEN"
	"big|550 5.7.1 $big|$BROKEN"
	"longline|550 5.7.1 $long|$BROKEN"
	"manylines|550 5.7.1 ${lines}end|$BROKEN"
	"junk|\\xff\\xfe\\x01\\x02\\x80junk\\x1b[31m|$BROKEN"
	"utf8|550 5.7.1 na\\xc3\\xafve|$BROKEN"
	"escape|550 5.7.1 \\x1b[2Jcleared|$BROKEN"
	"tab|550 5.7.1 a\\tb|$BROKEN"
	"okjunk|OK \\xff|$BROKEN"
)
# Keys of other types, and what the milter answers for them (no rule).
TYPED=(hash list set zset)
# Every broken key, for lint, -n and the log: table:key
BROKEN_KEYS=()
for c in "${CASES[@]}"; do
	BROKEN_KEYS+=("recipient:${c%%|*}@example.com")
done
BROKEN_KEYS+=("sender:brokensender.example"
	"pair:pairsender.example,pairvictim@example.com")

# load_rules - every hostile rule, and a few good ones, through redis-cli
load_rules() {
	local c name rest value
	{
		for c in "${CASES[@]}"; do
			name=${c%%|*}
			rest=${c#*|}
			value=${rest%|*}
			printf 'SET "%srecipient:%s@example.com" "%s"\n' "$P" \
			    "$name" "$value"
		done
		printf 'HSET "%srecipient:hash@example.com" action "REJECT"\n' "$P"
		printf 'RPUSH "%srecipient:list@example.com" "REJECT"\n' "$P"
		printf 'SADD "%srecipient:set@example.com" "REJECT"\n' "$P"
		printf 'ZADD "%srecipient:zset@example.com" 1 "REJECT"\n' "$P"
		printf 'SET "%ssender:brokensender.example" "550 5.7.1 a\\r\\nb"\n' "$P"
		printf 'SET "%spair:pairsender.example,pairvictim@example.com" "250 ok"\n' "$P"
		# a broken OK must not let this REJECT through
		# (redmilterctl(8), RULES, Actions)
		printf 'SET "%ssender:blocked.example" "REJECT Sender blocked"\n' "$P"
		# the two characters \n: a legitimate multi-line reply
		printf 'SET "%srecipient:twolines@example.com" "550 5.7.1 first\\\\n250 2.1.5 Ok"\n' "$P"
	} >"$H_TMP/rules.redis"
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" <"$H_TMP/rules.redis" \
	    >"$H_TMP/rules.out" 2>&1
	if grep -qv -e '^OK$' -e '^(integer) 1$' -e '^1$' "$H_TMP/rules.out"; then
		diag "$(cat "$H_TMP/rules.out")"
		bail_out "redis-cli did not take every hostile rule"
	fi
}

# mc STEP... - the raw milter client on our milter
mc() {
	run python3 "$MC" -s "$MILTER_SOCKET" -T $((10 * slow)) run "$@"
}

# raw_rcpts SENDER RCPT... - one transaction; RCPT replies one a line
raw_rcpts() {
	local sender=$1 r args=()
	shift
	for r in "$@"; do
		args+=(+rcpt "<$r>")
	done
	mc +optneg +macro C j=mx.test.example +connect client.test 4 40000 \
	    127.0.0.1 +helo client.test +mail "<$sender>" "${args[@]}" +abort \
	    +quit
	sed -n 's/^rcpt: //p' <<<"$OUT"
}

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi

# --- set-up ------------------------------------------------------------------

start_redis
load_rules
note "$(rcli DBSIZE) keys written with redis-cli; the 100 kB one is $(rcli STRLEN "${P}recipient:big@example.com") bytes"
start_milter

# --- the milter protocol -----------------------------------------------------

milter_mark
rcpts=()
want=()
what=()
for c in "${CASES[@]}"; do
	rcpts+=("${c%%|*}@example.com")
	want+=("${c##*|}")
	v=${c#*|}
	v=${v%|*}
	[ ${#v} -gt 40 ] && v="${v:0:32}... (${#v} characters)"
	what+=("$v")
done
for t in "${TYPED[@]}"; do
	rcpts+=("$t@example.com")
	want+=(continue)
	what+=("a Redis $t")
done
for i in 1 2 3; do
	got=$(raw_rcpts someone@sender.example "${rcpts[@]}")
	if [ "$i" = 1 ]; then
		k=0
		while IFS= read -r line; do
			is "$line" "${want[$k]}" \
			    "milter protocol: recipient:${rcpts[$k]} (${what[$k]}) gets exactly '${want[$k]}'"
			k=$((k + 1))
		done <<<"$got"
		is "$k" "${#rcpts[@]}" "milter protocol: one reply per recipient"
	fi
done

got=$(raw_rcpts x@brokensender.example plain@example.com)
is "$got" "$BROKEN" "milter protocol: a broken sender rule (CR LF) gives $BROKEN"
got=$(raw_rcpts x@pairsender.example pairvictim@example.com)
is "$got" "$BROKEN" "milter protocol: a broken pair rule (250) gives $BROKEN"
got=$(raw_rcpts x@blocked.example crlfok@example.com plain@example.com)
is "$got" "$BROKEN
550 5.7.1 Sender blocked" \
    "milter protocol: a broken OK above a sender REJECT is a 451, never the REJECT"
got=$(raw_rcpts x@sender.example twolines@example.com)
is "$got" '550-5.7.1 first\r\n550 5.7.1 250 2.1.5 Ok' \
    "milter protocol: the two characters \\n make two lines, each with the rule's own code (no second reply)"

# --- through Postfix ---------------------------------------------------------

if [ "$is_root" = 1 ]; then
	start_postfix
	pf_rcpts=(-t ok@example.com)
	pf_want="MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<ok@example.com> => 250 2.1.5 Ok"
	for k in "${!rcpts[@]}"; do
		pf_rcpts+=(-t "${rcpts[$k]}")
		if [ "${want[$k]}" = continue ]; then
			pf_want+=$'\n'"RCPT TO:<${rcpts[$k]}> => 250 2.1.5 Ok"
		else
			pf_want+=$'\n'"RCPT TO:<${rcpts[$k]}> => ${want[$k]}"
		fi
	done
	pf_want+=$'\n'"DATA => 354 End data with <CR><LF>.<CR><LF>
<message> => 250 2.0.0 Ok: queued as QID"
	for i in 1 2 3; do
		smtp_session -f someone@sender.example "${pf_rcpts[@]}"
		T=$(smtp_transcript)
		[ "$i" = 1 ] && first=$T
	done
	is "$first" "$pf_want" \
	    "Postfix: the SMTP client sees $BROKEN for each of ${#CASES[@]} hostile values, and 250 for the keys of other types"
	is "$T" "$pf_want" "Postfix: the same for the third message"
	leaked=$(grep -E '^S: ' <<<"$SMTP_OUT" |
	    grep -E 'first|injected|Start mail|Mismatch|AAAA|BBBB|line [0-9]|junk|cleared|na.ve|\\x|[^ -~]')
	is "$leaked" "" "Postfix: no reply line carries any part of a hostile value"
	is "$(grep -cxF 'S: 250 2.1.5 Ok' <<<"$SMTP_OUT")" $((1 + ${#TYPED[@]})) \
	    "Postfix: '250 2.1.5 Ok' only for the good recipient and the ${#TYPED[@]} keys of other types"
	smtp_session -f someone@sender.example -t twolines@example.com
	is "$(smtp_transcript)" "MAIL FROM:<someone@sender.example> => 250 2.1.0 Ok
RCPT TO:<twolines@example.com> => 550-5.7.1 first
RCPT TO:<twolines@example.com> => 550 5.7.1 250 2.1.5 Ok" \
	    "Postfix: a \\n in the text gives two 550 lines, no 250 reply"
	smtp_session -f x@blocked.example -t crlfok@example.com -t plain@example.com
	is "$(smtp_transcript)" "MAIL FROM:<x@blocked.example> => 250 2.1.0 Ok
RCPT TO:<crlfok@example.com> => $BROKEN
RCPT TO:<plain@example.com> => 550 5.7.1 Sender blocked" \
	    "Postfix: a broken OK above a sender REJECT is a 451, never the REJECT"
	bad=$(grep -E 'warning: .*milter|malformed' "$PF_LOG")
	is "$bad" "" "Postfix logged no malformed milter reply and no milter error"
	ok "Postfix stops cleanly" stop_postfix
else
	for d in "Postfix: hostile values" "Postfix: third message" \
	    "Postfix: no hostile text" "Postfix: 250 count" \
	    "Postfix: two lines" "Postfix: broken OK" "Postfix: log" \
	    "Postfix: stops"; do
		echo "ok $((H_TESTS + 1)) # SKIP $d: a private Postfix needs root"
		H_TESTS=$((H_TESTS + 1))
	done
fi

# --- the milter's log ----------------------------------------------------------

log=$(milter_log_new)
problems=()
for key in "${BROKEN_KEYS[@]}"; do
	n=$(grep -cF "broken rule $P$key (" <<<"$log")
	[ "$n" = 1 ] || problems+=("$key: logged $n times")
done
if [ ${#problems[@]} -eq 0 ]; then
	pass "each of ${#BROKEN_KEYS[@]} broken values logged exactly once, after several messages each"
else
	fail "each broken value logged exactly once" "${problems[@]}"
fi
ctl_lines=$(LC_ALL=C grep -n $'[\x01-\x08\x0b-\x1f\x7f]' "$MILTER_LOG" | cat -v)
is "$ctl_lines" "" "the milter's log holds no raw control character (CR, ESC, ...)"
nul=$(LC_ALL=C tr -d -c '\000' <"$MILTER_LOG" | wc -c)
is "$nul" 0 "the milter's log holds no NUL byte"
like "$(grep -F "broken rule ${P}recipient:big@example.com" "$MILTER_LOG")" '^.{1,2100}$' \
    "the 100 kB value is logged shortened (one line of at most 2 kB)"

# --- lint and -n ------------------------------------------------------------------

# names_all OUTPUT WHAT - every broken and typed key is named in OUTPUT
names_all() {
	local out=$1 label=$2 key missing=()
	for key in "${BROKEN_KEYS[@]}"; do
		grep -qF "${key/:/ }: " <<<"$out" || missing+=("$key")
	done
	for t in "${TYPED[@]}"; do
		grep -qE "^recipient $t@example\.com: .*not a string" <<<"$out" ||
		    missing+=("recipient:$t@example.com (a $t)")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		pass "$label names all $((${#BROKEN_KEYS[@]} + ${#TYPED[@]})) hostile keys, the ${#TYPED[@]} of other types included"
	else
		fail "$label names every hostile key" "missing: ${missing[*]}" \
		    "$(h_indent 'output: ' "$out")"
	fi
}

expect_exit 1 "redmilterctl lint exits 1" -- "$REDMILTERCTL" -r "$REDIS_URL" lint
names_all "$OUT$ERR" "redmilterctl lint"
ctl_out=$OUT$ERR
run_prog "$REDMILTERCTL" -r "$REDIS_URL" list
ctl_out+=$OUT$ERR
run_prog "$REDMILTERCTL" -r "$REDIS_URL" export
ctl_out+=$OUT$ERR
for k in crlf nul junk escape; do
	run_prog "$REDMILTERCTL" -r "$REDIS_URL" get recipient "$k@example.com"
	ctl_out+=$OUT$ERR
done
run_prog "$REDMILTERCTL" -r "$REDIS_URL" check -f a@sender.example \
    -r crlf@example.com -r junk@example.com -r hash@example.com
ctl_out+=$OUT$ERR
is "$(printf '%s' "$ctl_out" | LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]')" 0 \
    "redmilterctl lint, list, export, get and check print no raw control character"

printf 'redis = %s\n' "$REDIS_URL" >"$H_TMP/n.conf"
expect_exit 1 "redmilter -n exits 1" -- "$REDMILTER" -c "$H_TMP/n.conf" -n
names_all "$OUT$ERR" "redmilter -n"

ok "the milter (on_error = tempfail) stops cleanly" stop_milter

# --- on_error = accept: broken rules count as absent ---------------------------

start_milter "on_error = accept"
got=$(raw_rcpts someone@sender.example crlf@example.com nul@example.com \
    big@example.com junk@example.com hash@example.com)
is "$got" "continue
continue
continue
continue
continue" "on_error = accept: broken values and other types count as absent (continue)"
got=$(raw_rcpts x@blocked.example crlfok@example.com)
is "$got" "550 5.7.1 Sender blocked" \
    "on_error = accept: below a broken OK, the sender REJECT applies as if the OK were absent"
ok "the milter (on_error = accept) stops cleanly" stop_milter

done_testing
