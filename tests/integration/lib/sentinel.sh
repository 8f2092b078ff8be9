# tests/integration/lib/sentinel.sh - a replicated Redis watched by Redis
# Sentinel, all on loopback, for one test script (sourced; loads harness.sh).
#
#   start_sentinel_set
#       start one primary and two replicas (Debian's /usr/bin/redis-server,
#       `replicaof` the primary) and three Sentinels (Debian's
#       /usr/bin/redis-sentinel, package redis-sentinel), each on a free
#       127.0.0.1 port with its own configuration file in a private
#       directory (a Sentinel rewrites its file), no persistence.  The
#       Sentinels run `sentinel monitor $SN_MASTER 127.0.0.1 PORT 2` with
#       down-after-milliseconds $SN_DOWN_AFTER and failover-timeout
#       $SN_FAILOVER_TIMEOUT, `sentinel resolve-hostnames no`.  Waits, by
#       bounded polling (at most 30 s), until both replicas are in sync and
#       every Sentinel knows both replicas, the two other Sentinels and
#       that a quorum and a failover authorisation can be reached
#       (SENTINEL CKQUORUM).  A missing program or a process that does not
#       come up is a bail-out.
#       With SN_DATA_PASSWORD set, the data servers require it (requirepass,
#       masterauth, and the Sentinels' auth-pass); with SN_SENTINEL_PASSWORD
#       set, the Sentinels require theirs (requirepass, sentinel-pass).
#   Data servers are numbered 0 (the first primary), 1 and 2; Sentinels 0..2.
#       RS_PORT[i] RS_SOCK[i] (unix socket) RS_PID[i] RS_DIR[i]
#       SN_PORT[j] SN_PID[j] SN_DIR[j]
#       SENTINEL_URL   sentinel://127.0.0.1:S0,127.0.0.1:S1,127.0.0.1:S2/m
#   rs_cli I ARGS...      redis-cli on data server I (TCP)
#   sn_cli J ARGS...      redis-cli on Sentinel J
#   rs_stop I [SIGNAL]    signal data server I (TERM; KILL for a crash) by
#                         pid and reap it
#   rs_restart I          start data server I again on its own file, port
#                         and socket (a Sentinel may have rewritten nothing
#                         there: a former primary comes back as a primary
#                         until the Sentinels demote it)
#   sn_stop J [SIGNAL]    the same for Sentinel J
#   rs_alive I / sn_alive J
#   sn_primary_port       the primary's port, as the first Sentinel that
#                         answers names it; empty when none does
#   rs_index_of_port PORT the data server listening on PORT, or empty
#   rs_role I             first word of ROLE on server I (master, slave)
#   rs_wait_synced [SECONDS]  every running replica of the current primary
#                         has its link up and the primary's offset
#   log tails for diagnostics: sentinel_logs

# shellcheck shell=bash source=harness.sh
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
REDIS_SENTINEL=${REDIS_SENTINEL:-/usr/bin/redis-sentinel}
REDIS_CLI=${REDIS_CLI:-redis-cli}
SN_MASTER=${SN_MASTER:-m}
SN_DOWN_AFTER=${SN_DOWN_AFTER:-1000}
SN_FAILOVER_TIMEOUT=${SN_FAILOVER_TIMEOUT:-5000}
SN_DATA_PASSWORD=${SN_DATA_PASSWORD:-}
SN_SENTINEL_PASSWORD=${SN_SENTINEL_PASSWORD:-}
RS_PORT=()
RS_SOCK=()
RS_PID=()
RS_DIR=()
SN_PORT=()
SN_PID=()
SN_DIR=()
SENTINEL_URL=

# s_cli PORT PASSWORD ARGS... - redis-cli, the password (if any) through
# REDISCLI_AUTH, not argv
s_cli() {
	local port=$1 pw=$2
	shift 2
	if [ -n "$pw" ]; then
		REDISCLI_AUTH=$pw timeout -k 2 10 "$REDIS_CLI" -h 127.0.0.1 \
		    -p "$port" "$@" </dev/null
	else
		timeout -k 2 10 "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@" \
		    </dev/null
	fi
}

