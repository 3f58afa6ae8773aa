# Shared by the *-up.sh / *-down.sh scripts (sourced, not run).
INFRA="${PARLEY_INFRA_DIR:-/tmp/parley-infra}"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# running PIDFILE PORT: is the process of PIDFILE alive and its port open?
running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null && port_open "$2"; }

# stop_service NAME PIDFILE DATA_DIR [--wipe]: SIGTERM, wait up to 30 s,
# then SIGKILL; with --wipe also delete DATA_DIR.
stop_service() {
  local name=$1 pidfile=$2 data=$3 pid
  if [[ -f "$pidfile" ]] && pid="$(cat "$pidfile")" && kill -0 "$pid" 2>/dev/null; then
    echo "$name: stopping (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name: still alive after 30s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    echo "$name: not running"
  fi
  rm -f "$pidfile"
  if [[ "${4:-}" == "--wipe" ]]; then
    echo "$name: wiping $data"
    rm -rf "$data"
  fi
}
