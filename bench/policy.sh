#!/usr/bin/env bash
# What a large policy costs on the hot path: cached `.info` throughput of a Warren with a 1 000-rule policy against the
# same Warren without a policy, in one run.
#
#   bash bench/policy.sh
#
# nginx serves the corpus on 127.0.0.1. Two published Warrens (`--sumdb off`, `--vulndb off`, upstream nginx), each
# with its own store holding the measured files (fetched once through it):
#   plain   no policy
#   policy  `--policy FILE` with 1 000 deny rules written by bench/make_policy.py: literal module paths, GOPRIVATE-style
#           globs (github.com/org-N/*, *.corp-N.example, golang.org/x/*, …) and version ranges, none of which denies
#           the measured version; a few of them name the measured module (or a glob covering it) with ranges that
#           exclude its version, so their ranges are evaluated too. One rule denies a corpus version that is not
#           measured: its zip must answer 403 from the policy Warren (the policy is in force) before the runs start.
# Measured: wrk -t2 -c32 (WRK_SECONDS after a WARMUP_SECONDS warm-up) of the .info of github.com/gorilla/mux@v1.8.0
# (the target's case: .info and .mod stay served under any policy) and, for information, its 45 KB zip (each zip
# request is decided against the rules). ROUNDS rounds; in each round both Warrens are measured back to back, the one
# that goes first alternating, so that the machine's load hits both alike; the ratio of a round is policy / plain,
# and the figure is the median of the rounds' ratios. Any non-2xx answer or socket error fails the run.
# Target (issue 14): .info ≥ 0.95× without a policy.
#
# Results: printed, and written to bench/results/policy.md (raw wrk output in bench/results/raw-policy/).
# Overridable: CORPUS, SHARED, ROUNDS, RULES, WRK_SECONDS, WARMUP_SECONDS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CORPUS=${CORPUS:-/tmp/corpus-out}
SHARED=${SHARED:-${WARREN_SHARED:-$REPO/../shared}}
ROUNDS=${ROUNDS:-8}
RULES=${RULES:-1000}
WRK_SECONDS=${WRK_SECONDS:-5}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
TARGET=0.95
MODULE=github.com/gorilla/mux
VERSION=v1.8.0
DENIED=github.com/pkg/errors/@v/v0.9.1.zip
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-policy

BENCH_WORK_PREFIX=warren-bench-policy
# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx wrk curl python3

