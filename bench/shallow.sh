#!/usr/bin/env bash
# The first version of a large repository in direct mode: Warren with a shallow first fetch (GitShallowAfter, default),
# Warren waiting for its whole mirror (GitShallowAfter off), and the go command in direct mode, in one run.
#
#   bash bench/shallow.sh
#
# A repository github.com/warren-bench/large is made with HISTORY_MB of incompressible history (one 1 MB file per commit,
# each replacing the last) and a small tree at its tag v1.0.0, and served by ../shared/corpus/git/git_serve.py with the
# url.insteadOf recipe of ../shared/corpus/README.md. Per round, alternating the order, with a fresh GOMODCACHE:
#   go:       GOPROXY=direct go mod download -json github.com/warren-bench/large@v1.0.0 (the go command fetches the tag
#             with depth 1)
#   shallow:  the same through a fresh Warren (--upstream direct, empty store), defaults
#   complete: the same through a fresh Warren with WARREN_GITSHALLOWAFTER=01:00:00 (every request waits for the mirror)
# Each Warren is warmed up first on a small repository no timed query names. The sums of all three must be the same.
# Figures: median seconds of ROUNDS rounds; ratios against go. Results: printed, and written to
# bench/results/shallow-latest.md (not committed). Overridable: GO, HISTORY_MB (default 200), ROUNDS (default 3), and
# SHALLOW_AFTER (WARREN_GITSHALLOWAFTER of the shallow case, e.g. 00:00:00 to go shallow at once; default: Warren's).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
GITTOOLS=$REPO/../shared/corpus/git
HISTORY_MB=${HISTORY_MB:-200}
ROUNDS=${ROUNDS:-3}
RESULTS=$REPO/bench/results
MODULE=github.com/warren-bench/large
WARMUP_MODULE=github.com/warren-bench/warmup

# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
BENCH_WORK_PREFIX=warren-bench-shallow
bench_init dotnet curl git python3 head "$GO"

log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$RESULTS" "$WORK/empty" "$WORK/repos"

