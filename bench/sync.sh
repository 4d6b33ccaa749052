#!/usr/bin/env bash
# Sync throughput of a regional node from a core node (`warren sync --from CORE/index`), against a plain
# `go mod download` of the same versions through the same core, in one run.
#
#   bash bench/sync.sh
#
# nginx serves the corpus; the core (`warren serve --upstream <nginx>`) is warmed with the go command, so it holds all
# of it and its /index lists every version. Then, ROUNDS times in alternating order:
#   sync: `warren sync --from CORE/index --root <fresh dir> --sumdb off` (the feed's server is the upstream); it must
#         end with every version fetched and none failed, and the fresh store must hold every zip of the corpus;
#   go:   `go mod download -json` of the same versions through the core with a fresh GOMODCACHE; it must exit 0 with
#         the manifest's h1 sums for every version.
# Both move the same files (.info, .mod, .zip of every version); versions/s and MB/s are computed over those bytes.
# The ratio is go's median time / sync's median time: >= 1 means a sync is at least as fast as the client's walk.
#
# Results: printed, and written to bench/results/sync-latest.md (raw output in bench/results/raw-sync/). Everything
# listens on 127.0.0.1, on free high ports; every process started here is stopped on exit.
#
# Overridable: GO, CORPUS, MANIFEST, SHARED, ROUNDS, SYNC_CONCURRENCY.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
CORPUS=${CORPUS:-/tmp/corpus-out}
SHARED=${SHARED:-${WARREN_SHARED:-$REPO/../shared}}
MANIFEST=${MANIFEST:-$SHARED/corpus/manifest.tsv}
ROUNDS=${ROUNDS:-3}
SYNC_CONCURRENCY=${SYNC_CONCURRENCY:-4}
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-sync

BENCH_WORK_PREFIX=warren-sync
# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx curl python3 "$GO"

