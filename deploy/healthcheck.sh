#!/usr/bin/env bash
# The image's HEALTHCHECK: GET /healthz on this container's Warren, with nothing but bash (no curl in the image).
# The port is taken from WARREN_LISTEN (HOST:PORT, default 0.0.0.0:3000); exit 0 when Warren answers 200.
set -euo pipefail
listen=${WARREN_LISTEN:-0.0.0.0:3000}
port=${listen##*:}
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
read -r -t "${WARREN_HEALTHCHECK_TIMEOUT:-5}" _ status _ <&3
exec 3<&-
[ "${status}" = 200 ]
