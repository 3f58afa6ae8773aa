#!/usr/bin/env bash
# Start a single-node Apache Kafka broker (KRaft, combined broker+controller)
# on 127.0.0.1, using jars fetched from Maven Central. Idempotent.
#   PARLEY_INFRA_DIR   state dir            (default /tmp/parley-infra)
#   PARLEY_KAFKA_PORT  client port          (default 9092; controller = port+1)
#   PARLEY_KAFKA_HEAP  JVM heap             (default 512m)
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT="${PARLEY_KAFKA_PORT:-9092}"
CTRL_PORT="$((PORT + 1))"
HEAP="${PARLEY_KAFKA_HEAP:-512m}"
K="$INFRA/kafka"
LIBS="$K/libs"
PIDFILE="$K/kafka.pid"
LOG="$K/kafka.log"
BOOTSTRAP="127.0.0.1:$PORT"
mkdir -p "$K"

kjava() { java -Xmx256m -cp "$LIBS/*" -Dlog4j.configuration="file:$K/tools-log4j.properties" "$@"; }

if running "$PIDFILE" "$PORT"; then
  echo "kafka-up: already running (pid $(cat "$PIDFILE"), $BOOTSTRAP)"
  exit 0
fi
if port_open "$PORT"; then
  echo "kafka-up: port $PORT is in use by something else" >&2
  exit 1
fi

# 1. jars
if [[ ! -f "$LIBS/.complete" ]]; then
  echo "kafka-up: fetching Kafka jars from Maven Central into $LIBS"
  rm -rf "$LIBS"
  if ! mvn -B -f "$SCRIPTS/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$LIBS" >"$K/mvn.log" 2>&1; then
    tail -n 40 "$K/mvn.log" >&2; exit 1
  fi
  touch "$LIBS/.complete"
fi

# 2. config
cat > "$K/log4j.properties" <<EOF
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
cat > "$K/tools-log4j.properties" <<EOF
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
cat > "$K/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CTRL_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CTRL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$K/data
num.partitions=8
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
EOF

# 3. format storage once
if [[ ! -f "$K/data/meta.properties" ]]; then
  CLUSTER_ID="$(kjava kafka.tools.StorageTool random-uuid)"
  echo "kafka-up: formatting $K/data (cluster id $CLUSTER_ID)"
  kjava kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$K/server.properties" --ignore-formatted
fi

# 4. start
echo "kafka-up: starting broker on $BOOTSTRAP (log: $LOG)"
start=$SECONDS
nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration="file:$K/log4j.properties" -Dkafka.logs.dir="$K" \
  -cp "$LIBS/*" kafka.Kafka "$K/server.properties" >"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"

# 5. wait until the broker answers metadata requests
for _ in $(seq 1 90); do
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    echo "kafka-up: broker exited; last log lines:" >&2; tail -n 40 "$LOG" >&2; exit 1
  fi
  if port_open "$PORT" &&
     kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; then
    echo "kafka-up: ready on $BOOTSTRAP after $((SECONDS - start))s (pid $(cat "$PIDFILE"))"
    exit 0
  fi
  sleep 1
done
echo "kafka-up: broker not ready in time; last log lines:" >&2; tail -n 40 "$LOG" >&2
exit 1
