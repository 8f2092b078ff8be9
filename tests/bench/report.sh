#!/bin/bash
# tests/bench/report.sh - the markdown report of a `make bench` run
#
# usage: report.sh OUT <FACTS
#
# OUT is run.sh's results directory: runs.tsv (one line per protocol-level
# or MTA-level run), edits.tsv (edit to effect), starts.tsv (start-up with
# the big rule set), memory.tsv, commands.tsv (Redis commands over the whole
# bench) and the profile's files.  FACTS, on stdin, are "key value" lines
# (the settings).  Prints the tables (medians over the repetitions, min-max
# beside them), the ratios to the do-nothing milter, and each target as met
# or MISSED.  A missed target is not a failure: this exits 0.  Only the
# parts that ran (the fact "parts", BENCH_PARTS) get their tables and
# targets.

# Not set -u: a fact missing from stdin prints as an empty cell.
out=$1
runs=$out/runs.tsv
declare -A F
while read -r k v; do
	F[$k]=$v
done

# col FILE NAME - the column number of NAME in the header of FILE
col() {
	head -n 1 "$1" | tr '\t' '\n' | grep -nx "$2" | cut -d: -f1
}

# values FILE COLUMN [KEY-COLUMN=VALUE...] - a column's values where the
# other columns match
values() {
	local f=$1 c m=() kv
	c=$(col "$f" "$2")
	shift 2
	for kv in "$@"; do
		m+=("$(col "$f" "${kv%%=*}")=${kv#*=}")
	done
	awk -F'\t' -v c="$c" -v m="${m[*]}" 'NR > 1 {
		n = split(m, t, " ")
		for (i = 1; i <= n; i++) {
			split(t[i], p, "=")
			if ($p[1] != p[2]) next
		}
		print $c
	}' "$f"
}

# summary - "median min max" of the numbers on stdin ("nan nan nan": none)
summary() {
	sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) { print "nan nan nan"; exit }
		med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print med, v[1], v[NR]
	}'
}

# stat LEVEL CONFIG MODE COLUMN - "median min max" of runs.tsv's values
stat() {
	values "$runs" "$4" level="$1" config="$2" mode="$3" | summary
}

# med LEVEL CONFIG MODE COLUMN - the median alone
med() {
	stat "$@" | cut -d' ' -f1
}

# cell LEVEL CONFIG MODE COLUMN FMT - "median (min-max)"
cell() {
	stat "$1" "$2" "$3" "$4" | awk -v f="$5" '$1 == "nan" {print "–"; next} {
		printf f " (" f "–" f ")", $1, $2, $3
	}'
}

# worst LEVEL CONFIG COLUMN - the largest value over every mode and run
worst() {
	values "$runs" "$3" level="$1" config="$2" | sort -g | tail -n 1
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "nan" || b == "nan" || b <= 0) print "nan"
		else printf "%.2f\n", a / b
	}'
}

# verdict OK - "met", "**MISSED**", or "not measured" (empty or nan)
verdict() {
	case $1 in
	1) echo "met" ;;
	0) echo "**MISSED**" ;;
	*) echo "not measured" ;;
	esac
}

# ge A B / le A B - 1, 0, or n/a when A is not a number
ge() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || a == "nan") print "n/a"; else print (a + 0 >= b) ? 1 : 0 }'
}
le() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || a == "nan") print "n/a"; else print (a + 0 <= b) ? 1 : 0 }'
}

# ms US - microseconds as milliseconds, 3 decimals
ms() {
	awk -v u="$1" 'BEGIN {if (u == "" || u == "nan") print "–"; else printf "%.3f", u / 1000}'
}

# tsv FILE NAME COLUMN - the value of COLUMN on the line whose first field is NAME
tsv() {
	local c
	c=$(col "$1" "$3")
	awk -F'\t' -v n="$2" -v c="$c" 'NR > 1 && $1 == n {print $c}' "$1"
}

# has PART - whether the run had PART (all of them when not said)
has() {
	[ -z "${F[parts]}" ] || [[ " ${F[parts]} " == *" $1 "* ]]
}

