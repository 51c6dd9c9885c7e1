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
python3 - "$N" "$ENDPOINT" "$OUT" <<'PY'
import sys, uuid, boto3
n, endpoint, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
sqs, ecs, ddb = (boto3.client(s, **kw) for s in ("sqs", "ecs", "dynamodb"))
run = uuid.uuid4().hex[:8]
table = f"measure-state-{run}"
ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                 AttributeDefinitions=[{"AttributeName": "target", "AttributeType": "S"}],
                 KeySchema=[{"AttributeName": "target", "KeyType": "HASH"}])
audit = sqs.create_queue(QueueName=f"measure-audit-{run}")["QueueUrl"]
ecs.register_task_definition(family=f"td-{run}", containerDefinitions=[{"name": "w", "image": "x", "memory": 128}])
lines = ["targets:"]
for i in range(n):
    cluster = f"measure-{run}-{i // 10}"
    if i % 10 == 0:
        ecs.create_cluster(clusterName=cluster)
    ecs.create_service(cluster=cluster, serviceName=f"s{i}", taskDefinition=f"td-{run}", desiredCount=2, launchType="EC2")
    url = sqs.create_queue(QueueName=f"measure-{run}-{i}")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": "x"} for j in range(10)])
    lines.append(f"  - name: t{i}\n    signals: [ {{ sqs: {{ name: jobs, queue: \"{url}\" }} }} ]\n"
                 f"    worker: {{ ecs: {{ cluster: {cluster}, service: s{i} }} }}\n"
                 f"    policy: {{ min: 1, max: 20, target_per_worker: 10 }}")
open(f"{out}/config.yaml", "w").write("\n".join(lines) + "\n")
open(f"{out}/env", "w").write(f"QSCALE_STATE_TABLE={table}\nQSCALE_AUDIT_QUEUE={audit}\n")
PY
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
