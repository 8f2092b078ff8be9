#!/bin/bash
# dns.sh - a Redis or Sentinel host given by name, with a resolver that
# never answers (redmilter.conf(5), redis_timeout: a name is resolved
# within the lookup's time).
#
# The script runs itself again in new network, mount and UTS namespaces
# (`unshare --net --mount --uts`: root only; not root is a skip, exit 77):
# loopback up, a hostname without a domain (so no search domain), and
# three files bind-mounted over their /etc namesakes in that mount
# namespace only:
#   resolv.conf    nameserver 127.0.0.1, glibc's defaults written out
#                  (timeout:5 attempts:2), where a small python3 server
#                  reads every UDP and TCP query on port 53 and never
#                  answers (it counts them);
#   hosts          localhost, and redis.hosts-test.example as 127.0.0.3
#                  (nothing listens there: refused) and ::1;
#   nsswitch.conf  hosts: files dns.
# Redis (on 127.0.0.1 and ::1), two fake Sentinels (python3, enough of the protocol to name a
# primary), the milter and the milter-protocol client all run in there,
# on the namespace's own loopback.  redis_timeout = 500, on_error =
# tempfail (the default).
#
#   1. redis = redis://redis.invalid-test.example:PORT/0 (a name only DNS
#      could answer): each RCPT is answered exactly "451 4.3.0 Temporary
#      policy lookup failure", and within 3 x redis_timeout + 1 s of the
#      session's start.  This bound is the deadline's correctness, not a
#      speed: without it the decision waits for glibc's resolver, 2
#      attempts x 5 s for the A query, then as long again for AAAA, in
#      hiredis's getaddrinfo (more than 10 s; the client waits 90 s, so
#      the hang shows as a hang).  The log names the cause ("resolving
#      NAME: timed out after N ms"), and the black hole did get queries
#      (the test is not vacuous).
#   2. redis = redis://redis.hosts-test.example:PORT/0, a name from
#      /etc/hosts with two addresses: 127.0.0.3 is tried first (IPv4
#      first, as hiredis prefers) and refused, then ::1 (an IPv6 literal
#      handed to hiredis) connects: decisions come from Redis (a rule's
#      exact reply), and no DNS query was made, neither for the name nor
#      for the addresses.
#   3. redis = sentinel://two Sentinel names only DNS could answer/m:
#      the same 451, within the same bound.
#   4. A (fake) Sentinel naming the primary redis.hosts-test.example:
#      the rule's reply; one naming redis.invalid-test.example: the 451
#      within the bound.
#
# By hand (as root):  make all build-tests && bash tests/integration/dns.sh

if [ "${REDMILTER_DNS_NETNS:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "1..0 # SKIP needs root: network and mount namespaces (unshare --net --mount)"
		echo "dns.sh: skipped: needs root (unshare --net --mount)" >&2
		exit 77
	fi
	command -v unshare >/dev/null 2>&1 || {
		echo "Bail out! unshare(1) is missing (util-linux)"
		exit 1
	}
	REDMILTER_DNS_NETNS=1 exec unshare --net --mount --uts \
	    --propagation private -- bash "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR source=lib/redis.sh
. "$(dirname "$0")/lib/redis.sh"
# shellcheck source-path=SCRIPTDIR source=lib/milter.sh
. "$(dirname "$0")/lib/milter.sh"

MC=$TOP/tests/integration/lib/milter_client.py
need_program "$REDMILTER" python3 ip mount hostname
PY=$(python3 -c 'import sys; print(sys.executable)') ||
    bail_out "python3 cannot tell where it is"

slow=1
if [ -n "$TEST_PREFIX" ]; then
	slow=5
fi
TIMEOUT_MS=500 # redis_timeout
BOUND_MS=$(((3 * TIMEOUT_MS + 1000) * slow))
CLIENT_T=90 # seconds the client waits for a reply: longer than any hang
ONERR='451 4.3.0 Temporary policy lookup failure'
RULE='550 5.1.1 Mailbox not found'
DEAD=redis.invalid-test.example # only DNS could answer for it
LOCAL=redis.hosts-test.example  # in our /etc/hosts

# --- the namespace -------------------------------------------------------------

ip link set lo up || bail_out "ip link set lo up failed"
hostname dnstest || bail_out "cannot set the namespace's hostname"

etc=$H_TMP/etc
mkdir -p "$etc"
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:2\n' \
    >"$etc/resolv.conf"
printf '127.0.0.1 localhost\n127.0.0.3 %s\n::1 %s\n' "$LOCAL" "$LOCAL" \
    >"$etc/hosts"
printf 'hosts: files dns\n' >"$etc/nsswitch.conf"
for f in resolv.conf hosts nsswitch.conf; do
	[ -e "/etc/$f" ] || bail_out "/etc/$f is missing: nothing to bind-mount over"
	mount --bind "$etc/$f" "/etc/$f" ||
	    bail_out "mount --bind $etc/$f /etc/$f failed"
	cmp -s "$etc/$f" "/etc/$f" || bail_out "/etc/$f is not ours after the bind mount"
done

# The black hole: reads queries on 127.0.0.1:53, UDP and TCP, answers none,
# appends one line per query to its log.
cat >"$H_TMP/blackhole.py" <<'EOF'
import socket, sys, threading
log, ready = sys.argv[1], sys.argv[2]
lock = threading.Lock()
def note(what):
    with lock, open(log, "a") as f:
        f.write(what + "\n")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 53))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 53))
