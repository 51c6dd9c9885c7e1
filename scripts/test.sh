#!/usr/bin/env bash
# Sets up and runs the whole test suite on a fresh machine: format check,
# clippy with -D warnings, then every test of the workspace, with the real
# services the integration tests need (moto, a Kafka broker) started first and
# stopped after.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# A clean clone builds once: incremental caches would only take disk (~0.8 GB).
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The demo's build (the CLI without its `cloud` feature) must compile too.
cargo clippy -p qscale --no-default-features --locked -- -D warnings
echo "== template.yaml (sam validate --lint, cfn-lint)"
if ! python3 -c "import samcli, cfnlint" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check aws-sam-cli cfn-lint
fi
SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" python3 -m samcli validate --lint --template template.yaml
python3 -c 'import sys; from cfnlint.runner import main; sys.argv = ["cfn-lint", "template.yaml"]; sys.exit(main())'
# samconfig.toml (read by the sam validate above) must keep the opt-in that
# lets `sam build` use the rust-cargolambda beta build method without asking.
python3 -c 'import tomllib; p = tomllib.load(open("samconfig.toml", "rb"))["default"]["build"]["parameters"]; assert p["beta_features"] is True, p; print("samconfig.toml: build beta_features = true")'
echo "== services"
# AWS's MSK IAM token signer: tests/kafka_security.rs checks qscale's tokens against it.
if ! python3 -c "import aws_msk_iam_sasl_signer" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "aws-msk-iam-sasl-signer-python>=1.0,<2"
fi
bash scripts/services.sh start
trap 'bash scripts/services.sh stop' EXIT
export QSCALE_TEST_AWS_ENDPOINT="http://127.0.0.1:${QSCALE_MOTO_PORT:-5000}"
export QSCALE_TEST_AWS_IAM_ENDPOINT="http://127.0.0.1:${QSCALE_MOTO_IAM_PORT:-5001}"
export QSCALE_TEST_AWS_PENDING_ENDPOINT="http://127.0.0.1:${QSCALE_MOTO_PENDING_PORT:-5002}"
export QSCALE_TEST_KAFKA="127.0.0.1:${QSCALE_KAFKA_PORT:-9092}"
echo "== cargo test"
# Benches are compiled by clippy above; tests run in the same (dev) profile.
mkdir -p .qscale-run
cargo test --workspace --locked 2>&1 | tee .qscale-run/test-output.txt
# One summary line for the whole run.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "%d passed, %d failed, %d skipped\n", p, f, i }' .qscale-run/test-output.txt
