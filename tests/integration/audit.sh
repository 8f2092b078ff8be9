#!/bin/bash
# tests/integration/audit.sh - redmilterctl's audit trail (<prefix>_audit)
# and history, against a private redis-server.
#
# One entry per change with its exact fields, read back with XREVRANGE:
# add (a new rule with -t and -m, a changed one: its old value), del (-m),
# import (several lines, -m; an unchanged rule has none; --replace: its
# deletion; 2,500 rules: three runs of the script in one MULTI/EXEC, and
# none of them written when the audit key is not a stream), reset, greylist pass (twice: old pending/passed); SUDO_USER
# (set, empty, unset); history: the line format, newest first, TABLE,
# TABLE KEY (folded), -n, escaping, batches of 1,000 walked; refused
# changes (a bad rule, a bad -m) and a del of nothing leave no entry;
# list, export and lint skip the stream; the cap (100,100 entries seeded,
# then one change); Redis down: exit 2.
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
need_program "$CTL" redis-cli sed id
LC_ALL=C
export LC_ALL

start_redis
CONN=(-r "$REDIS_URL")
A=redmilter:_audit
export SUDO_USER=alice
ME=$(id -un)

# --- helpers ------------------------------------------------------------------

# entries N - the newest N entries' fields, "f=v" space-separated, one
# entry a line, newest first
ENTRIES_LUA='local out = {}
for _, e in ipairs(redis.call("XREVRANGE", KEYS[1], "+", "-",
    "COUNT", ARGV[1])) do
	local l = {}
	for i = 1, #e[2], 2 do l[#l + 1] = e[2][i] .. "=" .. e[2][i + 1] end
	out[#out + 1] = table.concat(l, " ")
end
return table.concat(out, "\n")'
entries() {
	rcli --raw EVAL "$ENTRIES_LUA" 1 "$A" "$1"
}

xlen() {
	rcli XLEN "$A"
}

# hist ARGS... - redmilterctl history ARGS, each line's time as TIME
hist() {
	run_prog "$CTL" "${CONN[@]}" history "$@"
	OUT=$(sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z /TIME /' <<<"$OUT")
}

# thist DESC CODE WANT ARGS... - hist ARGS; one test on status, output,
# and an empty stderr
thist() {
	local desc=$1 code=$2 want=$3
	shift 3
	hist "$@"
	is "exit $RC"$'\n'"$OUT"$'\n'"stderr:$ERR" \
	    "exit $code"$'\n'"$want"$'\n'"stderr:" "$desc"
}

# --- add ----------------------------------------------------------------------

tctl "add: a new rule with -t and -m" 0 "" "" \
    add recipient Bob@Example.com OK -t 600 -m "ticket 42: let bob in"
is "$(entries 1)" \
    "user=alice cmd=add table=recipient key=bob@example.com new=OK ttl=600 note=ticket 42: let bob in" \
    "add: one entry, the key folded, no old value"
tctl "add: -m before the table" 0 "" "" \
    add -m "now refused" recipient bob@example.com 550 5.1.1 Gone
is "$(entries 1)" \
    "user=alice cmd=add table=recipient key=bob@example.com old=OK new=550 5.1.1 Gone ttl=0 note=now refused" \
    "add of a changed rule: the old value is the one replaced"
is "$(xlen)" 2 "add: two changes, two entries"
SUDO_USER='' run_prog "$CTL" "${CONN[@]}" add sender s.example OK
is "$(entries 1)" "user=$ME cmd=add table=sender key=s.example new=OK ttl=0" \
    "add without a note, SUDO_USER empty: getuid()'s name"
(unset SUDO_USER; run_prog "$CTL" "${CONN[@]}" add sender s2.example OK)
is "$(entries 1)" "user=$ME cmd=add table=sender key=s2.example new=OK ttl=0" \
    "add, SUDO_USER unset: getuid()'s name"

# --- refused changes leave no entry -----------------------------------------

n=$(xlen)
tctl "add: a bad rule" 1 "" \
    "redmilterctl: recipient x@example.com: unknown action \"FROB\"" \
    add recipient x@example.com FROB -m "never"
LONG=$(printf '%1001s' "" | tr ' ' x)
tctl "add: -m of 1001 bytes" 1 "" \
    "redmilterctl: -m: note longer than 1000 bytes" \
    add recipient x@example.com OK -m "$LONG"
tctl "add: -m with a newline" 1 "" \
    "redmilterctl: -m: note with a control character" \
    add recipient x@example.com OK -m $'two\nlines'
tctl "del: -m with a tab" 1 "" \
    "redmilterctl: -m: note with a control character" \
    del recipient bob@example.com -m $'a\tb'
tctl "del of no rule" 1 "" "redmilterctl: no rule recipient nobody@example.com" \
    del recipient nobody@example.com -m "nothing"
is "$(xlen)" "$n" "refused changes and a del of nothing: no entry"
is "$(rcli EXISTS redmilter:recipient:x@example.com)" 0 \
    "refused changes: nothing written"
tctl "add: -m of 1000 bytes" 0 "" "" add recipient x@example.com OK -m "${LONG:1}"
is "$(entries 1)" \
    "user=alice cmd=add table=recipient key=x@example.com new=OK ttl=0 note=${LONG:1}" \
    "add: a note of 1000 bytes kept whole"

# --- del ----------------------------------------------------------------------

tctl "del with -m" 0 "" "" del -m "left the company" recipient x@example.com
is "$(entries 1)" \
    "user=alice cmd=del table=recipient key=x@example.com old=OK note=left the company" \
    "del: one entry, its old value, no new value or TTL"

# --- import -------------------------------------------------------------------

cat >"$H_TMP/a.rules" <<'EOF'
# three rules, one of them already stored as it is
recipient bob@example.com 550 5.1.1 Gone
recipient carol@example.com OK
-t 3600 client 192.0.2.0/24 REJECT bad net
EOF
n=$(xlen)
tctl "import with -m" 0 "imported 3 rules, removed 0" "" \
    import -m "from the CRM" "$H_TMP/a.rules"
is "$(entries 2)" \
    "user=alice cmd=import table=client key=192.0.2.0/24 new=REJECT bad net ttl=3600 note=from the CRM
user=alice cmd=import table=recipient key=carol@example.com new=OK ttl=0 note=from the CRM" \
    "import: one entry per rule changed"
is "$(xlen)" $((n + 2)) "import: the unchanged rule has no entry"
printf '%s\n' "recipient carol@example.com REJECT" \
    "recipient dave@example.com OK" >"$H_TMP/b.rules"
tctl "import --replace, -m after the file" 0 "imported 2 rules, removed 1" "" \
    import --replace "$H_TMP/b.rules" -m "CRM sync"
is "$(entries 3)" \
    "user=alice cmd=import table=recipient key=bob@example.com old=550 5.1.1 Gone note=CRM sync
user=alice cmd=import table=recipient key=dave@example.com new=OK ttl=0 note=CRM sync
user=alice cmd=import table=recipient key=carol@example.com old=OK new=REJECT ttl=0 note=CRM sync" \
    "import --replace: the changed, the new and the deleted rule"
is "$(xlen)" $((n + 5)) "import --replace: three entries"
n=$(xlen)
tctl "import: a bad line" 1 "" "redmilterctl: -:1: unknown table 'nosuch'" \
    import -m "bad" - <<<"nosuch x OK"
is "$(xlen)" "$n" "import: a bad file leaves no entry"

# --- an import of several runs of the script ----------------------------------

# 2,500 rules: three runs of the script (1,000 rules each) in one MULTI/EXEC,
# under a prefix of their own (big:) so that the history below is as it was.
# The import writes its rules in key order: run0@ first, run9@ last.
CONN=(-r "$REDIS_URL" -p big:)
A=big:_audit
for ((i = 0; i < 2500; i++)); do
	echo "recipient run$i@big.example OK"
done >"$H_TMP/big.rules"
rcli CONFIG RESETSTAT >/dev/null
tctl "import of 2,500 rules" 0 "imported 2500 rules, removed 0" "" \
    import -m "big" "$H_TMP/big.rules"
is "$(xlen)" 2500 "import of 2,500 rules: 2,500 entries"
is "$(rcli INFO commandstats | grep -oE '^cmdstat_(eval|evalsha|exec|multi):calls=[0-9]+' | sort | tr '\n' ' ')" \
    "cmdstat_eval:calls=4 cmdstat_exec:calls=1 cmdstat_multi:calls=1 " \
    "import of 2,500 rules: three runs of the script in one MULTI/EXEC (and the lock's EVAL)"
is "$(entries 1)" \
    "user=alice cmd=import table=recipient key=run9@big.example new=OK ttl=0 note=big" \
    "import of 2,500 rules: the last rule's entry is the newest"
is "$(rcli --raw EVAL 'local e = redis.call("XREVRANGE", KEYS[1], "+", "-", "COUNT", 2500) return e[2500][2][8]' 1 "$A")" \
    "run0@big.example" "import of 2,500 rules: the first rule's entry 2,500 back"
# An audit key of another type: every run fails before it writes, so
# nothing of the import lands, though three runs were sent.
rcli DEL "$A" >/dev/null
rcli SET "$A" "not a stream" >/dev/null
sed 's/ OK$/ REJECT/' "$H_TMP/big.rules" >"$H_TMP/big2.rules"
tctl "import: the audit key a string" 2 "" \
    "redmilterctl: Redis EVAL: big:_audit holds a string, not the audit stream" \
    import "$H_TMP/big2.rules"
is "$(rcli GET big:recipient:run0@big.example)/$(rcli GET big:recipient:run9@big.example)" \
    "OK/OK" "import: the audit key a string: no rule written, first or last"
tctl "add: the audit key a string" 2 "" \
    "redmilterctl: Redis EVAL: big:_audit holds a string, not the audit stream" \
    add recipient run0@big.example REJECT
is "$(rcli GET big:recipient:run0@big.example)" "OK" \
    "add: the audit key a string: the rule unchanged"
# shellcheck disable=SC2016 # Lua, not shell
rcli EVAL 'for _, k in ipairs(redis.call("KEYS", ARGV[1])) do redis.call("DEL", k) end' \
    0 'big:*' >/dev/null
CONN=(-r "$REDIS_URL")
A=redmilter:_audit

# --- reset and greylist pass --------------------------------------------------

run_prog "$CTL" "${CONN[@]}" add limit 'sender:*' 10 msgs/1h
tctl "reset" 0 "sender bob@example.com: counters cleared" "" \
    reset sender bob@example.com
is "$(entries 1)" "user=alice cmd=reset table=sender key=bob@example.com" \
    "reset: one entry"
tctl "greylist pass" 0 "passed 192.0.2.0/24 a@x.example b@y.example" "" \
    greylist pass 192.0.2.1 a@x.example b@y.example
is "$(entries 1)" \
    "user=alice cmd=pass table=greylist key=192.0.2.0/24,a@x.example,b@y.example new=passed" \
    "greylist pass of a new triplet: no old state"
tctl "greylist pass again" 0 "passed 192.0.2.0/24 a@x.example b@y.example" "" \
    greylist pass 192.0.2.1 a@x.example b@y.example
is "$(entries 1)" \
    "user=alice cmd=pass table=greylist key=192.0.2.0/24,a@x.example,b@y.example old=passed new=passed" \
    "greylist pass of a passed triplet: old passed"
rcli HSET redmilter:_grey:t:198.51.100.0/24\|c@x.example\|d@y.example \
    first 1 last 1 >/dev/null
run_prog "$CTL" "${CONN[@]}" greylist pass 198.51.100.7 c@x.example d@y.example
is "$(entries 1)" \
    "user=alice cmd=pass table=greylist key=198.51.100.0/24,c@x.example,d@y.example old=pending new=passed" \
    "greylist pass of a pending triplet: old pending"

# --- history ------------------------------------------------------------------

thist "history -n 3: newest first, one line each" 0 \
    "TIME alice pass greylist 198.51.100.0/24,c@x.example,d@y.example old=\"pending\" new=\"passed\"
TIME alice pass greylist 192.0.2.0/24,a@x.example,b@y.example old=\"passed\" new=\"passed\"
TIME alice pass greylist 192.0.2.0/24,a@x.example,b@y.example new=\"passed\"" \
    -n 3
thist "history recipient BOB@example.com: the key folded, newest first" 0 \
    "TIME alice import recipient bob@example.com old=\"550 5.1.1 Gone\" note=\"CRM sync\"
TIME alice add recipient bob@example.com old=\"OK\" new=\"550 5.1.1 Gone\" ttl=0 note=\"now refused\"
TIME alice add recipient bob@example.com new=\"OK\" ttl=600 note=\"ticket 42: let bob in\"" \
    recipient BOB@example.com
thist "history limit" 0 \
    "TIME alice add limit sender:* new=\"10 msgs/1h\" ttl=0" limit
thist "history -n 1 recipient" 0 \
    "TIME alice import recipient bob@example.com old=\"550 5.1.1 Gone\" note=\"CRM sync\"" \
    -n 1 recipient
thist "history of a key with no entries" 0 "" recipient nobody@example.com
hist
is "$(wc -l <<<"$OUT")" 16 "history: every entry (16, fewer than -n's 100)"
like "$(head -n 1 "$OUT_FILE")" \
    '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z alice pass ' \
    "history: the time in UTC"
NOW=$(rcli --raw TIME | head -n 1)
T=$(date -u -d "$(head -n 1 "$OUT_FILE" | cut -d' ' -f1)" +%s)
ok "history: the time is Redis's (within a minute)" \
    [ $((NOW - T)) -ge 0 -a $((NOW - T)) -le 60 ]

# Escaping: a value with a quote, a backslash, a tab and a byte 0x01.
rcli XADD "$A" '*' user 'mallory x' cmd add table recipient key 'k"y' \
    old $'a"b\\c\td\001' new '%s%n' >/dev/null
thist "history: values quoted and escaped, bare fields' spaces too" 0 \
    'TIME mallory\x20x add recipient k\"y old="a\"b\\c\td\x01" new="%s%n"' -n 1

tctl "history: bad -n" 1 "" "redmilterctl: history: -n needs a number from 1, not 'x'" \
    history -n x
tctl "history: unknown table" 1 "" "redmilterctl: unknown table 'nosuch'" \
    history nosuch
tctl "history: too many arguments" 1 "" \
    "redmilterctl: usage: history [-n N] [TABLE [KEY]]" history recipient a b
run_prog "$CTL" "${CONN[@]}" get client 192.0.2.1/24
tctl "history: a bad key, refused as get refuses it" 1 "" "$ERR" \
    history client 192.0.2.1/24

# --- list, export and lint skip the stream -----------------------------------

tctl "list: the stream is no rule" 0 "recipient carol@example.com REJECT
recipient dave@example.com OK
sender s.example OK
sender s2.example OK
client 192.0.2.0/24 REJECT bad net
limit sender:* 10 msgs/1h" "" list
tctl "lint: the stream is no problem" 0 "6 rules, 0 problems" "" lint
run_prog "$CTL" "${CONN[@]}" export
is "$RC $(grep -c -v '^#' "$OUT_FILE")" "0 6" "export: six rules, no stream"

# --- history in batches of 1,000 ----------------------------------------------

rcli EVAL "for i = 1, 2500 do redis.call('XADD', KEYS[1], '*', 'user', 'seed',
    'cmd', 'seed', 'table', 'helo', 'key', 'k' .. i) end" 1 "$A" >/dev/null
thist "history sender: an entry behind 2,500 others (three batches)" 0 \
    "TIME alice reset sender bob@example.com
TIME $ME add sender s2.example new=\"OK\" ttl=0
TIME $ME add sender s.example new=\"OK\" ttl=0" sender
thist "history helo k1: the oldest of the seeds" 0 \
    "TIME seed seed helo k1" helo k1

# --- the cap ------------------------------------------------------------------

rcli DEL "$A" >/dev/null
rcli EVAL "for i = 1, 100100 do redis.call('XADD', KEYS[1], '*', 'user', 'seed',
    'cmd', 'seed') end" 1 "$A" >/dev/null
is "$(xlen)" 100100 "cap: 100,100 entries seeded"
tctl "cap: one change" 0 "" "" add recipient cap@example.com OK -m cap
n=$(xlen)
ok "cap: trimmed to about 100,000 (XLEN $n)" [ "$n" -ge 100000 -a "$n" -le 100100 ]
is "$(entries 1)" \
    "user=alice cmd=add table=recipient key=cap@example.com new=OK ttl=0 note=cap" \
    "cap: the newest entry is the change"
thist "cap: history -n 1" 0 \
    "TIME alice add recipient cap@example.com new=\"OK\" ttl=0 note=\"cap\"" -n 1

# --- Redis down ---------------------------------------------------------------

CLOSED_PORT=$(free_port) || bail_out "no free port"
CONN=(-r "redis://127.0.0.1:$CLOSED_PORT/0")
for cmd in "history" "history recipient" "add recipient a@x.example OK -m x" \
    "del recipient a@x.example -m x"; do
	# shellcheck disable=SC2086
	run_prog "$CTL" "${CONN[@]}" $cmd
	is "$RC $OUT" "2 " "$cmd: Redis down, exit 2"
	like "$ERR" '^redmilterctl: [^'$'\n'']+$' "$cmd: Redis down, one line"
done

done_testing
