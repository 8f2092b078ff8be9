#!/bin/bash
# sentinel.sh - several mail servers, one rule set: Redis replicas and
# Sentinel failover (INSTALL, "Several mail servers"), all real processes on
# loopback: one primary and two replicas (redis-server, `replicaof`), three
# Sentinels (Debian's redis-sentinel, quorum 2, down-after 1000 ms), the
# real milter/redmilter, tests/bench/loadgen as the load (8 concurrent
# milter sessions, every reply checked against loadgen's own rule set) and
# a small milter-protocol probe for exact RCPT replies.
#
#   1. Local reads: redis = the primary, redis_read = a replica's unix
#      socket.  Lookups go to the replica (its MGET count grows, the
#      primary's does not); the replica is stopped under load: every lookup
#      falls back to the primary (zero 451, zero wrong replies); it comes
#      back, and an edit made on the primary reaches the milter within the
#      replication lag (cache = off here and for mx1 and mx2 below: with
#      cache = on lookups are answered from memory, kept fresh from the
#      primary, and redis_read serves only while the milter is not sure of
#      what it holds, redmilter.conf(5)).
#   2. Failover: redis = sentinel://S0,S1,S2/m, on_error = tempfail,
#      redis_timeout = 300 (x5 under valgrind), cache = on (the default:
#      its invalidation link follows the primary too).  loadgen runs for a fixed time,
#      the primary is killed (SIGKILL) a few seconds in, the Sentinels
#      promote a replica, the milter follows by itself.  Every reply during
#      the run is the rule's or the on_error 451 4.3.0 (loadgen counts them;
#      anything else fails it); the time from the kill to the last 451 (the
#      milter following the new primary) is measured and bounded.  Beside
#      it, two more mail servers, mx1 and mx2, each a redmilter with the
#      same redis line and redis_read = its local replica (replica 1,
#      replica 2), under load at concurrency 4: from the kill until one
#      replica is promoted and the other follows it, neither replica has a
#      primary, so neither is fit to read (redmilter.conf(5), redis_read)
#      and the mail servers answer 451 as the first milter does; after
#      that, not one (the same bound).  Then `redmilterctl add` (redis =
#      sentinel://...) lands on the new primary and the milter obeys it at
#      once.
#   3. The old primary comes back: the Sentinels make it a replica of the
#      new one, and it gets the edit made meanwhile.
#   4. A Sentinel down (the first of the URL): it is skipped by a freshly
#      started milter and by redmilterctl.
#
# Every server requires a password, and the Sentinels one of their own
# (redis_password_file, redis_sentinel_password_file), as a production set
# should; redmilterctl reads both files from a configuration file of its
# own (-c), and without either it fails naming the Redis error.
#
# Timing: the test appends "--- at MS" marks (milliseconds since the epoch)
# to the milter's log every 100 ms or so during the failover; the log has
# one line per decision, so the marks on either side of the last 451 line
# say when the milter last failed (the later one is held to FOLLOW_MAX).
# Figures are printed as TAP diagnostics ("# ...").
#
# By hand:  make && TOP=$PWD REDMILTER=$PWD/milter/redmilter \
#               REDMILTERCTL=$PWD/policy/redmilterctl \
#               bash tests/integration/sentinel.sh

slow=1
if [ -n "${TEST_PREFIX:-}" ]; then
	slow=5
fi
# Sentinels: down after 1 s without a reply; a failed vote is retried
# after 2 x failover-timeout (6 s).  Under valgrind (TEST_PREFIX) the
# milters starve the CPU: replicas then miss the Sentinels' 1 s pings, are
# taken for down and left out of the vote ("-failover-abort-no-good-slave"),
# so these scale too.
SN_DOWN_AFTER=$((1000 * slow))
SN_FAILOVER_TIMEOUT=$((3000 * slow))
SN_DATA_PASSWORD=data-secret-1
SN_SENTINEL_PASSWORD=sentinel-secret-2
# shellcheck source-path=SCRIPTDIR source=lib/sentinel.sh
. "$(dirname "$0")/lib/sentinel.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

REDMILTERCTL=${REDMILTERCTL:-$TOP/policy/redmilterctl}
loadgen=$TOP/${BUILDDIR:-build/cc-std}/tests/bench/loadgen
need_program "$loadgen" "$REDMILTER" "$REDMILTERCTL" python3

