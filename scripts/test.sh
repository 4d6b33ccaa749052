#!/usr/bin/env bash
# Runs Warren's whole test suite on a Debian 12 machine with the .NET 10 SDK.
# Installs what the tests need (Go 1.19 and git from Debian, the x/mod sources the corpus generator uses),
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
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

shared=${WARREN_SHARED:-$repo/../shared}
export WARREN_SHARED=$shared
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

log=$(mktemp)
trap 'rm -f "$log"' EXIT
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
