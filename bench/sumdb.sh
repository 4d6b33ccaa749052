#!/usr/bin/env bash
# What checksum verification costs on ingest: a cold Warren ingesting the corpus with and without verification.
#
#   bash bench/sumdb.sh
#
# nginx serves the corpus. Warren A hosts a checksum database (`warren sumdb keygen`, `--hosted-sumdb`, `--sumdb off`,
# upstream nginx) and every manifest module version is logged in it first (a GET of its /sumdb/NAME/lookup/…).
# The Warrens under test start with an empty store, upstream nginx:
#   B0  --sumdb off: no verification
#   B1  --sumdb "<A's verifier key> <A>/sumdb/NAME", nothing cached: the first verifications fetch the tiles
#   B2  the same, the store holding only B1's tile cache and verified tree head (<store>/sumdb/, <store>/.warren/sumdb/):
#       "tiles cached", the case of the target (verification adds ≤ 5 ms median per ingested module)
# An ingest is one curl process making one request at a time over kept-alive connections: for every manifest module
# version, its .mod then its .zip. B1 ingests alone, once. Then, ROUNDS times, a fresh B0 and a fresh B2 ingest together,
# interleaved module by module (the one asked first alternates from module to module), so that the two sides of each
# module's pair are measured within milliseconds of each other: the machine's load, which drifts by a factor of two over
# a minute on a shared machine, then hits both alike.
# Per module, the time is curl's time_total of the .mod plus that of the .zip; the added latency of a round is the
# median over modules of (B2 − B0) for the same module, and the figure is the median over rounds.
# Every request must be answered 200, every store must hold every .mod and .zip identical to the corpus, B1 and B2 must
# have verified every module ok (/metrics: no other outcome, no mismatch), and B2 must not have fetched a tile.
#
# Results: printed, and written to bench/results/sumdb.md (per-request timings and /metrics in bench/results/raw-sumdb/).
# Everything listens on 127.0.0.1, on free high ports; every process started here is stopped on exit.
#
# Overridable: CORPUS, MANIFEST, ROUNDS, SUMDB_NAME.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=${CORPUS:-/tmp/corpus-out}
MANIFEST=${MANIFEST:-$REPO/../shared/corpus/manifest.tsv}
ROUNDS=${ROUNDS:-3}
SUMDB_NAME=${SUMDB_NAME:-sum.bench.example}
TARGET_MS=5
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-sumdb
STATS=$REPO/bench/sumdb_stats.py
VERIFY_METRIC=warren_sumdb_verify_duration_seconds
OK_LABELS='database="sumdb",outcome="ok"'

# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
BENCH_WORK_PREFIX=warren-bench-sumdb
bench_init dotnet nginx curl python3

