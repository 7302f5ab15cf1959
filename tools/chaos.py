"""Chaos run: the register with Wi-Fi and GSM against the simulated OFD.

The register (tools/regshell.py's SimRegister, the firmware's core on the
PC) talks to the OFD simulator through the channel manager (net.manager)
over two channels: Wi-Fi (net.wifi on the PC's network.WLAN stand-in,
TCP on loopback) and GSM (net.gsm over the SIM800 driver, drivers/simcom.py,
on the modem simulator's pseudo-terminal, tools/modemsim.py, which forwards
TCP to the OFD). The clock is injected: days pass in minutes. A seeded
random schedule brings sales and cash deposits in shop hours, a Z at the end
of each day, and outages of Wi-Fi, of the GSM network and of the OFD, lost
answers (garbage), late answers (past the 5 s budget), 254/255, server
restarts and register power cuts between an answer and its journalling
(tools/lost_answers.py). On day 2 the cashier forgets the Z: the 24 h lock
must fire exactly when due. After the days, both channels go down for 73
hours with sales in the first hour: the 72 h lock must fire exactly when due.
Then everything comes back, the queue drains, and the OFD's database must
hold exactly the register's documents: none missing, none twice, in
journal order, the same kind, number, total and signs (tools/reconcile.py),
and every Z equal to the register's.

    python tools/chaos.py [--seed 1] [--hours 72] [--var /tmp/chaos]

Exit status 1 when any check fails; the summary is printed.
"""

import argparse
import asyncio
import io
import os
import random
import shutil
import socket
import sqlite3
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from tools import journal_reader as JR  # noqa: E402
from tools import lost_answers as LA  # noqa: E402
from tools import reconcile  # noqa: E402
from tools import regshell as S  # noqa: E402  (puts the firmware on the path)
from tools.localport import free_port  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "boards", "host", "hw"))
import network  # noqa: E402  (the PC's WLAN stand-in)
from uart import UART  # noqa: E402

from drivers.simcom import Sim800  # noqa: E402
from kkm import locks as L  # noqa: E402
from kkm.clock import ManualClock  # noqa: E402
from net.gsm import GsmChannel  # noqa: E402
from net.manager import ChannelManager  # noqa: E402
from net.tcp import TcpChannel  # noqa: E402
from net.wifi import WifiChannel  # noqa: E402
from tools.modemsim import ModemSim  # noqa: E402

T0 = 1767250800  # 2026-01-01 07:00 UTC: 12:00 in Almaty, the shop's day begins
DAY = 86400
OPEN_H = 12  # shop hours from the start of each day; then the Z
STEP = (300, 1500)  # seconds between events
# per document: what goes wrong with its exchange
DOC_FAULTS = (("none", 70), ("garbage", 8), ("late", 2), ("result", 6), ("refuse", 6), ("cut", 3), ("restart", 5))


