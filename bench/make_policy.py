#!/usr/bin/env python3
"""Writes the policy of bench/policy.sh.

usage: make_policy.py OUT_JSON RULES MODULE VERSION DENIED_MODULE DENIED_VERSION

RULES deny rules in all, one per line: a handful name MODULE (or a glob covering it) with version ranges that exclude
VERSION, so that their ranges are evaluated for it; one denies DENIED_MODULE@DENIED_VERSION exactly (the check that
the policy is in force); the rest are literal module paths, GOPRIVATE-style globs and comma lists with version ranges,
matching none of the corpus. Prints a one-line description.
"""
import json
import sys


def main():
    out, count, module, version, denied_module, denied_version = sys.argv[1], int(sys.argv[2]), *sys.argv[3:7]
    parent = module.rsplit("/", 1)[0]
    last = module.rsplit("/", 1)[1]
    host = module.split("/", 1)[0]
    evaluated = [
        (module, "<v1.7.0", "old releases of %s (benchmark)" % module),
        (module, ">=v2.0.0 <v2.1.4", "a range above %s (benchmark)" % version),
        (parent + "/*", "<v1.0.0", "pre-1.0 releases of %s/* (benchmark)" % parent),
        (parent, "v1.8.1", "one exact version under %s (benchmark)" % parent),
        ("%s/*/%s" % (host, last), ">v1.8.0", "later versions of any */%s (benchmark)" % last),
    ]
    rules = [{"module": m, "versions": v, "reason": r} for m, v, r in evaluated]
    rules.append({"module": denied_module, "versions": denied_version, "reason": "denied to check the policy is in force (benchmark)"})
    i = 0
    while len(rules) < count:
        kind = i % 5
        n = i // 5
        if kind == 0:
            rule = ("github.com/deny-org-%d/lib-%d" % (n, n), "<v1.%d.0" % (n % 9 + 1))
        elif kind == 1:
            rule = ("github.com/org-%d/*" % n, ">=v0.%d.0 <v0.%d.5" % (n % 20, n % 20))
        elif kind == 2:
            rule = ("*.corp-%d.example" % n, "*")
        elif kind == 3:
            rule = ("gitlab.example/team-%d,bitbucket.example/team-%d/*" % (n, n), "v1.2.%d" % n)
        else:
            rule = ("golang.org/x/legacy-%d*" % n, "<v0.%d.0" % (n % 30 + 1))
        rules.append({"module": rule[0], "versions": rule[1], "reason": "rule %d of the benchmark policy" % len(rules)})
        i += 1
    with open(out, "w", encoding="utf-8") as f:
        f.write('{\n  "deny": [\n')
        f.write(",\n".join("    " + json.dumps(r) for r in rules))
        f.write("\n  ]\n}\n")
    literal = sum(1 for r in rules if not any(c in r["module"] for c in "*?["))
    print("%d deny rules (%d with wildcard globs, %d literal; %d name %s or a glob covering it, none denying %s; "
          "one denies %s@%s)" % (len(rules), len(rules) - literal, literal, len(evaluated), module, version,
                                 denied_module, denied_version))


if __name__ == "__main__":
    main()
