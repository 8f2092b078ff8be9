#!/bin/bash
# key_limits.sh - hostile envelopes cannot starve the shared Redis
# connections (redmilter(8), "Key limits"): straight through the milter
# protocol (lib/milter_client.py), on a pool of one Redis connection and a
# redis_timeout of 250 ms (x5 under TEST_PREFIX).
#
#   1. Redis's side of one hostile RCPT (a 514-byte MAIL FROM and RCPTs of
#      270 bytes): the bytes Redis reads (INFO stats) and the keys of its
#      MGET (INFO commandstats), against an ordinary RCPT's.
#   2. HOSTILE clients at once, each sending only hostile envelopes (ROUNDS
#      sessions of RCPTS hostile recipients), while one ordinary client
#      sends ORDINARY transactions of two recipients: one that a rule
#      rejects ("550 5.1.1 No such user") and one that no rule refuses.
#      Every ordinary reply must be exactly right: the 550, and "continue"
#      for the other; never "451 4.3.0" (a lookup that timed out waiting for
#      the pooled connection).  The ordinary decisions' latency, alone and
#      under the hostile load, is printed (a note, not an assertion).
#
# Before the limits, one such RCPT was an MGET of 1,400 keys (412 kB):
# the pooled connection was busy with them, and ordinary lookups timed out
# into 451 4.3.0.
#
# By hand:
#   make all build-tests && bash tests/integration/key_limits.sh

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MC=$TOP/tests/integration/lib/milter_client.py
need_program "$REDMILTER" python3 redis-cli
PY=$(python3 -c 'import sys; print(sys.executable)') ||
    bail_out "python3 cannot tell where it is"

HOSTILE=${HOSTILE:-6}
ROUNDS=${ROUNDS:-4}
RCPTS=${RCPTS:-60}
ORDINARY=${ORDINARY:-150}
slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi

plan 11

# rep N CHAR - CHAR N times
rep() {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

# A domain of 32 labels in 255 bytes: 31 x "abcdefg." and "example".
DOM=$(for _ in $(seq 1 31); do printf 'abcdefg.'; done)example
# 514 bytes: "<", a local part of 256 bytes with an extension, "@", DOM, ">"
H_FROM="<$(rep 100 a)+$(rep 155 a)@$DOM>"
# 270 bytes; h_rcpt N gives the Nth of them (each a different address)
h_rcpt() {
	printf '<u+%010d@%s>' "$1" "$DOM"
}

start_redis
rcli SET "redmilter:recipient:nobody@example.com" \
    "550 5.1.1 No such user" >/dev/null
# cache = off: what a hostile envelope costs is what its lookup sends to
# Redis, which with cache = on only the decisions made while the milter is
# not sure of what it holds do (redmilter.conf(5)).
start_milter "redis_timeout = $((250 * slow))" "redis_connections = 1" \
    "log_level = warning" "cache = off"

is "${#H_FROM} $(h_rcpt 1 | wc -c)" "514 270" \
    "the hostile envelope: a MAIL FROM of 514 bytes, RCPTs of 270"

# mc STEP... - one run of the milter client; OUT holds its lines
mc() {
	run "$PY" "$MC" -s "$MILTER_SOCKET" -T $((10 * slow)) run "$@"
}

# ordinary_steps N - N transactions of the ordinary client
ordinary_steps() {
	local i
	printf '%s\n' +optneg +macro C j=mx.test.example \
	    '{client_name}=client.test' +connect client.test 4 40000 \
	    127.0.0.1 +helo client.test
	for i in $(seq 1 "$1"); do
		printf '%s\n' +mail '<friend@partner.example>' \
		    +rcpt '<nobody@example.com>' +rcpt '<bob@example.com>' +abort
	done
	printf '%s\n' +quit
}

# hostile_steps FIRST N - one hostile session of N RCPTs, numbered from FIRST
hostile_steps() {
	local i
	printf '%s\n' +optneg +connect spammer.test 4 40001 127.0.0.1 \
	    +helo spammer.test +mail "$H_FROM"
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		printf '%s\n' +rcpt "$(h_rcpt "$i")"
	done
	printf '%s\n' +abort +quit
}

# stat NAME SECTION - one field of INFO SECTION
stat() {
	rcli INFO "$2" | tr -d '\r' | sed -n "s/^$1:\\(.*\\)/\\1/p"
}

# redis_cost STEPS... - one session (OUT: its replies), and what it cost
# Redis: R_BYTES read (the INFO commands of the measure itself included,
# some 100 bytes), R_CALLS MGETs and R_USEC microseconds in them
redis_cost() {
	local b0 b1 mget
	rcli CONFIG RESETSTAT >/dev/null
	b0=$(stat total_net_input_bytes stats)
	mc "$@"
	b1=$(stat total_net_input_bytes stats)
	mget=$(stat cmdstat_mget commandstats)
	R_BYTES=$((b1 - b0))
	R_CALLS=$(sed -n 's/^calls=\([0-9]*\),.*/\1/p' <<<"$mget")
	R_USEC=$(sed -n 's/.*,usec=\([0-9]*\),.*/\1/p' <<<"$mget")
}

# --- 1. Redis's side of one hostile RCPT ------------------------------------

mapfile -t steps < <(hostile_steps 1 20)
redis_cost "${steps[@]}"
h_bytes=$R_BYTES h_calls=$R_CALLS h_usec=$R_USEC
is "$(grep -c '^rcpt: continue$' <<<"$OUT")" 20 \
    "a hostile session of 20 RCPTs: each answered continue (no rule)"
mapfile -t steps < <(ordinary_steps 10)
redis_cost "${steps[@]}"
o_bytes=$R_BYTES o_usec=$R_USEC
note "Redis read $h_bytes bytes in $h_calls MGETs ($h_usec us) for one hostile MAIL and 20 RCPTs: $((h_bytes / 20)) bytes per RCPT"
note "Redis read $o_bytes bytes in $R_CALLS MGETs ($o_usec us) for 10 ordinary MAILs and 20 RCPTs: $((o_bytes / 20)) bytes per RCPT"
is "$h_calls" 20 "one MGET per RCPT (delay_checks: every table is looked up there)"
ok "a hostile RCPT costs Redis at most 16 kB (was 412 kB)" \
    test "$((h_bytes / 20))" -le 16384
ok "a hostile RCPT costs Redis at most 8 times an ordinary one" \
    test "$((h_bytes / 8))" -le "$o_bytes"

# --- 2. ordinary sessions under concurrent hostile clients -----------------

# latency OUT - "n=N median=MS max=MS" of the RCPT replies of a timed run
latency() {
	sed -n 's/^rcpt: .* \[\([0-9]*\) ms\]$/\1/p' <<<"$1" | sort -n |
	    awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "n=0"; exit }
		p = int(NR * 0.99); if (p < 1) p = 1
		printf "n=%d median=%d ms, 99th=%d ms, max=%d ms\n", NR,
		    v[int((NR + 1) / 2)], v[p], v[NR] }'
}