# rows FILE - the first field of every line but the header
rows() {
	awk -F'\t' 'NR > 1 {print $1}' "$1" 2>/dev/null
}

big=${F[big]}
bigname=$(awk -v n="$big" 'BEGIN {
	if (n % 1000000 == 0) printf "%dM", n / 1000000
	else if (n % 1000 == 0) printf "%dk", n / 1000
	else print n }')
if [ "${F[tracking]}" = 1 ]; then
	ondesc="defaults: cache = on"
else
	ondesc="defaults (this build has no tracking)"
fi
names=(null naive on off naive1m on1m off1m)
declare -A label=(
	[null]="do-nothing milter"
	[naive]="naive milter, 10k rules"
	[on]="redmilter ($ondesc), 10k rules"
	[off]="redmilter, ${F[cache_off]}, 10k rules"
	[naive1m]="naive milter, $bigname rules"
	[on1m]="redmilter ($ondesc), $bigname rules"
	[off1m]="redmilter, ${F[cache_off]}, $bigname rules"
	[lim]="redmilter ($ondesc) with limits, 10k rules"
	[won]="redmilter ($ondesc), 10k rules, watch on: metrics scraped, hit_counters = yes"
	[woff]="redmilter ($ondesc), 10k rules, watch off: no metrics, hit_counters = no"
)
declare -A modelabel=(
	[c1]="concurrency 1"
	[c8]="concurrency 8"
	[c64]="concurrency 64"
	[new8]="concurrency 8, new connection per transaction"
)
read -ra modes <<<"${F[modes]}"

# --- (a) ------------------------------------------------------------------

if has proto; then
	echo "### (a) Protocol level: loadgen against the milter socket"
	echo
	echo "${F[reps]} interleaved repetitions of ${F[secs]} s each; median (min–max)." \
	    "${F[rcpts]} recipients per transaction; RCPT latency in µs; ÷ = the" \
	    "ratio of medians to the do-nothing milter's; CPU = the milter's" \
	    "user+system CPU time per decision; Redis commands per decision and new" \
	    "Redis connections per 1,000 transactions from the milter's own" \
	    "redis-server (INFO stats before and after the run), median (worst)."
	echo
	echo "| mode | milter | decisions/s | ÷ | RCPT p50 µs | ÷ | RCPT p99 µs | CPU µs/decision | Redis cmds/decision | new Redis conns/1000 txns |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for m in "${modes[@]}"; do
		nd=$(med proto null "$m" decisions_s)
		np=$(med proto null "$m" rcpt_p50_us)
		for n in "${names[@]}"; do
			if [ "$n" = null ]; then
				cmds=– conns=–
			else
				cmds="$(med proto "$n" "$m" redis_cmds_per_decision) ($(values "$runs" redis_cmds_per_decision level=proto config="$n" mode="$m" | sort -g | tail -n 1))"
				conns=$(med proto "$n" "$m" redis_conns_per_1000)
			fi
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
			    "${modelabel[$m]}" "${label[$n]}" \
			    "$(cell proto "$n" "$m" decisions_s '%.0f')" \
			    "$(ratio "$(med proto "$n" "$m" decisions_s)" "$nd")" \
			    "$(cell proto "$n" "$m" rcpt_p50_us '%.0f')" \
			    "$(ratio "$(med proto "$n" "$m" rcpt_p50_us)" "$np")" \
			    "$(cell proto "$n" "$m" rcpt_p99_us '%.0f')" \
			    "$(med proto "$n" "$m" cpu_us_per_decision)" "$cmds" "$conns"
		done
	done
	echo
fi

echo "Redis commands per decision over the whole bench, from each milter's" \
    "\"ready\" (its server quiet after start) to the end: the warm-ups" \
    "(where a caching milter reads each rule's value the first time it is" \
    "needed), every run, the edits, the MTA level (the naive milter," \
    "redmilter with defaults and redmilter with limits, whose count holds" \
    "the commands its limits' Lua script runs), the periodic re-reads and the tracking" \
    "connection's PING every 250 ms, idle time included. Beside them, how" \
    "often the milter logged that it lost tracking (it then asks Redis for" \
    "every decision and reads the key names again) and a decision slower" \
    "than redis_timeout (the naive milter logs neither)."
