#!/usr/bin/env python3
r"""tests/integration/lib/smtp_raw.py - an SMTP session of raw lines.

usage: smtp_raw.py -p PORT [-T SECONDS] LINE...

Connects to 127.0.0.1:PORT, reads the banner, then sends each LINE (after
Python escape decoding, so '\xc3\xb8', '\xff' or '\x00' give those bytes)
followed by CR LF, and reads the reply before the next one: no pipelining.
Special LINEs:

  +message     after a 354: a small message, then "." (no reply is read
               before the dot's)
  +close       close the connection at once, whatever the state
  +halfline    send "RCPT TO:<half" with no CR LF, then close

Output, like smtp.py: "S: line" for every reply line, "C: line" for every
line sent, non-printable bytes shown as \xNN; "S: (closed)" or
"S: (timeout)" when a reply did not come.  Exit status 0, or 2 on a usage
or connect error.
"""

import codecs
import socket
import sys


def show(data):
    out = []
    for b in data:
        if 32 <= b < 127 and b != 92:
            out.append(chr(b))
        elif b == 92:
            out.append("\\\\")
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


class Closed(Exception):
    pass


class Session:
    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                raise Closed("(timeout)")
            except OSError:
                raise Closed("(closed)")
            if not chunk:
                raise Closed("(closed)")
            self.buf += chunk
        l, self.buf = self.buf.split(b"\n", 1)
        return l[:-1] if l.endswith(b"\r") else l

    def reply(self):
        while True:
            l = self.line()
            print("S: " + show(l), flush=True)
            if len(l) < 4 or l[3:4] != b"-":
                return

    def send(self, data):
        print("C: " + show(data), flush=True)
        try:
            self.sock.sendall(data + b"\r\n")
        except OSError:
            raise Closed("(closed)")


def main(argv):
    port, timeout, lines = None, 30.0, []
    i = 0
    while i < len(argv):
        if argv[i] == "-p":
            port = int(argv[i + 1])
            i += 2
        elif argv[i] == "-T":
            timeout = float(argv[i + 1])
            i += 2
        else:
            lines.append(argv[i])
            i += 1
    if port is None:
        sys.stderr.write(__doc__)
        return 2
    try:
        s = Session(port, timeout)
    except OSError as e:
        sys.stderr.write("smtp_raw.py: connect: %s\n" % e)
        return 2
    try:
        s.reply()
        for l in lines:
            if l == "+close":
                print("C: (close)", flush=True)
                break
            if l == "+halfline":
                print("C: RCPT TO:<half (no CR LF, then close)", flush=True)
                s.sock.sendall(b"RCPT TO:<half")
                break
            if l == "+message":
                print("C: <message>", flush=True)
                s.sock.sendall(b"Subject: hostile envelope test\r\n\r\n"
                               b"test\r\n.\r\n")
                s.reply()
                continue
            s.send(codecs.escape_decode(l.encode("utf-8",
                                                 "surrogateescape"))[0])
            s.reply()
    except Closed as e:
        print("S: " + str(e), flush=True)
    finally:
        s.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
