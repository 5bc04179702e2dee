#!/usr/bin/env python3
"""Compares the traffic records bench/differential_probe.py wrote for HAProxy and for hapee.

    python3 bench/differential_compare.py OUT_DIR [--details] [--only=LABEL,...]

OUT_DIR/<config>/{haproxy,hapee}/probe.json. Prints a table: one row per kind of difference
(a status, a response header, the body, what the origin received, the log line's shape) with
the number of configurations it touches and one example; --details prints every difference.
"""
import collections
import json
import os
import re
import sys

out_dir = sys.argv[1]
details = "--details" in sys.argv
# --only=L1,L2: compares only the requests of those labels (and those of "host …"/"path …"
# when "host"/"path" is named), to measure a round against an earlier, narrower probe.
only = next((a.split("=", 1)[1].split(",") for a in sys.argv if a.startswith("--only=")), None)


def selected(label):
    return only is None or label in only or label.split(" ")[0] in only
IGNORED_RESPONSE_HEADERS = {"date", "last-modified", "expires"}
# Requests where hapee departs from HAProxy on purpose (docs/hostile-requests.md gives the RFC
# reason): their differences are counted apart, as "deliberate".
DELIBERATE = {
    "expect_100": "hapee answers 100-continue itself and does not forward Expect",
    "no_host_11": "hapee refuses an HTTP/1.1 request without Host (400)",
    "bad_version": "hapee refuses a version other than HTTP/1.0 and 1.1 (400)",
    "obs_fold": "hapee refuses obs-fold in a request (400)",
    "cl_list": "hapee refuses a list of identical Content-Length values (400)",
    "conn_tokens": "hapee removes the hop-by-hop fields (Keep-Alive, those Connection names)",
}
# Where HAProxy 2.7.0 has a bug the later 2.7 releases fixed, hapee follows the fix; those
# differences are counted apart too. `cookie … nocache` on a response with neither lifetime
# nor validator: 2.7.0 adds `Cache-Control: private` (mainline 879debeec, "BUG/MINOR: cache:
# Cache response even if request has "no-cache" directive", cherry-picked to 2.7 as c6dbdbc9).
FIXED_AFTER_270 = "fixed after 2.7.0: cookie nocache makes a response without lifetime private"
# A variable holding a method 2.7.0 does not know (a lowercase `get`) reads back as OPTIONS
# there (smp_dup; fixed in mainline by b0a9216ca "BUG/MEDIUM: samples: Fix handling of
# SMP_T_METH samples", 3.4-dev), which hapee follows: every difference of such a request that
# shows it is counted apart (the checksums the reg-tests take of those lines differ with them).
FIXED_SMP_DUP = "fixed upstream (b0a9216ca): an unknown method in a variable reads back as OPTIONS"
# `balance random` picks a server at random on each side (HAProxy draws from its own random
# source): a request whose differences all go away once each side's chosen origin is named
# alike is set apart.
RANDOM_LB = "environment: balance random chose other servers"
# HAProxy 2.7.0 stops resolving a server's name again once its first resolution is over (its
# resolvers' task loses its wake-up date: 819d48b14, "Use tick_first() to update the resolvers
# task timeout", in 2.7.1); hapee keeps resolving, as the fixed releases do, so a name whose
# resolutions keep failing puts its server in maintenance after the `hold` period. Those lines
# are counted apart.
FIXED_RESOLVERS = "fixed after 2.7.0: resolutions stop after the first (819d48b14)"
DNS_MAINT = re.compile(r"is going DOWN for maintenance \((DNS [a-z]+|unspecified DNS error)")
# Health checks run at their own pace: their lines are not the requests'.
HEALTH_LINE = re.compile(r"Health check for|(Server|backup server) \S+ is (UP|DOWN)|has no server available")


