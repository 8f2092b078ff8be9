#!/bin/bash
# tests/bench/report.sh - the markdown report of a `make bench` run
#
# usage: report.sh RUNS.tsv <FACTS
#
# RUNS.tsv is run.sh's table of runs (one line per run); FACTS, on stdin,
# are "key value" lines (settings, peak RSS, the profile directory).
# Prints the tables (medians over the repetitions, min-max beside them),
# the ratios and each target of the issue as met or MISSED.

# Not set -u: a fact missing from stdin prints as an empty cell.
runs=$1
declare -A F
while read -r k v; do
	F[$k]=$v
done

# col NAME - the column number of NAME in the header of RUNS
col() {
	head -n 1 "$runs" | tr '\t' '\n' | grep -nx "$1" | cut -d: -f1
}

# stat LEVEL CONFIG MODE COLUMN - "median min max" of a column's values
stat() {
	local c
	c=$(col "$4")
	awk -F'\t' -v l="$1" -v cf="$2" -v m="$3" -v c="$c" \
	    '$1 == l && $2 == cf && $3 == m {print $c}' "$runs" |
	    sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) { print "nan nan nan"; exit }
		med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print med, v[1], v[NR]
	}'
}

# med LEVEL CONFIG MODE COLUMN - the median alone
med() {
	stat "$@" | cut -d' ' -f1
}

# cell LEVEL CONFIG MODE COLUMN FMT - "median (min-max)"
cell() {
	stat "$1" "$2" "$3" "$4" | awk -v f="$5" '{
		printf f " (" f "–" f ")", $1, $2, $3
	}'
}

# maxof LEVEL CONFIG COLUMN - the largest value over every mode and run
maxof() {
	local c
	c=$(col "$3")
	awk -F'\t' -v l="$1" -v cf="$2" -v c="$c" \
	    '$1 == l && $2 == cf {if (!n++ || $c > m) m = $c} END {print m + 0}' \
	    "$runs"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'
}

# verdict OK - "met" or "**MISSED**"
verdict() {
	if [ "$1" = 1 ]; then echo "met"; else echo "**MISSED**"; fi
}

ge() {
	awk -v a="$1" -v b="$2" 'BEGIN {print (a >= b) ? 1 : 0}'
}

le() {
	awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? 1 : 0}'
}

names=(null redmilter cached big)
declare -A label=(
	[null]="do-nothing milter"
	[redmilter]="redmilter, 10k rules"
	[cached]="redmilter, 10k rules, cache_ttl=${F[cache_ttl]}"
	[big]="redmilter, ${F[big]} rules"
)
declare -A modelabel=(
	[c1]="concurrency 1"
	[c8]="concurrency 8"
	[c64]="concurrency 64"
	[new8]="concurrency 8, new connection per transaction"
)

echo "### (a) Protocol level: loadgen against the milter socket"
echo
echo "${F[reps]} interleaved repetitions of ${F[secs]} s each; median (min–max)." \
    "${F[rcpts]} recipients per transaction; RCPT latency in µs;" \
    "CPU = the milter's user+system CPU time per decision."
echo
echo "| mode | milter | decisions/s | RCPT p50 µs | RCPT p99 µs | CPU µs/decision | Redis cmds/decision | new Redis conns/1000 txns |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for m in c1 c8 c64 new8; do
	for n in "${names[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		    "${modelabel[$m]}" "${label[$n]}" \
		    "$(cell proto "$n" "$m" decisions_s '%.0f')" \
		    "$(cell proto "$n" "$m" rcpt_p50_us '%.0f')" \
		    "$(cell proto "$n" "$m" rcpt_p99_us '%.0f')" \
		    "$(med proto "$n" "$m" cpu_us_per_decision)" \
		    "$(if [ "$n" = null ]; then echo –; else med proto "$n" "$m" redis_cmds_per_decision; fi)" \
		    "$(if [ "$n" = null ]; then echo –; else med proto "$n" "$m" redis_conns_per_1000; fi)"
	done
