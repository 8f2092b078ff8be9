#!/usr/bin/python3
"""tests/integration/lib/metrics_get.py - the milter's metrics, parsed by
Prometheus's own parser (Debian's python3-prometheus-client), so that a
text Prometheus would refuse fails here.

usage: metrics_get.py PORT [PATH]
       GET PATH (default /metrics) from 127.0.0.1:PORT (MG_HOST in the
       environment: another loopback address, as ::1) with HTTP/1.1.  For
       /metrics with 200: for each family "family NAME TYPE" (the name as
       the parser gives it: a counter's without its _total), then one
       line per sample, "NAME{LABEL="V",...} VALUE" with the labels
       sorted; last "families N"; exit 0.  A parse error
       prints "parse error: ..." and exits 1.  Any other status prints
       "status N" and the headers' names, and exits 0.
raw PORT BYTES     send BYTES (Python escapes) as they are, print the
                   status line and exit 0 ("(closed)" if none came).
"""

import codecs
import os
import socket
import sys

from prometheus_client.parser import text_string_to_metric_families


def exchange(port, data, timeout=20.0):
    s = socket.create_connection((os.environ.get("MG_HOST", "127.0.0.1"),
                                  port), timeout=timeout)
    s.sendall(data)
    buf = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf


def main(argv):
    if argv[1] == "raw":
        data = codecs.escape_decode(argv[3].encode())[0]
        got = exchange(int(argv[2]), data)
        print(got.split(b"\r\n", 1)[0].decode("ascii", "replace")
              if got else "(closed)")
        return 0
    port = int(argv[1])
    path = argv[2] if len(argv) > 2 else "/metrics"
    got = exchange(port, ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Connection: close\r\n\r\n" % path).encode())
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("ascii", "replace").split("\r\n")
    status = lines[0].split(" ")[1] if lines and " " in lines[0] else "?"
    if status != "200" or path != "/metrics":
        print("status %s" % status)
        for l in lines[1:]:
            print(l.split(":", 1)[0])
        return 0
    try:
        fams = list(text_string_to_metric_families(body.decode("utf-8")))
    except Exception as e:  # the parser raises ValueError and others
        print("parse error: %s" % e)
        return 1
    for f in fams:
        print("family %s %s" % (f.name, f.type))
        for s in f.samples:
            labels = ",".join('%s="%s"' % (k, v)
                              for k, v in sorted(s.labels.items()))
            print("%s{%s} %s" % (s.name, labels, repr(float(s.value))))
    print("families %d" % len(fams))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