log "work dir $WORK"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash "$SHARED/corpus/regen.sh" "$CORPUS"); }
[[ -f $CORPUS/$DENIED ]] || { echo "bench: $CORPUS has no $DENIED" >&2; exit 1; }
mkdir -p "$RAW"
rm -f "$RAW"/*
publish_warren

python3 "$REPO/bench/make_policy.py" "$WORK/policy.json" "$RULES" "$MODULE" "$VERSION" "${DENIED%%/@v/*}" \
    "$(basename "${DENIED%.zip}")" >"$WORK/policy.txt"
log "policy: $(cat "$WORK/policy.txt")"

NGINX_PORT=$(free_port)
start_nginx "$NGINX_PORT=$CORPUS"
wait_http "http://127.0.0.1:$NGINX_PORT/$MODULE/@v/list" "$NGINX_PID"
NGINX_URL=http://127.0.0.1:$NGINX_PORT

declare -A PID_OF URL_OF
for name in plain policy; do
    args=()
    [[ $name == policy ]] && args=(--policy "$WORK/policy.json")
    launch_warren "$name" --root "$WORK/$name-store" --upstream "$NGINX_URL" --sumdb off --vulndb off "${args[@]}"
    PID_OF[$name]=$WARREN_PID URL_OF[$name]=$WARREN_URL
    for ext in info zip; do
        rel=$MODULE/@v/$VERSION.$ext
        curl -fs --noproxy '*' -o "$WORK/check.bin" "$WARREN_URL/$rel"
        cmp -s "$WORK/check.bin" "$CORPUS/$rel" || { echo "bench: warren '$name' served different bytes for $rel" >&2; exit 1; }
    done
    log "warren '$name' pid $WARREN_PID on $WARREN_URL ${args[*]}"
done
code=$(curl -s --noproxy '*' -o "$WORK/denied.txt" -w '%{http_code}' "${URL_OF[policy]}/$DENIED")
[[ $code == 403 ]] || { echo "bench: the policy Warren answered $code for $DENIED, want 403" >&2; exit 1; }
log "policy in force: $DENIED -> 403 $(head -c 200 "$WORK/denied.txt")"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "${URL_OF[plain]}/$DENIED")
[[ $code == 200 ]] || { echo "bench: the plain Warren answered $code for $DENIED, want 200" >&2; exit 1; }

run_wrk() { # NAME URL PID -> RPS CPU (percent of one core, the Warren only)
    local name=$1 url=$2 pid=$3 out=$RAW/wrk-$1.txt c0 c1 t0 t1 bad
    wrk -t2 -c32 -d"${WARMUP_SECONDS}s" --timeout 60s "$url" >/dev/null
    c0=$(cpu_ticks "$pid")
    t0=$(now)
    wrk -t2 -c32 -d"${WRK_SECONDS}s" --timeout 60s --latency "$url" >"$out"
    t1=$(now)
    c1=$(cpu_ticks "$pid")
    bad=$(awk '/Non-2xx|Socket errors/' "$out")
    [[ -z $bad ]] || { echo "bench: wrk $name: $bad" >&2; exit 1; }
    RPS=$(wrk_field "$out" Requests/sec:)
    CPU=$(calc "($c1 - $c0) / $CLK_TCK / ($t1 - $t0) * 100")
    log "wrk $name: $(fmt "$RPS" 0) req/s, server CPU $(fmt "$CPU" 0)%, p99 $(awk '$1 == "99%" { print $2 }' "$out")"
}

CASES=(info zip)
declare -A RPS_OF CPU_OF RATIOS
for round in $(seq 1 "$ROUNDS"); do
    log "round $round of $ROUNDS (load $(cut -d' ' -f1 /proc/loadavg))"
    for c in "${CASES[@]}"; do
        order=(plain policy)
        ((round % 2)) || order=(policy plain)
        declare -A r=()
        for s in "${order[@]}"; do
            run_wrk "$c-$s-$round" "${URL_OF[$s]}/$MODULE/@v/$VERSION.$c" "${PID_OF[$s]}"
            r[$s]=$RPS
            RPS_OF[$c-$s]+=" $RPS" CPU_OF[$c-$s]+=" $CPU"
        done
        RATIOS[$c]+=" $(calc "${r[policy]} / ${r[plain]}")"
    done
done

# The policy Warren must still deny the denied zip, and have denied nothing it served (the runs saw only 2xx).
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "${URL_OF[policy]}/$DENIED")
[[ $code == 403 ]] || { echo "bench: after the runs the policy Warren answered $code for $DENIED, want 403" >&2; exit 1; }

per_round() { for v in "$@"; do printf "%.${P:-0}f / " "$v"; done | sed 's| / $||'; }
{
    echo "# Policy on the hot path"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Command: \`bash bench/policy.sh\` (ROUNDS=$ROUNDS RULES=$RULES WRK_SECONDS=$WRK_SECONDS WARMUP_SECONDS=$WARMUP_SECONDS)."
    echo "Policy: $(cat "$WORK/policy.txt")."
    echo
    echo "| request | no policy, req/s (median) | $RULES-rule policy, req/s (median) | ratio per round | ratio (median) | target | result |"
    echo "|---|---|---|---|---|---|---|"
    for c in "${CASES[@]}"; do
        ratio=$(median ${RATIOS[$c]})
        if [[ $c == info ]]; then
            label="\`$MODULE/@v/$VERSION.info\`" target="≥ $TARGET" result=$(verdict "$ratio >= $TARGET")
        else
            label="\`$MODULE/@v/$VERSION.zip\` ($(numfmt --to=iec-i --suffix=B "$(stat -c %s "$CORPUS/$MODULE/@v/$VERSION.zip")"), decided against the rules)"
            target="(information)" result=""
        fi
        echo "| $label | $(fmt "$(median ${RPS_OF[$c-plain]})" 0) | $(fmt "$(median ${RPS_OF[$c-policy]})" 0) | $(P=2 per_round ${RATIOS[$c]}) | $(fmt "$ratio") | $target | $result |"
    done
    echo
    echo "req/s per round, and the Warren's CPU during the runs (percent of one core, median):"
    for c in "${CASES[@]}"; do
        echo "- $c: no policy $(per_round ${RPS_OF[$c-plain]}) (CPU $(fmt "$(median ${CPU_OF[$c-plain]})" 0)%);" \
            "policy $(per_round ${RPS_OF[$c-policy]}) (CPU $(fmt "$(median ${CPU_OF[$c-policy]})" 0)%)"
    done
} >"$RESULTS/policy.md"

echo
cat "$RESULTS/policy.md"
log "written to bench/results/policy.md"