echo
echo "| milter | decisions | Redis commands | per decision | \"tracking lost\" log lines | \"slow decision\" log lines |"
echo "| --- | --- | --- | --- | --- | --- |"
for n in $(rows "$out/commands.tsv"); do
	printf '| %s | %s | %s | %s | %s | %s |\n' "${label[$n]}" \
	    "$(tsv "$out/commands.tsv" "$n" decisions)" \
	    "$(tsv "$out/commands.tsv" "$n" commands)" \
	    "$(tsv "$out/commands.tsv" "$n" commands_per_decision)" \
	    "$(tsv "$out/commands.tsv" "$n" tracking_lost)" \
	    "$(tsv "$out/commands.tsv" "$n" slow_decisions)"
done
echo

# --- (w) ------------------------------------------------------------------

w=$out/watch.tsv
# wsum CONFIG MODE - "decisions commands batch_calls batch_commands secs
# scrapes_ok scrapes" summed over the repetitions of watch.tsv
wsum() {
	awk -F'\t' -v c="$1" -v m="$2" 'NR > 1 && $1 == c && $2 == m {
		d += $5; a += $6; e += $7; b += $8; s += $4; ok += $9; n += $10 }
		END {print d + 0, a + 0, e + 0, b + 0, s + 0, ok + 0, n + 0}' "$w"
}
# wratios MODE - watch on ÷ watch off decisions/s, repetition by repetition
wratios() {
	local r on off n=${F[reps]:-0}
	for ((r = 1; r <= n; r++)); do
		on=$(values "$runs" decisions_s level=proto config=won mode="$1" rep="$r")
		off=$(values "$runs" decisions_s level=proto config=woff mode="$1" rep="$r")
		ratio "$on" "$off"
	done | tr '\n' ' ' | sed 's/ $//'
}
if has watch && [ -s "$w" ]; then
	echo "### (w) Metrics and hit counters on against off"
	echo
	echo "redmilter ($ondesc, 10k rules), each on its own redis-server:" \
	    "watch on = \`metrics = inet:PORT@127.0.0.1\` (a free port) with" \
	    "/metrics fetched once a second during each run, and" \
	    "\`hit_counters = yes\`; watch off = no metrics and" \
	    "\`hit_counters = no\`. ${F[reps]} repetitions of ${F[secs]} s," \
	    "the two interleaved run by run (which goes first alternates);" \
	    "median (min–max). Redis commands from INFO commandstats before and" \
	    "after each run (our INFOs left out; the tracking connection's PING" \
	    "every 250 ms in), summed over the repetitions. The hit-counter" \
	    "batch, once a second: an EVALSHA per 500 rules hit in that second" \
	    "(EVAL when the server lacked the script), and the commands its" \
	    "script runs, which Redis counts too (a TIME per call, an HINCRBY" \
	    "and an HSET per rule)."
	echo
	echo "| mode | milter | decisions/s | RCPT p50 µs | RCPT p99 µs | CPU µs/decision | Redis cmds/decision | batch EVALSHA calls / run seconds | batch commands (calls + script's) | cmds/decision without the batch | /metrics scrapes answered |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for m in "${modes[@]}"; do
		for n in won woff; do
			read -r d a e b sec ok ns <<<"$(wsum "$n" "$m")"
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
			    "$m" "$n" "$(cell proto "$n" "$m" decisions_s '%.0f')" \
			    "$(cell proto "$n" "$m" rcpt_p50_us '%.0f')" \
			    "$(cell proto "$n" "$m" rcpt_p99_us '%.0f')" \
			    "$(med proto "$n" "$m" cpu_us_per_decision)" \
			    "$(awk -v a="$a" -v d="$d" 'BEGIN {printf "%.5f", d ? a / d : 0}')" \
			    "$e / $(printf '%.1f' "$sec") s" "$b" \
			    "$(awk -v a="$a" -v b="$b" -v d="$d" 'BEGIN {printf "%.5f", d ? (a - b) / d : 0}')" \
			    "$([ "$n" = won ] && echo "$ok of $ns" || echo "–")"
		done
	done
	echo
	for m in "${modes[@]}"; do
		echo "- $m: watch on ÷ watch off, repetition by repetition: $(wratios "$m")."
	done
	if [ -f "$out/logs/watch-won-c8-1.commands" ]; then
		echo "- Commands watch on's Redis ran in repetition 1 at c8: $(sort -k2,2nr "$out/logs/watch-won-c8-1.commands" | awk '{printf "%s%s %d", (NR > 1 ? ", " : ""), $1, $2}')."
	fi
	if [ -f "$out/logs/watch-woff-c8-1.commands" ]; then
		echo "- Commands watch off's Redis ran in repetition 1 at c8: $(sort -k2,2nr "$out/logs/watch-woff-c8-1.commands" | awk '{printf "%s%s %d", (NR > 1 ? ", " : ""), $1, $2}')."
	fi
	echo