def split_responses(raw, methods=()):
    """[(status line, [(name, value)], body)] for each response in raw, then the trailer
    (<closed>, <timeout>, ...) as its own entry. methods: the requests' methods, in order (an
    answer to HEAD, like an interim 1xx one, has no body)."""
    if not raw.startswith("HTTP/"):
        # A reset is one whether it came before the probe's connect returned or after.
        raw = raw.replace("connect error: Connection reset by peer", "<error Connection reset by peer>")
        return [(raw.split("\r\n", 1)[0][:80], [], "")]
    out = []
    rest = raw
    final = 0
    while rest.startswith("HTTP/"):
        head, sep, rest = rest.partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = [tuple(x.strip() for x in l.partition(":")[::2]) for l in lines[1:]]
        length = next((v for n, v in headers if n.lower() == "content-length"), None)
        interim = re.match(r"HTTP/1\.. 1\d\d", lines[0]) is not None
        if interim or re.match(r"HTTP/1\.. (204|304)", lines[0]) or (
            final < len(methods) and methods[final] == "HEAD"
        ):
            body = ""
        elif length is not None and length.isdigit():
            body, rest = rest[: int(length)], rest[int(length) :]
        else:
            m = re.search(r"<(closed|timeout|error[^>]*)>$", rest)
            body, rest = (rest[: m.start()], m.group(0)) if m else (rest, "")
        final += 0 if interim else 1
        out.append((lines[0], headers, body))
    if rest:
        out.append((rest[:40], [], ""))
    return out


def normal_body(body):
    if "Statistics Report" in body or "<title>Statistics" in body:
        return "<stats page>"
    if "# HELP haproxy_" in body:
        # The exporter: its metrics' values change from run to run and its chunks' sizes
        # with them; the record holds its first 4000 bytes. Compared: the metrics named.
        lines = body.split("\n")[:-1]
        return "<exporter> " + " ".join(l.split()[2] for l in lines if l.startswith("# TYPE "))
    return body


# Values made afresh for each request (`uuid()`, `unique-id-format`): compared by shape.
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def log_shape(line):
    line = UUID.sub("UUID", line)
    # Each engine serves its own copy of the configuration's folder (`%[last_rule_file]`).
    line = re.sub(r"/(haproxy|hapee)/run/", "/ENGINE/run/", line)
    line = re.sub(r"^<\d+>", "<PRI>", line)
    line = re.sub(r"\b\d{1,2}/\w{3}/\d{4}:\d\d:\d\d:\d\d(\.\d+)?", "DATE", line)
    line = re.sub(r"\b\w{3} +\d{1,2} \d\d:\d\d:\d\d", "SYSDATE", line)
    line = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?", "ISODATE", line)
    line = re.sub(r"\[\d+\]", "[PID]", line)
    # An alert's process: a forked child's (an external check's) is another on each side.
    line = re.sub(r"^(\[[A-Z]+\] +)\(\d+\)", r"\1(PID)", line)
    line = re.sub(r":\d{4,5}\b", ":PORT", line)
    line = re.sub(r"(?<![\w.])-?\d+(?=[/ ]|$)", "N", line)
    line = re.sub(r"\bN(/N)+\b", "N/..", line)
    return line


def origin_view(records):
    return [
        {
            "origin": r["origin"],
            "request": "%s %s %s" % (r["method"], r["target"], r["version"]),
            "headers": [(n, UUID.sub("UUID", v)) for n, v in r["headers"]],
            "body": r["body"],
            "proxy_header": r.get("proxy_header"),
        }
        for r in records
    ]


def same_origin_names(a, b):
    """a and b with the origins each chose named alike (ORIGIN1, ORIGIN2, ... in the order each
    side's requests reached them), or None when the sides reached different numbers of them."""
    if len(a["origin"]) != len(b["origin"]):
        return None
    out = []
    for rec in (a, b):
        rec = json.loads(json.dumps(rec))
        names = []
        for r in rec["origin"]:
            if r["origin"] not in names:
                names.append(r["origin"])
        for i, n in enumerate(names):
            rec["response"] = rec["response"].replace(n, "ORIGIN%d" % i)
            for r in rec["origin"]:
                r["origin"] = r["origin"].replace(n, "ORIGIN%d" % i)
        out.append(rec)
    return out


def compare_request(a, b, random_lb=False):
    """Differences between HAProxy's record a and hapee's b of one request: [(kind, text)]
    (under `balance random`, those that only name the origins each side chose are one
    RANDOM_LB)."""
    diffs = compare_request_as_is(a, b)
    if diffs and random_lb:
        named = same_origin_names(a, b)
        if named and not compare_request_as_is(*named):
            return [(RANDOM_LB, diffs[0][1])]
    return diffs


