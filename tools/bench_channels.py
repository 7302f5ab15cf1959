"""The OFD channels measured against the OFD simulator (docs/performance.md).

    python tools/bench_channels.py [--docs 20] [--rtt 600] [--replay 3000] [--only sign,cpu,failover,replay]

sign      time to the fiscal sign of a sale (issue to signed, the register's
          whole path through tools/regshell.py's SimRegister) per channel:
          Wi-Fi (TCP on loopback) and GSM (SIM800 and SIM7600 drivers on the
          modem simulator at --rtt ms round trip, the bearer up): p50, p95
cpu       the register side's CPU share on the MicroPython unix port while it
          signs requests over the modem at --rtt ms (the driver and the client
          in a micropython process; its CPU time over the wall time)
failover  Wi-Fi dies while the OFD holds its answer: the time from the drop to
          the OFD's answer over GSM (same TOKEN and REQNUM; --rtt ms, bearer up)
replay    --replay documents queued offline, then the OFD back over Wi-Fi: the
          time until the last is acknowledged
"""

import argparse
import asyncio
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from tools import regshell as S  # noqa: E402  (puts the firmware on the path)
from tools.localport import free_port  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "boards", "host", "hw"))
import network  # noqa: E402
from uart import UART  # noqa: E402

from drivers.simcom import Sim800, Sim7600  # noqa: E402
from net.gsm import GsmChannel  # noqa: E402
from net.manager import ChannelManager  # noqa: E402
from net.tcp import TcpChannel  # noqa: E402
from net.wifi import WifiChannel  # noqa: E402
from ofd import client as cl  # noqa: E402
from ofd import codec  # noqa: E402
from ofd import schema as S2  # noqa: E402
from ofd.session import Session  # noqa: E402
from tools.modemsim import ModemSim  # noqa: E402

MODEMS = {"sim800": Sim800, "sim7600": Sim7600}


def _pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def _wifi(port):
    def resolve(host, p):
        return [(socket.AF_INET, socket.SOCK_STREAM, 0, "", ("127.0.0.1", port))]

    return WifiChannel(network.WLAN(network.WLAN.IF_STA), network.AP.ssid, network.AP.key, TcpChannel(resolver=resolve))


def _gsm(sim, kind):
    m = MODEMS[kind](UART(sim.path), apn="internet")
    return GsmChannel(m)


def _up(ch):
    async def go():
        await ch.tend()
        t0 = time.monotonic()
        while not ch.up() and time.monotonic() - t0 < 5:
            await asyncio.sleep(0.02)
            await ch.tend()

    asyncio.run(go())
    if not ch.up():
        raise SystemExit("%s did not come up" % ch.name)


def bench_sign(docs, rtt):
    print("time to the fiscal sign of a sale, %d sales per channel (GSM at %d ms RTT, bearer up):" % (docs, rtt))
    for what in ("wifi", "sim800", "sim7600"):
        var = tempfile.mkdtemp()
        port = free_port()
        sim = None
        if what == "wifi":
            ch = _wifi(port)
        else:
            sim = ModemSim(what, ("127.0.0.1", port), rtt_ms=rtt, attach_ms=2000).start()
            ch = _gsm(sim, what)
        try:
            sr = S.SimRegister(var, io.StringIO(), ofd_port=port, channel=ChannelManager([ch]))
            t0 = time.monotonic()
            _up(ch)
            up_ms = (time.monotonic() - t0) * 1000
            S.run(sr, ["login 1 1234"])
            ms = []
            for i in range(docs):
                t = time.monotonic()
                S.run(sr, ["sale Нан %d 1" % (100 + i), "pay cash %d" % (100 + i)])
                ms.append((time.monotonic() - t) * 1000)
                if sr.reg.last.offline:
                    raise SystemExit("%s: sale %d went offline" % (what, i))
            extra = ""
            if sim is not None:
                extra = "  (bring-up with attach %.1f s; TCP connect %d ms)" % (up_ms / 1000, ch.modem.connect_ms)
            print("  %-8s p50 %5d ms  p95 %5d ms%s" % (what, _pct(ms, 50), _pct(ms, 95), extra))
            sr.close()
        finally:
            if sim is not None:
                ch.modem.uart.close()
                sim.stop()
            shutil.rmtree(var, ignore_errors=True)


MP_CPU = r"""
import sys, time
sys.path[:0] = [%(root)r + "/firmware", %(root)r, %(root)r + "/boards/host/hw"]
import asyncio
from drivers.simcom import Sim800
from net.gsm import GsmChannel
from ofd import client as cl, codec, schema as S
from ofd.session import Session
from uart import UART

async def main():
    m = Sim800(UART(%(path)r), apn="internet")
    await m.start()
    c = cl.OfdClient(Session(%(kkm)d, %(token)d), GsmChannel(m), [("ofd.sim", 7777)])
    req = codec.encode(S.Request, {"command": S.COMMAND_SYSTEM, "service": {}})
    print("ready")
    sys.stdin.readline()
    t0 = time.ticks_ms()
    for i in range(%(n)d):
        out = await c.exchange(req, S.COMMAND_SYSTEM)
        assert out.status == "ok", out.reason
    print("wall", time.ticks_diff(time.ticks_ms(), t0))

asyncio.run(main())
"""


