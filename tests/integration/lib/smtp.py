#!/usr/bin/env python3
"""tests/integration/lib/smtp.py - one SMTP transaction, every reply shown.

usage: smtp.py -p PORT [-s HOST] [-H NAME] [--helo-verb EHLO|HELO]
               [-a USER:PASSWORD] [-k] -f SENDER -t RCPT [-t RCPT ...]
               [--subject TEXT] [-T SECONDS]

Connects to HOST (127.0.0.1) on PORT with a raw socket (no smtplib: nothing
is rewritten, retried or hidden), and sends, waiting for each reply before
the next command (no pipelining):

    EHLO NAME (or HELO), AUTH PLAIN when -a is given, MAIL FROM:<SENDER>,
    RCPT TO:<RCPT> for each -t, DATA and a small message when at least one
    recipient got a 2xx, then QUIT.

SENDER '' is the null sender (MAIL FROM:<>).  When MAIL FROM is refused the
RCPT commands are not sent.  A banner other than 2xx is answered with QUIT,
unless -k (keep going) is given: to see what the server answers to MAIL
FROM after a 554 banner.  A reply that ends the session early (421, a closed
connection) stops the script.

Output, one line each, on stdout, bytes exactly as they were on the wire
minus the CRLF:

    S: <reply line>       the banner, and every line of every reply
    C: <command>          each command sent ("C: <message>" for the message)

and on failure one last line "S: (closed)" or "S: (timeout)".  Exit status:
0 when the session ran to its QUIT reply, 1 when the server ended it first
(a 421 reply, a closed connection) or timed out, 2 on a usage error or a
connect failure.
"""

import argparse
import base64
import socket
import sys

OUT = sys.stdout.buffer


def emit(tag, data):
    OUT.write(tag + data + b"\n")
    OUT.flush()


class Closed(Exception):
    pass


class Session:
    """one SMTP connection; every line sent and received goes to log
    ("S: ...", "C: ..."), and to stdout too with echo; source binds the
    client's end to that address (limits.sh's many clients)"""

    def __init__(self, host, port, timeout, source=None, echo=True):
        self.log = []
        self.echo = echo
        self.last = b""
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.buf = b""

    def record(self, tag, data):
        self.log.append(tag + data)
        if self.echo:
            emit(tag, data)

    def line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                raise Closed(b"(timeout)")
            except OSError:
                raise Closed(b"(closed)")
            if not chunk:
                raise Closed(b"(closed)")
            self.buf += chunk
        l, self.buf = self.buf.split(b"\n", 1)
        if l.endswith(b"\r"):
            l = l[:-1]
        return l

    def reply(self):
        """read one reply, print every line; return its code (int)"""
        while True:
            l = self.line()
            self.record(b"S: ", l)
            if len(l) < 4 or l[3:4] != b"-":
                break
        self.last = l
        try:
            return int(l[:3])
        except ValueError:
            return 0

    def send(self, data, shown=None):
        self.record(b"C: ", shown if shown is not None else data)
        try:
            self.sock.sendall(data + b"\r\n")
        except OSError:
            raise Closed(b"(closed)")

    def cmd(self, data):
        self.send(data)
        return self.reply()


def message(args):
    lines = [
        "From: <%s>" % args.sender,
        "To: " + ", ".join("<%s>" % r for r in args.rcpt),
        "Subject: " + args.subject,
        "Message-ID: <redmilter-test.%d@client.test>" % id(args),
        "",
        "This is a redmilter test message.",
    ]
    out = []
    for l in lines:
        if l.startswith("."):
            l = "." + l
        out.append(l.encode("utf-8"))
    out.append(b".")
    return b"\r\n".join(out)


def transaction(s, args):
    code = s.reply()
    if code == 421:
        return 1
    if code // 100 != 2 and not args.keep_going:
        s.cmd(b"QUIT")
        return 0
    code = s.cmd(("%s %s" % (args.helo_verb, args.helo)).encode("utf-8"))
    if code == 421:
        return 1
    if args.auth:
        user, _, password = args.auth.partition(":")
        token = base64.b64encode(
            b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8"))
        code = s.cmd(b"AUTH PLAIN " + token)
        if code == 421:
            return 1
    code = s.cmd(("MAIL FROM:<%s>" % args.sender).encode("utf-8"))
    if code == 421:
        return 1
    accepted = 0
    if code // 100 == 2:
        for r in args.rcpt:
            code = s.cmd(("RCPT TO:<%s>" % r).encode("utf-8"))
            if code == 421:
                return 1
            if code // 100 == 2:
                accepted += 1
    if accepted:
        code = s.cmd(b"DATA")
        if code == 421:
            return 1
        if code == 354:
            s.send(message(args), b"<message>")
            if s.reply() == 421:
                return 1
    s.cmd(b"QUIT")
    return 0


def main():
    p = argparse.ArgumentParser(description="one SMTP transaction")
    p.add_argument("-s", "--server", default="127.0.0.1")
    p.add_argument("-p", "--port", type=int, required=True)
    p.add_argument("-H", "--helo", default="client.test")
    p.add_argument("--helo-verb", default="EHLO", choices=["EHLO", "HELO"])
    p.add_argument("-a", "--auth", help="USER:PASSWORD for AUTH PLAIN")
    p.add_argument("-f", "--from", dest="sender", required=True)
    p.add_argument("-t", "--to", dest="rcpt", action="append", default=[])
    p.add_argument("--subject", default="redmilter test")
    p.add_argument("-k", "--keep-going", action="store_true",
                   help="go on after a 5xx or 4xx banner (but not 421)")
    p.add_argument("-T", "--timeout", type=float, default=30.0)
    args = p.parse_args()
    if not args.rcpt:
        p.error("at least one -t RCPT")
    try:
        s = Session(args.server, args.port, args.timeout)
    except OSError as e:
        print("smtp.py: connect %s:%d: %s" % (args.server, args.port, e),
              file=sys.stderr)
        return 2
    try:
        return transaction(s, args)
    except Closed as e:
        emit(b"S: ", e.args[0])
        return 1
    finally:
        s.sock.close()


if __name__ == "__main__":
    sys.exit(main())
