#!/usr/bin/env python3
"""Checks `go mod download -json` output against the corpus manifest.

usage: check_download.py MANIFEST_TSV GO_JSON_OUTPUT

Every manifest module@version must appear once, without an Error, with the Sum and GoModSum the
manifest records. Prints one summary line; exits 1 on any difference.
"""
import json
import sys


def main() -> int:
    manifest_path, output_path = sys.argv[1], sys.argv[2]
    expected = {}
    with open(manifest_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            expected[(cols[0], cols[1])] = (cols[4], cols[5])

    text = open(output_path, encoding="utf-8").read()
    decoder = json.JSONDecoder()
    seen, problems, pos = {}, [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        obj, pos = decoder.raw_decode(text, pos)
        seen[(obj.get("Path"), obj.get("Version"))] = obj

    for key, (zip_sum, mod_sum) in expected.items():
        obj = seen.get(key)
        name = "%s@%s" % key
        if obj is None:
            problems.append(name + ": missing from output")
        elif obj.get("Error"):
            problems.append(name + ": " + obj["Error"])
        elif obj.get("Sum") != zip_sum or obj.get("GoModSum") != mod_sum:
            problems.append("%s: sums %s %s, manifest %s %s" % (name, obj.get("Sum"), obj.get("GoModSum"), zip_sum, mod_sum))

    if problems:
        for p in problems[:20]:
            print("  " + p, file=sys.stderr)
        print("FAIL: %d of %d module versions wrong" % (len(problems), len(expected)))
        return 1
    print("ok: %d module versions, all sums match the manifest" % len(expected))
    return 0


if __name__ == "__main__":
    sys.exit(main())