# The bounds this test holds the milter to (INSTALL, "Several mail
# servers").  FOLLOW_MAX: from the kill of the primary to the milter's last
# on_error reply: down-after-milliseconds (1 s) + the Sentinels' vote and
# promotion (1-3 s; a failed vote is retried after 2 x failover-timeout,
# 6 s) + one redis_timeout.  EDIT_MAX: from redmilterctl's exit to the
# milter's first reply obeying the edit: replication lag (milliseconds on
# loopback), or with cache = on the primary's invalidation, + scheduling on
# a busy test machine.
FOLLOW_MAX=$((15 * slow))
# Milliseconds; under valgrind 300 ms is too short even with Redis up.
REDIS_TIMEOUT=$((300 * slow))
EDIT_MAX_MS=$((2000 * slow))
LOAD_SECS=$((25 * slow))
RULES=2000

# now_ms - milliseconds since the epoch
now_ms() {
	date +%s%3N
}

# kv KEY TEXT - the value of KEY in loadgen's "loadgen: k=v ..." line
kv() {
	sed -n 's/^loadgen: .* \?'"$1"'=\([^ ]*\).*/\1/p' <<<"$2" | tail -n 1
}

# rcpt_replies TEXT - loadgen's table of RCPT replies, one "COUNT REPLY" a
# line
rcpt_replies() {
	awk '/^command +count +reply/ { on = 1; next }
	    on && $1 == "rcpt" { n = $2; sub(/^rcpt +[0-9]+  /, ""); print n, $0 }' \
	    <<<"$1"
}

# cmdstat I CMD - how many times server I ran CMD since its last
# CONFIG RESETSTAT (0 when never)
cmdstat() {
	local n
	n=$(rs_cli "$1" info commandstats 2>/dev/null | tr -d '\r' |
	    sed -n "s/^cmdstat_$2:calls=\([0-9]*\).*/\1/p")
	echo "${n:-0}"
}

# The probe: one milter session per try (OPTNEG, CONNECT, HELO, MAIL,
# RCPT, QUIT), as an MTA sends them, printing the RCPT reply as loadgen
# names it ("continue", "550 5.7.1 text"...).
cat >"$H_TMP/probe.py" <<'EOF'
import os, socket, struct, sys, time

def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data

def strs(*a):
    return b"".join(x + b"\0" for x in a)

def readn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed")
        b += c
    return b

def reply(s):
    while True:
        n = struct.unpack(">I", readn(s, 4))[0]
        d = readn(s, n)
        c, d = d[:1], d[1:]
        names = {b"c": "continue", b"a": "accept", b"r": "reject",
                 b"t": "tempfail", b"d": "discard"}
        if c == b"y":
            return d.rstrip(b"\0\r\n").decode("ascii", "replace")
        if c in names:
            return names[c]

def once(path, rcpt):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(path)
        s.sendall(pkt(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF)))
        n = struct.unpack(">I", readn(s, 4))[0]
        flags = struct.unpack(">III", readn(s, n)[1:13])[2]
        steps = [(b"C", strs(b"probe.example") + b"4" + struct.pack(">H", 40000)
                  + strs(b"192.0.2.7"), 0x1, 0x1000),
                 (b"H", strs(b"probe.example"), 0x2, 0x2000),
                 (b"M", strs(b"<probe@sender.example>"), 0x4, 0x4000),
                 (b"R", strs(b"<" + rcpt.encode() + b">"), 0x8, 0x8000)]
        got = "continue"
        for cmd, data, no, nr in steps:
            if flags & no:
                continue
            s.sendall(pkt(cmd, data))
            if not flags & nr:
                got = reply(s)
        s.sendall(pkt(b"Q"))
        return got
    except (OSError, EOFError) as e:
        return "(%s)" % e
    finally:
        s.close()

# probe.py SOCKET RCPT                        one try: the RCPT reply
# probe.py SOCKET RCPT WANT MAX READY OUTFILE  try every 20 ms (the first
#     try creates the file READY) until the reply is WANT, then write
#     "ok MS TRIES" (MS: milliseconds since the epoch) to OUTFILE; after MAX
#     seconds "gave up MS TRIES last=REPLY" and exit 1
path, rcpt = sys.argv[1], sys.argv[2]
if len(sys.argv) == 3:
    print(once(path, rcpt))
    sys.exit(0)
