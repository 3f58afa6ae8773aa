#!/usr/bin/env bash
# Stop the broker started by kafka-up.sh. Idempotent.
#   --wipe   also delete its data (topics, cluster id); jars are kept
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
stop_service kafka-down "$INFRA/kafka/kafka.pid" "$INFRA/kafka/data" "${1:-}"
