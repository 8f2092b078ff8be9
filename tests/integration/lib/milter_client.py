#!/usr/bin/env python3
r"""tests/integration/lib/milter_client.py - a milter-protocol (v6) client for
hostile input: whatever an MTA could send, and what no MTA should.

usage: milter_client.py -s SOCKET [-T SECONDS] [-t] run STEP...
       milter_client.py -s SOCKET [-T SECONDS] poll --want TEXT --rcpt ADDR
                        [--from ADDR] [--max SECONDS] [--since NS]
       milter_client.py -s SOCKET [-T SECONDS] hold N --want TEXT --rcpt ADDR
                        [--from ADDR] [--pause SECONDS]

SOCKET is unix:PATH or inet:PORT@127.0.0.1 (loopback only: anything else is
refused).  -T bounds every read and write (default 10 s).  -t (timed)
adds " [N ms]" to each reply line of run: the time from the command's
send to its final reply.

run: the STEPs, in order, on one connection.  A step is a word starting
with '+' followed by its arguments (the words up to the next '+' word).
Every argument goes through Python's escape decoding first, so '\x00',
'\r\n', '\xff' and '\\' give those bytes; a literal leading '+' is '\x2b'.

  +optneg [VERSION ACTIONS PROTOCOL]   SMFIC_OPTNEG (default 6 0x1ff 0x1fffff)
  +macro CMD [NAME=VALUE...]           SMFIC_MACRO for command letter CMD
  +connect HOST FAMILY [PORT ADDR]     FAMILY: 4, 6, L (unix) or U (unknown)
  +helo NAME                           SMFIC_HELO
  +mail [ARG...]                       SMFIC_MAIL (no ARG: an empty packet)
  +rcpt [ARG...]                       SMFIC_RCPT
  +eom                                 SMFIC_BODYEOB
  +abort / +quit                       SMFIC_ABORT / SMFIC_QUIT (no reply)
  +pkt CMD [DATA]                      any packet: letter CMD, raw DATA
  +raw BYTES                           bytes as they are, no framing
  +random N SEED                       N pseudo-random bytes (from SEED), no
                                       framing
  +read                                read and print one reply
  +expect-close                        wait (at most -T) for the milter to
                                       close; prints "closed", "open" (it
                                       did not) or the packet it sent
  +sleep SECONDS
  +close                               close the connection at once
  +reconnect                           close, and open a new connection

Output, one line per reply: "STEP: REPLY", where REPLY is "continue",
"accept", "reject", "tempfail", "discard", the text of an SMFIR_REPLYCODE
("550 5.7.1 Go away"; CR and LF and every other byte outside printable
ASCII shown as \r, \n, \xNN), "delrcpt <ADDR>", "quarantine REASON",
"addheader NAME: VALUE", and
"(closed)" or "(timeout)" when no reply came.  A send to a closed
connection prints "STEP: (closed)".  Exit status 0 unless usage error (2).

poll: a transaction (OPTNEG, CONNECT, HELO, MAIL, RCPT, QUIT; a new
connection each time) every 20 ms until the RCPT reply is exactly TEXT;
prints "poll: ok ms=N tries=N" and exits 0, or "poll: gave up ms=N
tries=N last=REPLY" and exits 1 after --max seconds (default 5).  With
--since NS (nanoseconds since the epoch, as `date +%s%N`) the time counts
from then, start-up of this program included.

hold: N sessions at once (OPTNEG, CONNECT, HELO on each), then "hold: open
N"; after --pause seconds (default 3) one transaction on each (MAIL, RCPT,
ABORT; the RCPT reply must be TEXT), then "hold: replies ok=N bad=N" (and
"hold: bad REPLY" for the first few wrong ones); after another pause, all
closed, then "hold: closed".  Exits 0 when every reply was TEXT.
"""

import codecs
import ipaddress
import random
import socket
import struct
import sys
import time

TIMEOUT = 10.0
TIMED = False

REPLY_NAMES = {
    b"c": "continue",
    b"a": "accept",
    b"r": "reject",
    b"t": "tempfail",
    b"d": "discard",
    b"s": "skip",
    b"f": "conn_fail",
    b"4": "shutdown",
}
# Packets that come before the final reply of a command.
INTERIM = b"p-+2hmiqebl"


def show(data):
    """bytes as printable ASCII, everything else escaped"""
    out = []
    for b in data:
        if b == 13:
            out.append("\\r")
        elif b == 10:
            out.append("\\n")
        elif b == 92:
            out.append("\\\\")
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def unescape(s):
    return codecs.escape_decode(s.encode("utf-8", "surrogateescape"))[0]