want, limit, ready, outfile = sys.argv[3], float(sys.argv[4]), sys.argv[5], sys.argv[6]
t0 = time.monotonic()
tries = 0
while True:
    got = once(path, rcpt)
    tries += 1
    if tries == 1:
        open(ready, "w").close()
    ms = int(time.time() * 1000)
    if got == want or time.monotonic() - t0 > limit:
        with open(outfile + ".tmp", "w") as f:
            if got == want:
                f.write("ok %d %d\n" % (ms, tries))
            else:
                f.write("gave up %d %d last=%s\n" % (ms, tries, got))
        os.rename(outfile + ".tmp", outfile)
        sys.exit(0 if got == want else 1)
    time.sleep(0.02)
EOF

# edit_probe RCPT WANT CMD... - watch the milter's reply to RCPT (a probe
# polling in the background, started first), run CMD (an edit: sets RC,
# OUT, ERR), and wait until the milter answers WANT.  Sets EDIT_MS, the
# milliseconds from CMD's exit to the first probe that got WANT (0 when it
# came before CMD had exited), EDIT_FROM_START, the same from CMD's start
# (CMD's own run included), or EDIT_MS= and PROBE (what the probe said)
# when it never came.
edit_probe() {
	local rcpt=$1 want=$2 pid t0 ts ready=$H_TMP/probe.ready \
	    res=$H_TMP/probe.result
	shift 2
	rm -f "$ready" "$res"
	spawn python3 "$H_TMP/probe.py" "$MILTER_SOCK_PATH" "$rcpt" "$want" \
	    $((15 * slow)) "$ready" "$res" >"$H_TMP/probe.out" 2>&1 </dev/null
	pid=$SPAWN_PID
	wait_for $((30 * slow)) test -e "$ready" ||
	    diag "the probe made no try within $((30 * slow)) s"
	ts=$(now_ms)
	run_prog "$@"
	t0=$(now_ms)
	wait "$pid"
	unregister_pid "$pid"
	PROBE=$(cat "$res" 2>/dev/null || cat "$H_TMP/probe.out")
	EDIT_MS=
	if [[ $PROBE =~ ^ok\ ([0-9]+) ]]; then
		EDIT_FROM_START=$((BASH_REMATCH[1] - ts))
		EDIT_MS=$((BASH_REMATCH[1] - t0))
		[ "$EDIT_MS" -lt 0 ] && EDIT_MS=0
	fi
	return 0
}

# load NAME SECONDS [ARGS...] - loadgen in the background at concurrency 8
# on loadgen's own rule set, 451 4.3.0 (on_error) admitted and counted
load() {
	local name=$1 secs=$2
	shift 2
	spawn_prog "$name" "$loadgen" -s "$MILTER_SOCKET" -c 8 -k 2 \
	    --rules "$RULES" --recipients 1000 --senders 50 -n 100000000 \
	    -d "$secs" -t $((10 * slow)) --allow-reply "451 4.3.0" "$@"
	LOAD_PID=$SPAWN_PID
}

# Two more mail servers, mx1 and mx2: each its own redmilter with redis =
# the Sentinels and redis_read = its local replica (replica 1, replica 2),
# started by hand (lib/milter.sh runs one milter per script).
XM_PID=()
XM_DIR=()
XM_SOCK=()
XL_PID=()

