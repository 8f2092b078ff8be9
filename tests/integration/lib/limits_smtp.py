#!/usr/bin/env python3
"""tests/integration/lib/limits_smtp.py - limits.sh's SMTP client (the
session itself is lib/smtp.py's).

one   -p PORT [-S SOURCE] [-a USER:PASS] -f FROM -t RCPT... [--gate DIR]
      [--abort rset|quit]
      one session, printed as lib/smtp.py prints it ("S: reply line",
      "C: command").  --gate: after the last RCPT, create DIR/ready and
      wait for DIR/go before DATA.  --abort: RSET (then QUIT), or QUIT,
      instead of DATA.
slide -p PORT -a USER:PASS -f FROM -t RCPT --period S --limit N
      one message; at half the period, one attempt after the other until
      1.35 periods (earlier when attempts are slow); then judged (below)
      for that period.
crowd -p PORT -a USER:PASS -f FROM -t RCPT --workers W --each K --limit N
      W sessions at once, each K messages one after the other; judged for
      an infinite period.

Judging a run: a message's commit (the milter's end of DATA) lies between
the client's receipt of the RCPT reply (e) and of the reply to the message
(d); its check lies between the RCPT's sending (s) and e.  An accepted
message that N other accepted messages surely precede within the period
(d_i < s_j and e_i > e_j - period + tol) is a "violation"; a refused one
that fewer than N accepted messages can precede (d_i > s_j - period - tol
and e_i < e_j) is "wrongful".  tol is a counter bucket (period/60) and
50 ms.  Output: "accepted A refused R other O", then one line per
violation, wrongful refusal and other reply, then "trace" lines.
"""

import argparse
import base64
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtp import Closed, Session  # noqa: E402

RATE = b"450 4.7.1 Rate limit exceeded, try again later"


def message(a):
    return b"\r\n".join([
        ("From: <%s>" % a.sender).encode(),
        ("To: " + ", ".join("<%s>" % r for r in a.rcpt)).encode(),
        b"Subject: limits.sh",
        b"",
        b"A limits.sh test message.",
        b"."])


def transaction(a, rec):
    """one session; rec gets s, e, d (ns), rcpt (first RCPT reply)"""
    s = Session("127.0.0.1", a.port, a.timeout, source=a.source, echo=False)
    try:
        if s.reply() // 100 != 2:
            s.cmd(b"QUIT")
            return s
        s.cmd(b"EHLO client.test")
        if a.auth:
            user, _, pw = a.auth.partition(":")
            tok = base64.b64encode(b"\0" + user.encode() + b"\0" +
                                   pw.encode())
            if s.cmd(b"AUTH PLAIN " + tok) != 235:
                s.cmd(b"QUIT")
                return s
        if s.cmd(("MAIL FROM:<%s>" % a.sender).encode()) // 100 != 2:
            s.cmd(b"QUIT")
            return s
        accepted = 0
        for i, r in enumerate(a.rcpt):
            t = time.time_ns()
            code = s.cmd(("RCPT TO:<%s>" % r).encode())
            if i == 0:
                rec["s"], rec["e"], rec["rcpt"] = t, time.time_ns(), s.last
            if code == 421:
                return s
            if code // 100 == 2:
                accepted += 1
        if getattr(a, "gate", None):
            open(os.path.join(a.gate, "ready"), "w").close()
            end = time.monotonic() + a.timeout
            while not os.path.exists(os.path.join(a.gate, "go")):
                if time.monotonic() > end:
                    raise Closed(b"(gate never opened)")
                time.sleep(0.02)
        if getattr(a, "abort", None) == "rset":
            s.cmd(b"RSET")
        elif getattr(a, "abort", None) == "quit":
            pass
        elif accepted:
            if s.cmd(b"DATA") == 354:
                s.send(message(a), b"<message>")
                if s.reply() == 250:
                    rec["d"] = time.time_ns()
        s.cmd(b"QUIT")
    except Closed as e:
        s.log.append(b"S: " + e.args[0])
    finally:
        s.sock.close()
    return s


