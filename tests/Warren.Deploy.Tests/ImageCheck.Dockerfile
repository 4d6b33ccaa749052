# A build step that runs what the Warren image holds, as the image's own user (podman run is not available where
# these tests run): warren serve on the host's loopback (the build uses --network=host), the image's health check
# until it passes, one module fetched through it with warren prefetch (the zip checked against go.sum), the zip's
# SHA-256 compared with the corpus file's, the zip looked for in the /data store; then the server is stopped.
ARG IMAGE
FROM ${IMAGE}
ARG UPSTREAM
ARG PORT
ARG ZIP_PATH
ARG ZIP_SHA256
COPY go.sum /tmp/check/go.sum
RUN set -eu; \
    w=$(mktemp -d); cp /tmp/check/go.sum "$w/"; cd "$w"; \
    echo "running as uid=$(id -u) gid=$(id -g)"; \
    warren serve --upstream "$UPSTREAM" --sumdb off --listen "127.0.0.1:$PORT" >serve.log 2>&1 & pid=$!; \
    ok=""; for _ in $(seq 300); do \
      if WARREN_LISTEN="127.0.0.1:$PORT" /opt/warren/healthcheck 2>/dev/null; then ok=1; break; fi; \
      kill -0 "$pid" 2>/dev/null || break; sleep 0.2; \
    done; \
    [ -n "$ok" ] || { echo "warren did not become healthy:"; cat serve.log; exit 1; }; \
    echo "CHECK healthcheck passed"; \
    warren prefetch --proxy "http://127.0.0.1:$PORT" --modcache "$w/modcache" --jobs 2 go.sum \
      || { echo "prefetch failed:"; cat serve.log; exit 1; }; \
    echo "$ZIP_SHA256  $w/modcache/cache/download/$ZIP_PATH" | sha256sum -c -; \
    [ -f "/data/$ZIP_PATH" ] || { echo "not in the store: /data/$ZIP_PATH"; cat serve.log; exit 1; }; \
    echo "CHECK zip in the /data store"; \
    kill "$pid"; wait "$pid" || true; \
    echo "WARREN-IMAGE-CHECK-OK"