log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$RAW" "$WORK/empty"
rm -f "$RAW"/*

[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash "$SHARED/corpus/regen.sh" "$CORPUS"); }
mapfile -t MODS < <(awk -F'\t' '!/^#/ && NF >= 2 { print $1 "@" $2 }' "$MANIFEST")
log "${#MODS[@]} module versions in the manifest"

# The bytes both sides move: the .info, .mod and .zip of every version of the manifest, as the corpus holds them.
BYTES=$(python3 - "$CORPUS" "$MANIFEST" <<'EOF'
import os, sys
corpus, manifest = sys.argv[1], sys.argv[2]
def esc(s):
    return "".join("!" + c.lower() if c.isupper() else c for c in s)
total = 0
for line in open(manifest, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    path, version = line.split("\t")[:2]
    base = os.path.join(corpus, esc(path), "@v", esc(version))
    total += sum(os.path.getsize(base + ext) for ext in (".info", ".mod", ".zip"))
print(total)
EOF
)
MB=$(calc "$BYTES / 2**20")
log "$(fmt "$MB" 1) MB in .info, .mod and .zip files"

publish_warren

NGINX_PORT=$(free_port)
start_nginx "$NGINX_PORT=$CORPUS"
wait_http "http://127.0.0.1:$NGINX_PORT/github.com/gorilla/mux/@v/list" "$NGINX_PID"
NGINX_URL=http://127.0.0.1:$NGINX_PORT

launch_warren core --root "$WORK/core-root" --upstream "$NGINX_URL" --sumdb off
CORE_PID=$WARREN_PID CORE_URL=$WARREN_URL
log "core pid $CORE_PID on $CORE_URL"

# warren sync of the core's feed into a fresh store -> ELAPSED (seconds); fails unless every version was fetched,
# none failed, and the store holds every zip.
sync_once() { # NAME
    local name=$1 root=$WORK/sync-$1 out=$RAW/sync-$1.json rc t0 t1 zips
    rm -rf "$root"
    t0=$(now)
    set +e
    dotnet "$PUB/warren.dll" sync --from "$CORE_URL/index" --root "$root" --sumdb off --concurrency "$SYNC_CONCURRENCY" --json \
        >"$out" 2>"$out.stderr"
    rc=$?
    set -e
    t1=$(now)
    ELAPSED=$(calc "$t1 - $t0")
    [[ $rc == 0 ]] || { echo "bench: warren sync exited $rc" >&2; tail -20 "$out" "$out.stderr" >&2; exit 1; }
    grep -q "${#MODS[@]} fetched, 0 already stored, 0 not matching, 0 failed" "$out" ||
        { echo "bench: warren sync did not fetch every version" >&2; cat "$out" >&2; exit 1; }
    zips=$(find "$root" -name '*.zip' | wc -l)
    [[ $zips == "${#MODS[@]}" ]] || { echo "bench: the synced store holds $zips zips, not ${#MODS[@]}" >&2; exit 1; }
    chmod -R u+w "$root"
    rm -rf "$root"
    log "warren sync $name: $(fmt "$ELAPSED")s, ${#MODS[@]} versions fetched, $zips zips stored"
}

# Warm the core: afterwards it holds the corpus and its feed lists every version.
go_download_corpus warm "$CORE_URL"
FEED=$(curl -fs --noproxy '*' "$CORE_URL/index" | grep -c '"Path"')
[[ $FEED == "${#MODS[@]}" ]] || { echo "bench: the core's feed lists $FEED versions, not ${#MODS[@]}" >&2; exit 1; }

SYNC=() GODL=() SYNC_CPU=() CORE_CPU_SYNC=() CORE_CPU_GO=()
for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS"
    order=(sync go)
    ((round % 2)) || order=(go sync)
    for side in "${order[@]}"; do
        c0=$(cpu_ticks "$CORE_PID")
        case $side in
            sync) sync_once "$round"; SYNC+=("$ELAPSED"); CORE_CPU_SYNC+=("$(calc "($(cpu_ticks "$CORE_PID") - $c0) / $CLK_TCK")") ;;
            go) go_download_corpus "core-$round" "$CORE_URL"; GODL+=("$ELAPSED"); CORE_CPU_GO+=("$(calc "($(cpu_ticks "$CORE_PID") - $c0) / $CLK_TCK")") ;;
        esac
    done
done

SYNC_MED=$(median "${SYNC[@]}")
GO_MED=$(median "${GODL[@]}")
RATIO=$(calc "$GO_MED / $SYNC_MED")
N=${#MODS[@]}
log "sync median $(fmt "$SYNC_MED")s, go median $(fmt "$GO_MED")s, ratio $(fmt "$RATIO")"

{
    echo "# Warren sync benchmark results"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
        "Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $(nginx -v 2>&1 | sed 's/.*: //'), $("$GO" version | cut -d' ' -f3)."
    echo "Corpus: $N module versions, $(fmt "$MB" 1) MB of .info, .mod and .zip files."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| | median, s | versions/s | MB/s | per round, s | core's CPU time per round, s |"
    echo "|---|---|---|---|---|---|"
    echo "| warren sync --from core/index (concurrency $SYNC_CONCURRENCY, fresh store) | $(fmt "$SYNC_MED") | $(fmt "$(calc "$N / $SYNC_MED")" 1) | $(fmt "$(calc "$MB / $SYNC_MED")" 1) | $(printf '%.2f / ' "${SYNC[@]}" | sed 's| / $||') | $(printf '%.2f / ' "${CORE_CPU_SYNC[@]}" | sed 's| / $||') |"
    echo "| go mod download through the core (fresh GOMODCACHE) | $(fmt "$GO_MED") | $(fmt "$(calc "$N / $GO_MED")" 1) | $(fmt "$(calc "$MB / $GO_MED")" 1) | $(printf '%.2f / ' "${GODL[@]}" | sed 's| / $||') | $(printf '%.2f / ' "${CORE_CPU_GO[@]}" | sed 's| / $||') |"
    echo
    echo "Sync throughput / go's: $(fmt "$RATIO")× (target ≥ 1×: $(verdict "$RATIO >= 1"))."
} >"$RESULTS/sync-latest.md"

echo
cat "$RESULTS/sync-latest.md"
log "written to bench/results/sync-latest.md"