rs_cli() {
	local i=$1
	shift
	s_cli "${RS_PORT[$i]}" "$SN_DATA_PASSWORD" "$@"
}

sn_cli() {
	local j=$1
	shift
	s_cli "${SN_PORT[$j]}" "$SN_SENTINEL_PASSWORD" "$@"
}

rs_alive() {
	[ -n "${RS_PID[$1]:-}" ] && kill -0 "${RS_PID[$1]}" 2>/dev/null
}

sn_alive() {
	[ -n "${SN_PID[$1]:-}" ] && kill -0 "${SN_PID[$1]}" 2>/dev/null
}

# s_write_server_conf I PRIMARY_PORT - data server I's file; a replica of
# PRIMARY_PORT unless that is empty
s_write_server_conf() {
	local i=$1 pp=$2
	{
		echo "port ${RS_PORT[$i]}"
		echo "bind 127.0.0.1"
		echo "unixsocket ${RS_SOCK[$i]}"
		echo "unixsocketperm 700"
		echo 'save ""'
		echo "appendonly no"
		echo "daemonize no"
		echo "dir ${RS_DIR[$i]}"
		echo "logfile ${RS_DIR[$i]}/redis.log"
		echo "pidfile ${RS_DIR[$i]}/redis.pid"
		# Replicas sync at once (the default waits 5 s for more of
		# them), over the socket, with no file on disk.
		echo "repl-diskless-sync yes"
		echo "repl-diskless-sync-delay 0"
		echo "repl-diskless-load on-empty-db"
		if [ -n "$SN_DATA_PASSWORD" ]; then
			echo "requirepass $SN_DATA_PASSWORD"
			echo "masterauth $SN_DATA_PASSWORD"
		fi
		if [ -n "$pp" ]; then
			echo "replicaof 127.0.0.1 $pp"
		fi
	} >"${RS_DIR[$i]}/redis.conf"
}

# s_write_sentinel_conf J PRIMARY_PORT
s_write_sentinel_conf() {
	local j=$1 pp=$2
	{
		echo "port ${SN_PORT[$j]}"
		echo "bind 127.0.0.1"
		echo "daemonize no"
		echo "dir ${SN_DIR[$j]}"
		echo "logfile ${SN_DIR[$j]}/sentinel.log"
		echo "pidfile ${SN_DIR[$j]}/sentinel.pid"
		echo "sentinel resolve-hostnames no"
		echo "sentinel monitor $SN_MASTER 127.0.0.1 $pp 2"
		echo "sentinel down-after-milliseconds $SN_MASTER $SN_DOWN_AFTER"
		echo "sentinel failover-timeout $SN_MASTER $SN_FAILOVER_TIMEOUT"
		echo "sentinel parallel-syncs $SN_MASTER 2"
		if [ -n "$SN_DATA_PASSWORD" ]; then
			echo "sentinel auth-pass $SN_MASTER $SN_DATA_PASSWORD"
		fi
		if [ -n "$SN_SENTINEL_PASSWORD" ]; then
			echo "requirepass $SN_SENTINEL_PASSWORD"
			echo "sentinel sentinel-pass $SN_SENTINEL_PASSWORD"
		fi
	} >"${SN_DIR[$j]}/sentinel.conf"
}

# s_ping PORT PASSWORD - PONG on 127.0.0.1:PORT
s_ping() {
	[ "$(s_cli "$1" "$2" ping 2>/dev/null)" = PONG ]
}

