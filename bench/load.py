#!/usr/bin/env python3
"""Load generator for a running Parley server (stdlib only).

  load.py register N [--prefix P]          N sequential self_register calls on
                                           one keep-alive connection; prints
                                           p50/p90/p99/max latency in ms.
  load.py rename N --token T --user U [-c C]
                                           N update_user_info_ex calls from C
                                           concurrent connections; prints
                                           commands/s and latency percentiles.

Options: --base http://127.0.0.1:10002  --tenant 1000
"""
import argparse
import http.client
import json
import threading
import time
import urllib.parse


def percentiles(samples):
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))] * 1000
    return f"p50={pick(0.50):.2f}ms p90={pick(0.90):.2f}ms p99={pick(0.99):.2f}ms max={s[-1] * 1000:.2f}ms"


class Client:
    def __init__(self, base, tenant, token=None):
        url = urllib.parse.urlparse(base)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.headers = {"content-type": "application/json", "X-Tenant-ID": tenant}
        if token:
            self.headers["token"] = token
        self.n = 0

    def post(self, path, body):
        self.n += 1
        headers = dict(self.headers, operationID=f"bench-{threading.get_ident()}-{self.n}")
        started = time.perf_counter()
        self.conn.request("POST", path, json.dumps(body), headers)
        reply = json.loads(self.conn.getresponse().read())
        elapsed = time.perf_counter() - started
        if reply["errCode"] != 0:
            raise SystemExit(f"{path} failed: {reply}")
        return elapsed


def register(args):
    client = Client(args.base, args.tenant)
    samples = []
    started = time.perf_counter()
    for i in range(args.n):
        body = {"userID": f"{args.prefix}{i}", "nickname": f"user {i}", "password": "bench-password"}
        samples.append(client.post("/user/self_register", body))
    total = time.perf_counter() - started
    print(f"self_register x{args.n} sequential: {args.n / total:.0f}/s {percentiles(samples)}")


def rename(args):
    samples, lock = [], threading.Lock()
    per = args.n // args.c

    def worker(w):
        client = Client(args.base, args.tenant, args.token)
        mine = []
        for i in range(per):
            body = {"userInfo": {"userID": args.user, "nickname": f"n{w}-{i}"}}
            mine.append(client.post("/user/update_user_info_ex", body))
        with lock:
            samples.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.perf_counter() - started
    print(f"update_user_info_ex x{per * args.c} from {args.c} connections: "
          f"{per * args.c / total:.0f}/s {percentiles(samples)}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default="http://127.0.0.1:10002")
    p.add_argument("--tenant", default="1000")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("register")
    r.add_argument("n", type=int)
    r.add_argument("--prefix", default="bench-")
    u = sub.add_parser("rename")
    u.add_argument("n", type=int)
    u.add_argument("--token", required=True)
    u.add_argument("--user", required=True)
    u.add_argument("-c", type=int, default=8)
    args = p.parse_args()
    {"register": register, "rename": rename}[args.cmd](args)


if __name__ == "__main__":
    main()