# check_ordinary LABEL OUT - the ordinary client's replies, exactly
check_ordinary() {
	local out=$2 want got
	want=$(for _ in $(seq 1 "$ORDINARY"); do
		printf 'rcpt: 550 5.1.1 No such user\nrcpt: continue\n'
	done)
	got=$(sed -n 's/^\(rcpt: .*\) \[[0-9]* ms\]$/\1/p' <<<"$out")
	is "$got" "$want" "$1: every ordinary reply exactly right ($ORDINARY x 550, $ORDINARY x continue)"
	is "$(grep -c '451 4.3.0' <<<"$out")" 0 "$1: no 451 4.3.0"
}

mapfile -t ord < <(ordinary_steps "$ORDINARY")
run "$PY" "$MC" -s "$MILTER_SOCKET" -T $((10 * slow)) -t run "${ord[@]}"
check_ordinary "alone" "$OUT"
note "ordinary RCPT latency alone: $(latency "$OUT")"

# The hostile clients: HOSTILE at once, each ROUNDS sessions one after the
# other, for as long as the ordinary client runs (and no longer: bounded).
hdir=$H_TMP/hostile
mkdir -p "$hdir"
hpids=()
for c in $(seq 1 "$HOSTILE"); do
	(
		trap - EXIT INT TERM
		for r in $(seq 1 "$ROUNDS"); do
			mapfile -t hs < <(hostile_steps $(((c * 100 + r) * RCPTS)) "$RCPTS")
			"$PY" "$MC" -s "$MILTER_SOCKET" -T $((10 * slow)) run \
			    "${hs[@]}" >>"$hdir/$c.out" 2>&1
		done
	) &
	hpids+=($!)
	register_pid $!
done
sleep 0.5
run "$PY" "$MC" -s "$MILTER_SOCKET" -T $((10 * slow)) -t run "${ord[@]}"
ord_out=$OUT
for p in "${hpids[@]}"; do
	wait "$p"
	unregister_pid "$p"
done
check_ordinary "with $HOSTILE hostile clients" "$ord_out"
note "ordinary RCPT latency under $HOSTILE hostile clients: $(latency "$ord_out")"
h_total=$(cat "$hdir"/*.out | grep -c '^rcpt: ')
h_451=$(cat "$hdir"/*.out | grep -c '^rcpt: 451 4.3.0')
note "hostile clients: $h_total RCPT replies, $h_451 of them 451 4.3.0"
ok "the hostile clients were answered too ($h_total RCPTs)" \
    test "$h_total" -ge $((HOSTILE * RCPTS))

ok "milter stops cleanly" stop_milter
done_testing