# s_launch KIND I - spawn server or Sentinel I on its written file, wait for
# PONG (10 s); 0 ready, 1 it died (RC_LOG says where to look), 2 silent
s_launch() {
	local kind=$1 i=$2 pid port log k pw
	if [ "$kind" = server ]; then
		pw=$SN_DATA_PASSWORD
		spawn "$REDIS_SERVER" "${RS_DIR[$i]}/redis.conf" \
		    >>"${RS_DIR[$i]}/stdout" 2>&1 </dev/null
		RS_PID[i]=$SPAWN_PID
		port=${RS_PORT[$i]}
		log=${RS_DIR[$i]}/redis.log
	else
		spawn "$REDIS_SENTINEL" "${SN_DIR[$i]}/sentinel.conf" \
		    >>"${SN_DIR[$i]}/stdout" 2>&1 </dev/null
		SN_PID[i]=$SPAWN_PID
		port=${SN_PORT[$i]}
		pw=$SN_SENTINEL_PASSWORD
		log=${SN_DIR[$i]}/sentinel.log
	fi
	pid=$SPAWN_PID
	RC_LOG=$log
	for ((k = 0; k < 200; k++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			unregister_pid "$pid"
			if [ "$kind" = server ]; then
				RS_PID[i]=
			else
				SN_PID[i]=
			fi
			return 1
		fi
		if s_ping "$port" "$pw"; then
			if [ "$kind" = sentinel ] || [ -S "${RS_SOCK[$i]}" ]; then
				return 0
			fi
		fi
		sleep 0.05
	done
	return 2
}

# s_free_ports N - N distinct free loopback ports into S_PORTS, from one
# python3 run (free_port's, once per port, is slow on a loaded machine)
s_free_ports() {
	local out p
	S_PORTS=()
	out=$(python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1" 2>/dev/null) ||
	    out=
	for p in $out; do
		S_PORTS+=("$p")
	done
}

# s_port - the next of S_PORTS, or free_port's when they are used up
s_port() {
	if [ ${#S_PORTS[@]} -gt 0 ]; then
		S_PORT=${S_PORTS[0]}
		S_PORTS=("${S_PORTS[@]:1}")
	else
		S_PORT=$(free_port) || bail_out "no free loopback port"
	fi
}

# s_start KIND I PRIMARY_PORT - pick a free port, write the file, launch;
# another port when this one was taken meanwhile
s_start() {
	local kind=$1 i=$2 pp=$3 attempt rc
	for ((attempt = 1; attempt <= 5; attempt++)); do
		s_port
		if [ "$kind" = server ]; then
			RS_PORT[i]=$S_PORT
			s_write_server_conf "$i" "$pp"
		else
			SN_PORT[i]=$S_PORT
			s_write_sentinel_conf "$i" "$pp"
		fi
		s_launch "$kind" "$i"
		rc=$?
		[ $rc -eq 0 ] && return 0
		if [ $rc -eq 1 ] &&
		    grep -qi 'address already in use' "$RC_LOG" \
		    "$(dirname "$RC_LOG")/stdout" 2>/dev/null; then
			: >"$RC_LOG"
			continue
		fi
		diag "$(tail -n 15 "$RC_LOG" "$(dirname "$RC_LOG")/stdout" 2>/dev/null)"
		bail_out "$kind $i did not start on port ${RS_PORT[$i]:-}${SN_PORT[$i]:-} (attempt $attempt)"
	done
	bail_out "$kind $i found no free port in 5 attempts"
}

# sentinel_logs - the ends of every log, for a diagnostic
sentinel_logs() {
	local i
	for i in 0 1 2; do
		[ -n "${RS_DIR[$i]:-}" ] &&
		    tail -n 12 "${RS_DIR[$i]}/redis.log" 2>/dev/null |
		    sed "s/^/redis $i (port ${RS_PORT[$i]}): /"
	done
	for i in 0 1 2; do
		[ -n "${SN_DIR[$i]:-}" ] &&
		    tail -n 12 "${SN_DIR[$i]}/sentinel.log" 2>/dev/null |
		    sed "s/^/sentinel $i (port ${SN_PORT[$i]}): /"
	done
}

# sn_field J FIELD - a field of SENTINEL MASTER on Sentinel J
sn_field() {
	sn_cli "$1" sentinel master "$SN_MASTER" 2>/dev/null |
	    awk -v f="$2" 'n { print; exit } $0 == f { n = 1 }'
}

# s_sentinels_ready - each Sentinel sees 2 replicas, 2 other Sentinels, and
# a quorum
s_sentinels_ready() {
	local j
	for j in 0 1 2; do
		[ "$(sn_field "$j" num-slaves)" = 2 ] || return 1
		[ "$(sn_field "$j" num-other-sentinels)" = 2 ] || return 1
		sn_cli "$j" sentinel ckquorum "$SN_MASTER" 2>/dev/null |
		    grep -q '^OK' || return 1
	done
	return 0
}

rs_role() {
	rs_cli "$1" role 2>/dev/null | head -n 1
}

# rs_index_of_port PORT
rs_index_of_port() {
	local i
	for i in 0 1 2; do
		if [ "${RS_PORT[$i]}" = "$1" ]; then
			echo "$i"
			return 0
		fi
	done
	return 1
}

# sn_primary_port - what the first Sentinel that answers says
sn_primary_port() {
	local j out
	for j in 0 1 2; do
		sn_alive "$j" || continue
		out=$(sn_cli "$j" sentinel get-master-addr-by-name "$SN_MASTER" \
		    2>/dev/null | sed -n 2p)
		if [ -n "$out" ]; then
			echo "$out"
			return 0
		fi
	done
	return 1
}

# sn_agree PORT - the Sentinels are done with a failover to PORT: every
# running one names it as the primary, with the same config epoch, and
# none has a failover in progress.  Until then a Sentinel that missed the
# promotion may start a failover of its own (on a loaded machine, after
# twice failover-timeout) and promote another replica; what was written on
# the first one is then lost to the resync that follows.
sn_agree() {
	local j e e0=
	for j in 0 1 2; do
		sn_alive "$j" || continue
		[ "$(sn_cli "$j" sentinel get-master-addr-by-name "$SN_MASTER" \
		    2>/dev/null | sed -n 2p)" = "$1" ] || return 1
		case $(sn_field "$j" flags) in
		*failover_in_progress*) return 1 ;;
		esac
		e=$(sn_field "$j" config-epoch)
		[ -n "$e" ] || return 1
		[ -z "$e0" ] || [ "$e" = "$e0" ] || return 1
		e0=$e
	done
	[ -n "$e0" ]
}

# s_info_field I FIELD - a field of INFO replication on server I
s_info_field() {
	rs_cli "$1" info replication 2>/dev/null | tr -d '\r' |
	    sed -n "s/^$2://p"
}

# s_synced - every running replica of the current primary is in sync: the
# primary lists it online (after a diskless resync the primary streams
# writes to a replica only once it has acknowledged, within a second), its
# link is up and its offset is the primary's
s_synced() {
	local p pi i off info
	p=$(sn_primary_port) || return 1
	pi=$(rs_index_of_port "$p") || return 1
	[ "$(rs_role "$pi")" = master ] || return 1
	info=$(rs_cli "$pi" info replication 2>/dev/null | tr -d '\r')
	off=$(sed -n 's/^master_repl_offset://p' <<<"$info")
	[ -n "$off" ] || return 1
	for i in 0 1 2; do
		[ "$i" = "$pi" ] && continue
		rs_alive "$i" || continue
		grep -q "^slave[0-9]*:ip=127.0.0.1,port=${RS_PORT[$i]},state=online," \
		    <<<"$info" || return 1
		[ "$(s_info_field "$i" master_port)" = "$p" ] || return 1
		[ "$(s_info_field "$i" master_link_status)" = up ] || return 1
		[ "$(s_info_field "$i" slave_repl_offset)" = "$off" ] || return 1
	done
	return 0
}

# s_marker_seen VALUE - every running replica has sentinel-test:sync = VALUE
s_marker_seen() {
	local i pi
	pi=$(rs_index_of_port "$(sn_primary_port)") || return 1
	for i in 0 1 2; do
		[ "$i" = "$pi" ] && continue
		rs_alive "$i" || continue
		[ "$(rs_cli "$i" get sentinel-test:sync 2>/dev/null)" = "$1" ] ||
		    return 1
	done
}

# rs_wait_synced [SECONDS] - s_synced, then a marker key written on the
# primary (sentinel-test:sync, outside every rule prefix) has reached every
# replica: the offsets agree before the primary streams new writes to a
# freshly resynced replica, which it starts only on the replica's first
# acknowledgement (up to a second later)
rs_wait_synced() {
	local n=${1:-10} v pi
	wait_for "$n" s_synced || return 1
	pi=$(rs_index_of_port "$(sn_primary_port)") || return 1
	v=$RANDOM$RANDOM
	rs_cli "$pi" set sentinel-test:sync "$v" >/dev/null || return 1
	wait_for "$n" s_marker_seen "$v"
}

start_sentinel_set() {
	local i
	need_program "$REDIS_SERVER" "$REDIS_CLI"
	[ -x "$REDIS_SENTINEL" ] ||
	    bail_out "$REDIS_SENTINEL is missing: install the redis-sentinel package (tests/deps.sh)"
	for i in 0 1 2; do
		RS_DIR[i]=$(mktemp -d "$H_TMP/rs$i.XXXXXX") ||
		    bail_out "cannot create a directory for redis $i"
		RS_SOCK[i]=${RS_DIR[$i]}/redis.sock
		if [ ${#RS_SOCK[$i]} -gt 100 ]; then
			bail_out "unix socket path too long: ${RS_SOCK[$i]} (set TMPDIR shorter)"
		fi
		SN_DIR[i]=$(mktemp -d "$H_TMP/sn$i.XXXXXX") ||
		    bail_out "cannot create a directory for sentinel $i"
	done
	s_free_ports 6
	s_start server 0 ""
	s_start server 1 "${RS_PORT[0]}"
	s_start server 2 "${RS_PORT[0]}"
	for i in 0 1 2; do
		s_start sentinel "$i" "${RS_PORT[0]}"
	done
	SENTINEL_URL="sentinel://127.0.0.1:${SN_PORT[0]},127.0.0.1:${SN_PORT[1]},127.0.0.1:${SN_PORT[2]}/$SN_MASTER"
	if ! wait_for 30 s_synced; then
		diag "$(sentinel_logs)"
		bail_out "the replicas did not sync with the primary within 30 s"
	fi
	if ! wait_for 30 s_sentinels_ready; then
		diag "$(sentinel_logs)"
		bail_out "the Sentinels did not find each other and the replicas within 30 s"
	fi
	export SENTINEL_URL
}

# rs_stop I [SIGNAL]
rs_stop() {
	if [ -n "${RS_PID[$1]:-}" ]; then
		kill_wait "${RS_PID[$1]}" "${2:-TERM}"
		RS_PID[$1]=
	fi
	rm -f "${RS_SOCK[$1]}"
}

# rs_restart I - the same file, port and socket again
rs_restart() {
	rs_alive "$1" && rs_stop "$1"
	if ! s_launch server "$1"; then
		diag "$(tail -n 15 "${RS_DIR[$1]}/redis.log")"
		bail_out "redis $1 did not restart on port ${RS_PORT[$1]}"
	fi
}

# sn_stop J [SIGNAL]
sn_stop() {
	if [ -n "${SN_PID[$1]:-}" ]; then
		kill_wait "${SN_PID[$1]}" "${2:-TERM}"
		SN_PID[$1]=
	fi
}
