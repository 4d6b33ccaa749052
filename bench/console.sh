#!/usr/bin/env bash
# Web console benchmark: page latency over a large index, and the console's cost on the proxy's hot path.
#
#   bash bench/console.sh
#
# 1. An index of MODULES modules and VERSIONS versions written by bench/ConsoleIndex (the real SQLite index code: artifact,
#    feed, usage, download and verification rows; no files), plus every version of one real module of the corpus
#    (REAL_MODULE, fetched through Warren from nginx, so its module and version pages have go.mod and zip to show) and
#    the corpus version whose zip is closest to 45 KB.
# 2. Page latency: a Warren with an auth file on that store (--upstream off); bench/console_latency.py signs in with a
#    token through the sign-in form and requests the overview, searches (a substring matching many modules, a prefix, a
#    substring matching few), a generated module page, the real module's page and one of its version pages, and the
#    same data as JSON; sequentially on one keep-alive connection, WARMUP rounds then ROUNDS measured rounds. Client
#    latency on loopback (an upper bound of the server's time). Target: p95 <= 50 ms per page.
# 3. Hot path: the same build with --console on and --console off, each on its own copy of the store; wrk -t2 -c32 on a
#    cached .info and the ~45 KB zip, HOT_ROUNDS alternating rounds; median ratio off/on of requests per second.
#
# Results: printed, and written to bench/results/console.md (raw output in bench/results/raw/console-*).
# Everything listens on 127.0.0.1; every process started here is stopped on exit.
#
# Overridable: CORPUS, MODULES, VERSIONS, REAL_MODULE, ROUNDS, WARMUP, HOT_ROUNDS, WRK_SECONDS, WARMUP_SECONDS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=${CORPUS:-/tmp/corpus-out}
MODULES=${MODULES:-10000}
VERSIONS=${VERSIONS:-100000}
REAL_MODULE=${REAL_MODULE:-golang.org/x/sys}
ROUNDS=${ROUNDS:-200}
WARMUP=${WARMUP:-20}
HOT_ROUNDS=${HOT_ROUNDS:-4}
WRK_SECONDS=${WRK_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw

# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx wrk curl python3

log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u +%Y-%m-%dT%H:%MZ)
mkdir -p "$RAW"
rm -f "$RAW"/console-*
[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash ../shared/corpus/regen.sh "$CORPUS"); }

publish_warren
log "building the index generator"
dotnet build "$REPO/bench/ConsoleIndex" -c Release -o "$WORK/gen" --nologo -v quiet >"$WORK/gen.log" 2>&1 || { cat "$WORK/gen.log" >&2; exit 1; }

# --- 1. the store ---------------------------------------------------------------------------------------------------
STORE=$WORK/store
log "generating $MODULES modules, $VERSIONS versions"
t0=$(now)
dotnet "$WORK/gen/ConsoleIndex.dll" "$STORE" "$MODULES" "$VERSIONS" >"$RAW/console-generate.txt"
GEN_SECONDS=$(calc "$(now) - $t0")
log "$(cat "$RAW/console-generate.txt") ($(fmt "$GEN_SECONDS" 0)s)"

NGINX_PORT=$(free_port)
start_nginx "$NGINX_PORT=$CORPUS"
NGINX_URL=http://127.0.0.1:$NGINX_PORT
wait_http "$NGINX_URL/$REAL_MODULE/@v/list" "$NGINX_PID"
ZIP45=$( (cd "$CORPUS" && find . -name '*.zip' -printf '%s %P\n') |
    awk -v t=$((45 * 1024)) '{ d = $1 - t; if (d < 0) d = -d; if (best == "" || d < bd) { bd = d; best = $2 } } END { print best }')
INFO=${ZIP45%.zip}.info
mapfile -t REAL_VERSIONS < <(curl -fs --noproxy '*' "$NGINX_URL/$REAL_MODULE/@v/list" | sort -V)
launch_warren fill --root "$STORE" --upstream "$NGINX_URL" --sumdb off --vulndb off
for v in "${REAL_VERSIONS[@]}"; do
    for ext in info mod zip; do
        curl -fs --noproxy '*' -o /dev/null "$WARREN_URL/$REAL_MODULE/@v/$v.$ext"
    done
done
for rel in "$INFO" "${ZIP45%.zip}.mod" "$ZIP45"; do
    curl -fs --noproxy '*' -o "$WORK/check.bin" "$WARREN_URL/$rel"
    cmp -s "$WORK/check.bin" "$CORPUS/$rel" || { echo "bench: Warren served different bytes for $rel" >&2; exit 1; }
done
stop "$WARREN_PID"
log "stored ${#REAL_VERSIONS[@]} versions of $REAL_MODULE and $ZIP45 ($(stat -c %s "$CORPUS/$ZIP45") bytes)"

