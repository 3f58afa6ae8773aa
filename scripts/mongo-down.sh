#!/usr/bin/env bash
# Stop the server started by mongo-up.sh. Idempotent.
#   --wipe   also delete its data (the venv is kept)
set -euo pipefail

INFRA="${PARLEY_INFRA_DIR:-/tmp/parley-infra}"
M="$INFRA/mongo"
PIDFILE="$M/mongo.pid"

if [[ -f "$PIDFILE" ]] && pid="$(cat "$PIDFILE")" && kill -0 "$pid" 2>/dev/null; then
  echo "mongo-down: stopping SecantusDB (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "mongo-down: still alive after 10s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
else
  echo "mongo-down: not running"
fi
rm -f "$PIDFILE"

if [[ "${1:-}" == "--wipe" ]]; then
  echo "mongo-down: wiping $M/data"
  rm -rf "$M/data"
fi
