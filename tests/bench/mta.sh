# shellcheck shell=bash
# tests/bench/mta.sh - a private Postfix for the benchmark (sourced by
# run.sh after tests/integration/lib/harness.sh).
#
#   mta_start DIR              a Postfix with config_directory, queue and log
#                              in DIR, one smtpd listener per contender on
#                              127.0.0.1 (MTA_PORT[name]); every transport is
#                              discard.  Needs MTA_MAPS (a directory holding
#                              sender_access and recipient_access),
#                              MTA_NULL_SOCK, MTA_NAIVE_SOCK,
#                              MTA_REDMILTER_SOCK and MTA_LIMITED_SOCK set.
#   mta_stop                   postfix stop
#   mta_wait_queue SECONDS     wait until the queue is empty
#   mta_rejects                how many RCPTs the log shows rejected so far
#   mta_queued                 "messages recipients": how many messages the
#                              log shows queued so far, and their recipients
#
# The contenders, one listener each (MTA_NAMES):
#   none       no restriction beyond relaying for mynetworks
#   access     check_recipient_access, check_sender_access with hash: maps
#   null       the do-nothing milter
#   naive      the naive milter (tests/bench/naivemilter.c)
#   redmilter  redmilter
#   limited    a redmilter like the one above, plus limit rules that
#              concern every message (run.sh says which)
# Postfix's relay check comes first in all of them (smtpd_relay_restrictions
# permits mynetworks), then smtpd_recipient_restrictions, where the
# recipient table goes before the sender table, as in redmilter.

MTA_NAMES=(none access null naive redmilter limited)
declare -A MTA_PORT

mta_start() {
	local dir=$1 n p svc
	MTA_DIR=$dir
	mkdir -p "$dir/queue" "$dir/data"
	chown postfix "$dir/queue" "$dir/data"
	for n in "${MTA_NAMES[@]}"; do
		MTA_PORT[$n]=$(free_port) || bail_out "no free port for $n"
	done
	cat >"$dir/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = mx.bench.example
mydomain = bench.example
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
default_transport = discard
local_transport = discard
relay_transport = discard
virtual_transport = discard
recipient_delimiter = +
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_delay_reject = yes
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
milter_protocol = 6
milter_default_action = tempfail
smtpd_milters =
non_smtpd_milters =
bench_access = check_recipient_access hash:$MTA_MAPS/recipient_access,
    check_sender_access hash:$MTA_MAPS/sender_access
EOF
	{
		p=${MTA_PORT[none]}
		echo "127.0.0.1:$p inet n - n - - smtpd"
		p=${MTA_PORT[access]}
		echo "127.0.0.1:$p inet n - n - - smtpd"
		echo "  -o smtpd_recipient_restrictions=\$bench_access"
		p=${MTA_PORT[null]}
		echo "127.0.0.1:$p inet n - n - - smtpd"
		echo "  -o smtpd_milters=unix:$MTA_NULL_SOCK"
		p=${MTA_PORT[naive]}
		echo "127.0.0.1:$p inet n - n - - smtpd"
		echo "  -o smtpd_milters=unix:$MTA_NAIVE_SOCK"
		p=${MTA_PORT[redmilter]}
		echo "127.0.0.1:$p inet n - n - - smtpd"
		echo "  -o smtpd_milters=unix:$MTA_REDMILTER_SOCK"
		p=${MTA_PORT[limited]}
		echo "127.0.0.1:$p inet n - n - - smtpd"
		echo "  -o smtpd_milters=unix:$MTA_LIMITED_SOCK"
		for svc in \
		    "pickup unix n - n 60 1 pickup" \
		    "cleanup unix n - n - 0 cleanup" \
		    "qmgr unix n - n 300 1 qmgr" \
		    "rewrite unix - - n - - trivial-rewrite" \
		    "bounce unix - - n - 0 bounce" \
		    "defer unix - - n - 0 bounce" \
		    "trace unix - - n - 0 bounce" \
		    "verify unix - - n - 1 verify" \
		    "flush unix n - n 1000? 0 flush" \
		    "proxymap unix - - n - - proxymap" \
		    "showq unix n - n - - showq" \
		    "error unix - - n - - error" \
		    "retry unix - - n - - error" \
		    "discard unix - - n - - discard" \
		    "anvil unix - - n - 1 anvil" \
		    "scache unix - - n - 1 scache" \
		    "postlog unix-dgram n - n - 1 postlogd"; do
			echo "$svc"
		done
	} >"$dir/master.cf"
	postmap -c "$dir" "hash:$MTA_MAPS/recipient_access" \
	    "hash:$MTA_MAPS/sender_access" ||
	    bail_out "postmap failed"
	postfix -c "$dir" check >"$dir/check.log" 2>&1
	postfix -c "$dir" start >"$dir/start.log" 2>&1 ||
	    bail_out "postfix did not start: $(cat "$dir/start.log")"
	for n in "${MTA_NAMES[@]}"; do
		wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/${MTA_PORT[$n]}" \
		    2>/dev/null ||
		    bail_out "postfix listener $n did not open: $(tail -n 5 "$dir/maillog")"
	done
}

mta_stop() {
	if [ -n "${MTA_DIR:-}" ]; then
		postfix -c "$MTA_DIR" stop >/dev/null 2>&1
		MTA_DIR=
	fi
}

# mta_queue_empty - nothing in incoming, active or deferred
mta_queue_empty() {
	[ -z "$(find "$MTA_DIR/queue/incoming" "$MTA_DIR/queue/active" \
	    "$MTA_DIR/queue/deferred" "$MTA_DIR/queue/maildrop" -type f \
	    2>/dev/null | head -n 1)" ]
}

mta_wait_queue() {
	wait_for "$1" mta_queue_empty
}

# mta_rejects - RCPT rejections logged so far, by Postfix's own
# restrictions and by milters
mta_rejects() {
	grep -cE ': (reject|milter-reject): RCPT' "$MTA_DIR/maillog"
}

# mta_queued - "M R": the messages qmgr has logged so far (one "nrcpt=N
# (queue active)" line each, once the queue has drained) and the sum of
# their N, the recipients Postfix accepted
mta_queued() {
	awk '/\/qmgr\[[0-9]+\]: .* nrcpt=[0-9]+ \(queue active\)/ {
		m++; r += substr($0, index($0, "nrcpt=") + 6) + 0
	} END {print m + 0, r + 0}' "$MTA_DIR/maillog"
}
