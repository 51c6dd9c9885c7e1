#!/usr/bin/env bash
# Installs and starts the real services the integration tests talk to, on a
# fresh machine: the moto AWS emulator on 127.0.0.1:5000, a second moto on
# 127.0.0.1:5001 that tests/iam_enforced.rs switches to IAM enforcement (the
# first one serves every other test unauthenticated), a third on 127.0.0.1:5002
# whose new ECS services keep only 2 tasks running (MOTO_ECS_SERVICE_RUNNING=2:
# the rest stay pending, for tests/aws/capacity.rs), and a Kafka-protocol
# broker (noida-db) on 127.0.0.1:9092.
#   scripts/services.sh start   # install if missing, start, wait for the port
#   scripts/services.sh stop    # stop what start started (by saved PID)
set -euo pipefail
cd "$(dirname "$0")/.."
# A second set of services (other ports, other run dir) can run beside the first.
RUN_DIR="${QSCALE_RUN_DIR:-.qscale-run}"
MOTO_PORT="${QSCALE_MOTO_PORT:-5000}"
MOTO_IAM_PORT="${QSCALE_MOTO_IAM_PORT:-5001}"
MOTO_PENDING_PORT="${QSCALE_MOTO_PENDING_PORT:-5002}"
KAFKA_PORT="${QSCALE_KAFKA_PORT:-9092}"
mkdir -p "$RUN_DIR"

wait_for_port() { # name port pidfile
  for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    if ! kill -0 "$(cat "$3")" 2>/dev/null; then
      echo "$1 exited during start-up; its log:" >&2; cat "$RUN_DIR/$1.log" >&2; return 1
    fi
    sleep 0.5
  done
  echo "$1 did not open port $2 within 60 s; its log:" >&2; cat "$RUN_DIR/$1.log" >&2; return 1
}

start_moto() { # name port [VAR=value ...] (environment of that moto only)
  local name="$1" port="$2"; shift 2
  # Run as a module: no dependence on a console-script shim being on PATH.
  if ! python3 -c "import moto.server, flask" >/dev/null 2>&1; then
    echo "installing moto[server] from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check "moto[server]>=5.1,<6"
  fi
  if [ -f "$RUN_DIR/$name.pid" ] && kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$RUN_DIR/$name.pid"))"; return 0
  fi
  env "$@" python3 -m moto.server -H 127.0.0.1 -p "$port" > "$RUN_DIR/$name.log" 2>&1 &
  echo $! > "$RUN_DIR/$name.pid"
  wait_for_port "$name" "$port" "$RUN_DIR/$name.pid"
  echo "$name listening on 127.0.0.1:$port (pid $(cat "$RUN_DIR/$name.pid"))"
}

start_kafka() {
  if ! python3 -c "import noida_db" >/dev/null 2>&1; then
    echo "installing noida-db from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check "noida-db>=0.2,<0.3"
  fi
  if [ -f "$RUN_DIR/kafka.pid" ] && kill -0 "$(cat "$RUN_DIR/kafka.pid")" 2>/dev/null; then
    echo "kafka already running (pid $(cat "$RUN_DIR/kafka.pid"))"; return 0
  fi
  # Start the broker binary itself (not the Python wrapper) so the PID is the broker's.
  local nb
  nb=$(python3 -c 'import noida_db, os; print(os.path.join(os.path.dirname(noida_db.__file__), "noida-db"))')
  chmod +x "$nb"
  # A restart (kafka-start) keeps the topics and offsets; a fresh start wipes them.
  if [ "${1:-fresh}" = fresh ]; then rm -rf "$RUN_DIR/kafka-data"; fi
  mkdir -p "$RUN_DIR/kafka-data"
  "$nb" start --only kafka --kafka-port "$KAFKA_PORT" --data-dir "$RUN_DIR/kafka-data" > "$RUN_DIR/kafka.log" 2>&1 &
  echo $! > "$RUN_DIR/kafka.pid"
  wait_for_port kafka "$KAFKA_PORT" "$RUN_DIR/kafka.pid"
  echo "kafka listening on 127.0.0.1:$KAFKA_PORT (pid $(cat "$RUN_DIR/kafka.pid"))"
}

stop_one() {
  local pidfile="$RUN_DIR/$1.pid"
  if [ -f "$pidfile" ]; then
    local pid; pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    # Wait (at most 10 s) until it is gone, so its port is free for a restart.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  start) start_moto moto "$MOTO_PORT"; start_moto moto-iam "$MOTO_IAM_PORT"
         start_moto moto-pending "$MOTO_PENDING_PORT" MOTO_ECS_SERVICE_RUNNING=2; start_kafka ;;
  stop) stop_one moto; stop_one moto-iam; stop_one moto-pending; stop_one kafka ;;
  # For the chaos soak's broker restarts: stop the broker, start it again on its data.
  kafka-stop) stop_one kafka ;;
  kafka-start) start_kafka keep ;;
  *) echo "usage: $0 start|stop|kafka-stop|kafka-start" >&2; exit 2 ;;
esac