fi

# --- (b) ------------------------------------------------------------------

if has edits; then
	echo "### (b) Edit to effect, under load"
	echo
	echo "While loadgen runs at concurrency 8 against the milter, \`loadgen" \
	    "--edit ${F[edits]}\`: for each of ${F[edits]} fresh recipients a probe" \
	    "(must continue), a \`SET\` of its rule, probes until the RCPT gets the" \
	    "rule's reply (the time from the SET's reply to that decision), then a" \
	    "\`DEL\` and probes until it continues again. Milliseconds."
	echo
	echo "| milter | edits | SET p50 | SET p99 | SET max | DEL p50 | DEL p99 | DEL max | not obeyed in 5 s | stale probes | load during the edits, decisions/s |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for n in on on1m off; do
		e=$out/edits.tsv
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		    "${label[$n]}" "$(tsv "$e" "$n" edits)" \
		    "$(ms "$(tsv "$e" "$n" set_p50_us)")" \
		    "$(ms "$(tsv "$e" "$n" set_p99_us)")" \
		    "$(ms "$(tsv "$e" "$n" set_max_us)")" \
		    "$(ms "$(tsv "$e" "$n" del_p50_us)")" \
		    "$(ms "$(tsv "$e" "$n" del_p99_us)")" \
		    "$(ms "$(tsv "$e" "$n" del_max_us)")" \
		    "$(awk -v a="$(tsv "$e" "$n" set_timeouts)" -v b="$(tsv "$e" "$n" del_timeouts)" 'BEGIN {print a + b}')" \
		    "$(tsv "$e" "$n" stale)" \
		    "$(printf '%.0f' "$(tsv "$e" "$n" load_decisions_s)")"
	done
	echo
fi

# --- (c) ------------------------------------------------------------------

echo "### (c) Start-up and memory"
echo
starts=$(($(wc -l <"$out/starts.tsv") - 1))
if ! has startup; then
	echo "Start-up: not measured in this run (BENCH_PARTS)."
elif [ "$starts" -gt 0 ]; then
	echo "Start-up with $big rules: from starting redmilter (defaults," \
	    "log_level = info) to its \`tracking ready\` line (polled every" \
	    "20 ms), the milter's own \"read in\" figure, and VmRSS then."
	echo
	echo "| start | to \"tracking ready\", ms | \"read in\", ms | rules | VmRSS at ready |"
	echo "| --- | --- | --- | --- | --- |"
	awk -F'\t' 'NR > 1 {printf "| %s | %s | %s | %s | %s kB |\n", $1, $2, $3, $4, $5}' \
	    "$out/starts.tsv"
else
	echo "Start-up: no \`tracking ready\` line (this build has no tracking)."
fi
echo
echo "VmRSS of each milter once ready (before the warm-up), after the" \
    "protocol-level runs and the edits; VmHWM (peak) then."
