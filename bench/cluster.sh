#!/usr/bin/env bash
# Warren's cluster storage (S3 bucket + PostgreSQL index) against its single-node file store, on this machine, in one run.
#
#   bash bench/cluster.sh
#
# a. warm throughput (wrk -t2 -c32 after a warm-up) of ONE node on S3/PostgreSQL vs ONE node on the file store, for an
#    .info, a ~45 KB zip and a ~8 MB zip; the same for a node with --s3-redirect (for zips, the rate of 302 answers),
#    and `go mod download` of the ~8 MB module through the redirecting node vs the streaming one (cold client each
#    time, GO_ROUNDS rounds, median)
# b. the .info and the 45 KB zip through one nginx balancer in front of 1 node vs 3 nodes of the same cluster
# c. cold download of the whole corpus with the go command through 3 cold nodes behind nginx (fresh bucket prefix and
#    fresh database each round) vs straight from nginx serving the corpus directory; the nodes first fetch
#    WARMUP_MODULES synthetic modules outside the corpus (their code compiled, their store still cold for the corpus)
#
# PostgreSQL and the S3 server (s3rver, node.js) are started with ../shared/services/{postgres,s3}.sh and stopped on
# exit. Results: printed, and written to bench/results/cluster-latest.md (raw output in bench/results/raw-cluster/).
# Everything listens on 127.0.0.1, on free high ports; every process started here is stopped on exit.
#
# The go clients' module caches are on a tmpfs when there is one (MODCACHE_ROOT; see modcache_on_tmpfs in
# bench/common.sh): on this disk the go command's own time for the corpus moved 9-35 s between rounds otherwise.
#
# Overridable: GO, CORPUS, MANIFEST, SHARED, COLD_ROUNDS, GO_ROUNDS, WRK_ROUNDS, WRK_SECONDS, WARMUP_SECONDS, WARMUP_MODULES,
# MODCACHE_ROOT.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-/usr/lib/go-1.19/bin/go}
CORPUS=${CORPUS:-/tmp/corpus-out}
SHARED=${SHARED:-${WARREN_SHARED:-$REPO/../shared}}
MANIFEST=${MANIFEST:-$SHARED/corpus/manifest.tsv}
COLD_ROUNDS=${COLD_ROUNDS:-2}
GO_ROUNDS=${GO_ROUNDS:-3}
WRK_SECONDS=${WRK_SECONDS:-10}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
WRK_ROUNDS=${WRK_ROUNDS:-2}
WARMUP_MODULES=${WARMUP_MODULES:-60}
RESULTS=$REPO/bench/results
RAW=$RESULTS/raw-cluster
PGBIN=/usr/lib/postgresql/15/bin

BENCH_WORK_PREFIX=warren-cluster
# shellcheck source=bench/common.sh
source "$REPO/bench/common.sh"
bench_init dotnet nginx wrk curl python3 "$GO"

# The services are stopped after every process of PIDS (the nodes first, then the services they use).
PG_DIR="" S3_DIR=""
cluster_cleanup() {
    local rc=$? pid
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    [[ -n $PG_DIR ]] && bash "$SHARED/services/postgres.sh" stop "$PG_DIR"
    [[ -n $S3_DIR ]] && bash "$SHARED/services/s3.sh" stop "$S3_DIR"
    (exit "$rc")
    cleanup
}
trap cluster_cleanup EXIT

