#!/usr/bin/env bash
# Stop the broker started by kafka-up.sh. Idempotent.
#   --wipe   also delete its data (topics, cluster id); jars are kept
set -euo pipefail

INFRA="${PARLEY_INFRA_DIR:-/tmp/parley-infra}"
K="$INFRA/kafka"
PIDFILE="$K/kafka.pid"

if [[ -f "$PIDFILE" ]] && pid="$(cat "$PIDFILE")" && kill -0 "$pid" 2>/dev/null; then
  echo "kafka-down: stopping broker (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka-down: still alive after 30s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
else
  echo "kafka-down: not running"
fi
rm -f "$PIDFILE"

if [[ "${1:-}" == "--wipe" ]]; then
  echo "kafka-down: wiping $K/data"
  rm -rf "$K/data"
fi