# A TLS connection the proxy closes at once over bytes it did not read: its close_notify is
# followed by a reset, and whether the client reads the close_notify first is a race (HAProxy
# 2.7.0 itself ends 15 of 40 such connections either way): both endings are one.
TLS_CLOSE_RACE = re.compile(r"<error EOF occurred in violation of protocol \([^)]*\)>")


def compare_request_as_is(a, b):
    diffs = []
    methods = a.get("methods", ())
    a_resp, b_resp = (TLS_CLOSE_RACE.sub("<closed>", r["response"]) for r in (a, b))
    ra, rb = split_responses(a_resp, methods), split_responses(b_resp, methods)
    if len(ra) != len(rb):
        diffs.append(("response count", "%d vs %d" % (len(ra), len(rb))))
    for (sa, ha, ba), (sb, hb, bb) in zip(ra, rb):
        if sa != sb:
            diffs.append(("status", "%s | %s" % (sa, sb)))
            continue
        da = {n.lower(): UUID.sub("UUID", v) for n, v in ha if n.lower() not in IGNORED_RESPONSE_HEADERS}
        db = {n.lower(): UUID.sub("UUID", v) for n, v in hb if n.lower() not in IGNORED_RESPONSE_HEADERS}
        for name in sorted(set(da) | set(db)):
            if da.get(name) != db.get(name):
                kind = "response header " + name
                if (name, da.get(name), db.get(name)) == ("cache-control", "private", None) and (
                    "set-cookie" in da and "set-cookie" in db
                ):
                    kind = FIXED_AFTER_270
                diffs.append((kind, "%r | %r" % (da.get(name), db.get(name))))
        # The field 2.7.0 adds is no difference of order.
        fixed = da.get("cache-control") == "private" and "cache-control" not in db
        names_a = [n for n, _ in ha if n.lower() not in IGNORED_RESPONSE_HEADERS and not (fixed and n.lower() == "cache-control")]
        names_b = [n for n, _ in hb if n.lower() not in IGNORED_RESPONSE_HEADERS]
        if [n.lower() for n in names_a] == [n.lower() for n in names_b] and names_a != names_b:
            diffs.append(("response header case", "%s | %s" % (names_a, names_b)))
        elif sorted(da) == sorted(db) and [n.lower() for n in names_a] != [n.lower() for n in names_b]:
            diffs.append(("response header order", "%s | %s" % (names_a, names_b)))
        na, nb = normal_body(ba), normal_body(bb)
        if na.startswith("<exporter> ") and nb.startswith("<exporter> "):
            # Cut at 4000 bytes, one may name fewer metrics than the other.
            wa, wb = na.split(), nb.split()
            na, nb = wa[: len(wb)], wb[: len(wa)]
        if na != nb:
            diffs.append(("body", "%r | %r" % (ba[:120], bb[:120])))
    oa, ob = origin_view(a["origin"]), origin_view(b["origin"])
    if len(oa) != len(ob):
        diffs.append(("origin request count", "%d vs %d" % (len(oa), len(ob))))
    for x, y in zip(oa, ob):
        if x["origin"] != y["origin"]:
            diffs.append(("origin chosen", "%s | %s" % (x["origin"], y["origin"])))
        if x["request"] != y["request"]:
            diffs.append(("origin request line", "%s | %s" % (x["request"], y["request"])))
        hx = collections.OrderedDict((n.lower(), v) for n, v in x["headers"])
        hy = collections.OrderedDict((n.lower(), v) for n, v in y["headers"])
        for name in sorted(set(hx) | set(hy)):
            if hx.get(name) != hy.get(name):
                diffs.append(("origin header " + name, "%r | %r" % (hx.get(name), hy.get(name))))
        if list(hx) == list(hy) and [n for n, _ in x["headers"]] != [n for n, _ in y["headers"]]:
            diffs.append(("origin header case", "%s | %s" % ([n for n, _ in x["headers"]], [n for n, _ in y["headers"]])))
        elif sorted(hx) == sorted(hy) and list(hx) != list(hy):
            diffs.append(("origin header order", "%s | %s" % (list(hx), list(hy))))
        if x["proxy_header"] != y["proxy_header"]:
            diffs.append(("origin PROXY header", "%s | %s" % (x["proxy_header"], y["proxy_header"])))
        if x["body"] != y["body"]:
            diffs.append(("origin body", "%r | %r" % (x["body"][:80], y["body"][:80])))
    return diffs