# mx_start N - mail server N's milter, reading replica N
mx_start() {
	local n=$1
	XM_DIR[n]=$H_TMP/mx$n
	XM_SOCK[n]=${XM_DIR[$n]}/milter.sock
	mkdir -p "${XM_DIR[$n]}"
	printf '%s\n' "socket = unix:${XM_SOCK[$n]}" "redis = $SENTINEL_URL" \
	    "redis_read = unix:${RS_SOCK[$n]}" \
	    "redis_password_file = $H_TMP/data.password" \
	    "redis_sentinel_password_file = $H_TMP/sentinel.password" \
	    "redis_timeout = $REDIS_TIMEOUT" "on_error = tempfail" "log_level = info" \
	    "cache = off" >"${XM_DIR[$n]}/redmilter.conf"
	if [ "$(id -u)" -eq 0 ]; then # as root the milter wants `user`
		echo "user = root" >>"${XM_DIR[$n]}/redmilter.conf"
	fi
	# shellcheck disable=SC2086 # MILTER_PREFIX is a command line
	spawn $MILTER_PREFIX "$REDMILTER" -c "${XM_DIR[$n]}/redmilter.conf" -f \
	    >>"${XM_DIR[$n]}/milter.log" 2>&1 </dev/null
	XM_PID[n]=$SPAWN_PID
	wait_for "$MILTER_WAIT" test -S "${XM_SOCK[$n]}" ||
	    bail_out "mx$n's milter did not open ${XM_SOCK[$n]}: $(tail -n 5 "${XM_DIR[$n]}/milter.log")"
}

# mx_load N NAME SECONDS - loadgen at concurrency 4 on mail server N;
# XL_PID[N]
mx_load() {
	spawn_prog "$2" "$loadgen" -s "unix:${XM_SOCK[$1]}" -c 4 -k 2 \
	    --rules "$RULES" --recipients 1000 --senders 50 -n 100000000 \
	    -d "$3" -t $((10 * slow)) --allow-reply "451 4.3.0"
	XL_PID[$1]=$SPAWN_PID
}

# mx_failures N - the first on_error lines of mail server N's log
mx_failures() {
	grep -m 5 'rule=-: 451' "${XM_DIR[$1]}/milter.log" |
	    sed "s/^/mx$1 milter log: /"
}

# follow_of LOG - from a milter's LOG: the 451s and the rule decisions
# after the kill, and the marks on either side of the last 451 (the milter's
# last failure); with no 451 at all, both are the kill.  Prints "BEFORE
# N451 NRULES LO HI AFTER".
follow_of() {
	awk -v kill="$t_kill" '
		BEGIN { lo = kill; hi = kill }
		/^--- load at / { load = 1; next }
		load && !on && /: RCPT: tempfail .* rule=-: 451 4\.3\.0/ { before++ }
		/^--- kill at / { on = 1; at = $4; next }
		!on { next }
		/^--- at / {
			at = $3
			if (pending) { hi = at; pending = 0 }
			next
		}
		/: RCPT: tempfail .* rule=-: 451 4\.3\.0/ {
			n451++; lo = at; hi = ""; pending = 1; after = 0; next
		}
		/: RCPT: / { nrules++; after++ }
		END {
			if (hi == "") hi = at
			printf "%d %d %d %s %s %d\n", before, n451, nrules, lo, hi, after
		}' "$1"
}

# mark LINE - LINE at the end of the milter's log and of mx1's and mx2's
mark() {
	printf '%s\n' "$1" | tee -a "${XM_DIR[1]}/milter.log" \
	    "${XM_DIR[2]}/milter.log" >>"$MILTER_LOG"
}

# load_check NAME DESC [PID] - reap loadgen NAME (pid PID, by default
# LOAD_PID): it exited 0 with no wrong reply and no I/O error; sets LG (its
# output), ALLOWED (the 451s), DECIDED
load_check() {
	reap_prog "${3:-$LOAD_PID}" "$1"
	LG=$OUT
	ALLOWED=$(kv allowed "$LG")
	DECIDED=$(kv decisions "$LG")
	if [ "$RC" -eq 0 ] && [ "$(kv wrong "$LG")" = 0 ] &&
	    [ "$(kv io_errors "$LG")" = 0 ] && [ "${DECIDED:-0}" -gt 0 ]; then
		pass "$2"
		return 0
	fi
	fail "$2" "loadgen exit status $RC" "$(h_indent 'loadgen: ' "$LG")" \
	    "$(h_indent 'loadgen stderr: ' "$ERR")" "$(milter_log_tail 20)"
	return 1
}

# replies_note LG - loadgen's RCPT replies as TAP diagnostics
replies_note() {
	note "$(rcpt_replies "$1" | sed 's/^/  rcpt reply: /')"
}

plan 42

# --- the servers and the rules --------------------------------------------

start_sentinel_set
pass "a primary (port ${RS_PORT[0]}), two replicas (${RS_PORT[1]}, ${RS_PORT[2]}) and three Sentinels (${SN_PORT[*]}) are up and agree"

