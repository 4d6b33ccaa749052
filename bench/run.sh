#!/usr/bin/env bash
# Warren benchmark suite: Warren against nginx serving the same files, on this machine, in one run.
#
#   bash bench/run.sh
#
# 1. cold download of the whole corpus with the real go command: straight from nginx vs through a cold Warren; the
#    fresh Warren first fetches WARMUP_MODULES synthetic modules outside the corpus (see below)
# 2. warm throughput with wrk -t2 -c32: an .info, a ~45 KB zip, a ~8 MB zip (and the largest zip, for information);
#    the .info and the 45 KB zip also through a second Warren on a copy of the store with an auth file, every request
#    carrying a token (access control's cost)
# 3. memory: Warren's RSS while BIG_CLIENTS clients download a BIG_MB MB zip at once
#
# The cold round's warm-up: the benchmark rules compare after a warm-up, and a long-running server has its code
# compiled, whereas a freshly started .NET process spends a large share of its first seconds JIT-compiling (tiered
# compilation with PGO). So nginx serves, beside the corpus (linked in), WARMUP_MODULES synthetic modules under
# warmup.example/ that no measured download asks for, and each round's fresh Warren downloads them through the go
# command before its timed download and CPU count, then stays idle WARMUP_PAUSE seconds while .NET recompiles the hot
# methods in the background: its code is compiled while its store and index stay cold for every corpus module. (With 60
# modules and no pause a profile still found about 40 % of Warren's CPU in the corpus round on that recompilation.)
# The straight-from-nginx rounds download only the manifest's modules, as before. Every go client's module cache is on
# a tmpfs when there is one (MODCACHE_ROOT; see modcache_on_tmpfs in bench/common.sh). Each round's Warren has a store
# of its own, and none is deleted before the end (see cold_warren_round).
#
# Results: printed, and written to bench/results/latest.md (raw wrk output in bench/results/raw/).
# Everything listens on 127.0.0.1, on free high ports; every process started here is stopped on exit.
#
# Overridable: GO, CORPUS, MANIFEST, COLD_ROUNDS, WRK_ROUNDS, WRK_SECONDS, WARMUP_SECONDS, WARMUP_MODULES, WARMUP_PAUSE, BIG_MB,
# BIG_CLIENTS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
CORPUS=${CORPUS:-/tmp/corpus-out}
MANIFEST=${MANIFEST:-$REPO/../shared/corpus/manifest.tsv}
COLD_ROUNDS=${COLD_ROUNDS:-3}
WRK_SECONDS=${WRK_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
WRK_ROUNDS=${WRK_ROUNDS:-2}
WARMUP_MODULES=${WARMUP_MODULES:-300}
WARMUP_PAUSE=${WARMUP_PAUSE:-3}
BIG_MB=${BIG_MB:-100}
BIG_CLIENTS=${BIG_CLIENTS:-100}
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw

# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx wrk curl python3 "$GO"

# ---------------------------------------------------------------------------------------------------------------------
log "work dir $WORK"
modcache_on_tmpfs
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$RAW" "$WORK/empty" "$WORK/nginx"
rm -f "$RAW"/*.txt

if [[ ! -d $CORPUS ]]; then
    log "corpus missing; building it in $CORPUS"
    (cd "$REPO" && bash ../shared/corpus/regen.sh "$CORPUS")
fi

mapfile -t MODS < <(awk -F'\t' '!/^#/ && NF >= 2 { print $1 "@" $2 }' "$MANIFEST")
log "${#MODS[@]} module versions in the manifest"

publish_warren

log "writing the ${BIG_MB} MB synthetic module example.com/big@v1.0.0"
python3 "$REPO/bench/make_big_module.py" "$WORK/bigup" "$BIG_MB"
BIG_REL=example.com/big/@v/v1.0.0.zip
BIG_SIZE=$(stat -c %s "$WORK/bigup/$BIG_REL")

# --- nginx: the corpus on NGINX_PORT ("straight upstream"), the big module on BIGUP_PORT -----------------------------
# NGINX_PORT serves UPSTREAM_DIR: the corpus's entries (linked in) and the cold round's warm-up modules beside them.
UPSTREAM_DIR=$WORK/upstream
make_warmup_upstream "$UPSTREAM_DIR" "$WARMUP_MODULES"
NGINX_PORT=$(free_port)
BIGUP_PORT=$(free_port)
start_nginx "$NGINX_PORT=$UPSTREAM_DIR" "$BIGUP_PORT=$WORK/bigup"
wait_http "http://127.0.0.1:$NGINX_PORT/github.com/gorilla/mux/@v/list" "$NGINX_PID"
NGINX_URL=http://127.0.0.1:$NGINX_PORT
log "nginx on $NGINX_URL (workers: $(nginx_pids)), the corpus and ${#WARM_MODS[@]} warm-up modules"

WARREN_PID=""
start_warren() { # NAME UPSTREAM -> WARREN_PID, WARREN_URL
    launch_warren "$1" --root "$WORK/$1-store" --upstream "$2" --sumdb off
    log "warren '$1' pid $WARREN_PID on $WARREN_URL, upstream $2"
}

# --- 1. cold download of the whole corpus ---------------------------------------------------------------------------

COLD_NGINX=()
COLD_WARREN=()
COLD_WARREN_CPU=()
# The whole machine's CPU time over each timed download: in the nginx rounds nearly all of it is the go command's.
COLD_NGINX_BUSY=()
COLD_WARREN_BUSY=()
cold_warren_round() { # ROUND
    [[ -n $WARREN_PID ]] && stop "$WARREN_PID"
    # A store of its own per round, the earlier ones kept until the end: deleting a round's thousands of files just
    # before the next would make this disk's inode allocator step over every one of them for minutes afterwards (ext4
    # without a journal keeps recently freed inodes out of use), a cost of the bench, not of a server.
    start_warren "corpus-$1" "$NGINX_URL"
    CORPUS_STORE=$WORK/corpus-$1-store
    warm_download "warren-warmup-$1" "$WARREN_URL"
    sleep "$WARMUP_PAUSE"
    local c0
    c0=$(cpu_ticks "$WARREN_PID")
    go_download_corpus "warren-cold-$1" "$WARREN_URL"
    COLD_WARREN+=("$ELAPSED")
    COLD_WARREN_CPU+=("$(calc "($(cpu_ticks "$WARREN_PID") - $c0) / $CLK_TCK")")
    COLD_WARREN_BUSY+=("$DOWNLOAD_BUSY")
}
cold_nginx_round() { # ROUND
    go_download_corpus "nginx-$1" "$NGINX_URL"
    COLD_NGINX+=("$ELAPSED")
    COLD_NGINX_BUSY+=("$DOWNLOAD_BUSY")
}
for round in $(seq 1 "$COLD_ROUNDS"); do
    log "cold round $round of $COLD_ROUNDS"
    if ((round % 2)); then
        cold_nginx_round "$round"
        cold_warren_round "$round"
    else
        cold_warren_round "$round"
        cold_nginx_round "$round"
    fi
done
COLD_NGINX_MED=$(median "${COLD_NGINX[@]}")
COLD_WARREN_MED=$(median "${COLD_WARREN[@]}")
COLD_RATIO=$(calc "$COLD_WARREN_MED / $COLD_NGINX_MED")
CORPUS_WARREN_PID=$WARREN_PID
CORPUS_WARREN_URL=$WARREN_URL
log "cold: nginx median $(fmt "$COLD_NGINX_MED")s, warren median $(fmt "$COLD_WARREN_MED")s, ratio $(fmt "$COLD_RATIO")"

# --- 2. warm wrk runs -----------------------------------------------------------------------------------------------
closest_zip() { # TARGET_BYTES -> corpus-relative path of the zip closest in size
    (cd "$CORPUS" && find . -name '*.zip' -printf '%s %P\n') |
        awk -v t="$1" '{ d = $1 - t; if (d < 0) d = -d; if (best == "" || d < bd) { bd = d; best = $2 } } END { print best }'
}
ZIP45=$(closest_zip $((45 * 1024)))
ZIP8M=$(closest_zip $((8 * 1024 * 1024)))
ZIPMAX=$(cd "$CORPUS" && find . -name '*.zip' -printf '%s %P\n' | sort -n | tail -1 | cut -d' ' -f2)
INFO=${ZIP45%.zip}.info
declare -A SIZE
for rel in "$INFO" "$ZIP45" "$ZIP8M" "$ZIPMAX"; do
    SIZE[$rel]=$(stat -c %s "$CORPUS/$rel")
    # Warren must already hold it (the cold download stored it) and serve exactly the corpus bytes.
    curl -fs --noproxy '*' -o "$WORK/check.bin" "$CORPUS_WARREN_URL/$rel"
    cmp -s "$WORK/check.bin" "$CORPUS/$rel" || { echo "bench: Warren served different bytes for $rel" >&2; exit 1; }
done

to_mb() { # wrk size like 12.34MB -> MB
    python3 -c "
import re, sys
m = re.fullmatch(r'([0-9.]+)([KMGT]?B)', sys.argv[1])
print(float(m.group(1)) * {'B': 1 / 2**20, 'KB': 1 / 1024, 'MB': 1, 'GB': 1024, 'TB': 2**20}[m.group(2)])" "$1"
}

run_wrk() { # NAME URL PIDS... -> RPS MBPS CPU (percent of one core, server processes only); WRK_AUTH: a header value
    local name=$1 url=$2 out=$RAW/wrk-$1.txt c0 c1 t0 t1 bad
    local -a hdr=()
    [[ -n ${WRK_AUTH:-} ]] && hdr=(-H "Authorization: $WRK_AUTH")
    shift 2
    wrk -t2 -c32 -d"${WARMUP_SECONDS}s" --timeout 60s "${hdr[@]}" "$url" >/dev/null
    c0=$(cpu_ticks "$@")
    t0=$(now)
    wrk -t2 -c32 -d"${WRK_SECONDS}s" --timeout 60s --latency "${hdr[@]}" "$url" >"$out"
    t1=$(now)
    c1=$(cpu_ticks "$@")
    bad=$(awk '/Non-2xx|Socket errors/' "$out")
    if [[ -n $bad ]]; then
        echo "bench: wrk $name: $bad" >&2
        exit 1
    fi
    RPS=$(wrk_field "$out" Requests/sec:)
    MBPS=$(to_mb "$(wrk_field "$out" Transfer/sec:)")
    CPU=$(calc "($c1 - $c0) / $CLK_TCK / ($t1 - $t0) * 100")
    P99=$(awk '$1 == "99%" { print $2 }' "$out")
    log "wrk $name: $(fmt "$RPS" 0) req/s, $(fmt "$MBPS" 1) MB/s, server CPU $(fmt "$CPU" 0)%, p99 $P99"
}

# Access control's cost: a second Warren on a copy of the store, with an auth file and a token on every request
# (the rate limit off, as for a trusted build farm; the token grants every module, so every answer is a private one).
cp -a "$CORPUS_STORE" "$WORK/auth-store"
rm -f "$WORK/auth-store/.warren/serve.lock"
AUTH_TOKEN=$(dotnet "$PUB/warren.dll" token create bench --grant '*' --auth-file "$WORK/auth.json" | tail -1)
WARREN_PID=""
launch_warren auth --root "$WORK/auth-store" --upstream "$NGINX_URL" --sumdb off --auth-file "$WORK/auth.json" --rate-limit 0
AUTH_WARREN_PID=$WARREN_PID
AUTH_WARREN_URL=$WARREN_URL
for rel in "$INFO" "$ZIP45"; do
    code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$AUTH_WARREN_URL/$rel")
    [[ $code == 401 ]] || { echo "bench: the auth Warren answered $code without a token" >&2; exit 1; }
    curl -fs --noproxy '*' -H "Authorization: Bearer $AUTH_TOKEN" -o "$WORK/check.bin" "$AUTH_WARREN_URL/$rel"
    cmp -s "$WORK/check.bin" "$CORPUS/$rel" || { echo "bench: the auth Warren served different bytes for $rel" >&2; exit 1; }
done
log "warren 'auth' pid $AUTH_WARREN_PID on $AUTH_WARREN_URL"

# WRK_ROUNDS rounds, nginx first in odd rounds and Warren first in even ones; each figure is the median over rounds.
declare -A W_RPS W_MB W_CPU W_P99 ROUND_RPS
WARM_CASES=(info zip45 zip8m zipmax)
AUTH_CASES=(info zip45)
declare -A CASE_PATH=([info]=$INFO [zip45]=$ZIP45 [zip8m]=$ZIP8M [zipmax]=$ZIPMAX)
wrk_server() { # CASE SERVER ROUND
    local rel=${CASE_PATH[$1]} key=$1-$2
    case $2 in
        nginx) run_wrk "$key-$3" "$NGINX_URL/$rel" $(nginx_pids) ;;
        warren) run_wrk "$key-$3" "$CORPUS_WARREN_URL/$rel" "$CORPUS_WARREN_PID" ;;
        auth) WRK_AUTH="Bearer $AUTH_TOKEN" run_wrk "$key-$3" "$AUTH_WARREN_URL/$rel" "$AUTH_WARREN_PID" ;;
    esac
    W_RPS[$key]+=" $RPS" W_MB[$key]+=" $MBPS" W_CPU[$key]+=" $CPU" W_P99[$key]+=" $P99"
}
# One warm-up pass over every server and case before the rounds: the auth Warren has served nothing yet, and .NET
# compiles its hot methods again (tiered, with profile data) over the first seconds of load; without this its first
# round measured the compiler, not access control.
log "warm-up pass: ${WARMUP_SECONDS}s of wrk on every server and case"
for c in "${WARM_CASES[@]}"; do
    rel=${CASE_PATH[$c]}
    urls=("$NGINX_URL/$rel" "$CORPUS_WARREN_URL/$rel")
    for u in "${urls[@]}"; do wrk -t2 -c32 -d"${WARMUP_SECONDS}s" --timeout 60s "$u" >/dev/null; done
    if [[ " ${AUTH_CASES[*]} " == *" $c "* ]]; then
        wrk -t2 -c32 -d"${WARMUP_SECONDS}s" --timeout 60s -H "Authorization: Bearer $AUTH_TOKEN" "$AUTH_WARREN_URL/$rel" >/dev/null
    fi
done
for round in $(seq 1 "$WRK_ROUNDS"); do
    log "warm round $round of $WRK_ROUNDS"
    for c in "${WARM_CASES[@]}"; do
        servers=(nginx warren)
        [[ " ${AUTH_CASES[*]} " == *" $c "* ]] && servers+=(auth)
        ((round % 2)) || mapfile -t servers < <(printf '%s\n' "${servers[@]}" | tac)
        for s in "${servers[@]}"; do
            wrk_server "$c" "$s" "$round"
        done
    done
done
stop "$AUTH_WARREN_PID"
for key in "${!W_RPS[@]}"; do
    ROUND_RPS[$key]=${W_RPS[$key]# }
    W_RPS[$key]=$(median ${W_RPS[$key]})
    W_MB[$key]=$(median ${W_MB[$key]})
    W_CPU[$key]=$(median ${W_CPU[$key]})
    W_P99[$key]=$(echo ${W_P99[$key]} | tr ' ' '/')
done
WARREN_RSS_AFTER_WRK=$(awk '/VmHWM/ { print $2 }' "/proc/$CORPUS_WARREN_PID/status")
stop "$CORPUS_WARREN_PID"

# --- 3. memory: BIG_CLIENTS clients download the big zip at once -----------------------------------------------------
BIGUP_URL=http://127.0.0.1:$BIGUP_PORT
start_warren big "$BIGUP_URL"
BIG_PID=$WARREN_PID
BIG_URL=$WARREN_URL
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
RSS_IDLE=$(status_kb "$BIG_PID" VmRSS)
t0=$(now)
curl -fs --noproxy '*' -o "$WORK/big-check.zip" "$BIG_URL/$BIG_REL"
BIG_INGEST_SECONDS=$(calc "$(now) - $t0")
cmp -s "$WORK/big-check.zip" "$WORK/bigup/$BIG_REL" || { echo "bench: Warren served different bytes for the big zip" >&2; exit 1; }
rm -f "$WORK/big-check.zip"
HWM_INGEST=$(status_kb "$BIG_PID" VmHWM)
RSS_WARM=$(status_kb "$BIG_PID" VmRSS)
log "big zip ($BIG_SIZE bytes) ingested in $(fmt "$BIG_INGEST_SECONDS")s; RSS idle $((RSS_IDLE / 1024)) MB, peak during ingest $((HWM_INGEST / 1024)) MB"

parallel_download() { # URL -> PAR_SECONDS; fails unless every client got the whole file
    local url=$1 out=$WORK/parallel.txt pids=() i t0
    : >"$out"
    t0=$(now)
    for i in $(seq 1 "$BIG_CLIENTS"); do
        curl -s --noproxy '*' -o /dev/null -w '%{http_code} %{size_download}\n' "$url" >>"$out" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    PAR_SECONDS=$(calc "$(now) - $t0")
    local good
    good=$(awk -v s="$BIG_SIZE" '$1 == 200 && $2 == s' "$out" | wc -l)
    if [[ $good != "$BIG_CLIENTS" ]]; then
        echo "bench: only $good of $BIG_CLIENTS downloads of $url were complete" >&2
        sort "$out" | uniq -c >&2
        exit 1
    fi
}

# Forget the ingest peak so that VmHWM covers only the parallel downloads.
echo 5 >"/proc/$BIG_PID/clear_refs" 2>/dev/null && HWM_RESET=yes || HWM_RESET=no
SAMPLES=$RAW/rss-samples.tsv
printf 'epoch\tVmRSS_kB\tVmHWM_kB\n' >"$SAMPLES"
touch "$WORK/sampling"
(
    while [[ -e $WORK/sampling ]]; do
        printf '%s\t%s\t%s\n' "$(now)" "$(status_kb "$BIG_PID" VmRSS)" "$(status_kb "$BIG_PID" VmHWM)" >>"$SAMPLES"
        sleep 0.2
    done
) &
SAMPLER_PID=$!
PIDS+=("$SAMPLER_PID")
c0=$(cpu_ticks "$BIG_PID")
parallel_download "$BIG_URL/$BIG_REL"
BIG_WARREN_SECONDS=$PAR_SECONDS
BIG_WARREN_CPU=$(calc "($(cpu_ticks "$BIG_PID") - $c0) / $CLK_TCK")
sleep 0.5
rm -f "$WORK/sampling"
wait "$SAMPLER_PID" || true
HWM_LOAD=$(status_kb "$BIG_PID" VmHWM)
RSS_PEAK_SAMPLED=$(awk 'NR > 1 && $2 > m { m = $2 } END { print m }' "$SAMPLES")
NSAMPLES=$(($(wc -l <"$SAMPLES") - 1))
if [[ $HWM_RESET == yes ]]; then
    RSS_PEAK=$((HWM_LOAD > RSS_PEAK_SAMPLED ? HWM_LOAD : RSS_PEAK_SAMPLED))
else
    RSS_PEAK=$RSS_PEAK_SAMPLED
fi
log "$BIG_CLIENTS parallel downloads via Warren: $(fmt "$BIG_WARREN_SECONDS")s, CPU $(fmt "$BIG_WARREN_CPU")s, peak RSS $((RSS_PEAK / 1024)) MB ($NSAMPLES samples, VmHWM reset: $HWM_RESET)"
parallel_download "$BIGUP_URL/$BIG_REL"
BIG_NGINX_SECONDS=$PAR_SECONDS
log "$BIG_CLIENTS parallel downloads via nginx: $(fmt "$BIG_NGINX_SECONDS")s"
stop "$BIG_PID"

# --- results --------------------------------------------------------------------------------------------------------
ratio() { calc "${W_RPS[$1-warren]} / ${W_RPS[$1-nginx]}"; }
label() { echo "\`${CASE_PATH[$1]}\` ($(numfmt --to=iec-i --suffix=B "${SIZE[${CASE_PATH[$1]}]}"))"; }
R_INFO=$(ratio info) R_ZIP45=$(ratio zip45) R_ZIP8M=$(ratio zip8m) R_ZIPMAX=$(ratio zipmax)
MB=$((1024))

{
    echo "# Warren benchmark results"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
        "Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $(nginx -v 2>&1 | sed 's/.*: //'), $("$GO" version | cut -d' ' -f3)."
    echo "Corpus: ${#MODS[@]} module versions, $(du -sh "$CORPUS" | cut -f1)."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "## Against the targets"
    echo
    echo "| measure | Warren | nginx | ratio | target | result |"
    echo "|---|---|---|---|---|---|"
    for c in info zip45 zip8m; do
        r=$(ratio "$c")
        case $c in info) t=0.8 n='`.info`' ;; zip45) t=0.7 n='45 KB zip' ;; zip8m) t=0.9 n='8 MB zip' ;; esac
        echo "| $n warm, req/s | $(fmt "${W_RPS[$c-warren]}" 0) | $(fmt "${W_RPS[$c-nginx]}" 0) | $(fmt "$r") | ≥ $t | $(verdict "$r >= $t") |"
    done
    echo "| cold download of the corpus, s (median of $COLD_ROUNDS) | $(fmt "$COLD_WARREN_MED") | $(fmt "$COLD_NGINX_MED") | $(fmt "$COLD_RATIO") | ≤ 1.1 | $(verdict "$COLD_RATIO <= 1.1") |"
    for c in "${AUTH_CASES[@]}"; do
        r=$(ratio "$c") ra=$(calc "${W_RPS[$c-auth]} / ${W_RPS[$c-nginx]}")
        n=$([[ $c == info ]] && echo '`.info`' || echo '45 KB zip')
        echo "| $n warm with an auth file and a token on every request, req/s | $(fmt "${W_RPS[$c-auth]}" 0) | $(fmt "${W_RPS[$c-nginx]}" 0) | $(fmt "$ra") | within 10% of $(fmt "$r") (no auth) | $(verdict "$ra >= 0.9 * $r") |"
    done
    echo "| peak RSS, $BIG_CLIENTS clients × $((BIG_SIZE / 1000000)) MB zip | $((RSS_PEAK / MB)) MB | | | < 150 MB | $(verdict "$RSS_PEAK / 1024 < 150") |"
    echo
    echo "## Warm throughput (wrk -t2 -c32 -d${WRK_SECONDS}s after a ${WARMUP_SECONDS}s warm-up, $WRK_ROUNDS rounds, medians)"
    echo
    echo "Server CPU is the server processes' CPU time during a run as a percentage of one core (the machine has $(nproc); wrk runs on the same cores)."
    echo
    echo "| file | server | req/s (median) | req/s per round | MB/s | p99 latency per round | server CPU |"
    echo "|---|---|---|---|---|---|---|"
    for c in "${WARM_CASES[@]}"; do
        for s in nginx warren auth; do
            [[ -n ${W_RPS[$c-$s]:-} ]] || continue
            echo "| $(label "$c") | $s | $(fmt "${W_RPS[$c-$s]}" 0) | $(for r in ${ROUND_RPS[$c-$s]}; do printf '%.0f ' "$r"; done | sed 's/ $//; s/ / \/ /g') | $(fmt "${W_MB[$c-$s]}" 1) | ${W_P99[$c-$s]} | $(fmt "${W_CPU[$c-$s]}" 0)% |"
        done
    done
    echo
    echo "Ratios Warren/nginx: .info $(fmt "$R_INFO"), 45 KB zip $(fmt "$R_ZIP45"), 8 MB zip $(fmt "$R_ZIP8M"), largest zip $(fmt "$R_ZIPMAX") (no target; for information)."
    echo "Warren peak RSS over the cold downloads and wrk runs: $((WARREN_RSS_AFTER_WRK / MB)) MB."
    echo
    echo "## Cold download of the corpus (go mod download -json, fresh GOMODCACHE each time)"
    echo
    echo "Every run exited 0 and reported the manifest's h1 sums for all ${#MODS[@]} module versions."
    echo "Warren started each round with an empty store, fetching from the same nginx."
    if ((${#WARM_MODS[@]})); then
        echo "Before the timed download (and its CPU count) it served ${#WARM_MODS[@]} synthetic modules outside the corpus"
        echo "through the go command, so that its code was compiled while its store stayed cold for the corpus."
    fi
    echo
    echo "| round | nginx direct, s | through cold Warren, s | ratio | Warren CPU time, s | machine CPU, s (nginx / Warren round) | CPU bound |"
    echo "|---|---|---|---|---|---|---|"
    bounds=()
    for i in $(seq 0 $((COLD_ROUNDS - 1))); do
        bound=$(calc "(${COLD_NGINX_BUSY[$i]} + ${COLD_WARREN_CPU[$i]}) / ${COLD_NGINX_BUSY[$i]}")
        bounds+=("$bound")
        echo "| $((i + 1)) | $(fmt "${COLD_NGINX[$i]}") | $(fmt "${COLD_WARREN[$i]}") | $(fmt "$(calc "${COLD_WARREN[$i]} / ${COLD_NGINX[$i]}")") | $(fmt "${COLD_WARREN_CPU[$i]}") | $(fmt "${COLD_NGINX_BUSY[$i]}") / $(fmt "${COLD_WARREN_BUSY[$i]}") | $(fmt "$bound") |"
    done
    echo "| median | $(fmt "$COLD_NGINX_MED") | $(fmt "$COLD_WARREN_MED") | $(fmt "$COLD_RATIO") | $(fmt "$(median "${COLD_WARREN_CPU[@]}")") | $(fmt "$(median "${COLD_NGINX_BUSY[@]}")") / $(fmt "$(median "${COLD_WARREN_BUSY[@]}")") | $(fmt "$(median "${bounds[@]}")") |"
    echo
    echo "CPU bound: (machine CPU of the nginx round + Warren's CPU) / machine CPU of the nginx round, the least ratio"
    echo "this machine allows when the go command keeps its cores as busy as it does straight from nginx (with $(nproc)"
    echo "cores, in the nginx rounds the go command alone keeps them $(fmt "$(calc "$(median "${COLD_NGINX_BUSY[@]}") / $(nproc) / $COLD_NGINX_MED * 100")" 0) % busy)."
    echo
    echo "## Memory ($BIG_CLIENTS parallel curl downloads of a $BIG_SIZE-byte random-content module zip)"
    echo
    echo "| | value |"
    echo "|---|---|"
    echo "| Warren RSS, idle after start | $((RSS_IDLE / MB)) MB |"
    echo "| Warren peak RSS while ingesting the zip (first request) | $((HWM_INGEST / MB)) MB |"
    echo "| Warren RSS after ingest | $((RSS_WARM / MB)) MB |"
    echo "| **Warren peak RSS during the $BIG_CLIENTS downloads** | **$((RSS_PEAK / MB)) MB** (max of $NSAMPLES VmRSS samples every 200 ms: $((RSS_PEAK_SAMPLED / MB)) MB; VmHWM after reset: $([[ $HWM_RESET == yes ]] && echo "$((HWM_LOAD / MB)) MB" || echo n/a)) |"
    echo "| time for all $BIG_CLIENTS downloads, Warren | $(fmt "$BIG_WARREN_SECONDS") s ($(fmt "$(calc "$BIG_CLIENTS * $BIG_SIZE / $BIG_WARREN_SECONDS / 2**20")" 0) MB/s), Warren CPU $(fmt "$BIG_WARREN_CPU") s |"
    echo "| time for all $BIG_CLIENTS downloads, nginx | $(fmt "$BIG_NGINX_SECONDS") s ($(fmt "$(calc "$BIG_CLIENTS * $BIG_SIZE / $BIG_NGINX_SECONDS / 2**20")" 0) MB/s) |"
} >"$RESULTS/latest.md"

echo
cat "$RESULTS/latest.md"
log "written to bench/results/latest.md"
