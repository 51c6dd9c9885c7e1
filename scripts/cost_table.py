#!/usr/bin/env python3
"""qscale's own monthly AWS cost, from measured inputs (docs/deploy.md, "Running
against AWS"): API calls per target per tick and invocation durations.
Prints a markdown table. Prices: us-east-1 list prices as published in 2025,
not checked live (this machine reaches no AWS price list)."""

HOURS = 730
PRICES = {
    "lambda_gb_s": 0.0000133334,     # arm64
    "lambda_request": 0.20 / 1e6,
    "ddb_wru": 0.625 / 1e6,          # on-demand
    "ddb_rru": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,       # standard queue
    "cw_metric": 0.30,               # per custom metric-month, first 10,000
    "cw_metric_next": 0.10,          # next 240,000
    "cw_log_gb": 0.50,               # ingestion
}
MEMORY_GB = 128 / 1024
# Measured (scripts/measure_run_once.sh 200; the Lambda table): one invocation
# costs 9.4 ms plus 4.77 ms per target reconciled (486 ms for 100).
BASE_MS, PER_TARGET_MS = 9.4, (486 - 9.4) / 100
# Steady-state calls per target and tick (2.11 measured): GetQueueAttributes,
# PutItem (state item under 2 KB: 2 WRU), DescribeServices per 10, BatchGetItem per 100
# (1 RRU per item).
SQS_READS, WRU, RRU = 1.0, 2.0, 1.0
FANOUT_ABOVE, EVALUATE_BATCH = 50, 10
# 6 metrics per target, the same 6 over all targets, Decisions by 7 outcomes.
EMF_METRICS, EMF_FIXED_METRICS, EMF_LINE_BYTES = 6, 13, 600


def metrics_cost(n):
    first = min(n, 10_000)
    return first * PRICES["cw_metric"] + max(n - first, 0) * PRICES["cw_metric_next"]


def month(targets, interval_s):
    ticks = HOURS * 3600 / interval_s
    invocations_tick = HOURS * 60  # the schedule fires once a minute
    slots = 60 // interval_s
    if targets <= FANOUT_ABOVE:
        per_slot_ms = BASE_MS + PER_TARGET_MS * targets
        evaluate_invocations = 0
        evaluate_ms = 0
        sqs_fanout = 0
    else:
        # tick sends one control message per target (10 per SendMessageBatch);
        # evaluate reconciles batches of 10.
        per_slot_ms = BASE_MS + PER_TARGET_MS * (targets / 10)
        batches = targets / EVALUATE_BATCH
        evaluate_invocations = ticks * batches
        evaluate_ms = BASE_MS + PER_TARGET_MS * EVALUATE_BATCH
        # send + receive + delete, per batch of 10
        sqs_fanout = ticks * batches * 3
    # The tick invocation sleeps between slots and is billed for it.
    tick_ms = (slots - 1) * interval_s * 1000 + per_slot_ms
    gb_s = MEMORY_GB * (invocations_tick * tick_ms + evaluate_invocations * evaluate_ms) / 1000
    lam = gb_s * PRICES["lambda_gb_s"] + (invocations_tick + evaluate_invocations) * PRICES["lambda_request"]
    ddb = ticks * targets * (WRU * PRICES["ddb_wru"] + RRU * PRICES["ddb_rru"])
    sqs = (ticks * targets * SQS_READS + sqs_fanout) * PRICES["sqs_request"]
    cw_metrics = metrics_cost(EMF_METRICS * targets + EMF_FIXED_METRICS)
    cw_logs = ticks * targets * EMF_LINE_BYTES / 1e9 * PRICES["cw_log_gb"]
    return lam, ddb, sqs, cw_metrics, cw_logs


print("| targets | tick | Lambda | DynamoDB | SQS | CloudWatch metrics (EMF) | CloudWatch Logs (EMF) | total |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for targets in (10, 100, 1000):
    for interval in (60, 15):
        parts = month(targets, interval)
        cells = " | ".join(f"${p:,.2f}" for p in parts)
        print(f"| {targets:,} | {interval} s | {cells} | ${sum(parts):,.2f} |")
