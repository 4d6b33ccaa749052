# Shared by the benchmark scripts (bench/run.sh, bench/cluster.sh, bench/direct.sh, bench/sumdb.sh, ...); sourced, not run.
#
# Before sourcing, the script sets REPO; after sourcing it calls bench_init TOOL... which checks the tools, makes
# the work directory WORK (mktemp under /tmp) and installs the cleanup trap. Every process whose pid is added to
# PIDS is stopped on exit, and WORK is removed.

bench_init() { # TOOL...
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 1; }
    done
    WORK=$(mktemp -d "/tmp/${BENCH_WORK_PREFIX:-warren-bench}.XXXXXX")
    PIDS=()
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

cleanup() {
    local rc=$?
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    chmod -R u+w "$WORK" 2>/dev/null
    rm -rf "$WORK"
    if [[ -n ${MODCACHE_TMP:-} ]]; then
        chmod -R u+w "$MODCACHE_TMP" 2>/dev/null
        rm -rf "$MODCACHE_TMP"
    fi
    exit "$rc"
}

# The go clients' module caches (MODCACHE_ROOT) on a tmpfs under /dev/shm when there is one and the caller did not choose:
# unpacking the corpus on a disk whose inodes an earlier round just freed made the go command's own time move 2-4x
# between rounds (ext4 without a journal steps over recently deleted inodes). What is measured (nginx, Warren and
# Warren's store) stays on disk. Removed on exit.
modcache_on_tmpfs() {
    if [[ -z ${MODCACHE_ROOT:-} && -d /dev/shm && -w /dev/shm ]]; then
        MODCACHE_TMP=$(mktemp -d /dev/shm/warren-bench-modcache.XXXXXX)
        MODCACHE_ROOT=$MODCACHE_TMP
    fi
    log "go module caches in ${MODCACHE_ROOT:-$WORK}"
}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }
calc() { python3 -c "import sys; print(eval(sys.argv[1]))" "$1"; }
fmt() { printf "%.${2:-2}f" "$1"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
verdict() { python3 -c "import sys; print('met' if eval(sys.argv[1]) else 'not met')" "$1"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL PID
    local i
    for i in $(seq 1 300); do
        curl -fs --noproxy '*' -o /dev/null "$1" && return 0
        kill -0 "$2" 2>/dev/null || { echo "bench: process $2 died while starting ($1)" >&2; return 1; }
        sleep 0.1
    done
    echo "bench: $1 did not come up" >&2
    return 1
}

stop() { # PID
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

CLK_TCK=$(getconf CLK_TCK)
# CPU time of the whole machine so far (all cores; user, nice, system, irq, softirq), in clock ticks.
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

cpu_ticks() { # PID... -> utime+stime of the processes
    local total=0 pid stat
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        stat=${stat##*) }
        set -- $stat
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

# ReadyToRun for this machine's runtime, as deploy/Dockerfile publishes it: a fresh process starts with compiled code.
publish_warren() { # -> PUB (the published Warren.Cli, Release, ReadyToRun); PUBLISHED=DIR reuses an earlier publish
    if [[ -n ${PUBLISHED:-} ]]; then
        [[ -f $PUBLISHED/warren.dll ]] || { echo "bench: no warren.dll in PUBLISHED=$PUBLISHED" >&2; exit 1; }
        PUB=$PUBLISHED
        log "using the Warren published in $PUB"
        return
    fi
    log "publishing Warren (Release, ReadyToRun)"
    PUB="$WORK/publish"
    dotnet publish "$REPO/src/Warren.Cli" -c Release --use-current-runtime --self-contained false -p:PublishReadyToRun=true \
        -o "$PUB" --nologo -v quiet >"$WORK/publish.log" 2>&1 ||
        { cat "$WORK/publish.log" >&2; exit 1; }
}

# nginx serving directories as GOPROXY trees on 127.0.0.1, one server block per PORT=DIR; config, logs and temporary
# files in WORK/nginx. -> NGINX_PID (added to PIDS). The caller waits for it with wait_http.
# A spec PORT=DIR@RATE sends at most RATE bytes a second per connection (nginx's limit_rate, e.g. 50m: a slower link);
# PORT=http://127.0.0.1:P@RATE is a reverse proxy to that address at that rate, holding at most 512 KB of a response
# (no temporary file), so it reads from the server only as fast as the client takes: a slow link to a server.
start_nginx() { # PORT=DIR[@RATE]...
    local user_line="" servers="" spec port target rate
    [[ $(id -u) == 0 ]] && user_line="user root;"
    for spec in "$@"; do
        port=${spec%%=*} target=${spec#*=} rate=""
        [[ $target == *@* ]] && rate="limit_rate ${target##*@};" target=${target%@*}
        if [[ $target == http://* ]]; then
            servers+="    server { listen 127.0.0.1:$port; location / { proxy_pass $target; proxy_buffers 8 64k; proxy_busy_buffers_size 128k; proxy_max_temp_file_size 0; proxy_http_version 1.1; proxy_set_header Connection \"\"; $rate } }"$'\n'
        else
            servers+="    server { listen 127.0.0.1:$port; root $target; $rate }"$'\n'
        fi
    done
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<EOF
$user_line
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    sendfile on;
    tcp_nopush on;
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    types { application/json info; application/zip zip; text/plain mod; }
    default_type text/plain;
$servers}
EOF
    nginx -p "$WORK/nginx/" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
}

nginx_pids() { echo "$NGINX_PID" $(ps -o pid= --ppid "$NGINX_PID"); }

# `warren serve ARG...` of the published Warren (PUB) on a free port of 127.0.0.1, output in WORK/NAME.log; waits for
# /healthz. -> WARREN_PID (added to PIDS), WARREN_URL
launch_warren() { # NAME ARG...
    local name=$1 port
    shift
    port=$(free_port)
    dotnet "$PUB/warren.dll" serve --listen "127.0.0.1:$port" "$@" >"$WORK/$name.log" 2>&1 &
    WARREN_PID=$!
    PIDS+=("$WARREN_PID")
    WARREN_URL=http://127.0.0.1:$port
    wait_http "$WARREN_URL/healthz" "$WARREN_PID"
}

# go mod download -json MODULE... through PROXY_URL into the fresh module cache CACHE (a cold client), with the go
# settings every bench uses (no checksum database, no GOPRIVATE, GOPATH and GOCACHE under WORK), from WORK/empty;
# the JSON in OUT, stderr in OUT.stderr. Returns the go command's exit status.
go_mod_download() { # CACHE PROXY_URL OUT MODULE...
    local cache=$1 proxy=$2 out=$3
    shift 3
    rm -rf "$cache"
    (cd "$WORK/empty" && env GOENV=off GO111MODULE=on GOSUMDB=off GONOSUMDB='*' GOFLAGS=-mod=mod GOTOOLCHAIN=local \
        GOPROXY="$proxy" GOPRIVATE= GONOPROXY= GOINSECURE= GOMODCACHE="$cache" GOPATH="$WORK/gopath" GOCACHE="$WORK/gocache" \
        "$GO" mod download -json "$@" >"$out" 2>"$out.stderr")
}

# go mod download -json of every version of MODS through PROXY_URL with a fresh GOMODCACHE (a cold client), output in
# RAW/go-NAME.json; the caller sets GO, MODS, MANIFEST, RAW and makes WORK/empty.
# DOWNLOAD_BUSY: the whole machine's CPU seconds over the go command's run (see machine_busy).
go_download_corpus() { # NAME PROXY_URL -> ELAPSED (seconds), DOWNLOAD_BUSY; fails unless go exits 0 with the manifest's sums
    local cache=${MODCACHE_ROOT:-$WORK}/gomodcache-$1 out=$RAW/go-$1.json rc t0 t1 m0 m1
    t0=$(now)
    m0=$(machine_busy)
    set +e
    go_mod_download "$cache" "$2" "$out" "${MODS[@]}"
    rc=$?
    set -e
    m1=$(machine_busy)
    t1=$(now)
    ELAPSED=$(calc "$t1 - $t0")
    DOWNLOAD_BUSY=$(calc "($m1 - $m0) / $CLK_TCK")
    if [[ $rc != 0 ]]; then
        echo "bench: go mod download via $2 exited $rc" >&2
        head -20 "$out.stderr" >&2
        exit 1
    fi
    python3 "$REPO/bench/check_download.py" "$MANIFEST" "$out" >"$out.check" || { cat "$out.check" >&2; exit 1; }
    chmod -R u+w "$cache"
    rm -rf "$cache"
    log "go mod download via $1: $(fmt "$ELAPSED")s, exit 0, $(cat "$out.check")"
}

# A GOPROXY tree for a cold round's upstream: DIR gets a symbolic link to every top-level entry of CORPUS and, beside
# them, COUNT synthetic modules warmup.example/m1 ... mCOUNT (v1.0.0, a few small deflated .go files each) that no
# measured download asks for. A freshly started server fetches them first (warm_download), so its code is compiled, as
# in a server that has run for a while, while its store and index stay cold for every corpus module.
make_warmup_upstream() { # DIR COUNT -> WARM_MODS (the synthetic modules as module@version)
    local dir=$1 count=$2 entry n
    mkdir -p "$dir"
    for entry in "$CORPUS"/*; do ln -s "$entry" "$dir/"; done
    python3 - "$dir" "$count" <<'EOF'
import os, random, sys, zipfile
root, count = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
for n in range(1, count + 1):
    path = f"warmup.example/m{n}"
    vdir = os.path.join(root, path, "@v")
    os.makedirs(vdir, exist_ok=True)
    mod = f"module {path}\n\ngo 1.16\n"
    with open(os.path.join(vdir, "list"), "w") as f:
        f.write("v1.0.0\n")
    with open(os.path.join(vdir, "v1.0.0.info"), "w") as f:
        f.write('{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}')
    with open(os.path.join(vdir, "v1.0.0.mod"), "w") as f:
        f.write(mod)
    with zipfile.ZipFile(os.path.join(vdir, "v1.0.0.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        prefix = f"{path}@v1.0.0/"
        z.writestr(prefix + "go.mod", mod)
        for k in range(1, 1 + rnd.randint(3, 12)):
            words = " ".join(rnd.choice(["alpha", "beta", "gamma", "delta", str(rnd.random())]) for _ in range(rnd.randint(200, 4000)))
            z.writestr(f"{prefix}f{k}.go", f"package m{n}\n\n// {words}\nconst C{k} = {k}\n")
EOF
    WARM_MODS=()
    for n in $(seq 1 "$count"); do WARM_MODS+=("warmup.example/m$n@v1.0.0"); done
}

# go mod download -json of the warm-up modules (WARM_MODS, from make_warmup_upstream) through PROXY_URL with a fresh
# module cache, output in RAW/go-NAME.json; none of them is in the corpus. Nothing to do if WARM_MODS is empty.
warm_download() { # NAME PROXY_URL
    local cache=${MODCACHE_ROOT:-$WORK}/gomodcache-$1 t0
    ((${#WARM_MODS[@]})) || { log "warm-up: no synthetic modules (WARMUP_MODULES=0), skipped"; return 0; }
    t0=$(now)
    go_mod_download "$cache" "$2" "$RAW/go-$1.json" "${WARM_MODS[@]}" ||
        { echo "bench: the warm-up download via $2 failed" >&2; tail -5 "$RAW/go-$1.json.stderr" >&2; exit 1; }
    log "warm-up ($1): ${#WARM_MODS[@]} synthetic modules outside the corpus via $2 in $(fmt "$(calc "$(now) - $t0")")s"
}

wrk_field() { # FILE LABEL
    awk -v l="$2" 'index($0, l) == 1 { print $2 }' "$1"
}
