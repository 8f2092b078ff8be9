#!/usr/bin/python3
"""tests/integration/lib/grafana_check.py - contrib/grafana/redmilter.json
checked against what Grafana's dashboard schema requires of an import,
and against the metrics a milter serves.

usage: grafana_check.py DASHBOARD.json SAMPLES
       SAMPLES: a file of lib/metrics_get.py's output (its "family NAME
       TYPE" and "NAME{...} VALUE" lines): the metrics served.
       Prints one line per problem, then "ok N panels" when there is none
       (exit 0), or "problems N" (exit 1).
"""

import json
import re
import sys

PANEL_TYPES = {"timeseries", "stat", "gauge", "bargraph", "table",
               "heatmap", "text", "row"}


def check(d, served):
    p = []
    for k, t in (("title", str), ("uid", str), ("schemaVersion", int),
                 ("panels", list), ("templating", dict), ("time", dict)):
        if not isinstance(d.get(k), t):
            p.append("top-level %s missing or not a %s" % (k, t.__name__))
    if isinstance(d.get("uid"), str) and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,40}", d["uid"]):
        p.append("uid %r is not 1-40 of [A-Za-z0-9_-]" % d["uid"])
    if isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] < 30:
        p.append("schemaVersion %d is older than Grafana 8's" %
                 d["schemaVersion"])
    variables = {v.get("name") for v in
                 d.get("templating", {}).get("list", [])}
    ids, cells = set(), {}
    for pan in d.get("panels", []):
        pid = pan.get("id")
        where = "panel %r" % pid
        if not isinstance(pid, int) or pid in ids:
            p.append("%s: id missing, not an integer or repeated" % where)
        ids.add(pid)
        if pan.get("type") not in PANEL_TYPES:
            p.append("%s: unknown type %r" % (where, pan.get("type")))
        if not isinstance(pan.get("title"), str) or not pan["title"]:
            p.append("%s: no title" % where)
        g = pan.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "xywh"):
            p.append("%s: gridPos needs integers x, y, w, h" % where)
            continue
        if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24 or g["h"] < 1:
            p.append("%s: gridPos outside the 24 columns" % where)
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    p.append("%s overlaps panel %r" % (where, cells[(x, y)]))
                    break
                cells[(x, y)] = pid
            else:
                continue
            break
        refs = set()
        for t in pan.get("targets", []):
            r, e = t.get("refId"), t.get("expr")
            if not isinstance(r, str) or r in refs:
                p.append("%s: refId missing or repeated" % where)
            refs.add(r)
            if not isinstance(e, str) or not e:
                p.append("%s %s: no expr" % (where, r))
                continue
            for name in re.findall(r"\bredmilter_[a-z_]+", e):
                if name not in served:
                    p.append("%s %s: %s is not a metric the milter serves" %
                             (where, r, name))
            for var in re.findall(r"\$(\w+)", e):
                if var not in variables and not var.startswith("__"):
                    p.append("%s %s: $%s is no variable of the dashboard" %
                             (where, r, var))
            if e.count("(") != e.count(")"):
                p.append("%s %s: unbalanced parentheses" % (where, r))
        if pan.get("type") != "row" and not refs:
            p.append("%s: no query" % where)
    return p


def main(argv):
    with open(argv[1]) as f:
        d = json.load(f)
    served = set()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum",
                                                     "_count"]}
    with open(argv[2]) as f:
        for line in f:
            m = re.match(r"family (redmilter_[a-z_]+) (\w+)$", line.strip())
            if m:
                for suf in suffixes.get(m.group(2), [""]):
                    served.add(m.group(1) + suf)
            m = re.match(r"(redmilter_[a-z_]+)\{", line)
            if m:
                served.add(m.group(1))
    problems = check(d, served)
    for x in problems:
        print(x)
    if problems:
        print("problems %d" % len(problems))
        return 1
    print("ok %d panels" % len(d["panels"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