def one(a):
    rec = {}
    try:
        s = transaction(a, rec)
    except OSError as e:
        print("lsmtp.py: connect: %s" % e, file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    out.write(b"".join(l + b"\n" for l in s.log))
    return 0


def attempt(a):
    rec = {"rcpt": b"(none)", "d": None, "t": time.time_ns()}
    try:
        transaction(a, rec)
    except OSError as e:
        rec["rcpt"] = ("(connect: %s)" % e).encode()
    rec.setdefault("s", time.time_ns())
    rec.setdefault("e", rec["s"])
    return rec


def judge(recs, period_ns, n, t0):
    tol = period_ns // 60 + 50 * 10**6
    acc = [r for r in recs if r["d"] is not None]
    refused = [r for r in recs if r["d"] is None and r["rcpt"] == RATE]
    other = [r for r in recs if r["d"] is None and r["rcpt"] != RATE]
    lines = ["accepted %d refused %d other %d" %
             (len(acc), len(refused), len(other))]

    def at(r):
        return "%+.3f s" % ((r["s"] - t0) / 1e9)

    for j in acc:
        k = sum(1 for i in acc if i is not j and i["d"] < j["s"] and
                i["e"] > j["e"] - period_ns + tol)
        if k >= n:
            lines.append("violation: accepted at %s after %d accepted "
                         "within the period" % (at(j), k))
    for j in refused:
        k = sum(1 for i in acc if i["d"] > j["s"] - period_ns - tol and
                i["e"] < j["e"])
        if k < n:
            lines.append("wrongful: refused at %s with only %d accepted "
                         "within the period" % (at(j), k))
    for j in other:
        lines.append("other: %s at %s" %
                     (j["rcpt"].decode("ascii", "replace"), at(j)))
    for r in sorted(recs, key=lambda r: r["s"]):
        lines.append("trace: %s rcpt %.0f ms: %s%s" % (
            at(r), (r["e"] - r["s"]) / 1e6,
            r["rcpt"].decode("ascii", "replace"),
            ", queued after %.0f ms" % ((r["d"] - r["s"]) / 1e6)
            if r["d"] is not None else ""))
    print("\n".join(lines))


def slide(a):
    p = int(a.period * 1e9)
    recs = [attempt(a)]
    first = recs[0]
    if first["d"] is None:
        print("accepted 0 refused 0 other 1\nother: first message: %s" %
              first["rcpt"].decode("ascii", "replace"))
        return 0
    t0 = first["s"]
    while time.time_ns() < first["d"] + p // 2:
        time.sleep(0.01)
    # Until 1.35 periods, and no attempt whose check could come after the
    # burst's first message leaves the window (1.5 periods): a slow
    # decision (valgrind, a busy machine) ends the run earlier.
    slowest = first["e"] - first["t"]
    while True:
        now = time.time_ns()
        if now >= first["d"] + p * 135 // 100 or \
                now + 2 * slowest >= first["d"] + p * 3 // 2 - p // 60:
            break
        r = attempt(a)
        slowest = max(slowest, r["e"] - r["t"])
        recs.append(r)
        time.sleep(0.05)
    judge(recs, p, a.limit, t0)
    return 0


def crowd(a):
    recs, lock = [], threading.Lock()
    barrier = threading.Barrier(a.workers)

    def worker():
        barrier.wait()
        for _ in range(a.each):
            r = attempt(a)
            with lock:
                recs.append(r)

    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    judge(recs, 10**18, a.limit, min(r["s"] for r in recs))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["one", "slide", "crowd"])
    p.add_argument("-p", "--port", type=int, required=True)
    p.add_argument("-S", "--source")
    p.add_argument("-a", "--auth")
    p.add_argument("-f", "--from", dest="sender", required=True)
    p.add_argument("-t", "--to", dest="rcpt", action="append", default=[])
    p.add_argument("--gate")
    p.add_argument("--abort", choices=["rset", "quit"])
    p.add_argument("--period", type=float, default=4)
    p.add_argument("--limit", type=int, default=3)
    p.add_argument("--workers", type=int, default=20)
    p.add_argument("--each", type=int, default=3)
    p.add_argument("-T", "--timeout", type=float, default=60)
    a = p.parse_args()
    return {"one": one, "slide": slide, "crowd": crowd}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
