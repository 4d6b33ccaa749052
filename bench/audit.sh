#!/usr/bin/env bash
# `warren audit` of 100 repositories of the corpus's size against a Warren that serves the corpus and mirrors a test
# vulnerability database, cold (Warren's store empty) and warm.
#
#   bash bench/audit.sh
#
# The repositories are generated: each is a copy of ../shared/corpus/validate/closed (one main.go importing packages of
# ~35 corpus modules) with its own module path and a go.mod listing its whole build list, made once by the go command
# against the corpus as a file:// GOPROXY (47 requirements). Every 4th repository pins other corpus versions of a few
# modules (golang.org/x/net, golang.org/x/crypto, github.com/google/go-cmp, github.com/stretchr/testify, ...), so the
# audit finds drift across them.
# The vulnerability database is written here in the current layout (index/db.json, index/modules.json,
# index/vulns.json, ID/GO-….json) with two test advisories: GO-2099-0001 against github.com/dustin/go-humanize < v1.0.1
# (every repository) and GO-2099-0002 against golang.org/x/net/html < v0.7.0 (the repositories pinning an older x/net).
# nginx serves the corpus and the database on 127.0.0.1; the Warren under test (`--upstream` nginx, `--vulndb` nginx,
# `--sumdb off`) starts with an empty store. Then:
#   cold  `warren audit --proxy WARREN --vulndb WARREN/vuln/ --format json --fail-on none DIR1 … DIR100`, the first
#         run: Warren fetches every module's list and latest go.mod from nginx, and the database
#   warm  the same command, ROUNDS more times (median)
#   ref   for reference: `go list -m all` in each of the 100 repositories, one after the other, with a warm module
#         cache and GOPROXY=off (the go command's own view of the same build lists, from local files only)
# Every audit run must exit 0 without an error and report the expected findings (checked by bench/audit_check.py).
# Target (issue 14): ≤ 10 s warm on this machine, absolute.
#
# Results: printed, and written to bench/results/audit.md. Overridable: GO, CORPUS, SHARED, REPOS, ROUNDS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
CORPUS=${CORPUS:-/tmp/corpus-out}
SHARED=${SHARED:-${WARREN_SHARED:-$REPO/../shared}}
REPOS=${REPOS:-100}
ROUNDS=${ROUNDS:-3}
TARGET_SECONDS=10
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-audit

BENCH_WORK_PREFIX=warren-bench-audit
# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx curl python3 "$GO"

