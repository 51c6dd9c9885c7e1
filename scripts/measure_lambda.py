#!/usr/bin/env python3
"""Measures a qscale Lambda binary through the Lambda Runtime API protocol,
served here on 127.0.0.1: init duration (process start to its first
/invocation/next), each invocation's duration (/next to /response), and peak
memory (VmHWM of the process). Needs moto (scripts/services.sh start).
Usage: measure_lambda.py BINARY CONFIG ENVFILE EVENT INVOCATIONS"""
import http.server
import json
import os
import subprocess
import sys
import threading
import time

binary, config, envfile, event_file, invocations = sys.argv[1:6]
invocations = int(invocations)
event = open(event_file, "rb").read()
marks = {"next": [], "done": [], "errors": []}
lock = threading.Lock()
all_done = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # /2018-06-01/runtime/invocation/next
        with lock:
            n = len(marks["next"])
            if n >= invocations:
                all_done.set()
                time.sleep(30)  # hold the poll open; the process is killed first
                return
            marks["next"].append(time.monotonic())
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", f"req-{n}")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:tick")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(event)))
        self.end_headers()
        self.wfile.write(event)

    def do_POST(self):  # .../response or .../error
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            key = "errors" if self.path.endswith("/error") else "done"
            marks[key].append((time.monotonic(), body.decode(errors="replace")))
        self.send_response(202)
        self.end_headers()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
threading.Thread(target=server.serve_forever, daemon=True).start()
env = dict(os.environ)
for line in open(envfile):
    k, _, v = line.strip().partition("=")
    if k:
        env[k] = v
env.update({
    "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}",
    "AWS_LAMBDA_FUNCTION_NAME": "tick", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/tick",
    "AWS_LAMBDA_LOG_STREAM_NAME": "local", "QSCALE_CONFIG_PATH": config,
    "QSCALE_ENDPOINT_URL": env.get("QSCALE_ENDPOINT_URL", "http://127.0.0.1:5000"),
    "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1",
})
start = time.monotonic()
proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
if not all_done.wait(timeout=300):
    proc.kill()
    sys.exit(f"timed out; stderr: {proc.stderr.read().decode()[-2000:]}")
peak_kb = next(int(l.split()[1]) for l in open(f"/proc/{proc.pid}/status") if l.startswith("VmHWM:"))
proc.kill()
server.shutdown()
if marks["errors"]:
    sys.exit(f"invocation errors: {marks['errors']}")
init_ms = (marks["next"][0] - start) * 1000
durations = [(d[0] - n) * 1000 for n, d in zip(marks["next"], marks["done"])]
print(json.dumps({
    "init_ms": round(init_ms, 1),
    "invocation_ms": [round(d, 1) for d in durations],
    "median_invocation_ms": round(sorted(durations)[len(durations) // 2], 1),
    "peak_rss_mb": round(peak_kb / 1024, 1),
    "last_response": json.loads(marks["done"][-1][1]) if marks["done"] else None,
}, indent=1))
