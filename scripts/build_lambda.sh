#!/usr/bin/env bash
# Builds the three Lambda functions for provided.al2023 on arm64 with
# cargo-lambda (and zig as the cross linker), as `sam build` does, and prints
# each package's size. Not part of the test command: a cold cross-build takes
# about as long as the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c "import ziglang" >/dev/null 2>&1 || ! command -v cargo-lambda >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check cargo-lambda ziglang
fi
. scripts/lambda-cross-env.sh
cargo lambda build --release --arm64 -p qscale-tick -p qscale-evaluate -p qscale-prewarm
python3 - <<'PY'
import os
import zipfile

for f in ("tick", "evaluate", "prewarm"):
    b, z = f"target/lambda/{f}/bootstrap", f"target/lambda/{f}/bootstrap.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(b, "bootstrap")
    machine = int.from_bytes(open(b, "rb").read(20)[18:20], "little")
    arch = {0xB7: "arm64", 0x3E: "x86-64"}.get(machine, hex(machine))
    print(f"{f:9} bootstrap {os.path.getsize(b) / 2**20:5.1f} MB, zipped {os.path.getsize(z) / 2**20:5.1f} MB, {arch}")
PY
