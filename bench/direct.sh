#!/usr/bin/env bash
# Warren in direct mode against the go command in direct mode, on the corpus git repositories, in one run.
#
#   bash bench/direct.sh
#
# 1. cold fetch: `go mod download -json` of the 13 module@version queries of ../shared/corpus/git/direct_test.sh
#    (12 tagged versions of the 8 repositories and the branch query github.com/pkg/errors@dev), fresh GOMODCACHE,
#    (a) GOPROXY=direct, the go command cloning from git itself, (b) GOPROXY=<Warren --upstream direct> with a fresh
#    store and no mirrors, its process warmed up first on a ninth repository no query names (WARM_UP=0: not);
#    COLD_ROUNDS rounds alternating which goes first, medians, ratio Warren / go
# 2. list rate: wrk -t2 -c32 on /github.com/pkg/errors/@v/list once the mirrors exist, (a) with the default list TTL,
#    (b) with a list TTL of 1 ms so that every request finds the list expired and asks the (fresh) mirror again,
#    (c) for information, with the mirror freshness at 1 ms as well, so that every refresh asks the origin
#
# The repositories are made by ../shared/corpus/git/make_git_repos.py from the corpus (CORPUS, default
# /tmp/corpus-out) and served by ../shared/corpus/git/git_serve.py, with the recipe of ../shared/corpus/README.md.
# Results: printed, and written to bench/results/direct.md (raw output in bench/results/raw-direct/).
# Everything listens on 127.0.0.1, on free high ports; every process started here is stopped on exit.
#
# Overridable: GO, CORPUS, MANIFEST, COLD_ROUNDS, WRK_ROUNDS, WRK_SECONDS, WARMUP_SECONDS, SHORT_TTL, and WARM_UP=0 to time
# each cold Warren without warming its process up first (a fresh .NET process: JIT and first-use costs included).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
CORPUS=${CORPUS:-/tmp/corpus-out}
MANIFEST=${MANIFEST:-$REPO/../shared/corpus/manifest.tsv}
GITTOOLS=$REPO/../shared/corpus/git
COLD_ROUNDS=${COLD_ROUNDS:-3}
WRK_ROUNDS=${WRK_ROUNDS:-2}
WRK_SECONDS=${WRK_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
SHORT_TTL=${SHORT_TTL:-00:00:00.001}
WARM_UP=${WARM_UP:-1}
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-direct
LIST_PATH=github.com/pkg/errors/@v/list
GOINSECURE_PATHS=golang.org/x/sync,gopkg.in/yaml.v3
# The VERSIONS of ../shared/corpus/git/direct_test.sh: every tagged version of the 8 repositories, and one branch query.
QUERIES=(
    github.com/pkg/errors@v0.8.1 github.com/pkg/errors@v0.9.1 github.com/pkg/errors@dev
    github.com/davecgh/go-spew@v1.1.1 github.com/gofrs/uuid@v4.3.1+incompatible
    github.com/cespare/xxhash/v2@v2.1.1 github.com/cespare/xxhash/v2@v2.1.2 github.com/go-chi/chi/v5@v5.0.7
    github.com/ugorji/go@v1.2.8 github.com/ugorji/go/codec@v1.2.7 github.com/ugorji/go/codec@v1.2.8
    gopkg.in/yaml.v3@v3.0.1 golang.org/x/sync@v0.1.0
)

# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
BENCH_WORK_PREFIX=warren-bench-direct
bench_init dotnet wrk curl git python3 "$GO"

# ---------------------------------------------------------------------------------------------------------------------
log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
UPTIME_START=$(uptime)
mkdir -p "$RAW" "$WORK/empty"
rm -f "$RAW"/*

if [[ ! -d $CORPUS ]]; then
    log "corpus missing; building it in $CORPUS"
    (cd "$REPO" && bash ../shared/corpus/regen.sh "$CORPUS")
fi

log "making the corpus git repositories"
python3 "$GITTOOLS/make_git_repos.py" "$CORPUS" "$WORK/git" >"$WORK/make_git_repos.log" 2>&1 ||
    { cat "$WORK/make_git_repos.log" >&2; exit 1; }
NREPOS=$(cd "$WORK/git/repos" && find . -name '*.git' -prune -type d | wc -l)

# A ninth repository, used only to warm up each Warren process before it is timed (no query names it): a tag and a
# later commit on main, so that the warm-up runs the code paths of tagged versions and of pseudo-versions.
WARMUP_MODULE=github.com/warren-bench/warmup
make_warmup_repo() {
    local src=$WORK/warmup-src
    mkdir -p "$src"
    (
        cd "$src"
        export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench
        export GIT_COMMITTER_EMAIL=bench@example.com GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
        git init -q -b main .
        printf 'module %s\n\ngo 1.19\n' "$WARMUP_MODULE" >go.mod
        printf 'package warmup\n\nconst Version = 1\n' >warmup.go
        git add . && GIT_AUTHOR_DATE=2020-01-01T00:00:00Z GIT_COMMITTER_DATE=2020-01-01T00:00:00Z git commit -qm v1
        git tag v1.0.0
        printf 'package warmup\n\nconst Version = 2\n' >warmup.go
        git add . && GIT_AUTHOR_DATE=2020-01-02T00:00:00Z GIT_COMMITTER_DATE=2020-01-02T00:00:00Z git commit -qm v2
        git clone -q --bare . "$WORK/git/repos/$WARMUP_MODULE.git"
    )
}
make_warmup_repo

GIT_PORT=$(free_port)
GIT_LOG=$WORK/git_serve.log
python3 "$GITTOOLS/git_serve.py" "$WORK/git/repos" "$GIT_PORT" >"$GIT_LOG" 2>&1 &
GIT_PID=$!
PIDS+=("$GIT_PID")
GIT_URL=http://127.0.0.1:$GIT_PORT
wait_http "$GIT_URL/golang.org/x/sync?go-get=1" "$GIT_PID"
log "$NREPOS repositories served by git_serve.py on $GIT_URL"

# The recipe: github.com through url.insteadOf in a private git config, other hosts through git_serve.py as HTTP
# proxy (go-get discovery over plain http for the GOINSECURE paths), 127.0.0.1 reached without the proxy.
GITCONFIG=$WORK/gitconfig
printf '[url "%s/github.com/"]\n\tinsteadOf = https://github.com/\n' "$GIT_URL" >"$GITCONFIG"
GO_ENV=(GOENV=off GO111MODULE=on GOSUMDB=off GONOSUMDB='*' GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPRIVATE= GONOPROXY=
    GOPATH="$WORK/gopath" GOCACHE="$WORK/gocache"
    GIT_CONFIG_GLOBAL="$GITCONFIG" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost)
DIRECT_ENV=(GOPROXY=direct HTTP_PROXY="$GIT_URL" HTTPS_PROXY="$GIT_URL" http_proxy="$GIT_URL" https_proxy="$GIT_URL"
    GOINSECURE="$GOINSECURE_PATHS")

publish_warren

WARREN_PID=""
start_warren() { # NAME [VAR=VALUE...] -> WARREN_PID, WARREN_URL, WARREN_STORE; returns 1 if it did not come up
    local name=$1 port
    shift
    port=$(free_port)
    WARREN_STORE=$WORK/$name-store
    env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u NO_PROXY -u no_proxy \
        WARREN_GITCONFIG="$GITCONFIG" WARREN_OUTBOUNDPROXY="$GIT_URL" WARREN_OUTBOUNDPROXYBYPASS=127.0.0.1,localhost \
        WARREN_GOINSECURE="$GOINSECURE_PATHS" "$@" \
        dotnet "$PUB/warren.dll" serve --listen "127.0.0.1:$port" --root "$WARREN_STORE" --upstream direct --sumdb off \
        >"$WORK/$name.log" 2>&1 &
    WARREN_PID=$!
    PIDS+=("$WARREN_PID")
    WARREN_URL=http://127.0.0.1:$port
    wait_http "$WARREN_URL/healthz" "$WARREN_PID" || return 1
    log "warren '$name' pid $WARREN_PID on $WARREN_URL, upstream direct${*:+, $*}"
}

git_requests() { # -> "info/refs upload-pack" request counts in git_serve.py's log so far
    awk '/info\/refs/ { r++ } /git-upload-pack/ && !/info\/refs/ { p++ } END { print r + 0, p + 0 }' "$GIT_LOG"
}

# --- 1. cold fetch ---------------------------------------------------------------------------------------------------
REFERENCE=""
go_download() { # NAME VAR=VALUE... -> ELAPSED (seconds); fails unless go exits 0 with sums identical to the reference
    local name=$1 cache=$WORK/gomodcache-$1 out=$RAW/go-$1.json rc t0 t1
    shift
    rm -rf "$cache"
    t0=$(now)
    set +e
    (cd "$WORK/empty" && env "${GO_ENV[@]}" "$@" GOMODCACHE="$cache" "$GO" mod download -json "${QUERIES[@]}" >"$out" 2>"$out.stderr")
    rc=$?
    set -e
    t1=$(now)
    ELAPSED=$(calc "$t1 - $t0")
    if [[ $rc != 0 ]]; then
        echo "bench: go mod download ($name) exited $rc" >&2
        head -20 "$out.stderr" >&2
        head -c 2000 "$out" >&2
        exit 1
    fi
    python3 "$REPO/bench/check_direct.py" "${#QUERIES[@]}" "$out" "$REFERENCE" "$MANIFEST" >"$out.check" ||
        { cat "$out.check" >&2; exit 1; }
    [[ -n $REFERENCE ]] || REFERENCE=$out
    chmod -R u+w "$cache"
    rm -rf "$cache"
    log "go mod download ($name): $(fmt "$ELAPSED")s, exit 0, $(cat "$out.check")"
}

# One go mod download of the warm-up module (a tag and a branch query) through the new Warren process, so that the
# timed run measures a cold cache and cold mirrors, not a cold .NET process (JIT). Its time is reported, not compared.
WARMUP_TIMES=()
warm_up_warren() { # ROUND
    local cache=$WORK/gomodcache-warmup t0 t1
    if [[ $WARM_UP == 0 ]]; then
        WARMUP_TIMES+=(0)
        return
    fi
    rm -rf "$cache"
    t0=$(now)
    (cd "$WORK/empty" && env "${GO_ENV[@]}" GOPROXY="$WARREN_URL" GOINSECURE= GOMODCACHE="$cache" \
        "$GO" mod download -json "$WARMUP_MODULE@v1.0.0" "$WARMUP_MODULE@main" >"$RAW/warmup-$1.json" 2>&1) ||
        { echo "bench: the warm-up download failed" >&2; cat "$RAW/warmup-$1.json" >&2; exit 1; }
    t1=$(now)
    chmod -R u+w "$cache" && rm -rf "$cache"
    WARMUP_TIMES+=("$(calc "$t1 - $t0")")
    log "warm-up of warren-$1 ($WARMUP_MODULE@v1.0.0 and @main): $(fmt "${WARMUP_TIMES[-1]}")s"
}

COLD_GO=() COLD_WARREN=() COLD_WARREN_CPU=() GIT_REQ_GO=() GIT_REQ_WARREN=()
cold_go_round() { # ROUND
    local before after
    before=$(git_requests)
    go_download "direct-$1" "${DIRECT_ENV[@]}"
    after=$(git_requests)
    COLD_GO+=("$ELAPSED")
    GIT_REQ_GO+=("$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); print y[1] - x[1] "/" y[2] - x[2] }')")
}
cold_warren_round() { # ROUND
    local c0 before after
    [[ -n $WARREN_PID ]] && stop "$WARREN_PID"
    rm -rf "$WORK/cold-store"
    start_warren cold
    warm_up_warren "$1"
    c0=$(cpu_ticks "$WARREN_PID")
    before=$(git_requests)
    go_download "warren-$1" GOPROXY="$WARREN_URL" GOINSECURE=
    after=$(git_requests)
    COLD_WARREN+=("$ELAPSED")
    COLD_WARREN_CPU+=("$(calc "($(cpu_ticks "$WARREN_PID") - $c0) / $CLK_TCK")")
    GIT_REQ_WARREN+=("$(awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " "); print y[1] - x[1] "/" y[2] - x[2] }')")
}
for round in $(seq 1 "$COLD_ROUNDS"); do
    log "cold round $round of $COLD_ROUNDS"
    if ((round % 2)); then
        cold_go_round "$round"
        cold_warren_round "$round"
    else
        cold_warren_round "$round"
        cold_go_round "$round"
    fi
done
COLD_GO_MED=$(median "${COLD_GO[@]}")
COLD_WARREN_MED=$(median "${COLD_WARREN[@]}")
COLD_RATIO=$(calc "$COLD_WARREN_MED / $COLD_GO_MED")
MIRRORS=$(find "$WARREN_STORE/.warren/git" -mindepth 1 -maxdepth 1 -type d | wc -l)
log "cold: go direct median $(fmt "$COLD_GO_MED")s, warren median $(fmt "$COLD_WARREN_MED")s, ratio $(fmt "$COLD_RATIO"); $MIRRORS mirrors"

# The version list Warren serves must be what the go command lists in direct mode.
GO_VERSIONS=$(cd "$WORK/empty" && env "${GO_ENV[@]}" "${DIRECT_ENV[@]}" GOMODCACHE="$WORK/gomodcache-list" \
    "$GO" list -m -versions github.com/pkg/errors | cut -d' ' -f2- | tr ' ' '\n')
chmod -R u+w "$WORK/gomodcache-list" && rm -rf "$WORK/gomodcache-list"
check_list() { # URL
    local body
    body=$(curl -fs --noproxy '*' "$1/$LIST_PATH")
    [[ $body == "$GO_VERSIONS" ]] || { printf 'bench: %s/%s is\n%s\nbut the go command lists\n%s\n' "$1" "$LIST_PATH" "$body" "$GO_VERSIONS" >&2; exit 1; }
}
check_list "$WARREN_URL"
LIST_BYTES=$(curl -fs --noproxy '*' "$WARREN_URL/$LIST_PATH" | wc -c)

# --- 2. list rate ----------------------------------------------------------------------------------------------------
metric() { # URL NAME{LABELS} -> value (0 when absent)
    curl -fs --noproxy '*' "$1/metrics" | awk -v m="$2" '$1 == m { v = $2 } END { print v + 0 }'
}

run_wrk() { # NAME URL PID -> RPS CPU P99 MISSES (list refreshes during the run) ORIGIN (git_serve info/refs requests)
    local name=$1 url=$2 pid=$3 out=$RAW/wrk-$1.txt c0 c1 t0 t1 m0 m1 g0 g1 bad
    wrk -t2 -c32 -d"${WARMUP_SECONDS}s" --timeout 60s "$url/$LIST_PATH" >/dev/null
    m0=$(($(metric "$url" 'warren_cache_misses_total{kind="list"}') - $(metric "$url" warren_coalesced_requests_total)))
    g0=$(git_requests)
    c0=$(cpu_ticks "$pid")
    t0=$(now)
    wrk -t2 -c32 -d"${WRK_SECONDS}s" --timeout 60s --latency "$url/$LIST_PATH" >"$out"
    t1=$(now)
    c1=$(cpu_ticks "$pid")
    g1=$(git_requests)
    m1=$(($(metric "$url" 'warren_cache_misses_total{kind="list"}') - $(metric "$url" warren_coalesced_requests_total)))
    bad=$(awk '/Non-2xx|Socket errors/' "$out")
    if [[ -n $bad ]]; then
        echo "bench: wrk $name: $bad" >&2
        exit 1
    fi
    RPS=$(wrk_field "$out" Requests/sec:)
    CPU=$(calc "($c1 - $c0) / $CLK_TCK / ($t1 - $t0) * 100")
    P99=$(awk '$1 == "99%" { print $2 }' "$out")
    MISSES=$((m1 - m0))
    ORIGIN=$((${g1%% *} - ${g0%% *}))
    log "wrk $name: $(fmt "$RPS" 0) req/s, Warren CPU $(fmt "$CPU" 0)%, p99 $P99, list refreshes $MISSES, origin ls-remotes $ORIGIN"
}

# Each case runs on its own Warren over a copy of the warm store (mirrors and stored versions), one at a time.
stop "$WARREN_PID"
WARM_STORE=$WORK/mirrored-store
mv "$WARREN_STORE" "$WARM_STORE"
declare -A L_RPS L_CPU L_P99 L_MISS L_ORIGIN L_ROUNDS
CASES=(warm expired origin)
declare -A CASE_ENV=([warm]="" [expired]="WARREN_LISTTTL=$SHORT_TTL" [origin]="WARREN_LISTTTL=$SHORT_TTL WARREN_GITFRESHNESS=00:00:00.001")
SHORT_TTL_NOTE="accepted"
list_case() { # CASE ROUND
    local c=$1 vars
    rm -rf "$WORK/$c-store"
    cp -a "$WARM_STORE" "$WORK/$c-store"
    read -r -a vars <<<"${CASE_ENV[$c]}"
    if ! start_warren "$c" "${vars[@]}"; then
        if [[ $c != warm ]] && grep -qi 'ttl' "$WORK/$c.log" && [[ $SHORT_TTL != 00:00:01 ]]; then
            log "Warren refused WARREN_LISTTTL=$SHORT_TTL: $(grep -i ttl "$WORK/$c.log" | head -1); using 00:00:01"
            SHORT_TTL_NOTE="refused ($(grep -i ttl "$WORK/$c.log" | head -1)); 00:00:01 used instead"
            SHORT_TTL=00:00:01
            CASE_ENV[expired]="WARREN_LISTTTL=$SHORT_TTL"
            CASE_ENV[origin]="WARREN_LISTTTL=$SHORT_TTL WARREN_GITFRESHNESS=00:00:00.001"
            list_case "$@"
            return
        fi
        cat "$WORK/$c.log" >&2
        exit 1
    fi
    check_list "$WARREN_URL"
    run_wrk "list-$c-$2" "$WARREN_URL" "$WARREN_PID"
    L_RPS[$c]+=" $RPS" L_CPU[$c]+=" $CPU" L_P99[$c]+=" $P99" L_MISS[$c]+=" $MISSES" L_ORIGIN[$c]+=" $ORIGIN"
    stop "$WARREN_PID"
    rm -rf "$WORK/$c-store"
}
for round in $(seq 1 "$WRK_ROUNDS"); do
    log "list round $round of $WRK_ROUNDS"
    if ((round % 2)); then order=("${CASES[@]}"); else order=(origin expired warm); fi
    for c in "${order[@]}"; do list_case "$c" "$round"; done
done
for c in "${CASES[@]}"; do
    L_ROUNDS[$c]=${L_RPS[$c]# }
    L_RPS[$c]=$(median ${L_RPS[$c]})
    L_CPU[$c]=$(median ${L_CPU[$c]})
    L_P99[$c]=$(echo ${L_P99[$c]} | tr ' ' '/')
    L_MISS[$c]=$(echo ${L_MISS[$c]} | tr ' ' '/')
    L_ORIGIN[$c]=$(echo ${L_ORIGIN[$c]} | tr ' ' '/')
done

# --- results ---------------------------------------------------------------------------------------------------------
ATHENS_RPS=250
TARGET_RPS=$((20 * ATHENS_RPS))
rounds() { for r in "$@"; do printf '%.0f ' "$r"; done | sed 's/ $//; s/ / \/ /g'; }
{
    echo "# Warren direct-mode benchmark results"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
        "Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $("$GO" version | cut -d' ' -f3), $(git --version)."
    echo "$NREPOS corpus git repositories served by git_serve.py (git http-backend) on 127.0.0.1."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "\`uptime\` at the start: \`$(echo $UPTIME_START)\`; at the end: \`$(echo $(uptime))\`."
    echo
    echo "## Against the targets"
    echo
    echo "| measure | Warren | reference | ratio | target | result |"
    echo "|---|---|---|---|---|---|"
    echo "| cold fetch of ${#QUERIES[@]} module@version, s (median of $COLD_ROUNDS) | $(fmt "$COLD_WARREN_MED") | $(fmt "$COLD_GO_MED") (go, GOPROXY=direct) | $(fmt "$COLD_RATIO") | ≤ 1.0 | $(verdict "$COLD_RATIO <= 1.0") |"
    echo "| \`$LIST_PATH\`, warm, req/s | $(fmt "${L_RPS[warm]}" 0) | $ATHENS_RPS (Athens, quoted figure) | $(fmt "$(calc "${L_RPS[warm]} / $ATHENS_RPS")" 1) | ≥ 20 ($TARGET_RPS req/s) | $(verdict "${L_RPS[warm]} >= $TARGET_RPS") |"
    echo "| same, list TTL $SHORT_TTL (expired on every request), req/s | $(fmt "${L_RPS[expired]}" 0) | $ATHENS_RPS (Athens, quoted figure) | $(fmt "$(calc "${L_RPS[expired]} / $ATHENS_RPS")" 1) | ≥ 20 ($TARGET_RPS req/s) | $(verdict "${L_RPS[expired]} >= $TARGET_RPS") |"
    echo
    echo "Athens is not available on this machine: the list comparison is against the figure of about $ATHENS_RPS req/s quoted in the issue, not a measurement."
    echo
    echo "## Cold fetch (go mod download -json, fresh GOMODCACHE each time)"
    echo
    echo "Queries: ${QUERIES[*]}."
    echo
    echo "Every run exited 0 with ${#QUERIES[@]} results, and every run reported the same Sum and GoModSum for every module version" \
        "as the first run (go, GOPROXY=direct); the tagged versions also match the corpus manifest."
    if [[ $WARM_UP == 0 ]]; then
        echo "Warren started each round with an empty store (no mirrors) and \`--upstream direct\`, published ReadyToRun, and was" \
            "timed from its first request (WARM_UP=0: a fresh .NET process, JIT and first-use costs included)."
    else
        echo "Warren started each round with an empty store (no mirrors) and \`--upstream direct\`, published ReadyToRun, and was warmed" \
            "up before it was timed by one \`go mod download\` of $WARMUP_MODULE@v1.0.0 and @main, a ninth repository that no query names" \
            "(so the timed run measures cold mirrors and a cold store, not a cold .NET process)."
    fi
    echo "Requests to git_serve.py are counted as info/refs (ls-remote or fetch negotiation) / git-upload-pack (pack transfers)."
    echo
    echo "| round | go GOPROXY=direct, s | through cold Warren, s | ratio | Warren CPU time, s | git requests go | git requests Warren | warm-up (not compared), s |"
    echo "|---|---|---|---|---|---|---|---|"
    for i in $(seq 0 $((COLD_ROUNDS - 1))); do
        echo "| $((i + 1)) | $(fmt "${COLD_GO[$i]}") | $(fmt "${COLD_WARREN[$i]}") | $(fmt "$(calc "${COLD_WARREN[$i]} / ${COLD_GO[$i]}")") | $(fmt "${COLD_WARREN_CPU[$i]}") | ${GIT_REQ_GO[$i]} | ${GIT_REQ_WARREN[$i]} | $(fmt "${WARMUP_TIMES[$i]}") |"
    done
    echo "| median | $(fmt "$COLD_GO_MED") | $(fmt "$COLD_WARREN_MED") | $(fmt "$COLD_RATIO") | $(fmt "$(median "${COLD_WARREN_CPU[@]}")") | | | $(fmt "$(median "${WARMUP_TIMES[@]}")") |"
    echo
    echo "## List rate (wrk -t2 -c32 -d${WRK_SECONDS}s after a ${WARMUP_SECONDS}s warm-up, $WRK_ROUNDS rounds, medians)"
    echo
    echo "\`/$LIST_PATH\` ($LIST_BYTES bytes, identical to \`go list -m -versions\` in direct mode), on a Warren whose store" \
        "already holds the $MIRRORS mirrors and the versions of the cold fetch. Each case runs on its own Warren over a copy of that store."
    echo "List TTL $SHORT_TTL: $SHORT_TTL_NOTE by the configuration validator."
    echo "\"list refreshes\" is Warren's \`warren_cache_misses_total{kind=\"list\"}\` minus \`warren_coalesced_requests_total\`" \
        "during the measured run: the refreshes actually made (requests that joined another's refresh are not counted);" \
        "\"origin\" is the info/refs requests git_serve.py received meanwhile."
    echo
    echo "| case | req/s (median) | req/s per round | p99 latency per round | Warren CPU | list refreshes per round | origin requests per round |"
    echo "|---|---|---|---|---|---|---|"
    declare -A DESC=([warm]="default list TTL (5 min)" [expired]="list TTL $SHORT_TTL, mirror fresh (30 s)" [origin]="list TTL $SHORT_TTL and mirror freshness 1 ms (for information)")
    for c in "${CASES[@]}"; do
        echo "| ${DESC[$c]} | $(fmt "${L_RPS[$c]}" 0) | $(rounds ${L_ROUNDS[$c]}) | ${L_P99[$c]} | $(fmt "${L_CPU[$c]}" 0)% | ${L_MISS[$c]} | ${L_ORIGIN[$c]} |"
    done
    echo
    echo "Warren CPU is its CPU time during a run as a percentage of one core (the machine has $(nproc); wrk runs on the same cores)."
} >"$RESULTS/direct.md"

echo
cat "$RESULTS/direct.md"
log "written to bench/results/direct.md"
