#!/usr/bin/env bash
# Cold zips sent while they are fetched and verified (`--stream-fetched-zips`) against verified and stored first
# (`off`), in one run, with the go command straight from nginx as the reference.
#
#   bash bench/stream.sh
#
# nginx serves the corpus, WARMUP_MODULES synthetic warm-up modules and one BIG_MB synthetic module (example.com/big,
# incompressible). Per round (ROUNDS, default 3; the order of the three cases rotates each round):
#   nginx:  go mod download of the corpus, then of example.com/big@v1.0.0, straight from nginx
#   off:    a fresh Warren (--stream-fetched-zips off, empty store) warmed on the synthetic modules (then WARMUP_PAUSE
#           seconds idle, while .NET recompiles the hot methods), then the same two downloads through it
#   stream: the same with --stream-fetched-zips STREAM (default 0: every zip from the http upstream is streamed)
#   slow links: example.com/big once more, with every hop limited to RATE bytes a second (nginx limit_rate; default
#           50m): straight from a rate-limited nginx, and, per Warren case, through a fresh Warren whose upstream is that
#           nginx, reached by the go command through a rate-limited nginx proxy in front of it (512 KB of buffers, no
#           temporary file): a remote upstream and a remote client, what streaming is for
# Every go client has a fresh module cache; the corpus download is checked against the manifest's sums and the big
# module's sum must be the same in every case. Figures: median seconds per case, the ratios to nginx and
# stream / off, and the Warren's CPU seconds. Results: printed, and written to bench/results/stream-latest.md.
# Overridable: GO, CORPUS, MANIFEST, ROUNDS, BIG_MB, STREAM, WARMUP_MODULES (300), WARMUP_PAUSE (3), RATE, PUBLISHED (reuse a publish),
# MODCACHE_ROOT (where the go clients' module caches go: a tmpfs under /dev/shm by default).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-$(command -v go || echo /usr/lib/go-1.19/bin/go)}
CORPUS=${CORPUS:-/tmp/corpus-out}
MANIFEST=${MANIFEST:-$REPO/../shared/corpus/manifest.tsv}
ROUNDS=${ROUNDS:-3}
BIG_MB=${BIG_MB:-100}
STREAM=${STREAM:-0}
WARMUP_MODULES=${WARMUP_MODULES:-300}
WARMUP_PAUSE=${WARMUP_PAUSE:-3}
RATE=${RATE:-50m}
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-stream

BENCH_WORK_PREFIX=warren-stream
# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx curl python3 "$GO"