# Environment: the probe's origins answer whatever protocol a check speaks with HTTP or not
# at all, so checks fail, and each engine marks servers down at its own moment (the first
# check of each server comes at a random point of its interval). A request sent while the two
# engines' views of their servers differed is set apart, when both engines end up marking the
# same servers down; when they do not, it is a difference of its own.
ENV_CHECKS = "environment: checks marked servers down at different moments"
SERVER_STATE = re.compile(r"(?:Server|backup server) (\S+) is (UP|DOWN)")


def server_events(record):
    """[(request number, server, up)] in the order the engine logged them (the startup's as
    number -1), counting requests across binds in the order they were sent."""
    events = []
    for l in record.get("startup_log", []):
        m = SERVER_STATE.search(l)
        if m:
            events.append((-1, m.group(1), m.group(2) == "UP"))
    n = 0
    for bind in record["binds"]:
        for r in bind["requests"]:
            for l in r["stdout"] + r["syslog"]:
                m = SERVER_STATE.search(l)
                if m:
                    events.append((n, m.group(1), m.group(2) == "UP"))
            n += 1
    return events


def down_at(events, n):
    """The servers down once the lines logged up to request n's window are in."""
    down = set()
    for i, server, up in events:
        if i > n:
            break
        (down.discard if up else down.add)(server)
    return down


def unsettled(a, b):
    """The numbers of the requests sent while the engines' servers were not in the same state
    (before or after the request's window), when both marked the same servers down at some
    point; None when they did not (then nothing is set apart)."""
    ea, eb = server_events(a), server_events(b)
    ever = lambda ev: {s for _, s, up in ev if not up}
    if ever(ea) != ever(eb):
        return None
    total = sum(len(bind["requests"]) for bind in a["binds"])
    return {
        n
        for n in range(total)
        if down_at(ea, n - 1) != down_at(eb, n - 1) or down_at(ea, n) != down_at(eb, n)
    }


def log_lines(bind, skip=()):
    """The shapes of the lines a bind's requests logged, health checks left out (and the
    requests of the positions in skip)."""
    return [
        log_shape(l)
        for i, r in enumerate(bind["requests"])
        if r["label"] not in DELIBERATE and selected(r["label"])  # see DELIBERATE
        and i not in skip
        for l in r["stdout"] + r["syslog"]
        if not HEALTH_LINE.search(l) and not DNS_MAINT.search(l)
    ]


def dns_maintenance(bind):
    return [l for r in bind["requests"] for l in r["stdout"] + r["syslog"] if DNS_MAINT.search(l)]


def config_text(out_dir, name):
    """The configuration a record served (its name is the corpus path with '/' as '_')."""
    run = os.path.join(out_dir, name, "haproxy", "run")
    for i in [-1] + [i for i, c in enumerate(name) if c == "_"]:
        path = os.path.join(run, name[i + 1 :])
        if os.path.isfile(path):
            return open(path, errors="replace").read()
    return ""


def compare_logs(a, b, skip=()):
    """A bind's log lines on each side, as multisets (a line may land in the next request's
    window when it comes late): [(kind, text)]."""
    la, lb = collections.Counter(log_lines(a, skip)), collections.Counter(log_lines(b, skip))
    if la == lb:
        return []
    only_a, only_b = sorted((la - lb).elements()), sorted((lb - la).elements())
    if sum(la.values()) != sum(lb.values()):
        kind = "log line count"
    else:
        kind = "log line shape"
    return [(kind, "%d vs %d: %s | %s" % (sum(la.values()), sum(lb.values()), only_a[:1], only_b[:1]))]


