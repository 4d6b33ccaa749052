#!/usr/bin/env python3
"""Checks `go mod download -json` output of the direct-mode benchmark.

usage: check_direct.py COUNT GO_JSON_OUTPUT [REFERENCE_OUTPUT] [MANIFEST_TSV]

The output must hold COUNT objects, none with an Error, each with a Sum and a GoModSum. With a reference (another
run's output), the set of (Path, Version, Sum, GoModSum) must be identical to the reference's. With the corpus
manifest, every module version that the manifest lists must have the zip and go.mod h1 sums it records (the
pseudo-version of a branch query is not in the manifest). Prints one summary line; exits 1 on any difference.
"""
import json
import sys


def read(path):
    text = open(path, encoding="utf-8").read()
    decoder = json.JSONDecoder()
    objs, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return objs
        obj, pos = decoder.raw_decode(text, pos)
        objs.append(obj)


def rows(objs):
    return sorted((o.get("Path"), o.get("Version"), o.get("Sum"), o.get("GoModSum")) for o in objs)


def main() -> int:
    count, output = int(sys.argv[1]), sys.argv[2]
    reference = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    manifest = sys.argv[4] if len(sys.argv) > 4 else None
    objs = read(output)
    problems = []
    if len(objs) != count:
        problems.append("%d results, expected %d" % (len(objs), count))
    for o in objs:
        name = "%s@%s" % (o.get("Path"), o.get("Version") or o.get("Query"))
        if o.get("Error"):
            problems.append(name + ": " + o["Error"])
        elif not o.get("Sum") or not o.get("GoModSum"):
            problems.append(name + ": no Sum or GoModSum")
    if reference:
        want, got = rows(read(reference)), rows(objs)
        if want != got:
            for r in sorted(set(want) ^ set(got))[:20]:
                problems.append("%s in %s only" % (" ".join(map(str, r)), "reference" if r in want else "this run"))
    checked = 0
    if manifest:
        expected = {}
        with open(manifest, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                cols = line.rstrip("\n").split("\t")
                expected[(cols[0], cols[1])] = (cols[4], cols[5])
        for o in objs:
            want = expected.get((o.get("Path"), o.get("Version")))
            if want is None:
                continue
            checked += 1
            if (o.get("Sum"), o.get("GoModSum")) != want:
                problems.append("%s@%s: sums %s %s, manifest %s %s" % (o["Path"], o["Version"], o.get("Sum"), o.get("GoModSum"), *want))

    if problems:
        for p in problems[:20]:
            print("  " + p, file=sys.stderr)
        print("FAIL: %d problems" % len(problems))
        return 1
    print("ok: %d module versions%s%s" % (len(objs), ", identical Sum/GoModSum to the reference" if reference else "",
                                        ", %d of them as the manifest records" % checked if manifest else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