# --- 2. page latency ------------------------------------------------------------------------------------------------
dotnet "$PUB/warren.dll" token create bench --grant '*' --auth-file "$WORK/auth.json" | tail -1 >"$WORK/token"
# An admin (the store's counts, kept by the index) and three readers of a part of it (each one's first overview counts
# what it may read, walking the index's module rows; later ones use that count until the index changes).
dotnet "$PUB/warren.dll" token create ops --grant '*' --admin --auth-file "$WORK/auth.json" | tail -1 >"$WORK/token-admin"
for r in 1 2 3; do
    dotnet "$PUB/warren.dll" token create "reader$r" --grant 'github.com/org1*' --auth-file "$WORK/auth.json" | tail -1 >"$WORK/token-reader$r"
done
launch_warren console --root "$STORE" --upstream off --sumdb off --vulndb off --auth-file "$WORK/auth.json" --rate-limit 0
CONSOLE_PID=$WARREN_PID
# A generated module with about ten versions, and the real module's newest version.
read -r GEN_MODULE GEN_COUNT < <(curl -fs --noproxy '*' -H "Authorization: Bearer $(cat "$WORK/token")" "$WARREN_URL/api/modules?q=store-log" |
    python3 -c 'import json, sys; m = min(json.load(sys.stdin)["modules"], key=lambda m: abs(m["versions"] - 10)); print(m["modulePath"], m["versions"])')
REAL_LATEST=${REAL_VERSIONS[-1]}
PAGES=(
    "overview|/ui|Overview"
    "search substring (many)|/ui/modules?q=kit|kit"
    "search prefix|/ui/modules?q=github.com/org1|github.com/org1"
    "search substring (few)|/ui/modules?q=uuid-errors99|uuid-errors99"
    "module page (generated)|/ui/modules/$GEN_MODULE|$GEN_MODULE"
    "module page ($REAL_MODULE)|/ui/modules/$REAL_MODULE|$REAL_LATEST"
    "version page|/ui/modules/$REAL_MODULE/@v/$REAL_LATEST|go.mod"
    "api overview|/api/overview|versions"
    "api search|/api/modules?q=kit|kit"
    "api module|/api/modules/$GEN_MODULE|$GEN_MODULE"
)
log "page latency: $WARMUP warm-up rounds, $ROUNDS measured rounds of ${#PAGES[@]} pages (module page: $GEN_MODULE)"
python3 "$REPO/bench/console_latency.py" "$WARREN_URL" "$WORK/token" "$ROUNDS" "$WARMUP" "${PAGES[@]}" >"$RAW/console-latency.tsv"
# Overviews whose counts are not cached: an admin's (the index's totals), and each reader's first (a walk of the module rows).
ADMIN_OVERVIEW=()
UNCACHED=()
for i in 1 2 3; do
    # A token's first request pays its Argon2 check: made first, on another page, so that only the overview is timed.
    curl -fs --noproxy '*' -H "Authorization: Bearer $(cat "$WORK/token-admin")" -o /dev/null "$WARREN_URL/api/modules?q=org1"
    curl -fs --noproxy '*' -H "Authorization: Bearer $(cat "$WORK/token-reader$i")" -o /dev/null "$WARREN_URL/api/modules?q=org1"
    ADMIN_OVERVIEW+=("$(curl -fs --noproxy '*' -H "Authorization: Bearer $(cat "$WORK/token-admin")" -o /dev/null -w '%{time_total}' "$WARREN_URL/api/overview")")
    UNCACHED+=("$(curl -fs --noproxy '*' -H "Authorization: Bearer $(cat "$WORK/token-reader$i")" -o /dev/null -w '%{time_total}' "$WARREN_URL/api/overview")")
done
stop "$CONSOLE_PID"
column -t -s $'\t' "$RAW/console-latency.tsv" >&2

# --- 3. hot path: console on vs off ---------------------------------------------------------------------------------
for side in on off; do
    mkdir -p "$WORK/hot-$side"
    cp -a "$STORE/." "$WORK/hot-$side/"
    rm -f "$WORK/hot-$side/.warren/serve.lock"
done
launch_warren hot-on --root "$WORK/hot-on" --upstream off --sumdb off --vulndb off --console on
ON_PID=$WARREN_PID ON_URL=$WARREN_URL
launch_warren hot-off --root "$WORK/hot-off" --upstream off --sumdb off --vulndb off --console off
OFF_PID=$WARREN_PID OFF_URL=$WARREN_URL
code_on=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$ON_URL/ui/signin")
code_off=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$OFF_URL/ui/signin")
[[ $code_on == 200 && $code_off == 404 ]] || { echo "bench: /ui/signin answered $code_on (console on) and $code_off (off)" >&2; exit 1; }
for rel in "$INFO" "$ZIP45"; do
    for url in "$ON_URL" "$OFF_URL"; do
        curl -fs --noproxy '*' -o "$WORK/check.bin" "$url/$rel"
        cmp -s "$WORK/check.bin" "$CORPUS/$rel" || { echo "bench: $url served different bytes for $rel" >&2; exit 1; }
    done
