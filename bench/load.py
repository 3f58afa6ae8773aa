#!/usr/bin/env python3
"""Load generator for a running Parley server (stdlib only).

  load.py register N [--prefix P]          N sequential self_register calls on
                                           one keep-alive connection; prints
                                           p50/p90/p99/max latency in ms.
  load.py rename N --token T --user U [--users K] [-c C]
                                           N update_user_info_ex calls from C
                                           concurrent connections (spread over
                                           users U0..U{K-1} if --users K);
                                           prints commands/s and latency
                                           percentiles.
  load.py lag N --token T --user U         N renames sent to the first --base
                                           (a node started with --read-wait-ms 0),
                                           each followed by a query to the last
                                           --base carrying X-Parley-Min-Position;
                                           prints how long until the read models
                                           include the command (projection lag,
                                           plus one HTTP round trip).

Options: --base URL[,URL...] (default http://127.0.0.1:10002; several:
connections are spread over them)  --tenant 1000
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
        url = urllib.parse.urlparse(base.split(",")[0])
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.headers = {"content-type": "application/json", "X-Tenant-ID": tenant}
        if token:
            self.headers["token"] = token
        self.n = 0

    def post(self, path, body, extra_headers=None):
        """Returns (seconds, X-Parley-Position of the reply or None)."""
        self.n += 1
        headers = dict(self.headers, operationID=f"bench-{threading.get_ident()}-{self.n}", **(extra_headers or {}))
        started = time.perf_counter()
        self.conn.request("POST", path, json.dumps(body), headers)
        response = self.conn.getresponse()
        reply = json.loads(response.read())
        elapsed = time.perf_counter() - started
        if reply["errCode"] != 0:
            raise SystemExit(f"{path} failed: {reply}")
        return elapsed, response.getheader("X-Parley-Position")


def register(args):
    client = Client(args.base, args.tenant)
    samples = []
    started = time.perf_counter()
    for i in range(args.n):
        body = {"userID": f"{args.prefix}{i}", "nickname": f"user {i}", "password": "bench-password"}
        samples.append(client.post("/user/self_register", body)[0])
    total = time.perf_counter() - started
    print(f"self_register x{args.n} sequential: {args.n / total:.0f}/s {percentiles(samples)}")


def rename(args):
    samples, lock = [], threading.Lock()
    per = args.n // args.c

    bases = args.base.split(",")

    def worker(w):
        client = Client(bases[w % len(bases)], args.tenant, args.token)
        mine = []
        for i in range(per):
            user = f"{args.user}{(w + i) % args.users}" if args.users else args.user
            body = {"userInfo": {"userID": user, "nickname": f"n{w}-{i}"}}
            mine.append(client.post("/user/update_user_info_ex", body)[0])
        with lock:
            samples.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(args.c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.perf_counter() - started
    print(f"update_user_info_ex x{per * args.c} from {args.c} connections to {len(bases)} node(s): "
          f"{per * args.c / total:.0f}/s {percentiles(samples)}")


def lag(args):
    bases = args.base.split(",")
    commands = Client(bases[0], args.tenant, args.token)
    queries = Client(bases[-1], args.tenant, args.token)
    samples = []
    for i in range(args.n):
        _, position = commands.post("/user/update_user_info_ex", {"userInfo": {"userID": args.user, "nickname": f"lag{i}"}})
        seconds, _ = queries.post("/user/get_users_info", {"userIDs": [args.user]}, {"X-Parley-Min-Position": position})
        samples.append(seconds)
    print(f"projection lag over {args.n} commands: {percentiles(samples)}")


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
    u.add_argument("--users", type=int, default=0)
    u.add_argument("-c", type=int, default=8)
    g = sub.add_parser("lag")
    g.add_argument("n", type=int)
    g.add_argument("--token", required=True)
    g.add_argument("--user", required=True)
    args = p.parse_args()
    {"register": register, "rename": rename, "lag": lag}[args.cmd](args)


if __name__ == "__main__":
    main()
