# tests/integration/lib/tracking.sh - what tracking.sh and
# tracking_sentinel.sh share (sourced after lib/milter.sh): timing an edit
# and polling the milter until it obeys it.  The caller sets MC (the milter
# client), POLL (seconds an edit Redis reports may take), T (seconds of one
# read or write of the client), FROM (the probes' sender) and T_EDIT (the
# start, until the first edited).
#
#   edited                  the edit is done: the polls after it count from
#                           now (T_EDIT)
#   probe ADDR [FROM]       one transaction: the RCPT reply for <ADDR>
#   await ADDR WANT DESC [SECONDS] [FROM]
#                           one test: poll until the reply is WANT
#   ready_after_loss        since the milter log's mark, "tracking lost"
#                           and a "tracking ready" after it

# edited - the edit is done: the polls that follow count from now
edited() {
	T_EDIT=$(date +%s%N)
}

# probe ADDR [FROM] - one transaction: the RCPT reply
probe() {
	rcpt_reply "$MILTER_SOCKET" "${2:-$FROM}" "<$1>"
}

# await ADDR WANT DESC [SECONDS] [FROM] - poll the milter until ADDR's RCPT
# reply is WANT, for at most SECONDS (POLL) from the start of this poll;
# one test, with the time from the last edit (or the milter's start) in its
# name.  The reply must then stay WANT for the next transaction.
await() {
	local addr=$1 want=$2 desc=$3 max=${4:-$POLL} from=${5:-$FROM} ms again \
	    since=$T_EDIT now
	now=$(date +%s%N)
	# The bound counts from now, the time reported from the edit.
	max=$(awk -v m="$max" -v e=$(((now - since) / 1000000)) \
	    'BEGIN { print m + e / 1000 }')
	run python3 "$MC" -s "$MILTER_SOCKET" -T "$T" poll --want "$want" \
	    --rcpt "<$addr>" --from "$from" --max "$max" --since "$since"
	ms=$(sed -n 's/^poll: ok ms=\([0-9]*\) .*/\1/p' <<<"$OUT")
	if [ -z "$ms" ]; then
		fail "$desc: '$want' (within ${4:-$POLL} s)" "$OUT" "$ERR" \
		    "$(milter_log_tail 10)"
		return 1
	fi
	again=$(probe "$addr" "$from")
	if [ "$again" != "$want" ]; then
		fail "$desc: '$want' ($ms ms after the edit), and again at the next transaction" \
		    "next transaction: '$again'"
		return 1
	fi
	pass "$desc: '$want' ($ms ms after the edit)"
	return 0
}

# ready_after_loss - since the mark, a "tracking lost" line and a "tracking
# ready" line after it
ready_after_loss() {
	milter_log_new | awk '
		/tracking lost: / { lost = 1 }
		lost && /tracking ready: [0-9]+ rules, read in [0-9]+ ms/ { ok = 1 }
		END { exit !ok }'
}
