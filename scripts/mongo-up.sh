#!/usr/bin/env bash
# Start a MongoDB-wire-compatible server (SecantusDB, from PyPI) on 127.0.0.1.
# Idempotent.
#   PARLEY_INFRA_DIR   state dir     (default /tmp/parley-infra)
#   PARLEY_MONGO_PORT  port          (default 27017)
set -euo pipefail

SECANTUS_VERSION="0.7.0b3"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT="${PARLEY_MONGO_PORT:-27017}"
M="$INFRA/mongo"
VENV="$INFRA/venv-mongo"
PIDFILE="$M/mongo.pid"
LOG="$M/mongo.log"
mkdir -p "$M/data"

ping_ok() {
  "$VENV/bin/python" - "$PORT" <<'EOF' >/dev/null 2>&1
import sys, pymongo
c = pymongo.MongoClient("127.0.0.1", int(sys.argv[1]), directConnection=True, serverSelectionTimeoutMS=1000)
assert c.admin.command("ping")["ok"] == 1
EOF
}

if running "$PIDFILE" "$PORT"; then
  echo "mongo-up: already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
  exit 0
fi
if port_open "$PORT"; then
  echo "mongo-up: port $PORT is in use by something else" >&2
  exit 1
fi

if ! "$VENV/bin/python" -c "import secantus, pymongo" 2>/dev/null ||
   [[ "$("$VENV/bin/pip" show SecantusDB 2>/dev/null | awk '/^Version:/{print $2}')" != "$SECANTUS_VERSION" ]]; then
  echo "mongo-up: installing SecantusDB==$SECANTUS_VERSION + pymongo into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "SecantusDB==$SECANTUS_VERSION" pymongo
fi

echo "mongo-up: starting SecantusDB on 127.0.0.1:$PORT (log: $LOG)"
start=$SECONDS
nohup "$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$PORT" --storage-path "$M/data" \
  --cache-size 256M --log-level WARNING >"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"

for _ in $(seq 1 60); do
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "mongo-up: server exited; last log lines:" >&2; tail -n 40 "$LOG" >&2; exit 1
  fi
  if port_open "$PORT" && ping_ok; then
    echo "mongo-up: ready on 127.0.0.1:$PORT after $((SECONDS - start))s (pid $(cat "$PIDFILE"))"
    exit 0
  fi
  sleep 0.5
done
echo "mongo-up: server not ready in time; last log lines:" >&2; tail -n 40 "$LOG" >&2
exit 1