# ---------------------------------------------------------------------------------------------------------------------
log "work dir $WORK"
modcache_on_tmpfs
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$RAW" "$WORK/empty"
rm -f "$RAW"/*

[[ -d $CORPUS ]] || { log "corpus missing; building it in $CORPUS"; (cd "$REPO" && bash "$SHARED/corpus/regen.sh" "$CORPUS"); }
mapfile -t MODS < <(awk -F'\t' '!/^#/ && NF >= 2 { print $1 "@" $2 }' "$MANIFEST")
log "${#MODS[@]} module versions in the manifest"

log "starting PostgreSQL and the S3 server"
while IFS= read -r line; do
    case $line in
        PGDATA_DIR=*) PG_DIR=${line#*=} ;;
        PGPORT=*) PGPORT=${line#*=} ;;
    esac
done < <(bash "$SHARED/services/postgres.sh" start)
[[ -n $PG_DIR && -n ${PGPORT:-} ]] || { echo "bench: PostgreSQL did not start" >&2; exit 1; }
while IFS= read -r line; do
    case $line in
        S3_DIR=*) S3_DIR=${line#*=} ;;
        S3_PID=*) S3_PID=${line#*=} ;;
        S3_ENDPOINT=*) S3_ENDPOINT=${line#*=} ;;
        S3_BUCKET=*) S3_BUCKET=${line#*=} ;;
        S3_ACCESS_KEY=*) export AWS_ACCESS_KEY_ID=${line#*=} ;;
        S3_SECRET_KEY=*) export AWS_SECRET_ACCESS_KEY=${line#*=} ;;
    esac
done < <(bash "$SHARED/services/s3.sh" start)
[[ -n $S3_DIR && -n ${S3_ENDPOINT:-} ]] || { echo "bench: the S3 server did not start" >&2; exit 1; }
PG_PID=$(head -1 "$PG_DIR/data/postmaster.pid")
log "PostgreSQL on 127.0.0.1:$PGPORT (pid $PG_PID), s3rver on $S3_ENDPOINT (pid $S3_PID)"

new_database() { # NAME -> the connection string of a fresh database
    "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$1"
    echo "Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=$1"
}
# Server-side processes of the services, for CPU accounting: s3rver and every PostgreSQL process.
service_pids() { echo "$S3_PID" "$PG_PID" $(ps -o pid= --ppid "$PG_PID"); }

publish_warren

# --- nginx: the corpus on NGINX_PORT (upstream of every node, and "straight from nginx") ------------------------------
# Beside the corpus's own entries (linked in), WARMUP_MODULES synthetic modules under warmup.example/ that no measured
# download asks for: the cold round's nodes fetch them first (warm_download), so their code is compiled (as in a cluster
# that has run for a while) while their store and index stay cold for every corpus module. Both in bench/common.sh.
UPSTREAM_DIR=$WORK/upstream
make_warmup_upstream "$UPSTREAM_DIR" "$WARMUP_MODULES"
NGINX_PORT=$(free_port)
start_nginx "$NGINX_PORT=$UPSTREAM_DIR"
wait_http "http://127.0.0.1:$NGINX_PORT/github.com/gorilla/mux/@v/list" "$NGINX_PID"
NGINX_URL=http://127.0.0.1:$NGINX_PORT
CORPUS_NGINX_PID=$NGINX_PID

# An nginx balancer as in tests/Warren.Testing/Services/NginxBalancer.cs, one server block per PORT=NODE_URL,NODE_URL...
# -> LB_PID (added to PIDS)
start_balancer() { # NAME PORT=URLS...
    local name=$1 dir=$WORK/$1 user_line="" upstreams="" servers="" spec i=0 url
    shift
    [[ $(id -u) == 0 ]] && user_line="user root;"
    mkdir -p "$dir"
    for spec in "$@"; do
        i=$((i + 1))
        upstreams+="    upstream warren$i {"$'\n'
        for url in ${spec#*=}; do
            upstreams+="        server 127.0.0.1:${url##*:} max_fails=1 fail_timeout=5s;"$'\n'
        done
        upstreams+="        keepalive 64;"$'\n'"    }"$'\n'
        servers+="    server {
        listen 127.0.0.1:${spec%%=*};
        location / {
            proxy_pass http://warren$i;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host \$host:\$server_port;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_read_timeout 300s;
            proxy_buffering off;
            proxy_max_temp_file_size 0;
        }
    }"$'\n'
    done
    cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes 2;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
$upstreams$servers}
EOF
    nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" &
    LB_PID=$!
    PIDS+=("$LB_PID")
}
lb_pids() { echo "$1" $(ps -o pid= --ppid "$1"); }

NODE_PIDS=()
start_node() { # NAME STORE INDEX EXTRA_ARG... -> WARREN_PID, WARREN_URL; a node of the cluster (STORE s3://..., INDEX)
    local name=$1 store=$2 index=$3
    shift 3
    launch_warren "$name" --root "$WORK/$name-root" --upstream "$NGINX_URL" --sumdb off \
        --store "$store" --s3-endpoint "$S3_ENDPOINT" --s3-path-style --index "$index" "$@"
    NODE_PIDS+=("$WARREN_PID")
    log "node '$name' pid $WARREN_PID on $WARREN_URL ($store${*:+ $*})"
}

# go mod download -json of MODULE... through PROXY_URL with a fresh GOMODCACHE (a cold client) -> ELAPSED (seconds);
# fails unless the go command exits 0 with the manifest's sums for every module asked.
go_download() { # NAME PROXY_URL MODULE...
    local name=$1 proxy=$2 cache=${MODCACHE_ROOT:-$WORK}/gomodcache-$1 out=$RAW/go-$1.json rc t0 t1
    shift 2
    t0=$(now)
    set +e
    go_mod_download "$cache" "$proxy" "$out" "$@"
    rc=$?
    set -e
    t1=$(now)
    ELAPSED=$(calc "$t1 - $t0")
    if [[ $rc != 0 ]]; then
        echo "bench: go mod download via $proxy exited $rc" >&2
        head -20 "$out" "$out.stderr" >&2
        exit 1
    fi
    python3 - "$MANIFEST" "$out" "$@" >"$out.check" <<'EOF' || { cat "$out.check" >&2; exit 1; }
import json, sys
manifest, output, wanted = sys.argv[1], sys.argv[2], set(sys.argv[3:])
expected = {}
for line in open(manifest, encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    c = line.rstrip("\n").split("\t")
    if c[0] + "@" + c[1] in wanted:
        expected[c[0] + "@" + c[1]] = (c[4], c[5])
text, dec, pos, seen = open(output, encoding="utf-8").read(), json.JSONDecoder(), 0, {}
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    o, pos = dec.raw_decode(text, pos)
    seen[o.get("Path", "") + "@" + o.get("Version", "")] = o
bad = [k for k, (z, m) in expected.items() if k not in seen or seen[k].get("Error") or (seen[k].get("Sum"), seen[k].get("GoModSum")) != (z, m)]
if len(expected) != len(wanted) or bad:
    print("FAIL: %d of %d module versions wrong (%s)" % (len(bad) + len(wanted) - len(expected), len(wanted), ", ".join(bad[:5])))
    sys.exit(1)
print("ok: %d module versions, all sums match the manifest" % len(wanted))
EOF
    chmod -R u+w "$cache"
    rm -rf "$cache"
    log "go mod download via $name: $(fmt "$ELAPSED")s, $(cat "$out.check")"
}

closest_zip() { # TARGET_BYTES -> corpus-relative path of the zip closest in size
    (cd "$CORPUS" && find . -name '*.zip' -printf '%s %P\n') |
        awk -v t="$1" '{ d = $1 - t; if (d < 0) d = -d; if (best == "" || d < bd) { bd = d; best = $2 } } END { print best }'
}
ZIP45=$(closest_zip $((45 * 1024)))
ZIP8M=$(closest_zip $((8 * 1024 * 1024)))
INFO=${ZIP45%.zip}.info
declare -A CASE_PATH=([info]=$INFO [zip45]=$ZIP45 [zip8m]=$ZIP8M)
declare -A SIZE
for rel in "$INFO" "$ZIP45" "$ZIP8M"; do SIZE[$rel]=$(stat -c %s "$CORPUS/$rel"); done
# The module of the 8 MB zip, as module@version (the corpus path is escaped; the corpus' modules have no capitals).
BIG_MOD=$(echo "$ZIP8M" | sed -E 's#/@v/(.*)\.zip$#@\1#')
grep -qxF "$BIG_MOD" <(printf '%s\n' "${MODS[@]}") || { echo "bench: $BIG_MOD is not in the manifest" >&2; exit 1; }

check_same() { # URL REL: the answer (redirects followed) must be the corpus file
    curl -fsL --noproxy '*' -o "$WORK/check.bin" "$1/$2"
    cmp -s "$WORK/check.bin" "$CORPUS/$2" || { echo "bench: $1 served different bytes for $2" >&2; exit 1; }
}

to_mb() { # wrk size like 12.34MB -> MB
    python3 -c "
import re, sys
m = re.fullmatch(r'([0-9.]+)([KMGT]?B)', sys.argv[1])
print(float(m.group(1)) * {'B': 1 / 2**20, 'KB': 1 / 1024, 'MB': 1, 'GB': 1024, 'TB': 2**20}[m.group(2)])" "$1"
}

# wrk -t2 -c32 after a warm-up; any answer >= 400 or socket error fails the run (wrk counts 3xx as good answers).
# -> RPS MBPS CPU (percent of one core: the PIDS given) SCPU (the same for PostgreSQL and s3rver) P99
run_wrk() { # NAME URL PID...
    local name=$1 url=$2 out=$RAW/wrk-$1.txt c0 c1 s0 s1 t0 t1 bad
    shift 2
    wrk -t2 -c32 -d"${WARMUP_SECONDS}s" --timeout 60s "$url" >/dev/null
    c0=$(cpu_ticks "$@")
    s0=$(cpu_ticks $(service_pids))
    t0=$(now)
    wrk -t2 -c32 -d"${WRK_SECONDS}s" --timeout 60s --latency "$url" >"$out"
    t1=$(now)
    c1=$(cpu_ticks "$@")
    s1=$(cpu_ticks $(service_pids))
    bad=$(awk '/Non-2xx|Socket errors/' "$out")
    if [[ -n $bad ]]; then
        echo "bench: wrk $name: $bad" >&2
        exit 1
    fi
    RPS=$(wrk_field "$out" Requests/sec:)
    MBPS=$(to_mb "$(wrk_field "$out" Transfer/sec:)")
    CPU=$(calc "($c1 - $c0) / $CLK_TCK / ($t1 - $t0) * 100")
    SCPU=$(calc "($s1 - $s0) / $CLK_TCK / ($t1 - $t0) * 100")
    P99=$(awk '$1 == "99%" { print $2 }' "$out")
    log "wrk $name: $(fmt "$RPS" 0) req/s, $(fmt "$MBPS" 1) MB/s, server CPU $(fmt "$CPU" 0)%, PostgreSQL+s3rver CPU $(fmt "$SCPU" 0)%, p99 $P99"
}

declare -A W_RPS W_MB W_CPU W_SCPU W_P99 ROUND_RPS
record() { # KEY
    W_RPS[$1]+=" $RPS" W_MB[$1]+=" $MBPS" W_CPU[$1]+=" $CPU" W_SCPU[$1]+=" $SCPU" W_P99[$1]+=" $P99"
}

# --- a. one node: file store vs S3/PostgreSQL vs S3/PostgreSQL with --s3-redirect -------------------------------------
WARM_STORE=s3://$S3_BUCKET/warm
WARM_INDEX=$(new_database warm)
launch_warren file --root "$WORK/file-root" --upstream "$NGINX_URL" --sumdb off
FILE_PID=$WARREN_PID FILE_URL=$WARREN_URL
log "node 'file' pid $FILE_PID on $FILE_URL (file store, SQLite index)"
start_node s3 "$WARM_STORE" "$WARM_INDEX"
S3_NODE_PID=$WARREN_PID S3_NODE_URL=$WARREN_URL
start_node redirect "$WARM_STORE" "$WARM_INDEX" --s3-redirect
RED_PID=$WARREN_PID RED_URL=$WARREN_URL

# Fill both stores: the 8 MB module through the S3 node with the go command (a cold cluster, for information), then
# every file measured through each node, compared byte for byte with the corpus.
go_download s3-fill "$S3_NODE_URL" "$BIG_MOD"
FILL_SECONDS=$ELAPSED
for rel in "$INFO" "$ZIP45" "$ZIP8M"; do
    check_same "$FILE_URL" "$rel"
    check_same "$S3_NODE_URL" "$rel"
    check_same "$RED_URL" "$rel"
done
for rel in "$ZIP45" "$ZIP8M"; do
    code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$RED_URL/$rel")
    [[ $code == 302 ]] || { echo "bench: the redirecting node answered $code for $rel" >&2; exit 1; }
done
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$RED_URL/$INFO")
[[ $code == 200 ]] || { echo "bench: the redirecting node answered $code for $INFO" >&2; exit 1; }

ONE_CASES=(info zip45 zip8m)
for round in $(seq 1 "$WRK_ROUNDS"); do
    log "one-node warm round $round of $WRK_ROUNDS"
    for c in "${ONE_CASES[@]}"; do
        servers=(file s3 redirect)
        ((round % 2)) || servers=(redirect s3 file)
        for s in "${servers[@]}"; do
            case $s in
                file) run_wrk "$c-file-$round" "$FILE_URL/${CASE_PATH[$c]}" "$FILE_PID" ;;
                s3) run_wrk "$c-s3-$round" "$S3_NODE_URL/${CASE_PATH[$c]}" "$S3_NODE_PID" ;;
                redirect) run_wrk "$c-redirect-$round" "$RED_URL/${CASE_PATH[$c]}" "$RED_PID" ;;
            esac
            record "$c-$s"
        done
    done
done

# The go command's download of the 8 MB module: redirecting node vs streaming node (vs the file node, for reference).
GO_S3=() GO_RED=() GO_FILE=()
for round in $(seq 1 "$GO_ROUNDS"); do
    order=(s3 redirect file)
    ((round % 2)) || order=(file redirect s3)
    for s in "${order[@]}"; do
        case $s in
            s3) go_download "big-s3-$round" "$S3_NODE_URL" "$BIG_MOD"; GO_S3+=("$ELAPSED") ;;
            redirect) go_download "big-redirect-$round" "$RED_URL" "$BIG_MOD"; GO_RED+=("$ELAPSED") ;;
            file) go_download "big-file-$round" "$FILE_URL" "$BIG_MOD"; GO_FILE+=("$ELAPSED") ;;
        esac
    done
done
stop "$FILE_PID"
stop "$RED_PID"

# --- b. one nginx balancer: 1 node vs 3 nodes of the same cluster ----------------------------------------------------
start_node n2 "$WARM_STORE" "$WARM_INDEX"
N2_PID=$WARREN_PID N2_URL=$WARREN_URL
start_node n3 "$WARM_STORE" "$WARM_INDEX"
N3_PID=$WARREN_PID N3_URL=$WARREN_URL
LB1_PORT=$(free_port)
LB3_PORT=$(free_port)
start_balancer lb "$LB1_PORT=$S3_NODE_URL" "$LB3_PORT=$S3_NODE_URL $N2_URL $N3_URL"
wait_http "http://127.0.0.1:$LB1_PORT/healthz" "$LB_PID"
wait_http "http://127.0.0.1:$LB3_PORT/healthz" "$LB_PID"
LB1_URL=http://127.0.0.1:$LB1_PORT LB3_URL=http://127.0.0.1:$LB3_PORT
for rel in "$INFO" "$ZIP45"; do
    for url in "$N2_URL" "$N3_URL" "$LB1_URL" "$LB3_URL"; do check_same "$url" "$rel"; done
done
log "balancer pid $LB_PID: 1 node on $LB1_URL, 3 nodes on $LB3_URL"
SCALE_CASES=(info zip45)
for round in $(seq 1 "$WRK_ROUNDS"); do
    log "balancer warm round $round of $WRK_ROUNDS"
    for c in "${SCALE_CASES[@]}"; do
        sides=(lb1 lb3)
        ((round % 2)) || sides=(lb3 lb1)
        for s in "${sides[@]}"; do
            case $s in
                lb1) run_wrk "$c-lb1-$round" "$LB1_URL/${CASE_PATH[$c]}" $(lb_pids "$LB_PID") "$S3_NODE_PID" ;;
                lb3) run_wrk "$c-lb3-$round" "$LB3_URL/${CASE_PATH[$c]}" $(lb_pids "$LB_PID") "$S3_NODE_PID" "$N2_PID" "$N3_PID" ;;
            esac
            record "$c-$s"
        done
    done
done
for pid in "$LB_PID" "$S3_NODE_PID" "$N2_PID" "$N3_PID"; do stop "$pid"; done

for key in "${!W_RPS[@]}"; do
    ROUND_RPS[$key]=${W_RPS[$key]# }
    W_RPS[$key]=$(median ${W_RPS[$key]})
    W_MB[$key]=$(median ${W_MB[$key]})
    W_CPU[$key]=$(median ${W_CPU[$key]})
    W_SCPU[$key]=$(median ${W_SCPU[$key]})
    W_P99[$key]=$(echo ${W_P99[$key]} | tr ' ' '/')
done

# --- c. cold download of the corpus: 3 cold nodes behind nginx vs nginx ----------------------------------------------
COLD_NGINX=() COLD_CLUSTER=() COLD_NODE_CPU=() COLD_SERVICE_CPU=()
cold_cluster_round() { # ROUND
    local store=s3://$S3_BUCKET/cold-$1 index nodes=() urls="" i port c0 s0
    index=$(new_database "cold_$1")
    for i in 1 2 3; do
        start_node "cold$1-$i" "$store" "$index"
        nodes+=("$WARREN_PID")
        urls+=" $WARREN_URL"
    done
    port=$(free_port)
    start_balancer "lb-cold-$1" "$port=${urls# }"
    wait_http "http://127.0.0.1:$port/healthz" "$LB_PID"
    warm_download "cluster-warmup-$1" "http://127.0.0.1:$port"
    c0=$(cpu_ticks "${nodes[@]}")
    s0=$(cpu_ticks $(service_pids))
    go_download "cluster-cold-$1" "http://127.0.0.1:$port" "${MODS[@]}"
    COLD_CLUSTER+=("$ELAPSED")
    COLD_NODE_CPU+=("$(calc "($(cpu_ticks "${nodes[@]}") - $c0) / $CLK_TCK")")
    COLD_SERVICE_CPU+=("$(calc "($(cpu_ticks $(service_pids)) - $s0) / $CLK_TCK")")
    for i in "$LB_PID" "${nodes[@]}"; do stop "$i"; done
}
cold_nginx_round() { # ROUND
    go_download "nginx-cold-$1" "$NGINX_URL" "${MODS[@]}"
    COLD_NGINX+=("$ELAPSED")
}
for round in $(seq 1 "$COLD_ROUNDS"); do
    log "cold round $round of $COLD_ROUNDS"
    if ((round % 2)); then
        cold_nginx_round "$round"
        cold_cluster_round "$round"
    else
        cold_cluster_round "$round"
        cold_nginx_round "$round"
    fi
done
COLD_NGINX_MED=$(median "${COLD_NGINX[@]}")
COLD_CLUSTER_MED=$(median "${COLD_CLUSTER[@]}")
COLD_RATIO=$(calc "$COLD_CLUSTER_MED / $COLD_NGINX_MED")
log "cold: nginx median $(fmt "$COLD_NGINX_MED")s, 3 nodes median $(fmt "$COLD_CLUSTER_MED")s, ratio $(fmt "$COLD_RATIO")"

# --- results --------------------------------------------------------------------------------------------------------
r() { calc "${W_RPS[$1]} / ${W_RPS[$2]}"; }
label() { echo "\`${CASE_PATH[$1]}\` ($(numfmt --to=iec-i --suffix=B "${SIZE[${CASE_PATH[$1]}]}"))"; }
per_round() { for x in $1; do printf '%.0f ' "$x"; done | sed 's/ $//; s/ / \/ /g'; }
GO_S3_MED=$(median "${GO_S3[@]}") GO_RED_MED=$(median "${GO_RED[@]}") GO_FILE_MED=$(median "${GO_FILE[@]}")
{
    echo "# Warren cluster benchmark results"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))," \
        "Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'), $(nginx -v 2>&1 | sed 's/.*: //'), $("$GO" version | cut -d' ' -f3)," \
        "PostgreSQL $("$PGBIN/postgres" --version | awk '{ print $3 }'), s3rver 3.7.1 (node $(node --version 2>/dev/null || echo '?'))."
    echo "Corpus: ${#MODS[@]} module versions, $(du -sh "$CORPUS" | cut -f1)."
    echo "Load average (1/5/15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Everything (nodes, nginx, PostgreSQL, s3rver, wrk, the go command) shares the same $(nproc) cores."
    echo
    echo "## Against the targets"
    echo
    echo "| measure | S3/PostgreSQL | reference | ratio | target | result |"
    echo "|---|---|---|---|---|---|"
    for c in "${ONE_CASES[@]}"; do
        x=$(r "$c-s3" "$c-file")
        case $c in info) t=0.8 n='`.info`' ;; zip45) t=0.6 n='45 KB zip' ;; zip8m) t=0.6 n='8 MB zip' ;; esac
        echo "| $n warm, one node, req/s (reference: one node on the file store) | $(fmt "${W_RPS[$c-s3]}" 0) | $(fmt "${W_RPS[$c-file]}" 0) | $(fmt "$x") | ≥ $t | $(verdict "$x >= $t") |"
    done
    echo "| cold download of the corpus, 3 cold nodes behind nginx, s (median of $COLD_ROUNDS; reference: straight from nginx) | $(fmt "$COLD_CLUSTER_MED") | $(fmt "$COLD_NGINX_MED") | $(fmt "$COLD_RATIO") | ≤ 1.3 | $(verdict "$COLD_RATIO <= 1.3") |"
    echo
    echo "## a. One node, warm (wrk -t2 -c32 -d${WRK_SECONDS}s after a ${WARMUP_SECONDS}s warm-up, $WRK_ROUNDS rounds, medians)"
    echo
    echo "\`file\`: file store and SQLite index; \`s3\`: S3 bucket (s3rver) and PostgreSQL index; \`redirect\`: the same with"
    echo "\`--s3-redirect\`, whose zip answers are 302s to a presigned URL (wrk does not follow them: its zip figures are the"
    echo "rate of redirect answers, not of bytes delivered). Server CPU: the node's CPU time as a percentage of one core;"
    echo "services CPU: PostgreSQL's and s3rver's."
    echo
    echo "| file | node | req/s (median) | req/s per round | ratio to file | MB/s | p99 per round | node CPU | services CPU |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for c in "${ONE_CASES[@]}"; do
        for s in file s3 redirect; do
            echo "| $(label "$c") | $s | $(fmt "${W_RPS[$c-$s]}" 0) | $(per_round "${ROUND_RPS[$c-$s]}") | $(fmt "$(r "$c-$s" "$c-file")") | $(fmt "${W_MB[$c-$s]}" 1) | ${W_P99[$c-$s]} | $(fmt "${W_CPU[$c-$s]}" 0)% | $(fmt "${W_SCPU[$c-$s]}" 0)% |"
        done
    done
    echo
    echo "### go mod download of \`$BIG_MOD\` ($(numfmt --to=iec-i --suffix=B "${SIZE[$ZIP8M]}") zip), cold client each time, $GO_ROUNDS rounds"
    echo
    echo "| node | median, s | per round, s | ratio to s3 |"
    echo "|---|---|---|---|"
    echo "| s3 (streams the zip) | $(fmt "$GO_S3_MED") | $(printf '%.2f / ' "${GO_S3[@]}" | sed 's| / $||') | 1.00 |"
    echo "| redirect (302 to s3rver) | $(fmt "$GO_RED_MED") | $(printf '%.2f / ' "${GO_RED[@]}" | sed 's| / $||') | $(fmt "$(calc "$GO_RED_MED / $GO_S3_MED")") |"
    echo "| file (reference) | $(fmt "$GO_FILE_MED") | $(printf '%.2f / ' "${GO_FILE[@]}" | sed 's| / $||') | $(fmt "$(calc "$GO_FILE_MED / $GO_S3_MED")") |"
    echo
    echo "The first download of that module, through the cold S3 node (fetch from nginx, store in the bucket): $(fmt "$FILL_SECONDS") s."
    echo
    echo "## b. One nginx balancer in front of 1 node vs 3 nodes (same bucket and database)"
    echo
    echo "Server CPU: nginx's and the nodes' CPU time, as a percentage of one core."
    echo
    echo "| file | behind nginx | req/s (median) | req/s per round | MB/s | p99 per round | nginx + nodes CPU | services CPU |"
    echo "|---|---|---|---|---|---|---|---|"
    for c in "${SCALE_CASES[@]}"; do
        for s in lb1 lb3; do
            echo "| $(label "$c") | ${s#lb} node$([[ $s == lb3 ]] && echo s) | $(fmt "${W_RPS[$c-$s]}" 0) | $(per_round "${ROUND_RPS[$c-$s]}") | $(fmt "${W_MB[$c-$s]}" 1) | ${W_P99[$c-$s]} | $(fmt "${W_CPU[$c-$s]}" 0)% | $(fmt "${W_SCPU[$c-$s]}" 0)% |"
        done
    done
    echo
    echo "Scaling 3 nodes / 1 node: .info $(fmt "$(r info-lb3 info-lb1)"), 45 KB zip $(fmt "$(r zip45-lb3 zip45-lb1)")."
    echo
    echo "## c. Cold download of the corpus (go mod download -json, fresh GOMODCACHE each time)"
    echo
    echo "Every run exited 0 and reported the manifest's h1 sums for all ${#MODS[@]} module versions. Each round the"
    echo "3 nodes started on a new bucket prefix and a new database, fetching from the same nginx."
    echo
    echo "| round | nginx direct, s | 3 cold nodes behind nginx, s | ratio | nodes' CPU time, s | PostgreSQL + s3rver CPU time, s |"
    echo "|---|---|---|---|---|---|"
    for i in $(seq 0 $((COLD_ROUNDS - 1))); do
        echo "| $((i + 1)) | $(fmt "${COLD_NGINX[$i]}") | $(fmt "${COLD_CLUSTER[$i]}") | $(fmt "$(calc "${COLD_CLUSTER[$i]} / ${COLD_NGINX[$i]}")") | $(fmt "${COLD_NODE_CPU[$i]}") | $(fmt "${COLD_SERVICE_CPU[$i]}") |"
    done
    echo "| median | $(fmt "$COLD_NGINX_MED") | $(fmt "$COLD_CLUSTER_MED") | $(fmt "$COLD_RATIO") | $(fmt "$(median "${COLD_NODE_CPU[@]}")") | $(fmt "$(median "${COLD_SERVICE_CPU[@]}")") |"
} >"$RESULTS/cluster-latest.md"

echo
cat "$RESULTS/cluster-latest.md"
log "written to bench/results/cluster-latest.md"