done
echo
echo "Ratios of medians, redmilter ÷ do-nothing milter (decisions/s; p50 latency):"
echo
echo "| mode | 10k rules | 10k, cached | 1M rules | p50 10k | p50 cached |"
echo "| --- | --- | --- | --- | --- | --- |"
for m in c1 c8 c64 new8; do
	nd=$(med proto null "$m" decisions_s)
	np=$(med proto null "$m" rcpt_p50_us)
	printf '| %s | %s | %s | %s | %s | %s |\n' "${modelabel[$m]}" \
	    "$(ratio "$(med proto redmilter "$m" decisions_s)" "$nd")" \
	    "$(ratio "$(med proto cached "$m" decisions_s)" "$nd")" \
	    "$(ratio "$(med proto big "$m" decisions_s)" "$nd")" \
	    "$(ratio "$(med proto redmilter "$m" rcpt_p50_us)" "$np")" \
	    "$(ratio "$(med proto cached "$m" rcpt_p50_us)" "$np")"
done
echo

echo "### (b) MTA level: smtp-source through a private Postfix"
echo
echo "${F[reps]} interleaved repetitions; ${F[mta_sessions]} parallel SMTP" \
    "sessions, one message per session, ${F[rcpts]} recipients per message," \
    "${F[mta_msgs]} messages per run (postfwd: ${F[postfwd_msgs]});" \
    "${F[small]} rules; median (min–max)."
echo
echo "| policy | messages/s | recipients/s | RCPTs rejected per run | Redis cmds/decision | new Redis conns/1000 msgs |"
echo "| --- | --- | --- | --- | --- | --- |"
declare -A mlabel=([none]="no policy" [access]="Postfix hash: access maps"
	[postfwd]="postfwd" [null]="do-nothing milter" [redmilter]="redmilter")
for n in none access postfwd null redmilter; do
	printf '| %s | %s | %s | %s | %s | %s |\n' "${mlabel[$n]}" \
	    "$(cell mta "$n" - txn_s '%.1f')" \
	    "$(cell mta "$n" - decisions_s '%.1f')" \
	    "$(cell mta "$n" - wrong '%.0f')" \
	    "$(if [ "$n" = redmilter ]; then med mta "$n" - redis_cmds_per_decision; else echo –; fi)" \
	    "$(if [ "$n" = redmilter ]; then med mta "$n" - redis_conns_per_1000; else echo –; fi)"
done
echo
echo "(\"RCPTs rejected\" counts the rejections in Postfix's log: access maps," \
    "postfwd and redmilter must reject the same share, postfwd's runs being" \
    "shorter; the do-nothing milter and no policy none.)"
echo

echo "### (c) Memory: peak RSS (VmHWM, reset before each run)"
echo
echo "| milter | 64 connections | 500 connections |"
echo "| --- | --- | --- |"
for n in "${names[@]}"; do
	printf '| %s | %s kB | %s kB |\n' "${label[$n]}" "${F[rss_${n}_64]}" \
	    "${F[rss_${n}_500]}"
done
echo
echo "redmilter's threads after the runs: ${F[threads_redmilter_64]} (64)," \
    "${F[threads_redmilter_500]} (500)."
echo

# --- targets -----------------------------------------------------------------

nd8=$(med proto null c8 decisions_s)
rd8=$(med proto redmilter c8 decisions_s)
cd8=$(med proto cached c8 decisions_s)
bd8=$(med proto big c8 decisions_s)
np1=$(med proto null c1 rcpt_p50_us)
rp1=$(med proto redmilter c1 rcpt_p50_us)
cp1=$(med proto cached c1 rcpt_p50_us)
mnull=$(med mta null - txn_s)
mred=$(med mta redmilter - txn_s)
mpfw=$(med mta postfwd - txn_s)
cmds=$(maxof proto redmilter redis_cmds_per_decision)
cmds_big=$(maxof proto big redis_cmds_per_decision)
cmds_mta=$(maxof mta redmilter redis_cmds_per_decision)
ccmds=$(maxof proto cached redis_cmds_per_decision)
conns=$(maxof proto redmilter redis_conns_per_1000)
conns_mta=$(maxof mta redmilter redis_conns_per_1000)
conns_all=$(awk -v a="$conns" -v b="$conns_mta" 'BEGIN {print (a > b ? a : b)}')
cmds_all=$(awk -v a="$cmds" -v b="$cmds_big" -v c="$cmds_mta" 'BEGIN {m = a; if (b > m) m = b; if (c > m) m = c; print m}')
bigr=$(ratio "$bd8" "$rd8")
rss=${F[rss_redmilter_64]}