echo
echo "| milter | VmRSS ready | VmRSS after load | VmHWM | threads |"
echo "| --- | --- | --- | --- | --- |"
for n in $(rows "$out/memory.tsv"); do
	m=$out/memory.tsv
	printf '| %s | %s kB | %s kB | %s kB | %s |\n' "${label[$n]}" \
	    "$(tsv "$m" "$n" ready_kb)" "$(tsv "$m" "$n" after_load_kb)" \
	    "$(tsv "$m" "$n" hwm_kb)" "$(tsv "$m" "$n" threads)"
done
echo

# --- (d) ------------------------------------------------------------------

if has mta; then
	echo "### (d) MTA level: smtp-source through a private Postfix"
	echo
	echo "${F[reps]} interleaved repetitions; ${F[mta_sessions]} parallel SMTP" \
	    "sessions, one message per session, ${F[rcpts]} recipients per message," \
	    "${F[mta_msgs]} messages per run, after a warm-up round of the same" \
	    "(smtp-source -N sends the same recipients every run); 10k rules;" \
	    "median (min–max); ÷ = to the do-nothing milter."
	echo
	echo "| policy | messages/s | ÷ | recipients/s | RCPTs rejected per run | Redis cmds/decision | new Redis conns/1000 msgs |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	declare -A mlabel=([none]="no policy" [access]="Postfix hash: access maps"
		[null]="do-nothing milter" [naive]="naive milter"
		[redmilter]="redmilter ($ondesc)"
		[limited]="redmilter ($ondesc) with limits")
	mnull=$(med mta null - txn_s)
	for n in none access null naive redmilter limited; do
		if [ "$n" = naive ] || [ "$n" = redmilter ] || [ "$n" = limited ]; then
			c=$(med mta "$n" - redis_cmds_per_decision)
			cn=$(med mta "$n" - redis_conns_per_1000)
		else
			c=– cn=–
		fi
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${mlabel[$n]}" \
		    "$(cell mta "$n" - txn_s '%.1f')" \
		    "$(ratio "$(med mta "$n" - txn_s)" "$mnull")" \
		    "$(cell mta "$n" - decisions_s '%.1f')" \
		    "$(cell mta "$n" - wrong '%.0f')" "$c" "$cn"
	done
	echo
	echo "(\"RCPTs rejected\" counts the rejections in Postfix's log: access maps" \
	    "and redmilter must reject the same number; the naive milter fewer, as" \
	    "it takes only \"NNN X.Y.Z text\" values for replies; the do-nothing" \
	    "milter and no policy none; redmilter with limits as many as redmilter," \
	    "as its limits never refuse.)"
	echo

	echo "#### Limits at MTA level"
	echo
	echo "redmilter with limits: the same milter, defaults and 10k rules as" \
	    "redmilter, on a Redis of its own, plus the limit rules" \
	    "\`${F[limit_rules]}\`: every message (smtp-source connects from" \
	    "127.0.0.1 without SASL) is under the client limit, every recipient" \
	    "under the recipient one, and neither is ever reached. Per message" \
	    "sent (${F[mta_msgs]} a run), median (min–max): Redis commands" \
	    "(INFO stats: commands a Lua script runs count too), EVALSHA calls" \
	    "(INFO commandstats, EVAL included: the round trips of the limits)," \
	    "and the EVALSHA calls the limits should cost: one at the first" \
	    "recipient of a message that the tables accept (client and recipient" \
	    "counters read together), one at each further accepted recipient, one" \
	    "at the end of DATA, which is Postfix's queued messages plus their" \
	    "recipients (qmgr's nrcpt=), so at most $((${F[rcpts]:-2} + 1)) a message" \
	    "of ${F[rcpts]} recipients. CPU: the milter's and its" \
	    "redis-server's user+system time per message sent, while" \
	    "smtp-source ran (clock ticks, so to within 10 ms a run)."
	echo
	echo "| policy | messages/s | RCPTs rejected per run | messages queued per run | Redis cmds/message | EVALSHA/message | EVALSHA/message expected | milter CPU µs/message | Redis CPU µs/message |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for n in redmilter limited; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${mlabel[$n]}" \
		    "$(cell mta "$n" - txn_s '%.1f')" \
		    "$(cell mta "$n" - wrong '%.0f')" \
		    "$(cell mta "$n" - queued_msgs '%.0f')" \
		    "$(cell mta "$n" - redis_cmds_per_msg '%.3f')" \
		    "$(cell mta "$n" - evalsha_per_msg '%.3f')" \
		    "$(cell mta "$n" - evalsha_expected '%.3f')" \
		    "$(cell mta "$n" - milter_cpu_us_per_msg '%.0f')" \
		    "$(cell mta "$n" - redis_cpu_us_per_msg '%.0f')"
	done
	echo
	lmis=$(awk -F'\t' -v e="$(col "$runs" evalsha_per_msg)" \
	    -v x="$(col "$runs" evalsha_expected)" '
		$1 == "mta" && ($2 == "limited" || $2 == "redmilter") && $e != $x {n++}
		END {print n + 0}' "$runs")
	lrej=$(values "$runs" wrong level=mta config=limited | sort -u | tr '\n' ' ')
	rrej=$(values "$runs" wrong level=mta config=redmilter | sort -u | tr '\n' ' ')
	llog=$(grep -cv 'running as root' "$out/logs/lim.out" 2>/dev/null)
	echo "- EVALSHA calls as expected: $([ "$lmis" = 0 ] && echo "yes, in every run" || echo "**no**, in $lmis runs (a finding: see runs.tsv and logs/mta-limited-*.commands)")."
	echo "- RCPTs rejected per run: ${lrej:-–}with limits, ${rrej:-–}without: $([ "$lrej" = "$rrej" ] && echo "the same, no refusal by a limit" || echo "**not the same** (a finding)")."
	echo "- The limited milter's log (log_level = warning), besides \"running as root\": ${llog:-–} lines$([ "${llog:-0}" -gt 0 ] && echo "; see logs/lim.out")."
	if [ -f "$out/logs/mta-limited-1.commands" ]; then
		echo "- Commands the limited milter's Redis ran in repetition 1, per message sent (a script's own commands included):" \
		    "$(sort -k2,2nr "$out/logs/mta-limited-1.commands" | awk -v m="${F[mta_msgs]}" '{printf "%s%s %.3f", (NR > 1 ? ", " : ""), $1, $2 / m}')."
	fi
	echo
fi

# --- targets ----------------------------------------------------------------

nd8=$(med proto null c8 decisions_s)
np1=$(med proto null c1 rcpt_p50_us)
mred=$(med mta redmilter - txn_s)
mlim=$(med mta limited - txn_s)
e=$out/edits.tsv

echo "### Targets (all measured in this run)"
echo
echo "| target | measured | verdict |"
echo "| --- | --- | --- |"
if has proto; then
	for n in on on1m; do
		d=$(med proto "$n" c8 decisions_s)
		r=$(ratio "$d" "$nd8")
		echo "| concurrency 8, ${label[$n]}: decisions/s ≥ 0.90 × do-nothing | $(printf '%.0f' "$d") / $(printf '%.0f' "$nd8") = $r | $(verdict "$(ge "$r" 0.90)") |"
	done
	for n in on on1m; do
		p=$(med proto "$n" c1 rcpt_p50_us)
		r=$(ratio "$p" "$np1")
		echo "| concurrency 1, ${label[$n]}: RCPT p50 ≤ 1.2 × do-nothing | $(printf '%.0f' "$p") µs / $(printf '%.0f' "$np1") µs = $r | $(verdict "$(le "$r" 1.2)") |"
	done
	for n in on on1m; do
		w=$(worst proto "$n" redis_cmds_per_decision)
		echo "| ${label[$n]}: Redis commands per decision ≤ 0.01 (worst protocol-level run, after the warm-up) | $w | $(verdict "$(le "$w" 0.01)") |"
	done
fi
if has mta; then
	w=$(worst mta redmilter redis_cmds_per_decision)
	echo "| MTA level, redmilter: Redis commands per decision ≤ 0.01 (worst run, after the warm-up round) | $w | $(verdict "$(le "$w" 0.01)") |"
fi
if has watch; then
	for m in "${modes[@]}"; do
		on=$(med proto won "$m" decisions_s)
		off=$(med proto woff "$m" decisions_s)
		r=$(ratio "$on" "$off")
		echo "| $m, redmilter: decisions/s with metrics scraped and hit counters on ≥ 0.98 × both off | $(printf '%.0f' "$on") / $(printf '%.0f' "$off") = $r | $(verdict "$(ge "$r" 0.98)") |"
	done
fi
if has edits; then
	for n in on on1m; do
		p99=$(tsv "$e" "$n" set_p99_us)
		mx=$(tsv "$e" "$n" set_max_us)
		dp99=$(tsv "$e" "$n" del_p99_us)
		dmx=$(tsv "$e" "$n" del_max_us)
		echo "| edit to effect, ${label[$n]}: p99 ≤ 10 ms (SET; DEL) | $(ms "$p99") ms; $(ms "$dp99") ms | $(verdict "$(le "$(awk -v a="$p99" -v b="$dp99" 'BEGIN {print (a > b ? a : b)}')" 10000)") |"
		echo "| edit to effect, ${label[$n]}: max ≤ 1 s (SET; DEL) | $(ms "$mx") ms; $(ms "$dmx") ms | $(verdict "$(le "$(awk -v a="$mx" -v b="$dmx" 'BEGIN {print (a > b ? a : b)}')" 1000000)") |"
	done
fi
rss_ready=$(tsv "$out/memory.tsv" on1m ready_kb)
if [ -n "$rss_ready" ]; then
	rss_after=$(tsv "$out/memory.tsv" on1m after_load_kb)
	rss_start=$(awk -F'\t' 'NR > 1 && $5 > m {m = $5} END {print m}' "$out/starts.tsv")
	rss_max=$(printf '%s\n' "$rss_ready" "$rss_after" "$rss_start" | sort -g | tail -n 1)
	echo "| ${label[on1m]}: VmRSS ≤ 48 MB (ready; after load; at \"tracking ready\", largest of the start-ups) | $rss_ready kB; $rss_after kB; ${rss_start:-–} kB | $(verdict "$(le "$rss_max" 49152)") |"
fi
if has mta; then
	r=$(ratio "$mred" "$mnull")
	echo "| MTA: Postfix + redmilter ≥ 0.97 × Postfix + do-nothing milter | $mred / $mnull msg/s = $r | $(verdict "$(ge "$r" 0.97)") |"
	r=$(ratio "$mlim" "$mred")
	echo "| MTA: Postfix + redmilter with a limit on every message ≥ 0.90 × Postfix + redmilter without limits | $mlim / $mred msg/s = $r | $(verdict "$(ge "$r" 0.90)") |"
fi
echo

# --- profile ----------------------------------------------------------------

if [ -s "$out/profile-comm.txt" ]; then
	echo "### Profile: redmilter ($ondesc, 10k rules) at concurrency 8 (perf, cpu-clock, all CPUs)"
	echo
	echo "CPU share by process during the profiled run:"
	echo
	echo '```'
	head -n 8 "$out/profile-comm.txt"
	echo '```'
	echo
	echo "redmilter, self time by function (share of all samples of the machine):"
	echo
	echo '```'
	head -n 30 "$out/profile-self.txt"
	echo '```'
	echo
	echo "redmilter, inclusive time (children included) of its own and library functions:"
	echo
	echo '```'
	head -n 45 "$out/profile-children.txt"
	echo '```'
	echo
fi
if [ -n "${F[import_secs]}" ]; then
	echo "Run: ${F[elapsed]} s in all (parts: ${F[parts]}); importing $big rules took ${F[import_secs]} s."
else
	echo "Run: ${F[elapsed]} s in all (parts: ${F[parts]}); the $big rules were not loaded."
fi
