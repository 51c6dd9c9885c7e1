#!/usr/bin/env python3
"""Creates N scaling targets in the moto AWS emulator for measurements: N queues
holding 10 messages each, N ECS services at 2 (10 per cluster), a state table
and an audit queue. Writes OUT/config.yaml and OUT/env (table and audit queue).
Usage: make_targets.py N OUT [ENDPOINT]"""
import sys
import uuid

import boto3

n, out = int(sys.argv[1]), sys.argv[2]
endpoint = sys.argv[3] if len(sys.argv) > 3 else "http://127.0.0.1:5000"
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
with open(f"{out}/config.yaml", "w") as f:
    f.write("\n".join(lines) + "\n")
with open(f"{out}/env", "w") as f:
    f.write(f"QSCALE_STATE_TABLE={table}\nQSCALE_AUDIT_QUEUE={audit}\n")