# The passwords in files, for the milter (lib/milter.sh writes
# redis_password_file from REDIS_PASSWORD) and for redmilterctl.
REDIS_PASSWORD=$SN_DATA_PASSWORD
printf '%s\n' "$SN_DATA_PASSWORD" >"$H_TMP/data.password"
printf '%s\n' "$SN_SENTINEL_PASSWORD" >"$H_TMP/sentinel.password"
chmod 0600 "$H_TMP/data.password" "$H_TMP/sentinel.password"
printf '%s\n' "redis = $SENTINEL_URL" \
    "redis_password_file = $H_TMP/data.password" \
    "redis_sentinel_password_file = $H_TMP/sentinel.password" \
    >"$H_TMP/ctl.conf"
printf '%s\n' "redis = $SENTINEL_URL" \
    "redis_password_file = $H_TMP/data.password" >"$H_TMP/ctl-nosentinelpw.conf"
printf '%s\n' "redis = $SENTINEL_URL" \
    "redis_sentinel_password_file = $H_TMP/sentinel.password" \
    >"$H_TMP/ctl-nodatapw.conf"
CTL=("$REDMILTERCTL" -c "$H_TMP/ctl.conf")

run_prog "$REDMILTERCTL" -c "$H_TMP/ctl-nosentinelpw.conf" list
is "$RC" 2 "redmilterctl without the Sentinels' password fails (exit status 2)"
like "$ERR" 'NOAUTH|[Aa]uth' "and names the Sentinels' error (NOAUTH), as redmilterctl(8) says" ||
    diag "stderr: $ERR"
run_prog "$REDMILTERCTL" -c "$H_TMP/ctl-nodatapw.conf" list
is "$RC" 2 "redmilterctl without the data servers' password fails (exit status 2)"
like "$ERR" 'NOAUTH|[Aa]uth' "and names the primary's error (NOAUTH), as redmilterctl(8) says" ||
    diag "stderr: $ERR"

run "$loadgen" --write-rules "$H_TMP/rules.txt" --rules "$RULES"
[ "$RC" -eq 0 ] || bail_out "loadgen --write-rules failed: $ERR"
expect_exit 0 "redmilterctl (redis = sentinel://...) imports loadgen's $RULES rules" -- \
    "${CTL[@]}" import "$H_TMP/rules.txt"
rs_wait_synced $((20 * slow))
# (the rules, not the bookkeeping under redmilter:_, such as the audit
# trail's stream the import added to)
n0=$(rs_cli 0 --scan --pattern 'redmilter:*' | grep -vc '^redmilter:_')
if [ "$n0" -eq "$RULES" ] && [ "$(rs_cli 1 dbsize)" = "$(rs_cli 0 dbsize)" ] &&
    [ "$(rs_cli 2 dbsize)" = "$(rs_cli 0 dbsize)" ]; then
	pass "the import landed on the primary ($n0 rules) and both replicas have it"
else
	fail "the import landed on the primary and both replicas have it" \
	    "rules on the primary: $n0; dbsize: primary $(rs_cli 0 dbsize), replicas $(rs_cli 1 dbsize) $(rs_cli 2 dbsize)" \
	    "$(sentinel_logs)"
fi

# pubsub_on I - server I has a subscribed client (a milter's tracking link)
pubsub_on() {
	[ "$(rs_cli "$1" client list type pubsub | grep -c 'sub=1')" -gt 0 ]
}

# mget_above I N - server I ran more than N MGETs since its RESETSTAT
mget_above() {
	[ "$(cmdstat "$1" mget)" -gt "$2" ]
}

# --- 1. local reads from a replica ---------------------------------------

start_milter "redis = redis://127.0.0.1:${RS_PORT[0]}/0" \
    "redis_read = unix:${RS_SOCK[1]}" "redis_timeout = $REDIS_TIMEOUT" \
    "on_error = tempfail" "log_level = info" "cache = off"
rs_cli 0 config resetstat >/dev/null
rs_cli 1 config resetstat >/dev/null
load local 3
load_check local "redis_read: 3 s of load at concurrency 8, no wrong reply"
is "$ALLOWED" 0 "redis_read: no 451 ($DECIDED RCPT decisions)"
m0=$(cmdstat 0 mget)
m1=$(cmdstat 1 mget)
if [ "$m1" -gt 0 ] && [ "$m0" -eq 0 ]; then
	pass "lookups went to the replica (MGET: replica $m1, primary $m0)"
