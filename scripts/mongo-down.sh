#!/usr/bin/env bash
# Stop the server started by mongo-up.sh. Idempotent.
#   --wipe   also delete its data (the venv is kept)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stop_service mongo-down "$INFRA/mongo/mongo.pid" "$INFRA/mongo/data" "${1:-}"