done

declare -A HOT
hot_wrk() { # CASE SIDE ROUND
    local url out=$RAW/console-wrk-$1-$2-$3.txt rel
    [[ $1 == info ]] && rel=$INFO || rel=$ZIP45
    [[ $2 == on ]] && url=$ON_URL/$rel || url=$OFF_URL/$rel
    wrk -t2 -c32 -d"${WARMUP_SECONDS}s" --timeout 60s "$url" >/dev/null
    wrk -t2 -c32 -d"${WRK_SECONDS}s" --timeout 60s --latency "$url" >"$out"
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        echo "bench: wrk $1 console $2: $(grep -E 'Non-2xx|Socket errors' "$out")" >&2
        exit 1
    fi
    HOT[$1-$2-$3]=$(wrk_field "$out" Requests/sec:)
    log "wrk $1 console $2 round $3: $(fmt "${HOT[$1-$2-$3]}" 0) req/s"
}
RATIOS_info=() RATIOS_zip=()
for round in $(seq 1 "$HOT_ROUNDS"); do
    for c in info zip; do
        if ((round % 2)); then hot_wrk "$c" on "$round"; hot_wrk "$c" off "$round"; else hot_wrk "$c" off "$round"; hot_wrk "$c" on "$round"; fi
        r=$(calc "${HOT[$c-on-$round]} / ${HOT[$c-off-$round]}")
        [[ $c == info ]] && RATIOS_info+=("$r") || RATIOS_zip+=("$r")
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---------------------------------------------------------------------------------------------------------
{
    echo "# Web console benchmark ($START_DATE)"
    echo
    echo "Command: \`bash bench/console.sh\` (MODULES=$MODULES VERSIONS=$VERSIONS ROUNDS=$ROUNDS WARMUP=$WARMUP HOT_ROUNDS=$HOT_ROUNDS WRK_SECONDS=$WRK_SECONDS)"
    echo "Load average (1, 5, 15 min): $LOAD_START at the start, $LOAD_END at the end; $(nproc) cores."
    echo "Index: $(cat "$RAW/console-generate.txt"), generated in $(fmt "$GEN_SECONDS" 0) s; plus ${#REAL_VERSIONS[@]} versions of $REAL_MODULE with their files."
    echo
    echo "## Page latency (client side, loopback, sequential; ms)"
    echo
    echo "| page | p50 | p95 | p99 | max | mean | bytes | p95 <= 50 ms |"
    echo "|---|---|---|---|---|---|---|---|"
    while IFS=$'\t' read -r name p50 p95 p99 max mean bytes; do
        echo "| $name | $p50 | $p95 | $p99 | $max | $mean | $bytes | $(verdict "$p95 <= 50") |"
    done <"$RAW/console-latency.tsv"
    echo
    echo "The pages above are a reader's (grant \`*\`, not an admin): its overview counts what it may read, counted once."
    echo "Overview of an admin (the index's totals), 3 requests: $(for t in "${ADMIN_OVERVIEW[@]}"; do printf '%s ms ' "$(fmt "$(calc "$t * 1000")" 0)"; done)"
    echo "First overview of 3 readers of \`github.com/org1*\` (counting walks every module row): $(for t in "${UNCACHED[@]}"; do printf '%s ms ' "$(fmt "$(calc "$t * 1000")" 0)"; done)"
    echo "Generated module page: $GEN_MODULE ($GEN_COUNT versions)."
    echo
    echo "## Hot path: --console on vs off (wrk -t2 -c32, ${WRK_SECONDS}s, req/s)"
    echo
    echo "| file | round | console on | console off | on/off |"
    echo "|---|---|---|---|---|"
    for c in info zip; do
        for round in $(seq 1 "$HOT_ROUNDS"); do
            echo "| $c | $round | $(fmt "${HOT[$c-on-$round]}" 0) | $(fmt "${HOT[$c-off-$round]}" 0) | $(fmt "$(calc "${HOT[$c-on-$round]} / ${HOT[$c-off-$round]}")" 3) |"
        done
    done
    echo
    echo "Median on/off: .info $(fmt "$(median "${RATIOS_info[@]}")" 3), 45 KB zip $(fmt "$(median "${RATIOS_zip[@]}")" 3) ($INFO, $ZIP45)."
} >"$RESULTS/console.md"
cat "$RESULTS/console.md"
