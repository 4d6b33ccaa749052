#!/usr/bin/env bash
# Runs Warren's whole test suite on a Debian 12 machine with the .NET 10 SDK.
# Installs what the tests need (Go 1.19, git and govulncheck from Debian, the x/mod sources the corpus generator uses),
# builds the module corpus from ../shared/corpus if it is not there yet, then runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
[ -x /usr/lib/go-1.19/bin/go ] || need+=(golang-1.19-go)
[ -d /usr/lib/go-1.19/src/cmd/go ] || need+=(golang-1.19-src)
[ -d /usr/share/gocode/src/golang.org/x/mod ] || need+=(golang-golang-x-mod-dev)
command -v git >/dev/null || need+=(git)
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/govulncheck ] || need+=(govulncheck)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

shared=${WARREN_SHARED:-$repo/../shared}
export WARREN_SHARED=$shared
# The web console's tests drive a real browser: Debian's Chromium (never a downloaded build).
export CHROMIUM_PATH=$(bash "$shared/services/chromium.sh" path | sed -n 's/^CHROMIUM_PATH=//p')
export WARREN_CORPUS_DIR=${WARREN_CORPUS_DIR:-/tmp/corpus-out}
if [ ! -f "$WARREN_CORPUS_DIR/corpus-manifest.tsv" ]; then
  echo "building the module corpus into $WARREN_CORPUS_DIR"
  bash "$shared/corpus/regen.sh" "$WARREN_CORPUS_DIR"
fi

# A full run writes a few GB of module caches and stores under $TMPDIR/warren-tests (removed as each test process exits).
tmp=${TMPDIR:-/tmp}
free_kb=$(df -Pk "$tmp" | awk 'NR==2 {print $4}')
if [ "${free_kb:-0}" -lt $((4 * 1024 * 1024)) ]; then
  echo "warning: only $((free_kb / 1024)) MB free in $tmp; the tests need about 4 GB" >&2
fi

# The scale-out providers' tests run against a real PostgreSQL and a real S3-compatible server, both on loopback,
# started once here and shared by every test project (a test fixture starts its own when these are not set).
pg_dir=""; s3_dir=""
log=$(mktemp)
cleanup() {
  rm -f "$log"
  # An S3 server that died during the run fails every S3 test after it: say so, with the end of its log.
  if [ -n "$s3_dir" ] && [ -f "$s3_dir/pid" ] && ! kill -0 "$(cat "$s3_dir/pid")" 2>/dev/null; then
    echo "the S3 test server (s3rver) exited during the run; the end of its log:" >&2
    tail -n 40 "$s3_dir/server.log" >&2 || true
  fi
  [ -n "$pg_dir" ] && bash "$shared/services/postgres.sh" stop "$pg_dir" || true
  [ -n "$s3_dir" ] && bash "$shared/services/s3.sh" stop "$s3_dir" || true
}
trap cleanup EXIT
if [ -z "${WARREN_TEST_POSTGRES:-}" ]; then
  pg_env=$(bash "$shared/services/postgres.sh" start)
  pg_dir=$(sed -n 's/^PGDATA_DIR=//p' <<<"$pg_env")
  export WARREN_TEST_POSTGRES=$(sed -n 's/^WARREN_TEST_POSTGRES=//p' <<<"$pg_env")
fi
if [ -z "${WARREN_TEST_S3_ENDPOINT:-}" ]; then
  s3_env=$(bash "$shared/services/s3.sh" start)
  s3_dir=$(sed -n 's/^S3_DIR=//p' <<<"$s3_env")
  export WARREN_TEST_S3_ENDPOINT=$(sed -n 's/^S3_ENDPOINT=//p' <<<"$s3_env")
  export WARREN_TEST_S3_BUCKET=$(sed -n 's/^S3_BUCKET=//p' <<<"$s3_env")
  export WARREN_TEST_S3_ACCESS_KEY=$(sed -n 's/^S3_ACCESS_KEY=//p' <<<"$s3_env")
  export WARREN_TEST_S3_SECRET_KEY=$(sed -n 's/^S3_SECRET_KEY=//p' <<<"$s3_env")
fi
set +e
dotnet test Warren.sln -c Release --nologo 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# The test processes' temporary trees (module caches are read-only, hence the chmod).
chmod -R u+w "$tmp/warren-tests" 2>/dev/null || true
rm -rf "$tmp/warren-tests"
set -e
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "tests: $passed passed, $failed failed"
exit "$rc"
