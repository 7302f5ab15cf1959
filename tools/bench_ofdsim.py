"""Load benchmark of the simulated OFD.

    python tools/bench_ofdsim.py [--registers 200] [--seconds 60]

Starts the simulator as its own process on free loopback ports with a fresh
database, registers N simulated registers, and runs N asyncio clients at
once for the given time: each sells tickets (one request per connection,
token adopted from every answer, REQNUM + 1), with an X report every 20th
request. At the end every register closes its shift and its Z must count
exactly the tickets it was answered OK for. Any error fails the run.
Prints throughput and latency percentiles.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools.ofdsim import build  # noqa: E402
from tools.ofdsim.client import aexchange  # noqa: E402

WHEN = (2026, 3, 2, 9, 0, 0)


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


async def register_loop(port, kkm_id, token, until, lat, errors):
    reqnum = 0
    sold = 0
    ticket = build.ticket(WHEN, [("Нан / Хлеб", 1000, 18000 + kkm_id % 100, "1")]).SerializeToString()
    xrep = build.report("x", WHEN).SerializeToString()
    n = 0
    while time.monotonic() < until:
        n += 1
        reqnum = (reqnum + 1) & 0xFFFF
        is_x = n % 20 == 0
        t0 = time.perf_counter()
        try:
            head, resp = await aexchange("127.0.0.1", port, kkm_id, token, reqnum, xrep if is_x else ticket, 30)
        except Exception as e:  # any transport error counts
            errors.append("%d: %s %s" % (kkm_id, type(e).__name__, e))
            return token, reqnum, sold
        lat.append(time.perf_counter() - t0)
        if resp.result.result_code != 0 or head.reqnum != reqnum:
            errors.append("%d: result %d" % (kkm_id, resp.result.result_code))
            return token, reqnum, sold
        token = head.token
        if not is_x:
            sold += 1
    return token, reqnum, sold


async def close_and_check(port, kkm_id, token, reqnum, sold, errors):
    head, resp = await aexchange("127.0.0.1", port, kkm_id, token, (reqnum + 1) & 0xFFFF,
                                 build.close_shift((2026, 3, 2, 20, 0, 0)), 60)
    if resp.result.result_code != 0:
        errors.append("%d: close %d" % (kkm_id, resp.result.result_code))
        return
    sell = [t for t in resp.report.zx_report.ticket_operations if t.operation == 2][0]
    if sell.tickets_count != sold:
        errors.append("%d: Z counts %d tickets, %d sold" % (kkm_id, sell.tickets_count, sold))


async def run(port, n, seconds):
    lat, errors = [], []
    until = time.monotonic() + seconds
    t0 = time.monotonic()
    res = await asyncio.gather(*(register_loop(port, 1000 + i, 5000 + i, until, lat, errors) for i in range(n)))
    elapsed = time.monotonic() - t0
    sem = asyncio.Semaphore(50)

    async def close(i, r):
        async with sem:
            await close_and_check(port, 1000 + i, r[0], r[1], r[2], errors)
    await asyncio.gather(*(close(i, r) for i, r in enumerate(res)))
    return lat, errors, elapsed, sum(r[2] for r in res)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--registers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60.0)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        cfg = os.path.join(d, "registers.json")
        with open(cfg, "w", encoding="utf-8") as f:
            json.dump({"registers": [
                {"kkm_id": 1000 + i, "rnm": "0101%08d" % (1000 + i), "serial": "SN%d" % (1000 + i),
                 "title": "Bench %d" % i, "bin": "%012d" % (100000000000 + i), "address": "Almaty",
                 "token": 5000 + i} for i in range(a.registers)]}, f)
        p = subprocess.Popen([sys.executable, "-m", "tools.ofdsim", "--db", os.path.join(d, "ofd.sqlite"),
                              "--port", "0", "--http", "0", "--config", cfg], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
        port = None
        for line in p.stdout:
            m = re.search(r"protocol \S+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            p.kill()
            print("simulator did not start", file=sys.stderr)
            return 1
        try:
            lat, errors, elapsed, sold = asyncio.run(run(port, a.registers, a.seconds))
        finally:
            p.send_signal(signal.SIGINT)
            p.wait(30)
    lat.sort()
    print("OFD simulator load: %d registers, %.1f s, %d requests (%d tickets), %d errors"
          % (a.registers, elapsed, len(lat), sold, len(errors)))
    print("throughput %.0f requests/s; latency ms p50 %.1f  p95 %.1f  p99 %.1f  max %.1f"
          % (len(lat) / elapsed, pct(lat, 50) * 1e3, pct(lat, 95) * 1e3, pct(lat, 99) * 1e3,
             (lat[-1] if lat else 0) * 1e3))
    for e in errors[:10]:
        print("error:", e, file=sys.stderr)
    return 1 if errors or not lat else 0


if __name__ == "__main__":
    sys.exit(main())