# ---------------------------------------------------------------------------------------------------------------------
log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(now)
mkdir -p "$RAW"
rm -f "$RAW"/*

if [[ ! -d $CORPUS ]]; then
    log "corpus missing; building it in $CORPUS"
    (cd "$REPO" && bash ../shared/corpus/regen.sh "$CORPUS")
fi

# path version escaped-path escaped-version, one line per manifest module version
python3 "$STATS" modules "$MANIFEST" >"$WORK/modules.txt"
N=$(wc -l <"$WORK/modules.txt")
log "$N module versions in the manifest"

publish_warren

NGINX_PORT=$(free_port)
start_nginx "$NGINX_PORT=$CORPUS"
wait_http "http://127.0.0.1:$NGINX_PORT/github.com/gorilla/mux/@v/list" "$NGINX_PID"
NGINX_URL=http://127.0.0.1:$NGINX_PORT
log "nginx on $NGINX_URL"

metrics() { # URL FILE
    curl -fs --noproxy '*' -o "$2" "$1/metrics"
}
stat_value() { # METRICS_FILE NAME [LABELS]
    python3 "$STATS" value "$@"
}

# --- Warren A: the hosted checksum database, every module version logged ---------------------------------------------
dotnet "$PUB/warren.dll" sumdb keygen "$SUMDB_NAME" --out "$WORK/keys" >"$WORK/keygen.log" 2>&1 ||
    { cat "$WORK/keygen.log" >&2; exit 1; }
VERIFIER=$(cat "$WORK/keys/$SUMDB_NAME.verifier")
launch_warren hosted --root "$WORK/hosted-store" --upstream "$NGINX_URL" --sumdb off \
    --hosted-sumdb "$WORK/keys/$SUMDB_NAME.signer"
A_PID=$WARREN_PID
A_URL=$WARREN_URL
SUMDB_URL=$A_URL/sumdb/$SUMDB_NAME
log "warren A pid $A_PID on $A_URL hosts $SUMDB_NAME ($VERIFIER)"

t0=$(now)
awk -v base="$SUMDB_URL" '{ printf "url = \"%s/lookup/%s@%s\"\noutput = \"/dev/null\"\n", base, $3, $4 }' \
    "$WORK/modules.txt" >"$WORK/prelog.cfg"
curl -s --no-progress-meter -g --noproxy '*' -Z --parallel-max 4 -K "$WORK/prelog.cfg" -w '%{http_code} %{url_effective}\n' \
    >"$RAW/prelog.txt" 2>"$WORK/prelog.err" || true
PRELOG_SECONDS=$(calc "$(now) - $t0")
if [[ $(awk '$1 == 200' "$RAW/prelog.txt" | wc -l) != "$N" ]]; then
    echo "bench: not every lookup on A was answered 200:" >&2
    awk '$1 != 200' "$RAW/prelog.txt" | head >&2
    exit 1
fi
metrics "$A_URL" "$RAW/metrics-A-prelog.txt"
A_RECORDS=$(stat_value "$RAW/metrics-A-prelog.txt" warren_hosted_sumdb_records)
[[ $A_RECORDS == "$N" ]] || { echo "bench: A's database holds $A_RECORDS records, want $N" >&2; exit 1; }
log "A logged all $N module versions in $(fmt "$PRELOG_SECONDS")s (4 lookups at a time)"

# --- ingest runs -----------------------------------------------------------------------------------------------------
SEED=$WORK/tile-seed
declare -A PID_OF URL_OF STORE_OF MED SUM CPUS TILES VCOUNT VSUM VMED VMED_LOOKUP

start_case() { # KIND (b0, b1, b2) ROUND: a Warren with an empty store (b2: holding only b1's tile cache and tree head)
    local kind=$1 name=$1-$2 store=$WORK/$1-$2-store args
    rm -rf "$store"
    mkdir -p "$store"
    case $kind in
        b0) args=(--sumdb off) ;;
        b1) args=(--sumdb "$VERIFIER $SUMDB_URL") ;;
        b2) args=(--sumdb "$VERIFIER $SUMDB_URL")
            cp -a "$SEED/." "$store/" ;;
    esac
    launch_warren "$name" --root "$store" --upstream "$NGINX_URL" "${args[@]}"
    PID_OF[$name]=$WARREN_PID URL_OF[$name]=$WARREN_URL STORE_OF[$name]=$store
}

# One curl process, one request at a time, over kept-alive connections: for each module version in manifest order, its
# .mod then its .zip from each named Warren in turn, the Warren that goes first rotating from one module to the next
# (starting with the FIRST-th, 0-based), so that both sides of a pair are measured within a few milliseconds.
ingest() { # FIRST NAME... -> RAW/ingest-NAME.tsv (path version mod-status mod-seconds zip-status zip-seconds), CPUS, WALL, A_CPU
    local first=$1 name urls="" t0 a0
    shift
    declare -A c0
    for name in "$@"; do urls+=" ${URL_OF[$name]}"; done
    awk -v urls="$urls" -v first="$first" '
        BEGIN { k = split(urls, u, " ") }
        {
            for (j = 0; j < k; j++) {
                base = u[(first + NR - 1 + j) % k + 1]
                printf "url = \"%s/%s/@v/%s.mod\"\noutput = \"/dev/null\"\n", base, $3, $4
                printf "url = \"%s/%s/@v/%s.zip\"\noutput = \"/dev/null\"\n", base, $3, $4
            }
        }' "$WORK/modules.txt" >"$WORK/ingest.cfg"
    for name in "$@"; do c0[$name]=$(cpu_ticks "${PID_OF[$name]}"); done
    a0=$(cpu_ticks "$A_PID")
    t0=$(now)
    curl -s -g --noproxy '*' -K "$WORK/ingest.cfg" -w '%{url_effective} %{http_code} %{time_total}\n' >"$WORK/ingest.out" || true
    WALL=$(calc "$(now) - $t0")
    A_CPU=$(calc "($(cpu_ticks "$A_PID") - $a0) / $CLK_TCK")
    for name in "$@"; do
        CPUS[$name]=$(calc "($(cpu_ticks "${PID_OF[$name]}") - ${c0[$name]}) / $CLK_TCK")
        awk -v base="${URL_OF[$name]}/" 'index($1, base) == 1 { print $2, $3 }' "$WORK/ingest.out" |
            paste -d' ' - - | paste -d' ' <(cut -d' ' -f1-2 "$WORK/modules.txt") - >"$RAW/ingest-$name.tsv"
    done
}

finish_case() { # KIND ROUND: metrics, stop, checks, figures
    local kind=$1 name=$1-$2 m=$RAW/metrics-$1-$2.txt all ok mismatches
    metrics "${URL_OF[$name]}" "$m"
    stop "${PID_OF[$name]}"
    python3 "$STATS" check "$RAW/ingest-$name.tsv" "${STORE_OF[$name]}" "$CORPUS" >"$WORK/check.txt" || exit 1
    all=$(stat_value "$m" "${VERIFY_METRIC}_count")
    mismatches=$(stat_value "$m" warren_checksum_mismatches_total)
    read -r ok VSUM[$name] VMED[$name] < <(python3 "$STATS" hist "$m" "$VERIFY_METRIC" "$OK_LABELS" 0.5)
    VCOUNT[$name]=$ok
    # The .zip's verification reuses the lookup its .mod's made a moment before: one verification per module does a
    # lookup, the other is a memory hit. The median of the lookups leaves out the N fastest observations.
    VMED_LOOKUP[$name]=$(python3 "$STATS" hist "$m" "$VERIFY_METRIC" "$OK_LABELS" 0.5 "$N" | cut -d' ' -f3)
    if [[ $kind == b0 ]]; then
        [[ $all == 0 ]] || { echo "bench: $name verified $all times with --sumdb off" >&2; exit 1; }
    elif [[ $ok -lt $N || $all != "$ok" || $mismatches != 0 ]]; then
        echo "bench: $name: $ok verifications ok, $all in all, $mismatches mismatches (want ≥ $N ok, no other)" >&2
        grep "^${VERIFY_METRIC}_count\|^warren_checksum_mismatches_total" "$m" >&2 || true
        exit 1
    fi
    read -r MED[$name] SUM[$name] < <(python3 "$STATS" run "$RAW/ingest-$name.tsv")
    local verified="no verification"
    [[ $kind == b0 ]] || verified="${VCOUNT[$name]} verifications ok, lookup median $(ms "${VMED_LOOKUP[$name]}" 3) ms"
    log "$name: median $(ms "${MED[$name]}") ms/module, requests $(fmt "${SUM[$name]}")s, Warren CPU $(fmt "${CPUS[$name]}")s;" \
        "$verified; $(cat "$WORK/check.txt")"
    if [[ $kind == b1 ]]; then
        mkdir -p "$SEED/.warren"
        cp -a "${STORE_OF[$name]}/sumdb" "$SEED/"
        cp -a "${STORE_OF[$name]}/.warren/sumdb" "$SEED/.warren/"
        SEED_TILES=$(find "$SEED/sumdb" -type f | wc -l)
        [[ $SEED_TILES -gt 0 && -n $(ls "$SEED/.warren/sumdb") ]] ||
            { echo "bench: b1 left no tile cache or tree head in its store" >&2; exit 1; }
    fi
    chmod -R u+w "${STORE_OF[$name]}"
    rm -rf "${STORE_OF[$name]}"
}

sumdb_requests() { # -> the requests A's /sumdb/ has answered so far
    metrics "$A_URL" "$WORK/a-metrics.txt"
    stat_value "$WORK/a-metrics.txt" warren_http_requests_total 'route="sumdb"'
}
ms() { fmt "$(calc "$1 * 1000")" "${2:-2}"; }

# B1 alone: the tiles are fetched (and cached) by the first verifications.
log "b1: verification, cold tile cache"
a0=$(sumdb_requests)
start_case b1 1
ingest 0 b1-1
B1_WALL=$WALL B1_A_CPU=$A_CPU
finish_case b1 1
TILES[b1-1]=$(($(sumdb_requests) - a0 - N))
log "b1: $(fmt "$WALL")s, A CPU $(fmt "$A_CPU")s, ${TILES[b1-1]} tile requests to A (beyond one lookup per module), $SEED_TILES tiles cached"

# B0 and B2 together, interleaved module by module, ROUNDS times with fresh processes and stores.
ADDED=() DIFF=() RATIO=() ROUND_WALL=() ROUND_A_CPU=()
for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS"
    a0=$(sumdb_requests)
    start_case b0 "$round"
    start_case b2 "$round"
    ingest $((round - 1)) "b0-$round" "b2-$round"
    ROUND_WALL+=("$WALL") ROUND_A_CPU+=("$A_CPU")
    finish_case b0 "$round"
    finish_case b2 "$round"
    # A's /sumdb/ requests in the round: one lookup per module from b2, and tiles, of which there must be none.
    TILES[b2-$round]=$(($(sumdb_requests) - a0 - N))
    if [[ ${TILES[b2-$round]} != 0 ]]; then
        echo "bench: b2-$round made ${TILES[b2-$round]} requests to A beyond one lookup per module although its tiles were cached" >&2
        exit 1
    fi
    read -r paired diff < <(python3 "$STATS" added "$RAW/ingest-b0-$round.tsv" "$RAW/ingest-b2-$round.tsv")
    ADDED+=("$paired") DIFF+=("$diff")
    RATIO+=("$(calc "${SUM[b2-$round]} / ${SUM[b0-$round]}")")
    log "round $round: added $(ms "$paired" 3) ms/module (median of paired differences)," \
        "difference of medians $(ms "$diff" 3) ms, ratio of request times $(fmt "${RATIO[-1]}" 3); wall $(fmt "$WALL")s"
done
stop "$A_PID"

# --- results ---------------------------------------------------------------------------------------------------------
col() { # ARRAY-NAME KIND -> the values of the rounds
    local -n arr=$1
    local r
    for r in $(seq 1 "$ROUNDS"); do echo "${arr[$2-$r]}"; done
}
ADDED_MED=$(median "${ADDED[@]}")
DIFF_MED=$(median "${DIFF[@]}")
RATIO_MED=$(median "${RATIO[@]}")
VMED_B2=$(median $(col VMED_LOOKUP b2))
VMEAN_B2=$(median $(for r in $(seq 1 "$ROUNDS"); do calc "${VSUM[b2-$r]} / $N"; done))
CPU_ADDED=$(median $(for r in $(seq 1 "$ROUNDS"); do calc "(${CPUS[b2-$r]} - ${CPUS[b0-$r]}) / $N"; done))
ELAPSED=$(calc "$(now) - $T_START")

{
    echo "# Warren checksum verification benchmark results"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
        "Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $(nginx -v 2>&1 | sed 's/.*: //'), $(curl --version | head -1 | cut -d' ' -f1-2)."
    echo "Corpus: $N module versions, $(du -sh "$CORPUS" | cut -f1). The whole script took $(fmt "$ELAPSED" 0) s."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "## Against the target"
    echo
    echo "Verification adds ≤ $TARGET_MS ms median per ingested module when tiles are cached: B2 (verification, tile cache seeded)" \
        "against B0 (no verification), both cold Warrens ingesting the corpus, interleaved module by module; $ROUNDS rounds."
    echo
    echo "| measure (median of $ROUNDS rounds) | value | target | result |"
    echo "|---|---|---|---|"
    echo "| **added latency per module**: median over modules of (B2 − B0) for the same module | **$(ms "$ADDED_MED" 3) ms** | ≤ $TARGET_MS ms | **$(verdict "$ADDED_MED * 1000 <= $TARGET_MS")** |"
    echo "| the same as median(B2) − median(B0) over modules | $(ms "$DIFF_MED" 3) ms | ≤ $TARGET_MS ms | $(verdict "$DIFF_MED * 1000 <= $TARGET_MS") |"
    echo "| ingest time B2 / B0 (sum of the request times) | $(fmt "$RATIO_MED" 3) | | |"
    echo "| B2's verification with a lookup on A, median (/metrics) | $(ms "$VMED_B2" 3) ms | | |"
    echo "| B2's verification time per module (/metrics histogram sum / $N) | $(ms "$VMEAN_B2" 3) ms | | |"
    echo "| Warren CPU time added per module ((B2 − B0) / $N) | $(ms "$CPU_ADDED" 3) ms | | |"
    echo
    echo "## Per Warren"
    echo
    echo "Per module: curl's time_total of the .mod plus that of the .zip. \"requests\" is the sum of those times over the $N modules."
    echo "Verification figures are from the Warren's /metrics (\`$VERIFY_METRIC{$OK_LABELS}\`, medians interpolated in the" \
        "cumulative buckets): each module is verified twice, at its .mod (a lookup on A) and at its .zip (that lookup's result," \
        "remembered); \"lookup\" leaves out the $N fastest observations, \"all\" does not."
    echo
    echo "| Warren | median per module, ms | requests, s | Warren CPU, s | verifications ok | verification median: lookup / all, ms | verification sum / module, ms |"
    echo "|---|---|---|---|---|---|---|"
    row() { # NAME LABEL
        local n=$1 v
        if [[ $n == b0-* ]]; then v="— | — | —"; else v="${VCOUNT[$n]} | $(ms "${VMED_LOOKUP[$n]}" 3) / $(ms "${VMED[$n]}" 3) | $(ms "$(calc "${VSUM[$n]} / $N")" 3)"; fi
        echo "| $2 | $(ms "${MED[$n]}" 3) | $(fmt "${SUM[$n]}") | $(fmt "${CPUS[$n]}") | $v |"
    }
    row b1-1 "B1, alone (verification, cold tile cache)"
    for r in $(seq 1 "$ROUNDS"); do
        row "b0-$r" "B0 round $r (no verification)"
        row "b2-$r" "B2 round $r (verification, tiles cached)"
    done
    echo
    echo "## Per round"
    echo
    echo "| round | added per module (paired median), ms | median(B2) − median(B0), ms | requests B2 / B0 | wall (both), s | A CPU, s | B2's tile requests |"
    echo "|---|---|---|---|---|---|---|"
    for i in $(seq 0 $((ROUNDS - 1))); do
        echo "| $((i + 1)) | $(ms "${ADDED[$i]}" 3) | $(ms "${DIFF[$i]}" 3) | $(fmt "${RATIO[$i]}" 3) | $(fmt "${ROUND_WALL[$i]}") | $(fmt "${ROUND_A_CPU[$i]}") | ${TILES[b2-$((i + 1))]} |"
    done
    echo "| median | $(ms "$ADDED_MED" 3) | $(ms "$DIFF_MED" 3) | $(fmt "$RATIO_MED" 3) | $(fmt "$(median "${ROUND_WALL[@]}")") | $(fmt "$(median "${ROUND_A_CPU[@]}")") | |"
    echo
    echo "B1 ran alone: $(fmt "$B1_WALL") s wall, A CPU $(fmt "$B1_A_CPU") s, ${TILES[b1-1]} tile requests to A, which left $SEED_TILES tiles in its cache."
    echo "Every request was answered 200 and every store held all $N .mod and .zip files, identical to the corpus; B1 and B2" \
        "verified every module ok, with no mismatch and no other outcome; no B2 fetched a tile. A logged the $N module" \
        "versions beforehand in $(fmt "$PRELOG_SECONDS") s (4 lookups at a time)."
} >"$RESULTS/sumdb.md"

echo
cat "$RESULTS/sumdb.md"
log "written to bench/results/sumdb.md"