else
	fail "lookups went to the replica" "MGET: replica $m1, primary $m0"
fi

rs_cli 0 config resetstat >/dev/null
rs_cli 1 config resetstat >/dev/null
load fallback $((8 * slow))
wait_for $((10 * slow)) mget_above 1 200 ||
    diag "the replica saw few lookups before it was stopped: $(cmdstat 1 mget)"
m1=$(cmdstat 1 mget)
rs_stop 1 TERM
load_check fallback "replica stopped under load: no wrong reply, no I/O error"
replies_note "$LG"
is "$ALLOWED" 0 "replica stopped under load: no 451 ($DECIDED RCPT decisions)"
m0=$(cmdstat 0 mget)
if [ "$m0" -gt 0 ]; then
	pass "the primary answered once the replica was gone (MGET: replica $m1 before the stop, primary $m0 after)"
else
	fail "the primary answered once the replica was gone" "primary MGET $m0"
fi

rs_restart 1
if rs_wait_synced $((20 * slow)); then
	pass "the replica came back and resynced"
else
	fail "the replica came back and resynced" "$(sentinel_logs)"
fi
# -r leaves the configuration's password behind (redmilterctl(8)):
# REDISCLI_AUTH gives the primary's.
export REDISCLI_AUTH=$SN_DATA_PASSWORD
edit_probe edit1@replica.test "550 5.7.1 edited on the primary" \
    "$REDMILTERCTL" -r "redis://127.0.0.1:${RS_PORT[0]}/0" add \
    recipient edit1@replica.test REJECT edited on the primary
unset REDISCLI_AUTH
[ "$RC" -eq 0 ] || diag "redmilterctl add: exit status $RC: $ERR"
note "replication as the primary's INFO replication shows it: $(s_info_field 0 slave0)"
if [ -n "$EDIT_MS" ] && [ "$EDIT_MS" -le "$EDIT_MAX_MS" ]; then
	pass "an edit on the primary reached the milter through the replica $EDIT_MS ms after redmilterctl returned ($EDIT_FROM_START ms after it started; bound $EDIT_MAX_MS ms)"
else
	fail "an edit on the primary reached the milter through the replica within $EDIT_MAX_MS ms" \
	    "probe: $PROBE" "$(milter_log_tail 10)"
fi
ok "the milter (redis_read) stops cleanly" stop_milter

# --- 2. failover under load ---------------------------------------------------

start_milter "redis = $SENTINEL_URL" \
    "redis_sentinel_password_file = $H_TMP/sentinel.password" \
    "redis_timeout = $REDIS_TIMEOUT" "on_error = tempfail" "log_level = info"
rs_cli 0 config resetstat >/dev/null
load warm 2
load_check warm "sentinel://: 2 s of load at concurrency 8, no wrong reply"
is "$ALLOWED" 0 "sentinel://: no 451 ($DECIDED RCPT decisions)"
m0=$(cmdstat 0 mget)
if [ "$m0" -gt 0 ]; then
	pass "the milter found the primary through the Sentinels (MGET on it: $m0)"
else
	fail "the milter found the primary through the Sentinels" "MGET on the primary: $m0"
fi

mx_start 1
mx_start 2
rs_cli 1 config resetstat >/dev/null
rs_cli 2 config resetstat >/dev/null
mx_load 1 warm-mx1 2
mx_load 2 warm-mx2 2
for n in 1 2; do
	load_check "warm-mx$n" "mx$n (redis_read = replica $n): 2 s of load at concurrency 4, no wrong reply" \
	    "${XL_PID[$n]}"
	m=$(cmdstat "$n" mget)
	if [ "$ALLOWED" -eq 0 ] && [ "$m" -gt 0 ]; then
		pass "mx$n: no 451, lookups from its replica (MGET on replica $n: $m)"
	else
		fail "mx$n: no 451, lookups from its replica" \
		    "451: $ALLOWED, MGET on replica $n: $m"
	fi
done

