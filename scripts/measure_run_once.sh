#!/usr/bin/env bash
# Measures `qscale run --once` over N targets (default 200) against moto:
# creates N queues and N ECS services (10 per cluster), a state table and an
# audit queue, then times 5 steady-state runs and prints the median and the
# API calls per target. Needs moto running (scripts/services.sh start).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
ENDPOINT="${QSCALE_TEST_AWS_ENDPOINT:-http://127.0.0.1:5000}"
OUT=.qscale-run/measure
mkdir -p "$OUT"
cargo build --release --locked --quiet -p qscale
python3 scripts/make_targets.py "$N" "$OUT" "$ENDPOINT"
set -a; . "$OUT/env"; set +a
run() { ./target/release/qscale run --once --config "$OUT/config.yaml" --endpoint-url "$ENDPOINT"; }
run > /dev/null || true   # first run: scales every service 2 -> 1
times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N); run > "$OUT/last.txt" || true; end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
tail -1 "$OUT/last.txt"
echo "run --once over $N targets: median ${median} ms of 5 (${times[*]} ms)"
