#!/usr/bin/python3
"""Reads a Prometheus text exposition (format 0.0.4) strictly, then checks expected values.

usage: check_prometheus.py FILE [SERIES=VALUE | SERIES>=VALUE]...
SERIES is a sample as exposed, labels in exposition order: acctlab_nas_requests_total{nas="lab"}.
Exits non-zero with a message naming the line at the first problem. Uses Debian's
python3-prometheus-client parser when present and a line grammar of its own in any case.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{(?:{LABEL})(?:,{LABEL})*\}})? (\S+)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def fail(message):
    sys.exit("check_prometheus: " + message)


def parse_value(text, where):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(text)
    except ValueError:
        fail(f"{where}: bad value {text!r}")


def family_of(sample, types):
    for suffix in ("_bucket", "_sum", "_count", ""):
        if suffix and sample.endswith(suffix) and types.get(sample[: -len(suffix)]) == "histogram":
            return sample[: -len(suffix)]
    return sample


def main():
    path, expectations = sys.argv[1], sys.argv[2:]
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")  # strict: the format is UTF-8
    if not text.endswith("\n"):
        fail("the exposition does not end with a newline")
    types, helps, series, closed, current = {}, {}, {}, set(), None
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {number}"
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in helps:
                fail(f"{where}: second HELP for {name}")
            helps[name] = True
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in TYPES or not re.fullmatch(NAME, parts[2]):
                fail(f"{where}: bad TYPE line {line!r}")
            if parts[2] in types:
                fail(f"{where}: second TYPE for {parts[2]}")
            types[parts[2]] = parts[3]
            if current and current != parts[2]:
                closed.add(current)
            current = parts[2]
            continue
        if line.startswith("#") or not line:
            fail(f"{where}: unexpected line {line!r}")
        m = SAMPLE.match(line)
        if not m:
            fail(f"{where}: not a sample {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = family_of(name, types)
        if family not in types:
            fail(f"{where}: {name} has no TYPE before it")
        if family in closed or family != current:
            fail(f"{where}: {name} is not grouped with its family {family}")
        if types[family] == "counter" and not name.endswith("_total"):
            fail(f"{where}: counter {name} does not end in _total")
        key = name + labels
        if key in series:
            fail(f"{where}: {key} exposed twice")
        v = parse_value(value, where)
        if types[family] == "counter" and (v < 0 or math.isnan(v)):
            fail(f"{where}: counter {key} is {value}")
        series[key] = v
    # Histograms: buckets cumulative, +Inf equal to _count, a _sum.
    for family, kind in types.items():
        if kind != "histogram":
            continue
        buckets = [(k, v) for k, v in series.items() if k.startswith(family + "_bucket{")]
        if not buckets or not buckets[-1][0].endswith('le="+Inf"}'):
            fail(f"{family}: no +Inf bucket last")
        bounds = [parse_value(re.search(r'le="([^"]+)"', k).group(1), family) for k, _ in buckets]
        if bounds != sorted(bounds):
            fail(f"{family}: bucket bounds out of order")
        counts = [v for _, v in buckets]
        if counts != sorted(counts):
            fail(f"{family}: buckets are not cumulative: {counts}")
        if series.get(family + "_count") != counts[-1] or family + "_sum" not in series:
            fail(f"{family}: _count/_sum missing or _count != +Inf bucket")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        print("prometheus_client not installed: own grammar only")
    else:
        families = list(text_string_to_metric_families(text))
        print(f"prometheus_client parsed {len(families)} families")
    for expectation in expectations:
        m = re.fullmatch(r"(.+?)(>=|=)([^=]+)", expectation)
        key, op, want = m.group(1), m.group(2), float(m.group(3))
        if key not in series:
            fail(f"{key} is not exposed")
        got = series[key]
        if (op == "=" and got != want) or (op == ">=" and got < want):
            fail(f"{key} is {got}, expected {op} {want}")
    print(f"{len(series)} series, {len(types)} families, {len(expectations)} expectations met")


main()
