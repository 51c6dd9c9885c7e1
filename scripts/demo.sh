#!/usr/bin/env bash
# Builds qscale and runs its main job on the embedded default: the simulator
# demo (bundled config + flash-crowd trace), qscale beside KEDA/HPA, AWS target
# tracking and static provisioning. No cloud needed, so it builds the CLI
# without its `cloud` feature: core + simulator only, no AWS SDK or librdkafka.
# Extra arguments go to `qscale simulate` (e.g. --trace diurnal --out sim-out).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
cargo run --release --locked --quiet -p qscale --no-default-features -- simulate "$@"
