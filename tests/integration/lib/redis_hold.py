#!/usr/bin/env python3
"""redis_hold.py UPSTREAM_PORT PORT_FILE STATUS_FILE SECONDS

A TCP relay on 127.0.0.1 for a client under test and its Redis at
127.0.0.1:UPSTREAM_PORT that holds back a transaction's EXEC, or a
script's last byte: bytes go through both ways as they come, except that
on a connection that has sent MULTI, the EXEC that follows is not passed
on (nor anything after it), and that of an EVAL or EVALSHA (which must
start a read from the client: the client waited for its last reply) all
but the last byte goes through (nothing after it); then "held" is written
to STATUS_FILE.  The test can then kill Redis with the whole transaction
queued, or the script all but read, and not run: a kill timed by watching
Redis from outside raced them, which Redis may read and run in one pass.

The relay's port goes to PORT_FILE once it listens.  It exits when the
held connection's server side closes, or after SECONDS.
"""

import os
import socket
import sys
import threading
import time

MULTI = b"*1\r\n$5\r\nMULTI\r\n"
EXEC = b"*1\r\n$4\r\nEXEC\r\n"
SCRIPT = (b"$4\r\nEVAL\r\n", b"$7\r\nEVALSHA\r\n")
done = threading.Event()


class Command:
    """Where one RESP command (an array of bulk strings) ends, fed in parts."""

    def __init__(self):
        self.args = None  # bulk strings still to come
        self.skip = 0  # bytes of the current one (with its CRLF) to come
        self.line = b""  # a header line cut in two

    def feed(self, data):
        """The offset in data just past the command's end, or None."""
        i = 0
        while i < len(data):
            if self.skip:
                k = min(self.skip, len(data) - i)
                self.skip -= k
                i += k
                if self.skip == 0 and self.args == 0:
                    return i
                continue
            j = data.find(b"\n", i)
            if j < 0:
                self.line += data[i:]
                return None
            line, self.line, i = self.line + data[i:j + 1], b"", j + 1
            if line[:1] == b"*":
                self.args = int(line[1:-2])
            else:
                self.skip = int(line[1:-2]) + 2
                self.args -= 1
        return None


def status(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def to_server(client, server, status_file):
    tail = b""  # the last bytes passed on, for a MULTI cut in two
    pending = b""  # held back: what may be the start of an EXEC
    multi = False
    script = None  # a Command: an EVAL or EVALSHA being passed on
    while True:
        try:
            data = client.recv(65536)
        except OSError:
            data = b""
        if not data:
            try:
                server.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        buf = pending + data
        pending = b""
        if (script is None and not multi and buf[:1] == b"*" and
                any(m in buf[:32] for m in SCRIPT)):
            script = Command()
        if script is not None:
            end = script.feed(buf)
            if end is not None:
                server.sendall(buf[:end - 1])
                status(status_file, "held")
                return  # nothing more goes to the server from this client
            server.sendall(buf)
            continue
        if not multi and MULTI in tail + buf:
            multi = True
        if multi and EXEC in buf:
            server.sendall(buf[:buf.index(EXEC)])
            status(status_file, "held")
            return  # nothing more goes to the server from this client
        if multi:
            for k in range(len(EXEC) - 1, 0, -1):
                if buf.endswith(EXEC[:k]):
                    pending, buf = buf[-k:], buf[:-k]
                    break
        server.sendall(buf)
        tail = (tail + buf)[-len(MULTI):]


def to_client(server, client):
    while True:
        try:
            data = server.recv(65536)
        except OSError:
            data = b""
        if not data:
            break
        try:
            client.sendall(data)
        except OSError:
            break
    for s in (client, server):
        try:
            s.close()
        except OSError:
            pass


def relay(client, upstream, status_file):
    server = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=to_server, args=(client, server, status_file),
                     daemon=True).start()
    threading.Thread(target=to_client, args=(server, client),
                     daemon=True).start()


def main():
    upstream = int(sys.argv[1])
    port_file, status_file = sys.argv[2], sys.argv[3]
    deadline = time.monotonic() + float(sys.argv[4])
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    lsock.settimeout(0.2)
    status(port_file, str(lsock.getsockname()[1]))
    while time.monotonic() < deadline:
        try:
            client, _ = lsock.accept()
        except socket.timeout:
            continue
        relay(client, upstream, status_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
