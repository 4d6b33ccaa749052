#!/usr/bin/env python3
"""Sequential latency of web console pages, measured by the client on loopback (an upper bound of the server's time).

    console_latency.py BASE_URL TOKEN_FILE N WARMUP NAME|PATH|MARKER...

Signs in at BASE_URL/ui/signin with the token read from TOKEN_FILE (the form, its anti-forgery field and cookie, as a
browser does) and keeps the session cookie. Then WARMUP rounds and N measured rounds; each round requests every page
once, in order, one request at a time on one keep-alive connection. Every answer must be 200 and contain MARKER (the
page really rendered what it should). Prints one tab-separated line per page: NAME p50 p95 p99 max mean (milliseconds)
and the body size in bytes.
"""
import http.client
import math
import re
import sys
import time
import urllib.parse


def fail(message):
    print("console_latency: " + message, file=sys.stderr)
    sys.exit(1)


def cookies_of(response, jar):
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip()


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v)


def main():
    if len(sys.argv) < 6:
        fail("usage: console_latency.py BASE_URL TOKEN_FILE N WARMUP NAME|PATH|MARKER...")
    base = urllib.parse.urlsplit(sys.argv[1])
    token = open(sys.argv[2], encoding="utf-8").read().strip()
    rounds, warmup = int(sys.argv[3]), int(sys.argv[4])
    pages = [arg.split("|", 2) for arg in sys.argv[5:]]
    if base.hostname not in ("127.0.0.1", "::1", "localhost"):
        fail("loopback only")
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    jar = {}

    # Sign in as a browser does: the form's hidden fields (anti-forgery, form name) with the token, then the session cookie.
    conn.request("GET", "/ui/signin")
    response = conn.getresponse()
    form = response.read().decode("utf-8", "replace")
    cookies_of(response, jar)
    if response.status != 200:
        fail(f"GET /ui/signin answered {response.status}")
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields["Token"] = token
    body = urllib.parse.urlencode(fields)
    conn.request("POST", "/ui/signin", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar)})
    response = conn.getresponse()
    response.read()
    cookies_of(response, jar)
    if "warren_session" not in jar or not jar["warren_session"]:
        fail(f"sign-in failed: POST /ui/signin answered {response.status} without a session cookie")
    headers = {"Cookie": cookie_header(jar)}

    times = {name: [] for name, _, _ in pages}
    sizes = {}
    for r in range(warmup + rounds):
        for name, path, marker in pages:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status != 200:
                fail(f"{name}: GET {path} answered {response.status}: {data[:200]!r}")
            if marker.encode() not in data:
                fail(f"{name}: GET {path} does not contain {marker!r}")
            sizes[name] = len(data)
            if r >= warmup:
                times[name].append(elapsed)

    def pct(values, p):
        values = sorted(values)
        return values[max(0, math.ceil(p / 100 * len(values)) - 1)]  # nearest rank

    for name, _, _ in pages:
        t = times[name]
        print("\t".join([name] + [f"{v:.2f}" for v in (pct(t, 50), pct(t, 95), pct(t, 99), max(t), sum(t) / len(t))] + [str(sizes[name])]))


main()