deliberate = set()
fixed_after_270 = set()
environment = set()
by_kind = collections.defaultdict(set)
example = {}
totals = collections.Counter()
for name in sorted(n for n in os.listdir(out_dir) if os.path.isdir(os.path.join(out_dir, n))):
    pa, pb = (os.path.join(out_dir, name, e, "probe.json") for e in ("haproxy", "hapee"))
    if not (os.path.exists(pa) and os.path.exists(pb)):
        totals["no record"] += 1
        continue
    a, b = json.load(open(pa)), json.load(open(pb))
    if not a.get("started") or not b.get("started"):
        state = (a.get("started", False), b.get("started", False))
        totals["not both serving (haproxy %s, hapee %s)" % state] += 1
        if state[0] != state[1]:
            kind = "serves under one engine only"
            by_kind[kind].add(name)
            example.setdefault(kind, "%s: %s" % (name, (a if not state[0] else b).get("output", "")[-200:]))
        continue
    totals["both serving"] += 1
    if a.get("loops") or b.get("loops"):
        totals["both serving, a server is the proxy itself (not compared)"] += 1
        continue
    config_diffs = []
    random_lb = re.search(r"^\s*balance\s+random\b", config_text(out_dir, name), re.M) is not None
    env = unsettled(a, b)
    if env is None:
        kind = "servers marked down by checks differ"
        by_kind[kind].add(name)
        example.setdefault(kind, name)
        config_diffs.append((kind, ""))
        env = set()
    first = 0
    for ea, eb in zip(a["binds"], b["binds"]):
        skip = {i - first for i in env if first <= i < first + len(ea["requests"])}
        first += len(ea["requests"])
        if skip and compare_logs(ea, eb) and not compare_logs(ea, eb, skip):
            by_kind[ENV_CHECKS].add(name)
            example.setdefault(ENV_CHECKS, "%s %s: log lines" % (name, ea["bind"]))
        if dns_maintenance(ea) != dns_maintenance(eb):
            fixed_after_270.add(name)
            by_kind[FIXED_RESOLVERS].add(name)
            example.setdefault(FIXED_RESOLVERS, "%s %s: %s | %s" % (name, ea["bind"], dns_maintenance(ea)[:1], dns_maintenance(eb)[:1]))
        for kind, text in compare_logs(ea, eb, skip):
            config_diffs.append((kind, text))
            by_kind[kind].add(name)
            example.setdefault(kind, "%s %s: %s" % (name, ea["bind"], text))
            if details:
                print("%s %s %s: %s" % (name, ea["bind"], kind, text))
        for i, (qa, qb) in enumerate(zip(ea["requests"], eb["requests"])):
            if not selected(qa["label"]):
                continue
            found = compare_request(qa, qb, random_lb)
            if any("method=<OPTIONS>" in text.split(" | ")[0] and "method=<OPTIONS>" not in text.split(" | ")[-1] for _, text in found):
                found = [(FIXED_SMP_DUP, text) for _, text in found]
            for kind, text in found:
                if qa["label"] in DELIBERATE:
                    kind = "deliberate: " + DELIBERATE[qa["label"]]
                    deliberate.add(name)
                elif kind in (FIXED_AFTER_270, FIXED_SMP_DUP):
                    fixed_after_270.add(name)
                elif i in skip:
                    kind = ENV_CHECKS
                    environment.add(name)
                elif kind == RANDOM_LB:
                    environment.add(name)
                else:
                    config_diffs.append((kind, text))
                by_kind[kind].add(name)
                example.setdefault(kind, "%s %s [%s]: %s" % (name, ea["bind"], qa["label"], text))
                if details:
                    print("%s %s [%s] %s: %s" % (name, ea["bind"], qa["label"], kind, text))
    if a.get("alive") != b.get("alive"):
        by_kind["engine died during traffic"].add(name)
        example.setdefault("engine died during traffic", name)
    if not config_diffs:
        totals["identical"] += 1
        if name in deliberate:
            totals["identical but for deliberate differences"] += 1
        if name in fixed_after_270:
            totals["identical but for 2.7.0 bugs fixed later"] += 1
        if name in environment or name in by_kind.get(ENV_CHECKS, ()):
            totals["identical but for checks' timing or random choices (environment)"] += 1

print()
for k, v in sorted(totals.items()):
    print("%-45s %d" % (k, v))
print()
print("%-32s %7s  %s" % ("difference", "configs", "example (haproxy | hapee)"))
for kind, names in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0])):
    print("%-32s %7d  %s" % (kind, len(names), example[kind][:300]))
