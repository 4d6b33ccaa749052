#!/usr/bin/env python3
"""Helpers of bench/audit.sh.

usage:
  audit_check.py generate TEMPLATE_DIR MANIFEST_TSV OUT_DIR COUNT
      COUNT repositories OUT_DIR/repo001 ... : copies of TEMPLATE_DIR (a main module whose go.mod lists its build list),
      each with its own module path; every 4th one pins other corpus versions of the VARY modules. Prints a summary.
  audit_check.py vulndb DIR
      a vulnerability database in the current layout with the two test advisories.
  audit_check.py check AUDIT_JSON COUNT
      checks `warren audit --format json` output: no error, COUNT repositories, GO-2099-0001 in each, GO-2099-0002
      in those pinning an older golang.org/x/net, drift found. Prints one summary line; exits 1 otherwise.
"""
import json
import os
import re
import shutil
import sys

# Modules whose version varies between the generated repositories (each has several versions in the corpus).
VARY = ["golang.org/x/net", "golang.org/x/crypto", "github.com/google/go-cmp", "github.com/stretchr/testify",
        "golang.org/x/mod", "github.com/pkg/errors", "github.com/mattn/go-isatty"]

MODIFIED = "2026-01-02T00:00:00Z"
ADVISORIES = [
    # id, module, package, symbols, fixed (semver without v), aliases
    ("GO-2099-0001", "github.com/dustin/go-humanize", "github.com/dustin/go-humanize", ["Bytes"], "1.0.1",
     ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"]),
    ("GO-2099-0002", "golang.org/x/net", "golang.org/x/net/html", ["Parse"], "0.7.0",
     ["CVE-2099-0002", "GHSA-dddd-eeee-ffff"]),
]


def manifest_versions(path):
    versions = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            versions.setdefault(cols[0], []).append(cols[1])
    return versions


def generate(template, manifest, out, count):
    versions = manifest_versions(manifest)
    gomod = open(os.path.join(template, "go.mod"), encoding="utf-8").read()
    req = re.compile(r"^(\t)(\S+) (\S+)( // indirect)?$", re.M)
    pinned = {m.group(2): m.group(3) for m in req.finditer(gomod)}
    vary = [m for m in VARY if m in pinned and len(versions.get(m, [])) > 1]
    os.makedirs(out, exist_ok=True)
    used = {}
    for i in range(1, count + 1):
        name = "repo%0*d" % (len(str(count)), i)
        target = os.path.join(out, name)
        shutil.copytree(template, target, ignore=shutil.ignore_patterns("go.sum"))
        choice = {}
        if i % 4 == 0:
            for k, module in enumerate(vary):
                others = [v for v in versions[module] if v != pinned[module]]
                choice[module] = others[(i // 4 + k) % len(others)]

        def pin(m):
            v = choice.get(m.group(2), m.group(3))
            used.setdefault(m.group(2), set()).add(v)
            return "%s%s %s%s" % (m.group(1), m.group(2), v, m.group(4) or "")

        text = req.sub(pin, gomod)
        text = re.sub(r"^module .*$", "module example.com/auditbench/" + name, text, count=1, flags=re.M)
        with open(os.path.join(target, "go.mod"), "w", encoding="utf-8") as f:
            f.write(text)
    drift = sorted(m for m, v in used.items() if len(v) > 1)
    print("%d of them pin other versions of %d modules (%s)" % (count // 4, len(drift), ", ".join(drift)))


def vulndb(d):
    os.makedirs(os.path.join(d, "index"), exist_ok=True)
    os.makedirs(os.path.join(d, "ID"), exist_ok=True)
    modules, vulns = [], []
    for vid, module, package, symbols, fixed, aliases in ADVISORIES:
        entry = {
            "schema_version": "1.3.1", "id": vid, "modified": MODIFIED, "published": "2026-01-01T00:00:00Z",
            "aliases": aliases, "summary": "%s misbehaves (test advisory)" % symbols[0],
            "details": "%s.%s is vulnerable in a benchmark." % (package, symbols[0]),
            "affected": [{
                "package": {"name": module, "ecosystem": "Go"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                "ecosystem_specific": {"imports": [{"path": package, "symbols": symbols}]},
            }],
            "database_specific": {"url": "https://pkg.go.dev/vuln/" + vid},
        }
        with open(os.path.join(d, "ID", vid + ".json"), "w", encoding="utf-8") as f:
            json.dump(entry, f)
        modules.append({"path": module, "vulns": [{"id": vid, "modified": MODIFIED, "fixed": fixed}]})
        vulns.append({"id": vid, "modified": MODIFIED, "aliases": aliases})
    for name, value in (("db.json", {"modified": MODIFIED}), ("modules.json", modules), ("vulns.json", vulns)):
        with open(os.path.join(d, "index", name), "w", encoding="utf-8") as f:
            json.dump(value, f)


def check(path, count):
    doc = json.load(open(path, encoding="utf-8"))
    problems = []
    if doc.get("errors"):
        problems.append("errors: %s" % doc["errors"][:3])
    repos = doc.get("repositories", [])
    if len(repos) != count:
        problems.append("%d repositories, want %d" % (len(repos), count))
    findings = doc.get("findings", [])
    kinds = {}
    for f in findings:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    by_adv = {}
    for f in findings:
        if f["kind"] == "vuln":
            by_adv.setdefault(f.get("advisory"), set()).add(f["repository"])
    humanize = len(by_adv.get("GO-2099-0001", ()))
    xnet = len(by_adv.get("GO-2099-0002", ()))
    if humanize != count:
        problems.append("GO-2099-0001 in %d repositories, want %d" % (humanize, count))
    if xnet == 0 or xnet > count // 4:
        problems.append("GO-2099-0002 in %d repositories, want 1..%d" % (xnet, count // 4))
    imported = sum(1 for f in findings if f["kind"] == "vuln" and f.get("imported"))
    if imported != humanize + xnet:
        problems.append("%d vulnerability findings with the package imported, want %d" % (imported, humanize + xnet))
    if not doc.get("drift"):
        problems.append("no drift")
    summary = "%d findings (%s), GO-2099-0001 in %d repositories, GO-2099-0002 in %d, %d drifting modules" % (
        len(findings), ", ".join("%s %d" % kv for kv in sorted(kinds.items())), humanize, xnet, len(doc.get("drift") or []))
    if problems:
        print("bench: unexpected audit output: " + "; ".join(problems) + " (" + summary + ")")
        return 1
    print(summary)
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == "generate":
        generate(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return 0
    if cmd == "vulndb":
        vulndb(sys.argv[2])
        return 0
    if cmd == "check":
        return check(sys.argv[2], int(sys.argv[3]))
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
