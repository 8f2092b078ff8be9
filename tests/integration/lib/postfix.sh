# tests/integration/lib/postfix.sh - a throwaway Postfix instance for one
# test script, and an SMTP client to talk to it (sourced; loads harness.sh).
#
# The instance has nothing to do with the host's own Postfix (/etc/postfix
# is only read, for the daemons' meta files): its config_directory,
# queue_directory, data_directory and maillog_file are in a private
# directory, it has its own multi_instance_name and syslog_name, smtpd
# listens on 127.0.0.1:<free port> only, nothing is chrooted, every
# transport is discard(8) (nothing ever leaves the machine: no DNS, no SMTP
# client use), and example.com is its local domain with every local part
# accepted (local_recipient_maps and alias_maps empty).  Postfix must be
# started as root: start_postfix bails out otherwise.
#
#   start_postfix [LINE...]
#       write main.cf (each LINE, "name = value", is appended and so wins
#       over the defaults above it) and master.cf, create the queue with
#       `postfix check`, start it with `postfix -c DIR start`, and wait,
#       polling for at most PF_WAIT seconds, for a 220 banner on PF_PORT.
#       smtpd_milters is $PF_MILTER (default: $MILTER_POSTFIX from
#       lib/milter.sh), milter_default_action tempfail, milter_protocol 6.
#       Registers the master's pid so that an early exit still stops it.
#       PF_FIXED_PORT, when set, is the port to use (else a free one).
#       Exports PF_DIR, PF_CONF (config_directory), PF_QUEUE, PF_DATA,
#       PF_LOG (the maillog), PF_PORT, PF_NAME (multi_instance_name) and
#       PF_MASTER_PID.
#   stop_postfix
#       `postfix -c DIR stop`, wait for the master and the children it had
#       to exit (SIGKILL after PF_WAIT seconds); 0 when the stop was clean,
#       else diagnostics and 1.
#   postfix_set LINE...
#       `postconf -c DIR -e LINE...`, then `postfix -c DIR reload`
#   pf_sasl_user USER PASSWORD
#       enable SASL AUTH (Cyrus, sasldb auxprop, PLAIN and LOGIN) in
#       smtpd with USER in a sasldb of its own, realm mx.test.example (so
#       the milter's {auth_authen} is USER@mx.test.example); call it
#       before start_postfix, once per user
#   pf_wait_log ERE [SECONDS]       poll the maillog (default 10 s) for ERE
#   pf_delivered QUEUE_ID           wait (10 s) until Postfix logs
#                                   "QUEUE_ID: removed", then print the
#                                   recipients that discard(8) delivered,
#                                   sorted, one a line; 1 if never removed
#   pf_hold_ids                     queue ids in the hold queue, sorted
#   pf_postqueue                    `postqueue -c DIR -p`
#
# SMTP client (tests/integration/lib/smtp.py; raw socket, no pipelining,
# every reply line printed exactly):
#   smtp_session [-H HELO] [-a USER:PASS] -f SENDER -t RCPT [-t RCPT...]
#       one transaction with this Postfix (EHLO, [AUTH PLAIN,] MAIL FROM,
#       each RCPT TO, DATA when a recipient was accepted, QUIT).  Sets
#       SMTP_OUT: "S: line" for every server reply line, "C: command" for
#       every command; SMTP_RC: the client's exit status
#   reply_of COMMAND
#       print the reply lines to the first command that is exactly COMMAND
#       ("MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA", "<message>", ...),
#       newline-separated, without "S: "; nothing if it was never sent
#   queue_id_of_session     the queue id in the "queued as" reply, if any
#   smtp_transcript
#       the session as "COMMAND => REPLY LINE" lines, one per reply line
#       (a multi-line reply gives several lines with the same COMMAND),
#       without EHLO/HELO and QUIT, the banner only when it is not a 220
#       ("(banner) => 554 ..."), the queue id replaced by QID: what a test
#       compares with its expected replies in one go

