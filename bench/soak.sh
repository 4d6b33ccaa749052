#!/usr/bin/env bash
# Soak: Warren's memory under a long mixed load, on this machine.
#
#   bash bench/soak.sh
#
# One Warren (published, Release, --sumdb off) whose upstream is nginx serving the corpus directory. wrk -t2 -c32 runs
# for DURATION seconds (600) with bench/soak.lua: every request is a random corpus .info, .mod or .zip, or the list or
# @latest of a corpus module. The versions a request may pick grow from one to the whole corpus over the first RAMP
# seconds (60), so the first minute is a cold fill; after it, the store is held under QUOTA (--store-quota, 120M: about
# two thirds of the corpus's 185 MB), so versions are evicted and fetched again (upstream fetch, checks, verification
# against the hashes recorded first, commit) for the whole run, next to warm requests; list and @latest answers expire
# after LIST_TTL (2 s) and are refreshed from upstream throughout. Warren's RSS is sampled every SAMPLE seconds (5).
#
# Passes when no request failed (no socket error, no answer >= 400) and RSS stays flat: the largest sample of the last
# minute is at most 10 % above the largest sample of the first warm minute (the second minute of the run).
# Results: printed, and written to bench/results/soak.md (samples in bench/results/raw-soak/rss.tsv).
#
# Overridable: CORPUS, MANIFEST, SHARED, DURATION, SAMPLE, CONNECTIONS, LIST_TTL, RAMP, QUOTA (empty: no quota).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=${CORPUS:-/tmp/corpus-out}
SHARED=${SHARED:-${WARREN_SHARED:-$REPO/../shared}}
MANIFEST=${MANIFEST:-$SHARED/corpus/manifest.tsv}
DURATION=${DURATION:-600}
SAMPLE=${SAMPLE:-5}
CONNECTIONS=${CONNECTIONS:-32}
LIST_TTL=${LIST_TTL:-00:00:02}
RAMP=${RAMP:-60}
QUOTA=${QUOTA-120M}
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-soak

BENCH_WORK_PREFIX=warren-soak
# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx wrk curl python3

