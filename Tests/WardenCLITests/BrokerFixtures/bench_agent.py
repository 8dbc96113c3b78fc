#!/usr/bin/env python3
"""The agent side of scripts/bench-broker.sh, run inside `warden run`.

Usage: bench_agent.py BROKERED_PORT DIRECT_PORT UPSTREAM_CA ROUNDS REQUESTS DOWNLOAD_MIB SEED

Talks to the same HTTPS server (api.broker.test) through the broker (BROKERED_PORT, covered
by an `allow https` rule, so the connect is redirected to the broker and verified with the
run's CA bundle from SSL_CERT_FILE) and directly (DIRECT_PORT, covered only by `allow net
connect`, verified against UPSTREAM_CA). Every round runs each variant once in a seeded
random order. Prints one TSV row per sample: NAME<TAB>UNIT<TAB>VALUE.
  small GET (keep-alive): REQUESTS GETs of /echo/bench on one connection; ms per request
  small GET (new connection): REQUESTS GETs, each on a fresh TCP+TLS connection; ms per request
  download N MiB: one GET of /download/N read to the end; MB/s
"""
import http.client
import random
import ssl
import statistics
import sys
import time

brokered, direct = int(sys.argv[1]), int(sys.argv[2])
upstream_ca = sys.argv[3]
rounds, requests, mib, seed = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
HOST = "api.broker.test"
contexts = {"brokered": ssl.create_default_context(), "direct": ssl.create_default_context(cafile=upstream_ca)}
ports = {"brokered": brokered, "direct": direct}


def connection(side):
    return http.client.HTTPSConnection(HOST, ports[side], context=contexts[side], timeout=60)


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    n = 0
    while True:
        block = r.read(1 << 20)
        if not block:
            break
        n += len(block)
    if r.status != 200:
        raise SystemExit("bench: %s answered %d" % (path, r.status))
    return n


def keepalive(side):
    conn = connection(side)
    get(conn, "/echo/warmup")
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        get(conn, "/echo/bench")
        times.append(time.perf_counter() - t)
    conn.close()
    return statistics.median(times) * 1000


def fresh(side):
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        conn = connection(side)
        get(conn, "/echo/bench")
        conn.close()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def download(side):
    conn = connection(side)
    t = time.perf_counter()
    n = get(conn, "/download/%d" % mib)
    elapsed = time.perf_counter() - t
    conn.close()
    if n != mib << 20:
        raise SystemExit("bench: short download (%d bytes)" % n)
    return n / 1e6 / elapsed


variants = []
for side in ("direct", "brokered"):
    variants += [("small GET (keep-alive): %s" % side, "ms", keepalive, side),
                 ("small GET (new connection): %s" % side, "ms", fresh, side),
                 ("download %d MiB: %s" % (mib, side), "MB/s", download, side)]
for r in range(rounds + 1):  # round 0 warms up (name lookups, first handshakes) and is not printed
    order = list(variants)
    random.Random("%s-%d" % (seed, r)).shuffle(order)
    for name, unit, fn, side in order:
        value = fn(side)
        if r > 0:
            print("%s\t%s\t%.4f" % (name, unit, value), flush=True)
