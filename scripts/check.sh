#!/usr/bin/env bash
# Pre-commit gate: format, lint and test; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p qscale --no-default-features --locked -- -D warnings
cargo test --workspace --locked --quiet
