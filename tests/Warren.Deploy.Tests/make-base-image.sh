#!/usr/bin/env bash
# The local Debian 12 base image of the container tests, made as shared/services/base-image.sh makes it, for machines
# where that script cannot find a mirror (apt sources only in deb822 form, /etc/apt/sources.list.d/*.sources).
#   make-base-image.sh [NAME]   prints NAME (default localhost/debian:bookworm) once the image exists.
set -euo pipefail
NAME=${1:-localhost/debian:bookworm}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap >/dev/null
fi
if ! podman image exists "$NAME"; then
  # Active entries only: "deb URL …" lines and "URIs: URL" fields, never comments; not the security archive.
  mirror=$({ grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
             grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'; } | grep -v security | head -n1 || true)
  [ -n "$mirror" ] || { echo "no Debian mirror found in apt's sources" >&2; exit 1; }
  root=$(mktemp -d /tmp/warren-debootstrap.XXXXXX)
  as_root debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; exit 1; }
  as_root tar -C "$root" -c . | podman import - "$NAME" >/dev/null
  as_root rm -rf "$root" "$root.log"
fi
echo "$NAME"
