#!/usr/bin/env bash
# Init duration, invocation duration and peak memory of the tick function for
# 1 and 100 targets, against moto (scripts/services.sh start first). Builds the
# release binary for this machine (the deployed one is arm64; see docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet -p qscale-tick
for n in 1 100; do
  out=".qscale-run/lambda-$n"; mkdir -p "$out"
  python3 scripts/make_targets.py "$n" "$out"
  echo "== tick, $n target(s), 5 invocations"
  # One invocation reconciles them all (no fan-out) for this measurement.
  QSCALE_FANOUT_ABOVE=1000 python3 scripts/measure_lambda.py target/release/tick "$out/config.yaml" "$out/env" events/schedule.json 5
done