def _cpu(pid):
    # seconds a running process has spent on a CPU (the scheduler's count, in ns)
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0]) / 1e9


def bench_cpu(n, rtt):
    from tools.ofdsim.testkit import Sim

    with Sim() as ofd:
        sim = ModemSim("sim800", ("127.0.0.1", ofd.port), rtt_ms=rtt, attach_ms=100).start()
        try:
            src = MP_CPU % {"root": ROOT, "path": sim.path, "kkm": ofd.kkm_id, "token": ofd.token, "n": n}
            p = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "micropython"), "-X", "heapsize=4M", "-c", src], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
            assert p.stdout.readline().strip() == "ready"
            c0 = _cpu(p.pid)
            p.stdin.write("\n")
            p.stdin.flush()
            c1 = None
            line = p.stdout.readline()
            c1 = _cpu(p.pid)
            p.wait(60)
        finally:
            sim.stop()
    wall = int(line.split()[1])
    cpu = (c1 - c0) * 1000
    print("register-side CPU on the MicroPython unix port, %d exchanges over SIM800 at %d ms RTT: "
          "%.0f ms CPU in %d ms wall = %.1f %% (%.1f ms per exchange)" % (n, rtt, cpu, wall, 100 * cpu / wall,
                                                                          cpu / n))


def bench_failover(n, rtt):
    from tools.ofdsim.testkit import Sim

    times = []
    with Sim() as ofd:
        sim = ModemSim("sim800", ("127.0.0.1", ofd.port), rtt_ms=rtt, attach_ms=100).start()
        wifi, gsm = _wifi(ofd.port), _gsm(sim, "sim800")
        try:
            _up(wifi)
            _up(gsm)
            m = ChannelManager([wifi, gsm])
            c = cl.OfdClient(Session(ofd.kkm_id, ofd.token), m, [("ofd.sim", 7777)])
            req = codec.encode(S2.Request, {"command": S2.COMMAND_SYSTEM, "service": {}})
            for i in range(n):
                network.AP.up = True
                m.failed.clear()
                ofd.call(ofd.server.add_fault, {"kind": "delay", "seconds": 3, "count": 1})

                async def go():
                    async def drop():
                        await asyncio.sleep(0.3)
                        network.AP.up = False
                        return time.monotonic()

                    d = asyncio.create_task(drop())
                    out = await c.exchange(req, S2.COMMAND_SYSTEM)
                    return out, time.monotonic() - await d

                out, s = asyncio.run(go())
                ofd.call(ofd.server.clear_faults)
                if out.status != "ok" or out.channel != "gsm":
                    raise SystemExit("failover %d: %s %s" % (i, out.status, out.reason))
                times.append(s * 1000)
            time.sleep(3.5)  # the last held answer leaves before the OFD stops
        finally:
            network.AP.up = True
            gsm.modem.uart.close()
            sim.stop()
    print("failover, Wi-Fi dies mid-exchange, the answer over GSM (SIM800, %d ms RTT, bearer up), %d runs: "
          "p50 %d ms, p95 %d ms after the drop" % (rtt, n, _pct(times, 50), _pct(times, 95)))


def bench_replay(n):
    var = tempfile.mkdtemp()
    port = free_port()
    blocks = S.LOG_BLOCKS
    S.LOG_BLOCKS = max(blocks, n // 3)  # 4 KB blocks: room for n receipts and their ACKs
    try:
        wifi = _wifi(port)
        sr = S.SimRegister(var, io.StringIO(), ofd_port=port, channel=ChannelManager([wifi]))
        _up(wifi)
        S.run(sr, ["login 1 1234"])
        sys.path.insert(0, os.path.join(ROOT, "tests", "core"))
        from regkit import sell

        t = time.monotonic()
        for i in range(n):
            sr.reg.settle(sell(sr.reg), None)  # issued offline: queued with its autonomous sign
        issued = time.monotonic() - t
        waiting = sr.acc.unacked_count()
        t = time.monotonic()
        while sr.acc.unacked_count():
            before = sr.acc.unacked_count()
            asyncio.run(sr.sync.replay(500))
            if sr.acc.unacked_count() == before:
                raise SystemExit("replay stuck at %d" % before)
        s = time.monotonic() - t
        sr.close()
    finally:
        S.LOG_BLOCKS = blocks
        shutil.rmtree(var, ignore_errors=True)
    print("replay of %d documents queued offline (issued in %.1f s) over Wi-Fi to the OFD simulator: %.1f s, "
          "%.1f ms per document" % (waiting, issued, s, 1000 * s / waiting))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20)
    ap.add_argument("--rtt", type=int, default=600)
    ap.add_argument("--replay", type=int, default=3000)
    ap.add_argument("--only", default="sign,cpu,failover,replay")
    a = ap.parse_args(argv)
    todo = a.only.split(",")
    if "sign" in todo:
        bench_sign(a.docs, a.rtt)
    if "cpu" in todo:
        bench_cpu(a.docs, a.rtt)
    if "failover" in todo:
        bench_failover(10, a.rtt)
    if "replay" in todo:
        bench_replay(a.replay)


if __name__ == "__main__":
    main()