class Rig:
    """The register, its two channels, the modem simulator and the OFD."""

    def __init__(self, seed, var):
        self.rnd = random.Random(seed)
        self.var = var
        shutil.rmtree(var, ignore_errors=True)
        self.port = free_port()
        self.clock = ManualClock(T0)
        self.out = io.StringIO()
        self.modem = ModemSim("sim800", lambda h, p: ("127.0.0.1", self.port), seed=seed).start()
        self.counts = dict.fromkeys(("wifi_out", "gsm_out", "ofd_out", "restart", "cut", "garbage", "late",
                                     "result", "refuse", "docs", "z", "locks_24h", "locks_72h"), 0)
        self.carried = {}
        self.uart = None
        self.sr = None
        self.boot()

    def ticks(self):
        # the channels' upkeep runs on the register's clock (backoffs, probes)
        return (self.clock.now() - T0) * 1000

    def boot(self):
        if self.uart is not None:
            self.uart.close()
        self.uart = UART(self.modem.path)
        modem = Sim800(self.uart, apn="internet", ticks_ms=self.ticks)
        modem.reg_ms = 0  # one look at the registration: no real-time wait
        modem.BOOT_MS = 200  # the simulated modem restarts at once
        wifi = WifiChannel(network.WLAN(network.WLAN.IF_STA), network.AP.ssid, network.AP.key,
                           TcpChannel(resolver=self._resolve), self.ticks)
        self.channels = ChannelManager([wifi, GsmChannel(modem, self.ticks)], self.ticks)
        self.sr = S.SimRegister(self.var, self.out, clock=self.clock, ofd_port=self.port, channel=self.channels)
        S.run(self.sr, ["login 1 1234"])
        self.tend()

    def _resolve(self, host, port):
        return [(socket.AF_INET, socket.SOCK_STREAM, 0, "", ("127.0.0.1", self.port))]

    def tend(self):
        async def go():
            for c in self.channels.channels:
                await c.tend()

        asyncio.run(go())

    def run(self, *cmds):
        return S.run(self.sr, list(cmds))

    def power_cut(self, doc):
        # the power fails between the OFD's answer and its journalling; the
        # modem on the same supply restarts too
        LA.cut_at_ack(self.sr, doc)
        self.sr.close()  # also stops the OFD: it comes back with the register
        self.modem.reboot()
        self.boot()

    def restart_ofd(self):
        from tools.ofdsim.server import ServerThread

        sim = self.sr.sim
        sim.stop()
        self.sr.sim = ServerThread(sim.server.db_path, port=self.port, http_port=0).start()

    # --- time and the locks -------------------------------------------------------

    def advance(self, seconds):
        # the clock moves on; every 24 h / 72 h boundary on the way is checked
        # to the second: not locked at the boundary, locked one second after
        end = self.clock.now() + seconds
        while True:
            due = [t for t in self._dues() if self.clock.now() < t < end]
            if not due:
                break
            t = min(due)
            self.clock.set(t)
            self.check_locks()
            self.clock.set(t + 1)
            self.check_locks()
        self.clock.set(end)
        self.tend()
        self.sr.tick()
        for _ in range(S.SKIP_TICKS):
            if self.sr.tick() is None:
                break
        self.check_locks()

    def _dues(self):
        reg = self.sr.reg
        out = []
        if reg.shift_start is not None:
            out.append(reg.shift_start + L.SECONDS_24H)
        oldest = self.oldest()
        if oldest is not None:
            out.append(oldest + L.SECONDS_72H)
        return out

    def oldest(self):
        # the issue time of the oldest document the OFD has not acknowledged
        acc = self.sr.acc
        q = acc.unacked(1)
        return acc.read(q[0])[1] if q else None

    def check_locks(self):
        reg = self.sr.reg
        now = self.clock.now()
        locks = reg.active_locks()
        want24 = reg.shift_start is not None and now - reg.shift_start > L.SECONDS_24H
        oldest = self.oldest()
        want72 = oldest is not None and now - oldest > L.SECONDS_72H
        if (L.SHIFT_24H in locks) != want24 or (L.OFFLINE_72H in locks) != want72:
            raise AssertionError("locks %s at %+d s: 24 h due %s, 72 h due %s" % (
                locks, now - T0, want24, want72))
        self.counts["locks_24h"] += want24 and not self._was24
        self.counts["locks_72h"] += want72 and not self._was72
        self._was24, self._was72 = want24, want72

    _was24 = _was72 = False


def _doc(rig, i):
    if rig.rnd.random() < 0.85:
        price = 100 + rig.rnd.randrange(5000)
        return ["sale Нан_%d %d %d" % (i, price, 1 + rig.rnd.randrange(3)), "pay cash %d" % (price * 4)]
    return ["deposit %d" % (100 + rig.rnd.randrange(900))]


def _pick(rnd, table):
    n = rnd.randrange(sum(w for _, w in table))
    for k, w in table:
        if n < w:
            return k
        n -= w
    return table[-1][0]


def _sell(rig, i):
    fault = _pick(rig.rnd, DOC_FAULTS)
    doc = _doc(rig, i)
    rig.counts["docs"] += 1
    if fault == "cut":
        rig.counts["cut"] += 1
        rig.power_cut(doc)
        return
    if fault == "restart":
        rig.counts["restart"] += 1
        rig.restart_ofd()
    elif fault != "none":
        rig.counts[fault] += 1
        spec = {"garbage": ["garbage", "bytes=64", "count=1"], "late": ["delay", "seconds=6", "count=1"],
                "result": ["result", "code=%d" % rig.rnd.choice((254, 255)), "count=%d" % rig.rnd.randint(1, 3)],
                "refuse": ["refuse", "count=%d" % rig.rnd.randint(1, 4)]}[fault]
        rig.run("fault " + " ".join(spec))
    rig.run(*doc)
    if fault not in ("none", "restart"):
        rig.run("fault clear")


class Outages:
    """Random outages of Wi-Fi, the GSM network and the OFD, by the clock."""

    def __init__(self, rig):
        self.rig = rig
        self.until = {"wifi": None, "gsm": None, "ofd": None}

    def step(self):
        rig, now = self.rig, self.rig.clock.now()
        for what, p, longest in (("wifi", 0.06, 4 * 3600), ("gsm", 0.04, 3 * 3600), ("ofd", 0.02, 2 * 3600)):
            u = self.until[what]
            if u is not None and now >= u:
                self.set(what, True)
            elif u is None and rig.rnd.random() < p:
                rig.counts[what + "_out"] += 1
                self.until[what] = now + rig.rnd.randint(600, longest)
                self.set(what, False, keep=True)

    def set(self, what, up, keep=False):
        rig = self.rig
        if not keep:
            self.until[what] = None
        if what == "wifi":
            network.AP.up = up
        elif what == "gsm":
            if up:
                rig.modem.find_network()
            else:
                rig.modem.lose_network()
        elif up:
            rig.sr.sim.call(rig.sr.sim.server.clear_faults)
        else:
            rig.run("fault refuse")

    def all_up(self):
        for what in self.until:
            self.set(what, True)