echo "### Targets (all measured in this run)"
echo
echo "| target | measured | verdict |"
echo "| --- | --- | --- |"
echo "| concurrency 8, caching off: decisions/s ≥ 0.8 × do-nothing | $(printf '%.0f' "$rd8") / $(printf '%.0f' "$nd8") = $(ratio "$rd8" "$nd8") | $(verdict "$(ge "$(ratio "$rd8" "$nd8")" 0.8)") |"
echo "| concurrency 8, caching on: decisions/s ≥ 0.95 × do-nothing | $(printf '%.0f' "$cd8") / $(printf '%.0f' "$nd8") = $(ratio "$cd8" "$nd8") | $(verdict "$(ge "$(ratio "$cd8" "$nd8")" 0.95)") |"
echo "| concurrency 1: RCPT p50 ≤ 1.3 × do-nothing (caching off) | $(printf '%.0f' "$rp1") µs / $(printf '%.0f' "$np1") µs = $(ratio "$rp1" "$np1") | $(verdict "$(le "$(ratio "$rp1" "$np1")" 1.3)") |"
echo "| concurrency 1: RCPT p50 ≤ 1.3 × do-nothing (caching on) | $(printf '%.0f' "$cp1") µs / $(printf '%.0f' "$np1") µs = $(ratio "$cp1" "$np1") | $(verdict "$(le "$(ratio "$cp1" "$np1")" 1.3)") |"
echo "| MTA: Postfix + redmilter ≥ 0.95 × Postfix + do-nothing milter | $mred / $mnull msg/s = $(ratio "$mred" "$mnull") | $(verdict "$(ge "$(ratio "$mred" "$mnull")" 0.95)") |"
echo "| MTA: Postfix + redmilter ≥ 3 × Postfix + postfwd | $mred / $mpfw msg/s = $(ratio "$mred" "$mpfw") | $(verdict "$(ge "$(ratio "$mred" "$mpfw")" 3)") |"
echo "| ≤ 1 Redis command per decision, caching off (worst run) | $cmds_all | $(verdict "$(le "$cmds_all" 1)") |"
echo "| 0 Redis commands per decision in steady state, caching on (worst run after warm-up) | $ccmds | $(verdict "$(le "$ccmds" 0)") |"
echo "| new Redis connections per 1,000 transactions ≤ pool size (${F[pool]}) (worst run, incl. new-connection mode and MTA) | $conns_all | $(verdict "$(le "$conns_all" "${F[pool]}")") |"
echo "| 1M rules within 5% of 10k rules (decisions/s, concurrency 8) | $(printf '%.0f' "$bd8") / $(printf '%.0f' "$rd8") = $bigr | $(verdict "$(awk -v r="$bigr" 'BEGIN {print (r >= 0.95 && r <= 1.05) ? 1 : 0}')") |"
echo "| milter RSS ≤ 16 MB at 64 connections | $rss kB | $(verdict "$(le "${rss:-999999}" 16384)") |"
echo

echo "### Profile: redmilter at concurrency 8 (perf, cpu-clock, all CPUs)"
echo
echo "CPU share by process during the profiled run:"
echo
echo '```'
head -n 8 "${F[profile]}/profile-comm.txt" 2>/dev/null
echo '```'
echo
echo "redmilter, self time by function (share of all samples of the machine):"
echo
echo '```'
head -n 30 "${F[profile]}/profile-self.txt" 2>/dev/null
echo '```'
echo
echo "redmilter, inclusive time (children included) of its own and library functions:"
echo
echo '```'
head -n 45 "${F[profile]}/profile-children.txt" 2>/dev/null
echo '```'
echo
echo "Run: ${F[elapsed]} s in all; importing ${F[small]} + ${F[big]} rules took ${F[import_secs]} s."
