#!/usr/bin/env bash
# Air-gap bundles: `warren export` and `warren import` of the whole corpus against `tar` of the same files.
#
#   bash bench/bundle.sh
#
# A published Warren serves the corpus (nginx on 127.0.0.1 as its upstream) and hosts a checksum database; it is
# warmed once with an export. Then, ROUNDS rounds, alternating order within each pair:
#   export: `warren export --out DIR` of every corpus version (a go.sum of the manifest's 262 lines) from the warm
#           Warren, with the hosted database's checksum data, every lookup proven and compared with the files
#   tar -c: `tar -cf` of the bundle directory that export wrote
#   import: `warren import DIR --root EMPTY --sumdb-key KEY` (every file's SHA-256, every lookup's proof, every zip
#           checked and hashed, then published put-if-absent with fsync)
#   tar -x: `tar -xf` of that tar into an empty directory, then `sync -f` on it (the import fsyncs what it publishes)
# Figures: median seconds and MB/s (bundle bytes / time), ratio warren / tar. Target: ≤ 1.5× tar's time.
# Results: printed, and written to bench/results/bundle-latest.md. Overridable: GO, CORPUS, SHARED, ROUNDS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=${CORPUS:-/tmp/corpus-out}
SHARED=${SHARED:-${WARREN_SHARED:-$REPO/../shared}}
MANIFEST=${MANIFEST:-$SHARED/corpus/manifest.tsv}
ROUNDS=${ROUNDS:-3}
RESULTS=$REPO/bench/results

BENCH_WORK_PREFIX=warren-bundle
# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx curl python3 tar

log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash "$SHARED/corpus/regen.sh" "$CORPUS"); }
mkdir -p "$RESULTS" "$WORK/in"
publish_warren
W() { dotnet "$PUB/warren.dll" "$@"; }

# Every corpus version as a go.sum line: export takes each one's .info, .mod and .zip.
awk -F'\t' '!/^#/ && NF >= 5 { print $1 " " $2 " " $5 }' "$MANIFEST" >"$WORK/in/go.sum"
VERSIONS=$(wc -l <"$WORK/in/go.sum")

NGINX_PORT=$(free_port)
start_nginx "$NGINX_PORT=$CORPUS"
wait_http "http://127.0.0.1:$NGINX_PORT/" "$NGINX_PID" || true
W sumdb keygen sum.bench.test --out "$WORK/keys" >/dev/null
KEY=$(cat "$WORK/keys/sum.bench.test.verifier")
launch_warren source --root "$WORK/store" --upstream "http://127.0.0.1:$NGINX_PORT" --sumdb off --private "" \
    --hosted-sumdb "$WORK/keys/sum.bench.test.signer"
SUMDB="$KEY $WARREN_URL/sumdb/sum.bench.test"

log "warming the source with one export of $VERSIONS versions"
W export --out "$WORK/warm" --proxy "$WARREN_URL" --sumdb "$SUMDB" --color never "$WORK/in/go.sum" >"$WORK/warm.log" ||
    { cat "$WORK/warm.log" >&2; exit 1; }
BYTES=$(du -sb --exclude=warren-bundle.json "$WORK/warm" | cut -f1)
FILES=$(find "$WORK/warm" -type f | wc -l)
log "bundle: $FILES files, $BYTES bytes"

timed() { # LOG CMD... -> seconds on stdout
    local t0 t1
    t0=$(now)
    "${@:2}" >"$1" 2>&1 || { cat "$1" >&2; exit 1; }
    t1=$(now)
    calc "$t1 - $t0"
}

EXPORT=() TARC=() IMPORT=() TARX=()
for round in $(seq 1 "$ROUNDS"); do
    b=$WORK/b$round t=$WORK/b$round.tar s=$WORK/s$round x=$WORK/x$round
    mkdir -p "$x"
    if ((round % 2)); then
        EXPORT+=("$(timed "$WORK/export$round.log" W export --out "$b" --proxy "$WARREN_URL" --sumdb "$SUMDB" --color never "$WORK/in/go.sum")")
        TARC+=("$(timed "$WORK/tarc$round.log" tar -cf "$t" -C "$b" .)")
        IMPORT+=("$(timed "$WORK/import$round.log" W import "$b" --root "$s" --sumdb-key "$KEY" --color never)")
        TARX+=("$(timed "$WORK/tarx$round.log" sh -c "tar -xf '$t' -C '$x' && sync -f '$x'")")
    else
        # tar needs a bundle to archive: the previous round's.
        TARC+=("$(timed "$WORK/tarc$round.log" tar -cf "$t" -C "$WORK/b$((round - 1))" .)")
        EXPORT+=("$(timed "$WORK/export$round.log" W export --out "$b" --proxy "$WARREN_URL" --sumdb "$SUMDB" --color never "$WORK/in/go.sum")")
        TARX+=("$(timed "$WORK/tarx$round.log" sh -c "tar -xf '$t' -C '$x' && sync -f '$x'")")
        IMPORT+=("$(timed "$WORK/import$round.log" W import "$b" --root "$s" --sumdb-key "$KEY" --color never)")
    fi
    grep -q "PASS.*import.summary" "$WORK/import$round.log" || { cat "$WORK/import$round.log" >&2; exit 1; }
    # Every round's directories are kept to the end (WORK is removed on exit): deleting thousands of files just
    # before the next round would make this disk's inode allocator step over each of them for minutes (ext4 without a
    # journal keeps recently freed inodes out of use), a cost of the bench that both sides of a round would pay.
    log "round $round: export ${EXPORT[-1]} s, tar -c ${TARC[-1]} s, import ${IMPORT[-1]} s, tar -x+sync ${TARX[-1]} s"
done

E=$(median "${EXPORT[@]}") C=$(median "${TARC[@]}") I=$(median "${IMPORT[@]}") X=$(median "${TARX[@]}")
mbs() { fmt "$(calc "$BYTES / 1048576 / $1")" 1; }
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "bundle: $VERSIONS versions, $FILES files, $BYTES bytes; $ROUNDS rounds, medians; load $LOAD_START → $LOAD_END"
    echo
    echo "| | warren | tar | warren / tar | target ≤ 1.5× |"
    echo "|---|---|---|---|---|"
    echo "| export vs tar -c | $(fmt "$E") s ($(mbs "$E") MB/s) | $(fmt "$C") s ($(mbs "$C") MB/s) | $(fmt "$(calc "$E / $C")")× | $(verdict "$E / $C <= 1.5") |"
    echo "| import vs tar -x + sync | $(fmt "$I") s ($(mbs "$I") MB/s) | $(fmt "$X") s ($(mbs "$X") MB/s) | $(fmt "$(calc "$I / $X")")× | $(verdict "$I / $X <= 1.5") |"
    echo
    echo "rounds: export ${EXPORT[*]}; tar -c ${TARC[*]}; import ${IMPORT[*]}; tar -x+sync ${TARX[*]}"
} | tee "$RESULTS/bundle-latest.md"
