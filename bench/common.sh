# Shared by the benchmark scripts (bench/run.sh, bench/direct.sh); sourced, not run.
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
    exit "$rc"
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

publish_warren() { # -> PUB (the published Warren.Cli, Release)
    log "publishing Warren (Release)"
    PUB="$WORK/publish"
    dotnet publish "$REPO/src/Warren.Cli" -c Release -o "$PUB" --nologo -v quiet >"$WORK/publish.log" 2>&1 ||
        { cat "$WORK/publish.log" >&2; exit 1; }
}

wrk_field() { # FILE LABEL
    awk -v l="$2" 'index($0, l) == 1 { print $2 }' "$1"
}
