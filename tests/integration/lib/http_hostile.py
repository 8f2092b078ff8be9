#!/usr/bin/python3
"""tests/integration/lib/http_hostile.py - hostile HTTP clients on a
metrics port, all at once, until told to stop.

usage: http_hostile.py PORT STOPFILE SECONDS [SLOW [IDLE]]

On 127.0.0.1:PORT (MG_HOST in the environment: another loopback
address), in this order:
  SLOW (default 4) slowloris clients: "GET /metrics HTTP/1.1\\r\\n" and
      then one byte of a header every 0.2 s, never the end of the head;
      one the server closed connects again;
  a wave of malformed requests, one connection each: a garbage request
      line, a head of 9,000 bytes, POST, PUT and DELETE /metrics, an
      HTTP/0.9 request ("GET /metrics" and no version) and a half-sent
      request ("GET /metr" and nothing more); a new wave every second;
  IDLE (default 200) connections that send nothing and are held open.
Prints "ready ..." once all are started, then runs until STOPFILE exists
or SECONDS have passed, and prints one line per kind of client:
  idle N connected=C refused=R closed_by_server=X
  slowloris connections=N bytes=B closed_by_server=X
  malformed KIND sent=N answered=A statuses=S,S,...   (sorted, unique;
      "closed" for a close without a status line)
Exits 0, or 1 if a connection could not even be started.
"""

import errno
import os
import select
import socket
import sys
import time

MALFORMED = [
    ("garbage", b"garbage\r\n\r\n"),
    ("oversize", b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"0" * 9000 +
     b"\r\n\r\n"),
    ("post", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0"
     b"\r\n\r\n"),
    ("put", b"PUT /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0"
     b"\r\n\r\n"),
    ("delete", b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("http09", b"GET /metrics\r\n"),
    ("half", b"GET /metr"),
]


class Conn:
    def __init__(self, kind, addr, data=b""):
        self.kind = kind
        self.data = data
        self.sent = 0
        self.got = b""
        self.connected = False
        self.done = False
        self.refused = False
        self.s = socket.socket(socket.AF_INET6 if ":" in addr[0]
                               else socket.AF_INET)
        self.s.setblocking(False)
        rc = self.s.connect_ex(addr)
        if rc == errno.ECONNREFUSED:
            self.refused = True
            self.finish()
        elif rc not in (0, errno.EINPROGRESS):
            raise OSError(rc, os.strerror(rc))

    def finish(self):
        if not self.done:
            self.done = True
            self.s.close()

    def status(self):
        if not self.got:
            return "closed"
        line = self.got.split(b"\r\n", 1)[0].split(b" ")
        return line[1].decode("ascii", "replace") if len(line) > 1 else "?"

    def on_write(self):
        if not self.connected:
            err = self.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.refused = err == errno.ECONNREFUSED
                self.finish()
                return
            self.connected = True
        if self.sent < len(self.data):
            try:
                self.sent += self.s.send(self.data[self.sent:])
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self.finish()

    def on_read(self):
        try:
            b = self.s.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            b = b""
        if b:
            self.got += b
        else:
            self.finish()


def main(argv):
    port, stopfile, secs = int(argv[1]), argv[2], float(argv[3])
    nslow = int(argv[4]) if len(argv) > 4 else 4
    nidle = int(argv[5]) if len(argv) > 5 else 200
    addr = (os.environ.get("MG_HOST", "127.0.0.1"), port)
    end = time.monotonic() + secs
    slow = [Conn("slow", addr, b"GET /metrics HTTP/1.1\r\n")
            for _ in range(nslow)]
    slow_conns, slow_bytes, slow_closed = nslow, 0, 0
    bad = [Conn(k, addr, d) for k, d in MALFORMED]
    idle = [Conn("idle", addr) for _ in range(nidle)]
    _, w, _ = select.select([], [c.s for c in idle if not c.done], [], 2.0)
    for c in idle:
        if c.s in w:
            c.on_write()
    print("ready: %d of %d idle connections connected at once" %
          (sum(c.connected for c in idle), nidle), flush=True)
    next_byte = next_wave = time.monotonic()
    while time.monotonic() < end and not os.path.exists(stopfile):
        now = time.monotonic()
        if now >= next_byte:
            next_byte = now + 0.2
            for c in slow:
                if c.connected and not c.done and c.sent >= len(c.data):
                    c.data += b"X"
                    slow_bytes += 1
        if now >= next_wave:
            next_wave = now + 1.0
            bad += [Conn(k, addr, d) for k, d in MALFORMED]
        live = [c for c in slow + bad + idle if not c.done]
        rl = [c.s for c in live if c.connected]
        wl = [c.s for c in live
              if not c.connected or c.sent < len(c.data)]
        r, w, _ = select.select(rl, wl, [], 0.05)
        by = {c.s: c for c in live}
        for s in w:
            by[s].on_write()
        for s in r:
            c = by[s]
            if not c.done:
                c.on_read()
        for i, c in enumerate(slow):
            if c.done:
                slow_closed += 1
                slow_conns += 1
                slow[i] = Conn("slow", addr, b"GET /metrics HTTP/1.1\r\n")
    print("idle %d connected=%d refused=%d closed_by_server=%d" %
          (nidle, sum(c.connected for c in idle),
           sum(c.refused for c in idle),
           sum(c.done and not c.refused for c in idle)))
    print("slowloris connections=%d bytes=%d closed_by_server=%d" %
          (slow_conns, slow_bytes, slow_closed))
    for k, _ in MALFORMED:
        cs = [c for c in bad if c.kind == k]
        ans = [c for c in cs if c.done and not c.refused]
        print("malformed %s sent=%d answered=%d statuses=%s" %
              (k, sum(c.sent > 0 for c in cs), len(ans),
               ",".join(sorted(set(c.status() for c in ans))) or "-"))
    for c in slow + bad + idle:
        c.finish()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except OSError as e:
        print("http_hostile: %s" % e, file=sys.stderr)
        sys.exit(1)