# The primary to kill: the one the Sentinels name now.  It is server 0
# unless they failed over on their own before (a missed ping on a loaded
# machine); that is noted, and the test goes on with the real primary.
old=$(sn_primary_port)
oi=$(rs_index_of_port "${old:-none}") ||
    bail_out "the Sentinels name no known primary (${old:-none}): $(sentinel_logs)"
if [ "$oi" != 0 ]; then
	note "the Sentinels had already moved the primary to server $oi (port $old) before the planned kill"
fi
load failover "$LOAD_SECS"
mx_load 1 failover-mx1 "$LOAD_SECS"
mx_load 2 failover-mx2 "$LOAD_SECS"
t_load=$(now_ms)
mark "--- load at $t_load"
# The milter (cache = on) answers from memory: what must be on the primary
# before the kill is its invalidation link, not lookups.
wait_for $((10 * slow)) pubsub_on "$oi" ||
    diag "no tracking link on the primary before the kill: $(rs_cli "$oi" client list type pubsub)"
sleep 2 # steady load for a while before the kill
t_kill=$(now_ms)
mark "--- kill at $t_kill"
rs_stop "$oi" KILL
t_switch=
new=
while kill -0 "$LOAD_PID" 2>/dev/null; do
	mark "--- at $(now_ms)"
	p=$(sn_primary_port)
	if [ -n "$p" ] && [ "$p" != "$old" ]; then
		if [ -z "$t_switch" ]; then
			t_switch=$(now_ms)
		fi
		new=$p # the last one named, should they fail over twice
	fi
	sleep 0.1
done
p=$(sn_primary_port)
if [ -n "$p" ] && [ "$p" != "$old" ]; then
	new=$p
fi
load_check failover "failover under load: every reply the rule's or on_error's 451 4.3.0, no I/O error"
replies_note "$LG"
note "failover: loadgen ran $(kv secs "$LG") s, the primary was killed $(((t_kill - t_load) / 1000)) s in"
note "failover: $DECIDED RCPT replies: $((DECIDED - ALLOWED)) the rules', $ALLOWED on_error (451 4.3.0), $(kv wrong "$LG") other"

ni=$(rs_index_of_port "${new:-none}")
if [ -n "$t_switch" ] && [ -n "$ni" ] && [ "$(rs_role "$ni")" = master ]; then
	pass "the Sentinels promoted replica $ni (port $new) $((t_switch - t_kill)) ms after the kill"
else
	fail "the Sentinels promoted a replica" "primary now: ${new:-?}" \
	    "$(sentinel_logs)"
	ni=
fi

# The mail servers that read their own replica: one replica was promoted,
# the other now follows the new primary; either way it stayed up, and no
# lookup should have failed.
for n in 1 2; do
	if [ "$n" = "${ni:-}" ]; then
		what="its replica was promoted"
	else
		what="its replica now follows the new primary"
	fi
	load_check "failover-mx$n" "failover, mx$n (redis_read = replica $n): no wrong reply, no I/O error" \
	    "${XL_PID[$n]}"
	note "failover: mx$n: $DECIDED RCPT replies, $ALLOWED of them 451 4.3.0 ($what)"
	read -r before n451 nrules lo hi after < <(follow_of "${XM_DIR[$n]}/milter.log")
	note "failover: mx$n: last 451 $((lo - t_kill))-$((hi - t_kill)) ms after the kill, $after rule decisions after it"
	if [ "$before" -eq 0 ] && [ "$((hi - t_kill))" -le $((FOLLOW_MAX * 1000)) ] &&
	    [ "$after" -gt 0 ]; then
		pass "failover, mx$n: 451 only while its replica had no primary, none after $((hi - t_kill)) ms ($what)"
	else
		fail "failover, mx$n: 451 only while its replica had no primary, within $FOLLOW_MAX s of the kill ($what)" \
		    "$before 451 before the kill; last 451 $((lo - t_kill))-$((hi - t_kill)) ms after it, $after rule decisions after it" \
		    "$(mx_failures "$n")"
	fi
done