def parse_target(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        return socket.AF_UNIX, spec.split(":", 1)[1]
    if spec.startswith("inet:"):
        port, _, host = spec[5:].partition("@")
        if not ipaddress.ip_address(host).is_loopback:
            raise SystemExit("milter_client.py: refusing %s: not loopback" %
                             spec)
        return socket.AF_INET, (host, int(port))
    raise SystemExit("milter_client.py: want unix:PATH or inet:PORT@127.0.0.1")


class Closed(Exception):
    pass


class Conn:
    def __init__(self, target, timeout):
        family, addr = target
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.buf = b""

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            raise Closed("(closed)")

    def send(self, cmd, data=b""):
        self.send_raw(struct.pack(">I", len(data) + 1) + cmd + data)

    def _need(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise Closed("(timeout)")
            except OSError:
                raise Closed("(closed)")
            if not chunk:
                raise Closed("(closed)")
            self.buf += chunk

    def packet(self):
        self._need(4)
        (n,) = struct.unpack(">I", self.buf[:4])
        if n < 1 or n > 16 * 1024 * 1024:
            raise Closed("(bad packet length %d)" % n)
        self._need(4 + n)
        cmd, data = self.buf[4:5], self.buf[5:4 + n]
        self.buf = self.buf[4 + n:]
        return cmd, data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def describe(cmd, data):
    if cmd in REPLY_NAMES:
        return REPLY_NAMES[cmd]
    if cmd == b"y":
        return show(data.rstrip(b"\0"))
    if cmd == b"-":
        return "delrcpt " + show(data.rstrip(b"\0"))
    if cmd == b"q":
        return "quarantine " + show(data.rstrip(b"\0"))
    if cmd == b"h":
        name, _, value = data.partition(b"\0")
        return "addheader %s: %s" % (show(name), show(value.rstrip(b"\0")))
    if cmd == b"O":
        if len(data) >= 12:
            v, a, p = struct.unpack(">III", data[:12])
            return "version=%d actions=0x%x protocol=0x%x" % (v, a, p)
        return "optneg(short: %s)" % show(data)
    return "packet %s %s" % (show(cmd), show(data))


def final_reply(c):
    """the replies up to the final one, as text lines"""
    lines = []
    while True:
        cmd, data = c.packet()
        lines.append(describe(cmd, data))
        if cmd not in INTERIM:
            return lines


def strings(args):
    return b"".join(a + b"\0" for a in args)


def connect_packet(args):
    host, fam = args[0], args[1] if len(args) > 1 else b"4"
    data = host + b"\0" + fam[:1]
    if fam[:1] != b"U" or len(args) > 2:
        port = int(args[2]) if len(args) > 2 else 40000
        addr = args[3] if len(args) > 3 else b"127.0.0.1"
        data += struct.pack(">H", port) + addr + b"\0"
    return data


def split_steps(words):
    steps = []
    for w in words:
        if w.startswith("+"):
            steps.append((w[1:], []))
        elif not steps:
            raise SystemExit("milter_client.py: %r before the first +step" % w)
        else:
            steps[-1][1].append(unescape(w))
    return steps


def run(target, timeout, words):
    c = Conn(target, timeout)
    out = sys.stdout
    for name, args in split_steps(words):
        try:
            if name == "optneg":
                v = [int(x, 0) for x in args] if args else [6, 0x1FF,
                                                            0x1FFFFF]
                c.send(b"O", struct.pack(">III", *v))
                cmd, data = c.packet()
                out.write("optneg: %s\n" % describe(cmd, data))
            elif name == "macro":
                body = args[0][:1] if args else b""
                for a in args[1:]:
                    k, _, v = a.partition(b"=")
                    body += k + b"\0" + v + b"\0"
                c.send(b"D", body)
            elif name in ("connect", "helo", "mail", "rcpt", "eom"):
                t0 = time.monotonic()
                if name == "connect":
                    c.send(b"C", connect_packet(args))
                elif name == "helo":
                    c.send(b"H", strings(args[:1]))
                elif name == "mail":
                    c.send(b"M", strings(args))
                elif name == "rcpt":
                    c.send(b"R", strings(args))
                else:
                    c.send(b"E")
                lines = final_reply(c)
                ms = " [%d ms]" % ((time.monotonic() - t0) * 1000) \
                    if TIMED else ""
                for l in lines:
                    out.write("%s: %s%s\n" % (name, l, ms))
            elif name == "abort":
                c.send(b"A")
            elif name == "quit":
                c.send(b"Q")
            elif name == "pkt":
                c.send(args[0][:1], args[1] if len(args) > 1 else b"")
            elif name == "raw":
                c.send_raw(b"".join(args))
            elif name == "random":
                rnd = random.Random(int(args[1]))
                c.send_raw(bytes(rnd.randrange(256)
                                 for _ in range(int(args[0]))))
            elif name == "read":
                for l in final_reply(c):
                    out.write("read: %s\n" % l)
            elif name == "expect-close":
                try:
                    cmd, data = c.packet()
                    out.write("expect-close: %s\n" % describe(cmd, data))
                except Closed as e:
                    out.write("expect-close: %s\n" %
                              ("closed" if str(e) == "(closed)" else
                               "open" if str(e) == "(timeout)" else str(e)))
            elif name == "sleep":
                time.sleep(float(args[0]))
            elif name == "close":
                c.close()
            elif name == "reconnect":
                c.close()
                c = Conn(target, timeout)
            else:
                raise SystemExit("milter_client.py: unknown step +%s" % name)
        except Closed as e:
            out.write("%s: %s\n" % (name, e))
        out.flush()
    c.close()
    return 0


def probe(target, timeout, sender, rcpt):
    c = Conn(target, timeout)
    try:
        c.send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
        c.packet()
        c.send(b"D", b"C" + strings([b"j", b"mx.test.example"]))
        c.send(b"C", connect_packet([b"client.test.example", b"4", b"40000",
                                     b"127.0.0.1"]))
        final_reply(c)
        c.send(b"H", strings([b"client.test.example"]))
        final_reply(c)
        c.send(b"M", strings([sender]))
        final_reply(c)
        c.send(b"R", strings([rcpt]))
        got = final_reply(c)[-1]
        c.send(b"Q")
        return got
    except Closed as e:
        return str(e)
    finally:
        c.close()


def poll(target, timeout, argv):
    want, limit, since = None, 5.0, None
    sender, rcpt = b"<probe@sender.example>", None
    i = 0
    while i < len(argv):
        if argv[i] == "--want":
            want = argv[i + 1]
        elif argv[i] == "--max":
            limit = float(argv[i + 1])
        elif argv[i] == "--from":
            sender = unescape(argv[i + 1])
        elif argv[i] == "--rcpt":
            rcpt = unescape(argv[i + 1])
        elif argv[i] == "--since":
            since = int(argv[i + 1])
        else:
            raise SystemExit("milter_client.py: poll: unknown %s" % argv[i])
        i += 2
    if want is None or rcpt is None:
        raise SystemExit("milter_client.py: poll needs --want and --rcpt")
    t0 = time.monotonic()
    if since is not None:  # the caller's clock started earlier
        t0 -= max(0, time.time_ns() - since) / 1e9
    tries = 0
    while True:
        tries += 1
        try:
            got = probe(target, timeout, sender, rcpt)
        except OSError as e:
            got = "(connect: %s)" % e
        ms = int((time.monotonic() - t0) * 1000)
        if got == want:
            print("poll: ok ms=%d tries=%d" % (ms, tries))
            return 0
        if time.monotonic() - t0 > limit:
            print("poll: gave up ms=%d tries=%d last=%s" % (ms, tries, got))
            return 1
        time.sleep(0.02)


def hold(target, timeout, argv):
    n, want, pause = int(argv[0]), None, 3.0
    sender, rcpt = b"<probe@sender.example>", None
    i = 1
    while i < len(argv):
        if argv[i] == "--want":
            want = argv[i + 1]
        elif argv[i] == "--pause":
            pause = float(argv[i + 1])
        elif argv[i] == "--from":
            sender = unescape(argv[i + 1])
        elif argv[i] == "--rcpt":
            rcpt = unescape(argv[i + 1])
        else:
            raise SystemExit("milter_client.py: hold: unknown %s" % argv[i])
        i += 2
    if want is None or rcpt is None:
        raise SystemExit("milter_client.py: hold needs --want and --rcpt")
    conns = []
    for k in range(n):
        c = Conn(target, timeout)
        c.send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
        c.packet()
        c.send(b"C", connect_packet([b"h%d.test.example" % k, b"4",
                                     b"40000", b"127.0.0.1"]))
        final_reply(c)
        c.send(b"H", strings([b"h%d.test.example" % k]))
        final_reply(c)
        conns.append(c)
    print("hold: open %d" % len(conns), flush=True)
    time.sleep(pause)
    ok = bad = 0
    for c in conns:
        try:
            c.send(b"M", strings([sender]))
            final_reply(c)
            c.send(b"R", strings([rcpt]))
            got = final_reply(c)[-1]
            c.send(b"A")
        except Closed as e:
            got = str(e)
        if got == want:
            ok += 1
        else:
            bad += 1
            if bad <= 5:
                print("hold: bad %s" % got, flush=True)
    print("hold: replies ok=%d bad=%d" % (ok, bad), flush=True)
    time.sleep(pause)
    for c in conns:
        try:
            c.send(b"Q")
        except Closed:
            pass
        c.close()
    print("hold: closed", flush=True)
    return 0 if bad == 0 else 1


def main(argv):
    global TIMEOUT, TIMED
    spec = None
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "-s":
            spec = argv[i + 1]
        elif argv[i] == "-T":
            TIMEOUT = float(argv[i + 1])
        elif argv[i] == "-t":
            TIMED = True
            i += 1
            continue
        else:
            break
        i += 2
    if spec is None or i >= len(argv):
        sys.stderr.write(__doc__)
        return 2
    target = parse_target(spec)
    if argv[i] == "run":
        return run(target, TIMEOUT, argv[i + 1:])
    if argv[i] == "poll":
        return poll(target, TIMEOUT, argv[i + 1:])
    if argv[i] == "hold":
        return hold(target, TIMEOUT, argv[i + 1:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.stdout.reconfigure(errors="surrogateescape")
    sys.exit(main(sys.argv[1:]))