(( DURATION >= 180 )) || { echo "bench: DURATION must be at least 180 s (a warm minute and a last minute)" >&2; exit 1; }
[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash "$SHARED/corpus/regen.sh" "$CORPUS"); }
mkdir -p "$RAW"
rm -f "$RAW"/*
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# The request paths, in a fixed random order: each version's .info, .mod and .zip, and each module's list and @latest.
python3 - "$MANIFEST" "$WORK/paths.txt" <<'EOF'
import random, sys
def esc(s):
    return "".join("!" + c.lower() if c.isupper() else c for c in s)
versions, modules = [], []
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    path, version = line.split("\t")[:2]
    versions.append((path, version))
    if path not in modules:
        modules.append(path)
random.Random(42).shuffle(versions)
with open(sys.argv[2], "w") as out:
    out.write(f"{len(versions)}\n")
    for path, version in versions:
        for ext in ("info", "mod", "zip"):
            out.write(f"/{esc(path)}/@v/{esc(version)}.{ext}\n")
    for path in modules:
        out.write(f"/{esc(path)}/@v/list\n/{esc(path)}/@latest\n")
EOF

publish_warren
NGINX_PORT=$(free_port)
start_nginx "$NGINX_PORT=$CORPUS"
wait_http "http://127.0.0.1:$NGINX_PORT/$(sed -n 2p "$WORK/paths.txt")" "$NGINX_PID"
launch_warren soak --root "$WORK/store" --upstream "http://127.0.0.1:$NGINX_PORT" --sumdb off --list-ttl "$LIST_TTL" \
    ${QUOTA:+--store-quota "$QUOTA"}
log "warren pid $WARREN_PID on $WARREN_URL, upstream nginx on port $NGINX_PORT, $DURATION s with $CONNECTIONS connections, quota ${QUOTA:-none}"
FETCHES0=$(curl -fs "$WARREN_URL/metrics" | awk '/^warren_upstream_fetch_duration_seconds_count/ { s += $2 } END { print s + 0 }')

# RSS every SAMPLE seconds: seconds since the start, KiB.
(
    start=$(date +%s)
    while kill -0 "$WARREN_PID" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$WARREN_PID/status" 2>/dev/null) || break
        printf '%s\t%s\n' "$(($(date +%s) - start))" "$rss" >>"$RAW/rss.tsv"
        sleep "$SAMPLE"
    done
) &
SAMPLER=$!
PIDS+=("$SAMPLER")

CPU0=$(cpu_ticks "$WARREN_PID")
SOAK_PATHS="$WORK/paths.txt" SOAK_RAMP="$RAMP" \
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 60s --latency -s "$REPO/bench/soak.lua" "$WARREN_URL" >"$RAW/wrk.txt" 2>&1 || true
CPU1=$(cpu_ticks "$WARREN_PID")
curl -fs "$WARREN_URL/metrics" >"$RAW/metrics.txt" || true
FETCHES=$(( $(curl -fs "$WARREN_URL/metrics" | awk '/^warren_upstream_fetch_duration_seconds_count/ { s += $2 } END { print s + 0 }') - FETCHES0 ))
sleep "$SAMPLE"
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
cat "$RAW/wrk.txt"
cp "$WORK/soak.log" "$RAW/warren.log"

read -r FIRST LAST PEAK COUNT <<<"$(awk -v d="$DURATION" '
    $1 >= 60 && $1 < 120 && $2 > first { first = $2 }
    $1 >= d - 60 && $1 <= d && $2 > last { last = $2 }
    $2 > peak { peak = $2 }
    { n++ }
    END { print first + 0, last + 0, peak + 0, n + 0 }' "$RAW/rss.tsv")"
REQUESTS=$(awk '/requests in/ { print $1 }' "$RAW/wrk.txt")
RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$RAW/wrk.txt")
ERRORS=$(grep -E 'Non-2xx|Socket errors' "$RAW/wrk.txt" | sed 's/^ *//' || true)
FLAT=$(verdict "$LAST <= 1.1 * $FIRST and $FIRST > 0")
CLEAN=$([[ -z $ERRORS && -n $REQUESTS ]] && echo met || echo "not met")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
STORED=$(find "$WORK/store" -name '*.zip' | wc -l)
STORE_MB=$(du -sm --exclude=.warren "$WORK/store" | cut -f1)

{
    echo "# Warren soak results"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -sr), .NET SDK $(dotnet --version), $(nginx -v 2>&1 | sed 's/^nginx version: //')."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $LOAD_END. Ramp $RAMP s, list TTL $LIST_TTL."
    echo
    echo "| measure | value | target | result |"
    echo "|---|---|---|---|"
    echo "| requests in ${DURATION} s with $CONNECTIONS connections | ${REQUESTS:-0} ($(fmt "${RPS:-0}" 0) req/s) | no error | $CLEAN |"
    echo "| RSS, largest sample of the first warm minute (60–120 s) | $((FIRST / 1024)) MB | | |"
    echo "| RSS, largest sample of the last minute | $((LAST / 1024)) MB | ≤ first warm minute + 10 % | $FLAT |"
    echo "| RSS, largest sample of the run | $((PEAK / 1024)) MB | | |"
    echo "| Warren CPU time | $(calc "($CPU1 - $CPU0) / $CLK_TCK") s | | |"
    echo "| upstream fetches during the run (cold artifacts, list and @latest refreshes) | $FETCHES | | |"
    echo "| zips stored at the end (of $(head -1 "$WORK/paths.txt")), store size | $STORED, $STORE_MB MB (quota ${QUOTA:-none}) | | |"
    echo
    [[ -z $ERRORS ]] || printf '\nErrors reported by wrk:\n\n```\n%s\n```\n' "$ERRORS"
    echo
    echo "RSS samples (s, MB), every $SAMPLE s:"
    echo
    awk '{ printf "%s%s:%d", (NR > 1 ? ", " : ""), $1, $2 / 1024 } END { print "" }' "$RAW/rss.tsv"
} >"$RESULTS/soak.md"
cat "$RESULTS/soak.md"
log "written to bench/results/soak.md ($COUNT samples)"
[[ $CLEAN == met ]]
