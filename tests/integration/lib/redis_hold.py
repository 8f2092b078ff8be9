#!/usr/bin/env python3
"""redis_hold.py UPSTREAM_PORT PORT_FILE STATUS_FILE SECONDS

A TCP relay on 127.0.0.1 for a client under test and its Redis at
127.0.0.1:UPSTREAM_PORT that holds back a transaction's EXEC: bytes go
through both ways as they come, except that on a connection that has sent
MULTI, the EXEC that follows is not passed on (nor anything after it), and
"held" is written to STATUS_FILE.  The test can then kill Redis with the
whole transaction queued and not run: a kill timed by watching Redis from
outside raced the transaction, which Redis may read and run in one pass.

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
done = threading.Event()


def status(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def to_server(client, server, status_file):
    tail = b""  # the last bytes passed on, for a MULTI cut in two
    pending = b""  # held back: what may be the start of an EXEC
    multi = False
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
