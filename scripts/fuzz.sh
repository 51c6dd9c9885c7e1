#!/usr/bin/env bash
# Fuzzes every parser of outside data (tests/fuzz.rs): the config YAML, the
# observations JSON, the stored state and outbox, every Lambda event, and
# decide on whatever parses, and decide on timestamps moved to the ends of
# time. 7 properties x CASES_PER_PROPERTY (default 15,000: 105,000 generated
# inputs in all). No services needed. The test
# suite runs the same properties with 256 cases each.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${CASES_PER_PROPERTY:-15000}"
echo "fuzz: 7 properties x $cases cases"
start=$(date +%s)
PROPTEST_CASES="$cases" cargo test --locked -p qscale-integration --test fuzz
echo "fuzz: $((7 * cases)) cases, 0 failures, $(( $(date +%s) - start )) s"