log "work dir $WORK"
modcache_on_tmpfs
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$RAW" "$WORK/empty"
rm -f "$RAW"/*
[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash ../shared/corpus/regen.sh "$CORPUS"); }
mapfile -t MODS < <(awk -F'\t' '!/^#/ && NF >= 2 { print $1 "@" $2 }' "$MANIFEST")
publish_warren

UP=$WORK/upstream
make_warmup_upstream "$UP" "$WARMUP_MODULES"
python3 "$REPO/bench/make_big_module.py" "$UP" "$BIG_MB"
BIG=example.com/big@v1.0.0
BIG_BYTES=$(stat -c %s "$UP/example.com/big/@v/v1.0.0.zip")
NGINX_PORT=$(free_port) SLOW_PORT=$(free_port) FRONT_PORT=$(free_port) SLOW_WARREN_PORT=$(free_port)
start_nginx "$NGINX_PORT=$UP" "$SLOW_PORT=$UP@$RATE" "$FRONT_PORT=http://127.0.0.1:$SLOW_WARREN_PORT@$RATE"
NGINX_URL=http://127.0.0.1:$NGINX_PORT SLOW_URL=http://127.0.0.1:$SLOW_PORT FRONT_URL=http://127.0.0.1:$FRONT_PORT
wait_http "$NGINX_URL/github.com/gorilla/mux/@v/list" "$NGINX_PID"
log "${#MODS[@]} corpus versions; big zip $BIG_BYTES bytes; nginx on $NGINX_URL"

go_big() { # NAME PROXY_URL -> ELAPSED, BIG_SUM
    local cache=${MODCACHE_ROOT:-$WORK}/gomodcache-$1 out=$RAW/go-$1.json t0
    t0=$(now)
    go_mod_download "$cache" "$2" "$out" "$BIG" ||
        { echo "bench: go mod download $BIG via $2 failed" >&2; tail -5 "$out" "$out.stderr" >&2; exit 1; }
    ELAPSED=$(calc "$(now) - $t0")
    BIG_SUM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Sum"])' "$out")
    chmod -R u+w "$cache" && rm -rf "$cache"
}

declare -A CORPUS_S BIG_S SLOW_S CPU_S
SUMS=()
run_case() { # CASE ROUND
    local c=$1 r=$2 c0
    if [[ $c == nginx ]]; then
        go_download_corpus "nginx-$r" "$NGINX_URL"
        CORPUS_S[$c]+=" $ELAPSED"
        go_big "big-nginx-$r" "$NGINX_URL"
        BIG_S[$c]+=" $ELAPSED"
        SUMS+=("$BIG_SUM")
        go_big "slow-nginx-$r" "$SLOW_URL"
        SLOW_S[$c]+=" $ELAPSED"
        SUMS+=("$BIG_SUM")
        log "round $r nginx: corpus $(fmt "${CORPUS_S[$c]##* }") s, big $(fmt "${BIG_S[$c]##* }") s, big over slow links $(fmt "${SLOW_S[$c]##* }") s"
        return
    fi
    local setting=off
    [[ $c == stream ]] && setting=$STREAM
    launch_warren "$c-$r" --root "$WORK/store-$c-$r" --upstream "$NGINX_URL" --sumdb off --stream-fetched-zips "$setting"
    warm_download "warmup-$c-$r" "$WARREN_URL"
    sleep "$WARMUP_PAUSE" # the runtime's background recompilation of hot methods settles
    c0=$(cpu_ticks "$WARREN_PID")
    go_download_corpus "$c-$r" "$WARREN_URL"
    CORPUS_S[$c]+=" $ELAPSED"
    go_big "big-$c-$r" "$WARREN_URL"
    BIG_S[$c]+=" $ELAPSED"
    SUMS+=("$BIG_SUM")
    CPU_S[$c]+=" $(calc "($(cpu_ticks "$WARREN_PID") - $c0) / $CLK_TCK")"
    curl -fsS "$WARREN_URL/metrics" | grep '^warren_streamed_zips_total' >"$RAW/metrics-$c-$r.txt" || true
    stop "$WARREN_PID"

    # The slow links: a fresh Warren on the port the rate-limited proxy forwards to, its upstream the rate-limited nginx.
    dotnet "$PUB/warren.dll" serve --listen "127.0.0.1:$SLOW_WARREN_PORT" --root "$WORK/store-slow-$c-$r" --upstream "$SLOW_URL" \
        --sumdb off --stream-fetched-zips "$setting" >"$WORK/slow-$c-$r.log" 2>&1 &
    WARREN_PID=$!
    PIDS+=("$WARREN_PID")
    wait_http "http://127.0.0.1:$SLOW_WARREN_PORT/healthz" "$WARREN_PID"
    go_big "slow-$c-$r" "$FRONT_URL"
    SLOW_S[$c]+=" $ELAPSED"
    SUMS+=("$BIG_SUM")
    stop "$WARREN_PID"
    log "round $r $c: corpus $(fmt "${CORPUS_S[$c]##* }") s, big $(fmt "${BIG_S[$c]##* }") s, big over slow links $(fmt "${SLOW_S[$c]##* }") s, cpu $(fmt "${CPU_S[$c]##* }") s ($(tr '\n' ' ' <"$RAW/metrics-$c-$r.txt"))"
}

CASES=(nginx off stream)
for round in $(seq 1 "$ROUNDS"); do
    for i in 0 1 2; do run_case "${CASES[$(((i + round - 1) % 3))]}" "$round"; done
done

[[ $(printf '%s\n' "${SUMS[@]}" | sort -u | wc -l) == 1 ]] || { echo "bench: the big module's sum differs between cases: ${SUMS[*]}" >&2; exit 1; }

# shellcheck disable=SC2086
med() { median $1; }
N_C=$(med "${CORPUS_S[nginx]}") O_C=$(med "${CORPUS_S[off]}") S_C=$(med "${CORPUS_S[stream]}")
N_B=$(med "${BIG_S[nginx]}") O_B=$(med "${BIG_S[off]}") S_B=$(med "${BIG_S[stream]}")
N_L=$(med "${SLOW_S[nginx]}") O_L=$(med "${SLOW_S[off]}") S_L=$(med "${SLOW_S[stream]}")
rounds() { local v out=""; for v in $1; do out+=" $(fmt "$v")"; done; echo "$out"; }
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "stream.sh: $ROUNDS rounds, medians; stream setting $STREAM; big zip $BIG_BYTES bytes; load $LOAD_START → $LOAD_END"
    echo
    echo "| cold download | nginx, s | Warren off, s | Warren stream, s | off / nginx | stream / nginx | stream / off |"
    echo "|---|---|---|---|---|---|---|"
    echo "| the corpus (${#MODS[@]} versions) | $(fmt "$N_C") | $(fmt "$O_C") | $(fmt "$S_C") | $(fmt "$(calc "$O_C / $N_C")") | $(fmt "$(calc "$S_C / $N_C")") | $(fmt "$(calc "$S_C / $O_C")") |"
    echo "| example.com/big ($((BIG_BYTES / 1048576)) MB zip) | $(fmt "$N_B") | $(fmt "$O_B") | $(fmt "$S_B") | $(fmt "$(calc "$O_B / $N_B")") | $(fmt "$(calc "$S_B / $N_B")") | $(fmt "$(calc "$S_B / $O_B")") |"
    echo "| example.com/big over $RATE/s links | $(fmt "$N_L") | $(fmt "$O_L") | $(fmt "$S_L") | $(fmt "$(calc "$O_L / $N_L")") | $(fmt "$(calc "$S_L / $N_L")") | $(fmt "$(calc "$S_L / $O_L")") |"
    echo
    echo "rounds (s): corpus nginx$(rounds "${CORPUS_S[nginx]}"); off$(rounds "${CORPUS_S[off]}"); stream$(rounds "${CORPUS_S[stream]}")"
    echo "rounds (s): big nginx$(rounds "${BIG_S[nginx]}"); off$(rounds "${BIG_S[off]}"); stream$(rounds "${BIG_S[stream]}")"
    echo "rounds (s): big over slow links nginx$(rounds "${SLOW_S[nginx]}"); off$(rounds "${SLOW_S[off]}"); stream$(rounds "${SLOW_S[stream]}")"
    echo "Warren CPU (s, corpus and big): off$(rounds "${CPU_S[off]}"); stream$(rounds "${CPU_S[stream]}")"
} | tee "$RESULTS/stream-latest.md"