def campaign(seed, hours, var):
    t_start = time.monotonic()
    rig = Rig(seed, var)
    out = Outages(rig)
    problems = []
    i = 0
    day_z = set()
    try:
        while rig.clock.now() < T0 + hours * 3600:
            rig.advance(rig.rnd.randint(*STEP))
            out.step()
            t = rig.clock.now() - T0
            day, h = t // DAY, t % DAY // 3600
            if h < OPEN_H:
                if rig.sr.reg.shift_start is not None and rig.clock.now() - rig.sr.reg.shift_start > L.SECONDS_24H:
                    rig.run("z")  # the forgotten Z, once the lock said so
                    rig.counts["z"] += 1
                elif L.OFFLINE_72H not in rig.sr.reg.active_locks():
                    i += 1
                    _sell(rig, i)
            elif day not in day_z and day != 1:
                day_z.add(day)  # day 2 (index 1): the cashier forgets the Z
                rig.run("z")
                rig.counts["z"] += 1
        # the long outage: no channel for 73 hours, sales in its first hour
        network.AP.up = False
        rig.modem.lose_network()
        rig.advance(60)
        for _ in range(3):
            i += 1
            rig.run(*_doc(rig, i))
            rig.counts["docs"] += 1
            rig.advance(900)
        rig.advance(73 * 3600)
        locked = L.OFFLINE_72H in rig.sr.reg.active_locks()
        if not locked:
            problems.append("the 72 h lock did not fire")
        # everything back: the queue drains, the shift closes
        out.all_up()
        for _ in range(60):
            rig.advance(300)
            if not rig.sr.acc.unacked_count():
                break
        rig.run("z")
        rig.counts["z"] += 1
        rig.advance(300)
        db = sqlite3.connect(os.path.join(var, "ofd.sqlite"))
        theirs = reconcile.ofd_documents(db)
        zs = [r[0] for r in db.execute("SELECT zcheck_status FROM z_reports ORDER BY shift_number")]
        db.close()
        waiting = rig.sr.acc.unacked_count()
        locks = rig.sr.reg.active_locks()
    finally:
        rig.sr.close()
        rig.modem.stop()
        network.AP.up = True
    # the journal as the reader finds it in the register's flash files
    report = JR.read_journal(JR.read_image(os.path.join(var, "journal.img")),
                             JR.read_image(os.path.join(var, "fiscal_memory.img")),
                             JR.read_key(os.path.join(var, "device.key")))
    mine = reconcile.journal_documents(report)
    for d in report["documents"]:
        if d["acknowledged"]:
            rig.carried[d["channel"]] = rig.carried.get(d["channel"], 0) + 1
    problems.extend(reconcile.compare(mine, theirs))
    if not report["ok"]:
        problems.append("the journal does not verify: %s" % "; ".join(report["problems"]))
    bad = [z for z in zs if z != "matches"]
    if bad:
        problems.append("%d Z differ from the register's" % len(bad))
    if waiting:
        problems.append("%d documents still wait" % waiting)
    if L.OFFLINE_72H in locks or L.SHIFT_24H in locks:
        problems.append("a lock stayed: %s" % locks)
    if not rig.counts["locks_24h"]:
        problems.append("the 24 h lock never came due")
    c = rig.counts
    print("seed %d, %d h + the 73 h outage (%.0f s): %d documents (%d receipts, %d placements), %d Z; "
          "OFD holds %d, all in journal order: %s; Z equal: %d/%d; waiting %d" % (
              seed, hours, time.monotonic() - t_start, len(mine), sum(1 for d in mine if d[0] in JR.OPS.values()),
              sum(1 for d in mine if d[0] in JR.PLACEMENTS.values()), len(zs), len(theirs),
              "yes" if mine == theirs else "NO",
              len(zs) - len(bad), len(zs), waiting))
    print("  outages: Wi-Fi %d, GSM %d, OFD %d; answers lost %d, late %d, 254/255 %d, refused %d; "
          "OFD restarts %d, register power cuts %d" % (c["wifi_out"], c["gsm_out"], c["ofd_out"], c["garbage"],
                                                          c["late"], c["result"], c["refuse"], c["restart"], c["cut"]))
    print("  acknowledged over: %s; 24 h locks %d, 72 h locks %d, each checked to the second" % (
        ", ".join("%s %d" % (k or "(none)", v) for k, v in sorted(rig.carried.items(), key=str)), c["locks_24h"],
        c["locks_72h"]))
    for p in problems:
        print("  FAILED: " + p)
    return not problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, nargs="+", default=[1])
    ap.add_argument("--hours", type=int, default=72, help="hours of random chaos before the long outage")
    ap.add_argument("--var", default="/tmp/chaos")
    a = ap.parse_args(argv)
    ok = True
    for s in a.seed:
        ok = campaign(s, a.hours, os.path.join(a.var, str(s))) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