t.listen(64)
held = []
def tcp():
    while True:
        c, _ = t.accept()
        held.append(c) # kept open, never read back to
        note("tcp")
threading.Thread(target=tcp, daemon=True).start()
open(ready, "w").close()
while True:
    u.recvfrom(4096)
    note("udp")
EOF
: >"$H_TMP/dns.log"
spawn "$PY" "$H_TMP/blackhole.py" "$H_TMP/dns.log" "$H_TMP/dns.ready" \
    >"$H_TMP/blackhole.err" 2>&1
wait_for 10 test -e "$H_TMP/dns.ready" ||
    bail_out "the black-hole DNS server did not start: $(cat "$H_TMP/blackhole.err")"

# queries - how many queries the black hole has had
queries() {
	wc -l <"$H_TMP/dns.log" | tr -d ' '
}

# The fake Sentinel: answers SENTINEL get-master-addr-by-name with HOST and
# PORT, AUTH and PING with OK and PONG, anything else with an error.
cat >"$H_TMP/sentinel.py" <<'EOF'
import socketserver, sys
host, port, ready = sys.argv[1], sys.argv[2], sys.argv[3]
def bulk(s):
    b = s.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)
class H(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line.startswith(b"*"):
                return
            args = []
            for _ in range(int(line[1:])):
                n = int(self.rfile.readline()[1:])
                args.append(self.rfile.read(n + 2)[:n].decode().lower())
            if args[0] == "sentinel":
                self.wfile.write(b"*2\r\n" + bulk(host) + bulk(port))
            elif args[0] == "auth":
                self.wfile.write(b"+OK\r\n")
            elif args[0] == "ping":
                self.wfile.write(b"+PONG\r\n")
            else:
                self.wfile.write(b"-ERR unknown command\r\n")
socketserver.ThreadingTCPServer.daemon_threads = True
s = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
with open(ready + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
import os
os.rename(ready + ".tmp", ready)
s.serve_forever()
EOF

# fake_sentinel NAME HOST PORT - start one; FAKE_PORT is where it listens
fake_sentinel() {
	spawn "$PY" "$H_TMP/sentinel.py" "$2" "$3" "$H_TMP/$1.port" \
	    >"$H_TMP/$1.err" 2>&1
	wait_for 10 test -s "$H_TMP/$1.port" ||
	    bail_out "fake Sentinel $1 did not start: $(cat "$H_TMP/$1.err")"
	FAKE_PORT=$(cat "$H_TMP/$1.port")
}

# session RCPT... - one milter session, a RCPT for each ADDR; REPLIES: the
# RCPT replies, one a line; TIMES: each one's time in ms, blank-separated;
# SESSION_MS: from the client's start to its last reply
session() {
	local steps=(run +optneg +connect client.test.example 4 40000 127.0.0.1
	    +helo client.test.example +mail '<sender@example.org>') a t0 t1
	for a in "$@"; do
		steps+=(+rcpt "$a")
	done
	steps+=(+abort +quit)
	t0=$(date +%s%N)
	run "$PY" "$MC" -s "$MILTER_SOCKET" -T "$CLIENT_T" -t "${steps[@]}"
	t1=$(date +%s%N)
	SESSION_MS=$(((t1 - t0) / 1000000))
	REPLIES=$(sed -n 's/^rcpt: \(.*\) \[[0-9]* ms\]$/\1/p' <<<"$OUT")
	TIMES=$(sed -n 's/^rcpt: .* \[\([0-9]*\) ms\]$/\1/p' <<<"$OUT" |
	    paste -sd' ')
}

# bounded WHAT - SESSION_MS within BOUND_MS, as one test
bounded() {
	if [ "$SESSION_MS" -le "$BOUND_MS" ]; then
		pass "$1: answered ${SESSION_MS} ms after the session began, within 3 x redis_timeout + 1 s ($BOUND_MS ms): the resolver's wait is bounded by redis_timeout"
	else
		fail "$1: answered within 3 x redis_timeout + 1 s ($BOUND_MS ms)" \
		    "took ${SESSION_MS} ms (RCPTs: $TIMES ms): the lookup waited for the resolver" \
		    "$OUT" "$(milter_log_tail 10)"
	fi
}

plan 18

start_redis "bind 127.0.0.1 ::1"
[ "$(rcli SET redmilter:recipient:bad@example.com "$RULE")" = OK ] ||
    bail_out "redis-cli SET failed"

# The namespace is as described: the test name goes to DNS, which is dead.
run getent ahosts "$LOCAL"
is "$(awk '$2 == "STREAM" { print $1 }' <<<"$OUT" | sort | tr '\n' ' ')" \
    "127.0.0.3 ::1 " "$LOCAL: 127.0.0.3 and ::1, from our /etc/hosts"
before=$(queries)
timeout 2 getent hosts "$DEAD" >/dev/null 2>&1
is "$?" 124 "$DEAD: getent gets no answer in 2 s (the resolver is a black hole)"
isnt "$(queries)" "$before" "and the black hole was asked"

# --- 1. redis:// a name the resolver never answers -------------------------

before=$(queries)
start_milter "redis = redis://$DEAD:$REDIS_PORT/0" \
    "redis_timeout = $TIMEOUT_MS"
session '<bad@example.com>' '<other@example.com>'
is "$REPLIES" "$ONERR"$'\n'"$ONERR" \
    "redis://$DEAD: both RCPTs get exactly the on_error reply"
bounded "redis://$DEAD (RCPTs: $TIMES ms)"
ok "the log says why: resolving $DEAD: timed out after N ms" \
    wait_milter_log "resolving ${DEAD//./\\.}: timed out after [0-9]+ ms" 5
isnt "$(queries)" "$before" "the milter's lookups did go to the (dead) resolver"
ok "the milter stops cleanly" stop_milter

# --- 2. redis:// a name from /etc/hosts ------------------------------------------

before=$(queries)
start_milter "redis = redis://$LOCAL:$REDIS_PORT/0" \
    "redis_timeout = $TIMEOUT_MS"
session '<bad@example.com>' '<other@example.com>'
is "$REPLIES" "$RULE"$'\n'"continue" \
    "redis://$LOCAL (/etc/hosts: 127.0.0.3 refused, then ::1): the rule's reply, and continue for a recipient with none"
is "$(queries)" "$before" "a name from /etc/hosts asks no DNS server"
ok "the milter stops cleanly" stop_milter

# --- 3. sentinel:// names the resolver never answers ----------------------------

start_milter "redis = sentinel://sentinel-a.invalid-test.example:26379,sentinel-b.invalid-test.example/m" \
    "redis_timeout = $TIMEOUT_MS"
session '<bad@example.com>'
is "$REPLIES" "$ONERR" "sentinel://two unresolvable Sentinels: exactly the on_error reply"
bounded "sentinel://two unresolvable Sentinels (RCPT: $TIMES ms)"
ok "the milter stops cleanly" stop_milter

# --- 4. a Sentinel that names its primary by name ------------------------------

fake_sentinel good "$LOCAL" "$REDIS_PORT"
good=$FAKE_PORT
fake_sentinel dead "$DEAD" "$REDIS_PORT"
dead=$FAKE_PORT
start_milter "redis = sentinel://127.0.0.1:$good/m" \
    "redis_timeout = $TIMEOUT_MS"
session '<bad@example.com>'
is "$REPLIES" "$RULE" "a Sentinel naming the primary $LOCAL: the rule's reply"
restart_milter "redis = sentinel://127.0.0.1:$dead/m" \
    "redis_timeout = $TIMEOUT_MS"
session '<bad@example.com>'
is "$REPLIES" "$ONERR" "a Sentinel naming the primary $DEAD: exactly the on_error reply"
bounded "a Sentinel naming the primary $DEAD (RCPT: $TIMES ms)"
ok "the milter stops cleanly, lookups still waiting for the resolver" \
    stop_milter

done_testing
