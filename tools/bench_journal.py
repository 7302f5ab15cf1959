# Benchmark of the fiscal data accumulator on the NOR flash emulator.
#
#   .venv/bin/python tools/bench_journal.py          CPython, then the same core
#                                                    under .venv/bin/micropython
#   micropython -X heapsize=64M tools/bench_journal.py --core [sizes...]
#
# For logs of 1k, 10k and 100k records (receipts needing an OFD ack, their
# acks, a checkpoint and a Z every 500 records, 250 records in the open
# shift) it reports appends per second, flash bytes programmed per payload
# byte, and the time to open (recover) and self-test. Open + self-test at
# 100k must stay within 2x the 1k figure: the end is found by binary search
# over sector headers, old shifts are verified through their Z summaries.
# Exit status 1 when that bound is broken. Figures go to docs/performance.md.
import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for p in (_here + "/../firmware", _here + "/.."):
    if p not in sys.path:
        sys.path.insert(0, p)

import time  # noqa: E402
from boards.sim.nor_flash import NorFlash  # noqa: E402
from journal import Accumulator  # noqa: E402

if hasattr(time, "ticks_us"):

    def now_us():
        return time.ticks_us()

    def since_us(t):
        return time.ticks_diff(time.ticks_us(), t)

else:

    def now_us():
        return time.perf_counter_ns() // 1000

    def since_us(t):
        return time.perf_counter_ns() // 1000 - t


KEY = b"bench-device-key-0123456789"
T0 = 1700000000
SHIFT = 500


def build(n):
    blocks = n * 170 // 4096 + 32
    log = NorFlash(blocks)
    fm = NorFlash(256)
    acc = Accumulator(log, fm, KEY)
    doc = b"D" * 150
    sign = b"S" * 40
    payload = 0
    t = now_us()
    i = 0
    ts = T0
    while i < n:
        ts += 30
        if i % SHIFT == SHIFT // 2 and i:
            acc.checkpoint(b"C" * 64, ts)
            acc.close_shift(b"Z" * 120, ts)
            payload += 64 + 120
            i += 2  # checkpoint + Z marker
            continue
        d = acc.append(16, doc, ts, True)
        acc.ack(d, sign, ts)
        payload += len(doc) + len(sign)
        i += 2
    us = since_us(t)
    return log, fm, acc, us, payload


def measure(n, reps):
    log, fm, acc, us, payload = build(n)
    records = acc.last_seq
    written = log.bytes_programmed + fm.bytes_programmed
    best_open = best_test = None
    res = None
    for _ in range(reps):
        t = now_us()
        a = Accumulator(log, fm, KEY)
        o = since_us(t)
        t = now_us()
        res = a.self_test()
        s = since_us(t)
        if best_open is None or o + s < best_open + best_test:
            best_open, best_test = o, s
    assert res.ok, res.reason
    return {
        "n": records,
        "aps": records * 1000000 // (us or 1),
        "bpb": written / payload,
        "open": best_open,
        "test": best_test,
        "z": a.z_count(),
        "verified": res.records,
    }


def core(sizes):
    rows = []
    for n in sizes:
        r = measure(n, 5)
        rows.append(r)
        print(
            "records %6d  appends/s %6d  flash B/payload B %.2f  open %6.1f ms  self-test %6.1f ms  "
            "(Z %d, records verified %d)"
            % (r["n"], r["aps"], r["bpb"], r["open"] / 1000, r["test"] / 1000, r["z"], r["verified"])
        )
    first = rows[0]["open"] + rows[0]["test"]
    last = rows[-1]["open"] + rows[-1]["test"]
    ratio = last / (first or 1)
    ok = last <= 2 * first
    print("open+self-test %d records / %d records: %.2fx (bound 2x) %s" % (rows[-1]["n"], rows[0]["n"], ratio, "OK" if ok else "FAIL"))
    return ok


def main(argv):
    if "--core" in argv:
        sizes = [int(a) for a in argv if a.isdigit()] or [1000, 10000, 100000]
        return 0 if core(sizes) else 1
    import os
    import subprocess

    root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    print("CPython %s" % sys.version.split()[0])
    status = 0 if core([1000, 10000, 100000]) else 1
    mpy = os.path.join(root, ".venv", "bin", "micropython")
    print("MicroPython (unix port): %s -X heapsize=64M tools/bench_journal.py --core" % mpy)
    sys.stdout.flush()
    r = subprocess.run([mpy, "-X", "heapsize=64M", os.path.join(root, "tools", "bench_journal.py"), "--core"])
    return status or r.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
