#!/usr/bin/env bash
# The whole test suite: every crate's tests and the black-box suite against
# the embedded deployment, then the black-box suite (and the scale-out fault
# tests) against a real Kafka broker and a MongoDB-compatible server, which
# this script starts (scripts/kafka-up.sh, scripts/mongo-up.sh) and leaves
# running (stop them with scripts/kafka-down.sh and scripts/mongo-down.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== embedded deployment"
cargo test --workspace

echo "== Kafka + MongoDB deployment"
scripts/kafka-up.sh
scripts/mongo-up.sh
PARLEY_TEST_BACKEND=kafka cargo test -p api --features scale-out --test blackbox -- --skip embedded:: --test-threads 3