make_repo() { # MODULE MB
    local src=$WORK/src-${1##*/} i
    mkdir -p "$src"
    (
        cd "$src"
        export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench
        export GIT_COMMITTER_EMAIL=bench@example.com GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
        export GIT_AUTHOR_DATE=2021-01-01T00:00:00Z GIT_COMMITTER_DATE=2021-01-01T00:00:00Z
        git init -q -b main .
        printf 'module %s\n\ngo 1.19\n' "$1" >go.mod
        printf 'package %s\n\nconst Version = 1\n' "${1##*/}" >lib.go
        git add . && git commit -qm start
        for ((i = 1; i <= $2; i++)); do
            head -c 1048576 /dev/urandom >blob.bin
            git add blob.bin && git commit -qm "history $i"
        done
        git rm -q --ignore-unmatch blob.bin && git commit -qm "release" --allow-empty
        git tag v1.0.0
        git clone -q --bare . "$WORK/repos/$1.git"
    )
}
log "making $MODULE with $HISTORY_MB MB of history"
make_repo "$MODULE" "$HISTORY_MB"
make_repo "$WARMUP_MODULE" 0
PACK_MB=$(du -sm "$WORK/repos/$MODULE.git" | cut -f1)

GIT_PORT=$(free_port)
python3 "$GITTOOLS/git_serve.py" "$WORK/repos" "$GIT_PORT" >"$WORK/git_serve.log" 2>&1 &
PIDS+=("$!")
GIT_URL=http://127.0.0.1:$GIT_PORT
wait_http "$GIT_URL/$MODULE.git/info/refs?service=git-upload-pack" "${PIDS[-1]}"
GITCONFIG=$WORK/gitconfig
printf '[url "%s/github.com/"]\n\tinsteadOf = https://github.com/\n' "$GIT_URL" >"$GITCONFIG"
GO_ENV=(GOENV=off GO111MODULE=on GOSUMDB=off GONOSUMDB='*' GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPRIVATE= GONOPROXY= GOINSECURE=
    GOPATH="$WORK/gopath" GOCACHE="$WORK/gocache" GIT_CONFIG_GLOBAL="$GITCONFIG" GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
    NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost)

publish_warren

download() { # PROXY QUERY -> ELAPSED, SUM
    local cache=$WORK/gomodcache t0 t1 out=$WORK/download.json
    rm -rf "$cache"
    t0=$(now)
    (cd "$WORK/empty" && env "${GO_ENV[@]}" GOPROXY="$1" GOMODCACHE="$cache" "$GO" mod download -json "$2" >"$out" 2>&1) ||
        { echo "bench: go mod download $2 through $1 failed" >&2; cat "$out" >&2; exit 1; }
    t1=$(now)
    ELAPSED=$(calc "$t1 - $t0")
    SUM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Sum"])' "$out")
    chmod -R u+w "$cache" && rm -rf "$cache"
}

WARREN_PID=""
warren_round() { # NAME [VAR=VALUE...] -> ELAPSED, SUM of the large module through a fresh, warmed-up Warren
    local name=$1 port
    shift
    port=$(free_port)
    rm -rf "$WORK/store"
    env WARREN_GITCONFIG="$GITCONFIG" "$@" dotnet "$PUB/warren.dll" serve --listen "127.0.0.1:$port" --root "$WORK/store" \
        --upstream direct --sumdb off --egress-allow "127.0.0.1:$GIT_PORT" >"$WORK/warren-$name.log" 2>&1 &
    WARREN_PID=$!
    PIDS+=("$WARREN_PID")
    wait_http "http://127.0.0.1:$port/healthz" "$WARREN_PID"
    download "http://127.0.0.1:$port" "$WARMUP_MODULE@v1.0.0"
    download "http://127.0.0.1:$port" "$MODULE@v1.0.0"
    stop "$WARREN_PID"
}

T_GO=() T_SHALLOW=() T_COMPLETE=()
SUMS=()
go_round() { download direct "$MODULE@v1.0.0"; T_GO+=("$ELAPSED"); SUMS+=("$SUM"); log "go direct: $(fmt "$ELAPSED") s"; }
shallow_round() { warren_round shallow ${SHALLOW_AFTER:+WARREN_GITSHALLOWAFTER=$SHALLOW_AFTER}; T_SHALLOW+=("$ELAPSED"); SUMS+=("$SUM"); log "warren, shallow first: $(fmt "$ELAPSED") s"; }
complete_round() { warren_round complete WARREN_GITSHALLOWAFTER=01:00:00; T_COMPLETE+=("$ELAPSED"); SUMS+=("$SUM"); log "warren, whole mirror first: $(fmt "$ELAPSED") s"; }
for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS"
    if ((round % 2)); then go_round; shallow_round; complete_round; else complete_round; shallow_round; go_round; fi
done
[[ $(printf '%s\n' "${SUMS[@]}" | sort -u | wc -l) == 1 ]] || { echo "bench: sums differ: ${SUMS[*]}" >&2; exit 1; }

G=$(median "${T_GO[@]}") S=$(median "${T_SHALLOW[@]}") C=$(median "${T_COMPLETE[@]}")
{
    echo "$MODULE@v1.0.0: $HISTORY_MB MB of history (bare repository $PACK_MB MB), a 2-file tree at the tag; $ROUNDS rounds, medians;" \
        "load $LOAD_START → $(cut -d' ' -f1-3 /proc/loadavg); sum ${SUMS[0]} on every side"
    echo
    echo "| first \`go mod download\` of the version | seconds | / go direct |"
    echo "|---|---|---|"
    echo "| go, GOPROXY=direct | $(fmt "$G") | 1.00 |"
    echo "| Warren, shallow first fetch (GitShallowAfter ${SHALLOW_AFTER:-default}) | $(fmt "$S") | $(fmt "$(calc "$S / $G")") |"
    echo "| Warren, whole mirror first (GitShallowAfter off) | $(fmt "$C") | $(fmt "$(calc "$C / $G")") |"
    echo
    echo "rounds: go ${T_GO[*]}; shallow ${T_SHALLOW[*]}; complete ${T_COMPLETE[*]}"
} | tee "$RESULTS/shallow-latest.md"
