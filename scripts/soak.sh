#!/usr/bin/env bash
# The chaos soak (tests/soak.rs) at full length: 20 targets, two invokers,
# faults on every AWS call, a broker restart; 500 ticks by default
# (QSCALE_SOAK_TICKS). Starts moto and the broker if they are not running.
# Takes about an hour on 2 cores (7-11 s per tick; 57 min on 2026-12-01), most of it moto answering;
# the audit queues are drained every 5 ticks because moto slows as they fill.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh start
export QSCALE_TEST_AWS_ENDPOINT="${QSCALE_TEST_AWS_ENDPOINT:-http://127.0.0.1:5000}"
export QSCALE_TEST_KAFKA="${QSCALE_TEST_KAFKA:-127.0.0.1:9092}"
QSCALE_SOAK_TICKS="${QSCALE_SOAK_TICKS:-500}" cargo test --locked -p qscale-integration --test soak -- --nocapture
