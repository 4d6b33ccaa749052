#!/usr/bin/env python3
"""Helpers of bench/sumdb.sh.

  modules MANIFEST                  -> one line per module version: path, version, escaped path, escaped version
  check TIMINGS STORE CORPUS        -> fails unless every request got 200 and STORE holds every .mod and .zip,
                                       byte for byte the corpus files
  run TIMINGS                       -> "MEDIAN_PER_MODULE SUM_OF_REQUEST_TIMES" (seconds)
  added BASE TIMINGS                -> "PAIRED_MEDIAN MEDIAN_DIFFERENCE" (seconds): the median over modules of
                                       (module time in TIMINGS - module time in BASE), and median(TIMINGS) - median(BASE)
  hist METRICS NAME LABELS Q [SKIP] -> "COUNT SUM QUANTILE" of a Prometheus histogram; QUANTILE is interpolated linearly
                                       within the cumulative buckets (as histogram_quantile does), at rank
                                       SKIP + Q * (COUNT - SKIP): SKIP leaves out that many of the smallest observations
  value METRICS NAME [LABELS]       -> the sum of the samples of a metric whose labels contain LABELS (0 when absent)

TIMINGS files have one line per module version: path, version, then the HTTP status and curl's time_total of its .mod
and of its .zip.
"""
import os
import re
import statistics
import sys


def escape(s):
    return re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), s)


def modules(manifest):
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            path, version = line.rstrip("\n").split("\t")[:2]
            print(path, version, escape(path), escape(version))


def timings(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            mod, ver, mod_code, mod_t, zip_code, zip_t = line.split()
            rows.append((mod, ver, mod_code, float(mod_t), zip_code, float(zip_t)))
    return rows


def per_module(path):
    return {(r[0], r[1]): r[3] + r[5] for r in timings(path)}


def check(path, store, corpus):
    rows = timings(path)
    bad = [f"{m}@{v}: .mod {mc}, .zip {zc}" for m, v, mc, _, zc, _ in rows if mc != "200" or zc != "200"]
    if bad:
        sys.exit(f"{len(bad)} of {len(rows)} module versions not answered 200 200, e.g. " + "; ".join(bad[:5]))
    for m, v, *_ in rows:
        for ext in (".mod", ".zip"):
            rel = os.path.join(escape(m), "@v", escape(v) + ext)
            stored = os.path.join(store, rel)
            if not os.path.isfile(stored):
                sys.exit(f"{rel} is not in the store {store}")
            with open(stored, "rb") as a, open(os.path.join(corpus, rel), "rb") as b:
                if a.read() != b.read():
                    sys.exit(f"{rel} in the store differs from the corpus")
    print(f"{len(rows)} module versions answered 200 and stored, identical to the corpus")


def run(path):
    times = list(per_module(path).values())
    print(statistics.median(times), sum(times))


def added(base, path):
    b, t = per_module(base), per_module(path)
    if b.keys() != t.keys():
        sys.exit(f"{base} and {path} hold different module versions")
    paired = statistics.median(t[k] - b[k] for k in t)
    print(paired, statistics.median(t.values()) - statistics.median(b.values()))


def samples(path, name):
    pattern = re.compile(r"^" + re.escape(name) + r"(\{[^}]*\})?\s+(\S+)$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = pattern.match(line.strip())
            if m:
                yield m.group(1) or "", float(m.group(2))


def hist(path, name, labels, q, skip=0.0):
    buckets, count, total = [], 0.0, 0.0
    for lab, v in samples(path, name + "_bucket"):
        if labels in lab:
            le = re.search(r'le="([^"]+)"', lab).group(1)
            buckets.append((float("inf") if le == "+Inf" else float(le), v))
    for lab, v in samples(path, name + "_count"):
        if labels in lab:
            count = v
    for lab, v in samples(path, name + "_sum"):
        if labels in lab:
            total = v
    if count == 0:
        print(0, 0, "nan")
        return
    buckets.sort()
    count = int(count)
    rank = skip + q * (count - skip)
    lower, below = 0.0, 0.0
    for le, cumulative in buckets:
        if cumulative >= rank:
            if le == float("inf"):
                print(count, total, lower)
                return
            print(count, total, lower + (le - lower) * (rank - below) / (cumulative - below) if cumulative > below else le)
            return
        lower, below = le, cumulative
    print(count, total, "nan")


def value(path, name, labels=""):
    total = sum(v for lab, v in samples(path, name) if labels in lab)
    print(int(total) if total == int(total) else total)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "modules":
        modules(*args)
    elif cmd == "check":
        check(*args)
    elif cmd == "run":
        run(*args)
    elif cmd == "added":
        added(*args)
    elif cmd == "hist":
        hist(args[0], args[1], args[2], float(args[3]), float(args[4]) if len(args) > 4 else 0.0)
    elif cmd == "value":
        value(*args)
    else:
        sys.exit(f"unknown command {cmd}")
