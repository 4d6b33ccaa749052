#!/usr/bin/env python3
"""Writes a synthetic GOPROXY module example.com/big v1.0.0 whose zip holds ~SIZE MB of random bytes.

usage: make_big_module.py UPSTREAM_DIR [SIZE_MB]

Layout: UPSTREAM_DIR/example.com/big/@v/{list,v1.0.0.info,v1.0.0.mod,v1.0.0.zip}.
The zip is a valid module zip (entries prefixed example.com/big@v1.0.0/, a go.mod equal to the .mod,
each file far below the go command's limits, total below 500 MiB).
"""
import os
import sys
import zipfile

MODULE = "example.com/big"
VERSION = "v1.0.0"
GO_MOD = b"module example.com/big\n"
FILE_MB = 4


def main() -> None:
    upstream = sys.argv[1]
    size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    vdir = os.path.join(upstream, MODULE, "@v")
    os.makedirs(vdir, exist_ok=True)
    prefix = f"{MODULE}@{VERSION}/"
    with zipfile.ZipFile(os.path.join(vdir, VERSION + ".zip"), "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(prefix + "go.mod", GO_MOD)
        zf.writestr(prefix + "big.go", b"// Package big is random data for benchmarks.\npackage big\n")
        for i in range((size_mb + FILE_MB - 1) // FILE_MB):
            zf.writestr(f"{prefix}data/blob{i:03d}.bin", os.urandom(FILE_MB << 20))
    with open(os.path.join(vdir, VERSION + ".mod"), "wb") as f:
        f.write(GO_MOD)
    with open(os.path.join(vdir, VERSION + ".info"), "w") as f:
        f.write('{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}')
    with open(os.path.join(vdir, "list"), "w") as f:
        f.write(VERSION + "\n")


if __name__ == "__main__":
    main()
