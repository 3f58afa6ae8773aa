#!/usr/bin/env python3
"""Smoke-test the broker from kafka-up.sh: a transactional produce (one aborted,
one committed batch) read back with isolation.level=read_committed.
Needs `pip install confluent-kafka` (use a venv outside the repo).
Usage: python3 scripts/kafka-smoke.py [bootstrap]   (default 127.0.0.1:$PARLEY_KAFKA_PORT)
"""
import os
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer

bootstrap = sys.argv[1] if len(sys.argv) > 1 else f"127.0.0.1:{os.environ.get('PARLEY_KAFKA_PORT', '9092')}"
topic = f"smoke-{uuid.uuid4().hex[:8]}"

p = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"smoke-tx-{uuid.uuid4().hex[:8]}"})
t0 = time.time()
p.init_transactions(30)
print(f"init_transactions: {time.time() - t0:.1f}s")

p.begin_transaction()
for i in range(3):
    p.produce(topic, key=f"k{i}", value=f"aborted-{i}")
p.abort_transaction(30)

p.begin_transaction()
for i in range(5):
    p.produce(topic, key=f"k{i}", value=f"committed-{i}")
p.commit_transaction(30)
print(f"produced: 3 aborted + 5 committed to {topic}")

c = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": f"smoke-{uuid.uuid4().hex[:8]}",
    "auto.offset.reset": "earliest",
    "isolation.level": "read_committed",
    "enable.auto.commit": False,
})
c.subscribe([topic])
got, deadline = [], time.time() + 30
while len(got) < 5 and time.time() < deadline:
    m = c.poll(1.0)
    if m is None:
        continue
    if m.error():
        print("consumer error:", m.error())
        continue
    got.append(m.value().decode())
c.close()
print("consumed:", sorted(got))
ok = sorted(got) == [f"committed-{i}" for i in range(5)]
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