read -r before n451 nrules lo hi after < <(follow_of "$MILTER_LOG")
follow_lo=$((lo - t_kill))
follow=$((hi - t_kill))
note "failover: milter log: $before RCPT tempfails before the kill; after it $n451 RCPT tempfails (451 4.3.0), $nrules rule decisions"
note "failover: the milter's last 451 came $follow_lo-$follow ms after the kill; $after rule decisions after it"
if [ "$follow" -le $((FOLLOW_MAX * 1000)) ] && [ "$after" -gt 0 ]; then
	pass "the milter followed the new primary by itself within $FOLLOW_MAX s: $follow ms at most after the kill"
else
	fail "the milter followed the new primary by itself within $FOLLOW_MAX s" \
	    "last 451 $follow_lo-$follow ms after the kill, $after rule decisions after it" \
	    "$(milter_log_tail 20)" "$(sentinel_logs)"
fi

edit_probe edit2@failover.test "550 5.7.1 added after the failover" \
    "${CTL[@]}" add recipient edit2@failover.test \
    REJECT added after the failover
is "$RC" 0 "redmilterctl (redis = sentinel://...) add after the failover" || diag "$ERR"
got=
[ -n "$ni" ] && got=$(rs_cli "$ni" get redmilter:recipient:edit2@failover.test)
is "$got" "REJECT added after the failover" "the rule landed on the new primary"
if [ -n "$EDIT_MS" ] && [ "$EDIT_MS" -le "$EDIT_MAX_MS" ]; then
	pass "the milter obeyed it $EDIT_MS ms after redmilterctl returned ($EDIT_FROM_START ms after it started; bound $EDIT_MAX_MS ms)"
else
	fail "the milter obeyed it within $EDIT_MAX_MS ms" "probe: $PROBE" \
	    "$(milter_log_tail 10)"
fi

if rs_wait_synced $((20 * slow)); then
	pass "the other replica follows the new primary"
else
	fail "the other replica follows the new primary" "$(sentinel_logs)"
fi

kill_wait "${XM_PID[1]}" TERM
rc1=$?
kill_wait "${XM_PID[2]}" TERM
rc2=$?
if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]; then
	pass "mx1's and mx2's milters stop cleanly"
else
	fail "mx1's and mx2's milters stop cleanly" "exit status $rc1, $rc2" \
	    "$(tail -n 5 "${XM_DIR[1]}/milter.log" "${XM_DIR[2]}/milter.log")"
fi

# --- 3. the old primary comes back -------------------------------------------

rs_restart "$oi"
t0=$(now_ms)
old_demoted() {
	[ "$(rs_role "$oi")" = slave ] &&
	    [ "$(s_info_field "$oi" master_port)" = "$new" ] &&
	    [ "$(s_info_field "$oi" master_link_status)" = up ]
}
if wait_for $((30 * slow)) old_demoted; then
	pass "the old primary came back as a replica of the new one ($(($(now_ms) - t0)) ms)"
else
	fail "the old primary came back as a replica of the new one" \
	    "role: $(rs_role "$oi"), master_port $(s_info_field "$oi" master_port)" \
	    "$(sentinel_logs)"
fi
rs_wait_synced $((20 * slow))
is "$(rs_cli "$oi" get redmilter:recipient:edit2@failover.test)" \
    "REJECT added after the failover" "and it has the rule added meanwhile"

# --- 4. a Sentinel down ---------------------------------------------------------

sn_stop 0 TERM
restart_milter "redis = $SENTINEL_URL" \
    "redis_sentinel_password_file = $H_TMP/sentinel.password" \
    "redis_timeout = $REDIS_TIMEOUT" "on_error = tempfail" "log_level = info"
load s0down 2
load_check s0down "Sentinel 0 down: a new milter finds the primary through the others, no wrong reply"
is "$ALLOWED" 0 "Sentinel 0 down: no 451 ($DECIDED RCPT decisions)"
edit_probe edit2@failover.test continue \
    "${CTL[@]}" del recipient edit2@failover.test
is "$RC" 0 "Sentinel 0 down: redmilterctl (redis = sentinel://...) del" || diag "$ERR"
if [ -n "$EDIT_MS" ] && [ "$EDIT_MS" -le "$EDIT_MAX_MS" ]; then
	pass "and the milter obeys it ($EDIT_MS ms)"
else
	fail "and the milter obeys it within $EDIT_MAX_MS ms" "probe: $PROBE"
fi
ok "the milter (sentinel://) stops cleanly" stop_milter

done_testing