log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash "$SHARED/corpus/regen.sh" "$CORPUS"); }
mkdir -p "$RAW"
rm -f "$RAW"/*
publish_warren

goenv() { # PROXY CMD... (in the current directory; GOMODCACHE and GOPATH under WORK)
    local proxy=$1
    shift
    env GOENV=off GO111MODULE=on GOSUMDB=off GONOSUMDB='*' GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPRIVATE= GONOPROXY= \
        GOINSECURE= GOPROXY="$proxy" GOMODCACHE="$WORK/gomodcache" GOPATH="$WORK/gopath" GOCACHE="$WORK/gocache" "$@"
}

# --- the repositories -----------------------------------------------------------------------------------------------
log "resolving the build list of validate/closed against the corpus (file:// GOPROXY)"
cp -r "$SHARED/corpus/validate/closed" "$WORK/template"
(cd "$WORK/template" && goenv "file://$CORPUS" "$GO" list -deps ./... >/dev/null 2>"$WORK/template.log") ||
    { cat "$WORK/template.log" >&2; exit 1; }
python3 "$REPO/bench/audit_check.py" generate "$WORK/template" "$SHARED/corpus/manifest.tsv" "$WORK/repos" "$REPOS" \
    >"$WORK/generate.txt"
DIRS=()
for i in $(seq -w 1 "$REPOS"); do DIRS+=("$WORK/repos/repo$i"); done
[[ -f ${DIRS[-1]}/go.mod ]] || { echo "bench: the repositories were not generated" >&2; exit 1; }
REQS=$(grep -c '^	' "$WORK/template/go.mod")
log "$(cat "$WORK/generate.txt")"

# --- the test vulnerability database, nginx, Warren -----------------------------------------------------------------
python3 "$REPO/bench/audit_check.py" vulndb "$WORK/vulndb"
NGINX_PORT=$(free_port)
VULN_PORT=$(free_port)
start_nginx "$NGINX_PORT=$CORPUS" "$VULN_PORT=$WORK/vulndb"
wait_http "http://127.0.0.1:$NGINX_PORT/github.com/gorilla/mux/@v/list" "$NGINX_PID"
wait_http "http://127.0.0.1:$VULN_PORT/index/db.json" "$NGINX_PID"
launch_warren audit --root "$WORK/store" --upstream "http://127.0.0.1:$NGINX_PORT" --sumdb off \
    --vulndb "http://127.0.0.1:$VULN_PORT/"
log "warren pid $WARREN_PID on $WARREN_URL (upstream nginx :$NGINX_PORT, vulndb nginx :$VULN_PORT)"
AUDIT_CMD=(dotnet "$PUB/warren.dll" audit --proxy "$WARREN_URL" --vulndb "$WARREN_URL/vuln/" --format json --fail-on none)

audit_run() { # NAME -> ELAPSED; fails unless the audit exits 0 with the expected findings
    local out=$RAW/audit-$1.json rc t0
    t0=$(now)
    set +e
    "${AUDIT_CMD[@]}" "${DIRS[@]}" >"$out" 2>"$out.stderr"
    rc=$?
    set -e
    ELAPSED=$(calc "$(now) - $t0")
    [[ $rc == 0 ]] || { echo "bench: warren audit ($1) exited $rc" >&2; head -20 "$out.stderr" "$out" >&2; exit 1; }
    python3 "$REPO/bench/audit_check.py" check "$out" "$REPOS" >"$out.check" || { cat "$out.check" >&2; exit 1; }
    log "audit $1: $(fmt "$ELAPSED")s; $(cat "$out.check")"
}

audit_run cold
COLD=$ELAPSED
WARM=()
for round in $(seq 1 "$ROUNDS"); do
    audit_run "warm-$round"
    WARM+=("$ELAPSED")
done
WARM_MED=$(median "${WARM[@]}")
CHECK_LINE=$(cat "$RAW/audit-warm-1.json.check")
WARREN_CPU=$(calc "$(cpu_ticks "$WARREN_PID") / $CLK_TCK")

# --- reference: go list -m all in each repository, warm module cache, GOPROXY=off -----------------------------------
# On copies (the go command may tidy a go.mod whose pinned versions are not a consistent build list); a first pass
# through Warren fills the module cache with every go.mod the build lists need.
cp -r "$WORK/repos" "$WORK/ref"
mkdir -p "$WORK/ref-out"
REF_DIRS=("${DIRS[@]/#$WORK\/repos/$WORK/ref}")
go_list_all() { # PROXY -> ELAPSED
    local d t0
    t0=$(now)
    for d in "${REF_DIRS[@]}"; do
        (cd "$d" && goenv "$1" "$GO" list -m all >"$WORK/ref-out/${d##*/}.list" 2>"$WORK/ref-out/${d##*/}.err") ||
            { echo "bench: go list -m all in $d:" >&2; cat "$WORK/ref-out/${d##*/}.err" >&2; exit 1; }
    done
    ELAPSED=$(calc "$(now) - $t0")
}
go_list_all "$WARREN_URL"
log "go list -m all, filling the module cache: $(fmt "$ELAPSED")s"
REF=()
for round in $(seq 1 "$ROUNDS"); do
    go_list_all off
    REF+=("$ELAPSED")
    log "go list -m all ×$REPOS, warm cache, GOPROXY=off: $(fmt "$ELAPSED")s"
done
REF_MED=$(median "${REF[@]}")
RATIO=$(calc "$WARM_MED / $REF_MED")

# --- results --------------------------------------------------------------------------------------------------------
{
    echo "# warren audit of $REPOS repositories"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $("$GO" version | cut -d' ' -f3)."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Command: \`bash bench/audit.sh\` (REPOS=$REPOS ROUNDS=$ROUNDS)."
    echo
    echo "$REPOS repositories, each validate/closed with $REQS requirements; $(cat "$WORK/generate.txt")."
    echo "Findings of every run: $CHECK_LINE."
    echo
    echo "| measure | seconds | target | result |"
    echo "|---|---|---|---|"
    echo "| \`warren audit\` ×$REPOS repositories, cold (Warren's store empty) | $(fmt "$COLD") | | |"
    echo "| \`warren audit\` ×$REPOS repositories, warm (median of $ROUNDS: $(for w in "${WARM[@]}"; do printf '%.2f ' "$w"; done | sed 's/ $//; s/ / \/ /g')) | $(fmt "$WARM_MED") | ≤ $TARGET_SECONDS | $(verdict "$WARM_MED <= $TARGET_SECONDS") |"
    echo "| reference: \`go list -m all\` in each repository, warm module cache, GOPROXY=off (median of $ROUNDS: $(for w in "${REF[@]}"; do printf '%.2f ' "$w"; done | sed 's/ $//; s/ / \/ /g')) | $(fmt "$REF_MED") | | |"
    echo
    echo "Warm audit / reference: $(fmt "$RATIO")×. Warren's CPU time over the cold and warm audits: $(fmt "$WARREN_CPU") s."
} >"$RESULTS/audit.md"

echo
cat "$RESULTS/audit.md"
log "written to bench/results/audit.md"