# shellcheck shell=bash source=harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

PF_SMTP_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/smtp.py
POSTFIX=${POSTFIX:-/usr/sbin/postfix}
POSTCONF=${POSTCONF:-/usr/sbin/postconf}
POSTQUEUE=${POSTQUEUE:-/usr/sbin/postqueue}
if [ -n "$TEST_PREFIX" ]; then
	PF_WAIT=${PF_WAIT:-60}
else
	PF_WAIT=${PF_WAIT:-20}
fi
PF_DIR=
PF_CONF=
PF_MASTER_PID=
PF_SASL_USERS=()
SMTP_OUT=
SMTP_RC=

# --- the instance -----------------------------------------------------------

pf_log_tail() {
	tail -n 25 "$PF_LOG" 2>/dev/null | sed 's/^/postfix log: /'
}

# pf_write_main_cf LINE... - main.cf, the extra LINEs last
pf_write_main_cf() {
	local l
	{
		cat <<EOF
# written by tests/integration/lib/postfix.sh: a throwaway instance
compatibility_level = 3.6
multi_instance_name = $PF_NAME
syslog_name = $PF_NAME
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
maillog_file_prefixes = $PF_DIR
maillog_file = $PF_LOG
mail_owner = postfix
setgid_group = postdrop

myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
mydestination = example.com
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP Postfix

# Nothing leaves this machine: every transport is discard(8).
default_transport = discard
local_transport = discard
relay_transport = discard
virtual_transport = discard
local_recipient_maps =
alias_maps =
alias_database =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
append_dot_mydomain = no
readme_directory = no
notify_classes =
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
in_flow_delay = 0
smtputf8_enable = yes
smtpd_delay_reject = yes
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination

smtpd_milters = $PF_MILTER
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
		if [ ${#PF_SASL_USERS[@]} -gt 0 ]; then
			cat <<EOF

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $PF_CONF/sasl
smtpd_sasl_security_options = noanonymous
smtpd_sasl_local_domain = mx.test.example
broken_sasl_auth_clients = no
EOF
		fi
		if [ $# -gt 0 ]; then
			echo
			echo "# the test's own settings"
			for l in "$@"; do
				printf '%s\n' "$l"
			done
		fi
	} >"$PF_CONF/main.cf"
}

pf_write_master_cf() {
	cat >"$PF_CONF/master.cf" <<EOF
# written by tests/integration/lib/postfix.sh: nothing chrooted
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf_sasl_user USER PASSWORD - a sasldb user; SASL AUTH on in smtpd.  The
# realm is mx.test.example (smtpd_sasl_local_domain), given explicitly: left
# to Cyrus it is the host's name, looked up with getaddrinfo().  So the login
# name the milter sees ({auth_authen}) is USER@mx.test.example.  The sasldb,
# which smtpd reads as user postfix, is outside config_directory
# (`postfix check` wants everything there owned by root).
pf_sasl_user() {
	need_program saslpasswd2
	pf_prepare_dir
	mkdir -p "$PF_CONF/sasl" "$PF_DIR/sasl"
	cat >"$PF_CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $PF_DIR/sasl/sasldb2
mech_list: PLAIN LOGIN
EOF
	printf '%s' "$2" | saslpasswd2 -f "$PF_DIR/sasl/sasldb2" -p -c \
	    -u mx.test.example "$1" ||
	    bail_out "saslpasswd2 could not add $1 to $PF_DIR/sasl/sasldb2"
	chown postfix: "$PF_DIR/sasl/sasldb2"
	chmod 0600 "$PF_DIR/sasl/sasldb2"
	PF_SASL_USERS+=("$1")
}

# pf_prepare_dir - the instance's directories (once per script)
pf_prepare_dir() {
	[ -n "$PF_DIR" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		bail_out "a private Postfix instance needs root (postfix start): run this test as root"
	fi
	need_program "$POSTFIX" "$POSTCONF" "$POSTQUEUE" python3
	id postfix >/dev/null 2>&1 ||
	    bail_out "no user postfix: install the postfix package (tests/deps.sh)"
	PF_DIR=$H_TMP/postfix
	PF_CONF=$PF_DIR/etc
	PF_QUEUE=$PF_DIR/spool
	PF_DATA=$PF_DIR/data
	PF_LOG=$PF_DIR/maillog
	PF_NAME=postfix-redmilter-${H_TMP##*.}
	mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA" ||
	    bail_out "cannot create $PF_DIR"
	# The daemons run as user postfix: search permission down to here.
	chmod 0711 "$H_TMP"
	chmod 0755 "$PF_DIR" "$PF_CONF" "$PF_QUEUE"
	chown postfix: "$PF_DATA"
	chmod 0700 "$PF_DATA"
	: >"$PF_LOG"
	export PF_DIR PF_CONF PF_QUEUE PF_DATA PF_LOG PF_NAME
}

# pf_banner - a 220 banner on PF_PORT (then QUIT)
pf_banner() {
	local line
	{
		exec 3<>"/dev/tcp/127.0.0.1/$PF_PORT" || return 1
		if ! IFS= read -r -t 5 line <&3; then
			exec 3>&-
			return 1
		fi
		printf 'QUIT\r\n' >&3
		IFS= read -r -t 5 _ <&3
		exec 3>&-
	} 2>/dev/null
	[[ $line == 220\ * ]]
}

# pf_master_pid - the master's pid from its pid file, or nothing
pf_master_pid() {
	local p
	p=$(tr -d ' \n' <"$PF_QUEUE/pid/master.pid" 2>/dev/null)
	[[ $p =~ ^[0-9]+$ ]] && echo "$p"
}

start_postfix() {
	local attempt i out
	pf_prepare_dir
	if [ -n "$PF_MASTER_PID" ]; then
		bail_out "start_postfix: this script's Postfix runs already"
	fi
	PF_MILTER=${PF_MILTER:-${MILTER_POSTFIX:-}}
	[ -n "$PF_MILTER" ] ||
	    bail_out "start_postfix: no milter (start_milter first, or set PF_MILTER)"
	for ((attempt = 1; attempt <= 5; attempt++)); do
		if [ -n "${PF_FIXED_PORT:-}" ]; then
			[ $attempt = 1 ] ||
			    bail_out "port 127.0.0.1:$PF_FIXED_PORT is taken"
			PF_PORT=$PF_FIXED_PORT
		else
			PF_PORT=$(free_port) || bail_out "no free loopback port"
		fi
		export PF_PORT
		pf_write_main_cf "$@"
		pf_write_master_cf
		if ! out=$(timeout -k 5 120 "$POSTFIX" -c "$PF_CONF" check 2>&1); then
			diag "$out"
			bail_out "postfix -c $PF_CONF check failed"
		fi
		if ! out=$(timeout -k 5 120 "$POSTFIX" -c "$PF_CONF" start 2>&1); then
			diag "$out"
			diag "$(pf_log_tail)"
			bail_out "postfix -c $PF_CONF start failed"
		fi
		for ((i = 0; i < PF_WAIT * 10; i++)); do
			PF_MASTER_PID=$(pf_master_pid)
			[ -n "$PF_MASTER_PID" ] && break
			sleep 0.1
		done
		[ -n "$PF_MASTER_PID" ] ||
		    bail_out "Postfix wrote no $PF_QUEUE/pid/master.pid"
		export PF_MASTER_PID
		register_pid "$PF_MASTER_PID"
		for ((i = 0; i < PF_WAIT * 10; i++)); do
			if pf_banner; then
				return 0
			fi
			if ! kill -0 "$PF_MASTER_PID" 2>/dev/null; then
				break
			fi
			if grep -q "bind 127.0.0.1 port $PF_PORT: Address already in use" \
			    "$PF_LOG"; then
				break
			fi
			sleep 0.1
		done
		if grep -q "bind 127.0.0.1 port $PF_PORT: Address already in use" \
		    "$PF_LOG"; then
			stop_postfix >/dev/null 2>&1
			continue # lost the race for the port
		fi
		diag "$(pf_log_tail)"
		bail_out "Postfix gave no 220 banner on 127.0.0.1:$PF_PORT within $PF_WAIT s"
	done
	bail_out "Postfix found no free port in 5 attempts"
}

stop_postfix() {
	local pid=$PF_MASTER_PID kids i out p rc=0
	[ -n "$pid" ] || return 0
	kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')
	if ! out=$(timeout -k 5 60 "$POSTFIX" -c "$PF_CONF" stop 2>&1); then
		diag "postfix -c $PF_CONF stop failed: $out"
		rc=1
	fi
	for p in $pid $kids; do
		for ((i = 0; i < PF_WAIT * 10; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$p" 2>/dev/null; then
			diag "Postfix process $p still there $PF_WAIT s after postfix stop: SIGKILL"
			kill -s KILL "$p" 2>/dev/null
			rc=1
		fi
	done
	unregister_pid "$pid"
	PF_MASTER_PID=
	return $rc
}

postfix_set() {
	local out
	"$POSTCONF" -c "$PF_CONF" -e "$@" || return 1
	if [ -n "$PF_MASTER_PID" ]; then
		out=$("$POSTFIX" -c "$PF_CONF" reload 2>&1) || {
			diag "$out"
			return 1
		}
	fi
}

# pf_wait_log ERE [SECONDS] - the maillog has a line matching ERE
pf_wait_log() {
	local ere=$1 secs=${2:-10}
	wait_for "$secs" grep -qE -e "$ere" "$PF_LOG"
}

pf_delivered() {
	local qid=$1
	pf_wait_log "[[:space:]]$qid: removed\$" 10 || return 1
	sed -nE "s,.*/discard\[[0-9]+\]: $qid: to=<([^>]*)>.* status=sent .*,\1,p" \
	    "$PF_LOG" | sort
}

pf_hold_ids() {
	find "$PF_QUEUE/hold" -type f -printf '%f\n' 2>/dev/null | sort
}

pf_postqueue() {
	"$POSTQUEUE" -c "$PF_CONF" -p
}

# --- the SMTP client ----------------------------------------------------------

smtp_session() {
	SMTP_OUT=$(timeout -k 5 "$RUN_TIMEOUT" python3 "$PF_SMTP_PY" \
	    -p "$PF_PORT" "$@" 2>&1)
	# shellcheck disable=SC2034 # for the caller
	SMTP_RC=$?
}

reply_of() {
	local want=$1 found=0 l
	while IFS= read -r l; do
		if [ $found = 0 ]; then
			[ "$l" = "C: $want" ] && found=1
			continue
		fi
		case $l in
		"S: "*) printf '%s\n' "${l#S: }" ;;
		*) break ;;
		esac
	done <<<"$SMTP_OUT"
}

queue_id_of_session() {
	sed -nE 's/^S: 250 .*queued as ([0-9A-Za-z]+)$/\1/p' <<<"$SMTP_OUT" |
	    head -n 1
}

smtp_transcript() {
	local l cmd='' banner=1
	while IFS= read -r l; do
		case $l in
		"C: "*)
			banner=0
			cmd=${l#C: }
			;;
		"S: "*)
			l=${l#S: }
			if [ $banner = 1 ]; then
				[[ $l == 220[\ -]* ]] || printf '(banner) => %s\n' "$l"
				continue
			fi
			case $cmd in
			EHLO\ * | HELO\ * | QUIT) continue ;;
			esac
			if [[ $l =~ ^(250 .*queued as )[0-9A-Za-z]+$ ]]; then
				l="${BASH_REMATCH[1]}QID"
			fi
			printf '%s => %s\n' "$cmd" "$l"
			;;
		esac
	done <<<"$SMTP_OUT"
}
