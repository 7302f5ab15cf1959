"""`make demo`: a scripted day at the register, through its keys and scanner.

    python tools/demo.py [--sales 200] [--seed 1] [--var var/demo] [--json FILE]

The register app (firmware/app.py on the PC board, boards/host) runs under the
MicroPython unix port as `make sim` runs it (tools/sim.py: a factory-fresh
register provisioned as the service centre does, the OFD simulator and the
GSM modem simulator in the launcher's process), with two channels: Wi-Fi
(the PC's WLAN stand-in, off the air while VAR/wifi.off exists) and GSM (the
SIM800 driver on the modem simulator). The cashier's day, driven by key
presses on the app's terminal and codes in its scanner pipe
(tools/sim_register.py): login, the opening float (the shift opens), the
sales (goods of the National Catalogue scanned, some typed with a quantity,
marked goods with a marking code of that good, KZ-7.1; cash with change,
card, mobile), a return found by the fiscal sign on the paper (R-30), money
in and out (KZ-27), a Wi-Fi outage (traffic goes over GSM, KZ-18), a full
OFD outage (autonomous signs, KZ-29) and the replay of the queue (KZ-30), X
and Z (KZ-31).

The summary: documents and sums, the time to the fiscal sign (from the key
that finishes the document to the screen that says it is done: percentiles
by the way it was signed), the app's peak heap (the live heap after a
collection at every frame shown), the bytes the journal programmed on its
flash; then the checks: the journal verifies (tools/journal_reader.py), the
OFD's database holds exactly the journal's documents (tools/reconcile.py),
the OFD's Z equals the register's, the register's sums are the script's.
Exit status 1 when a check fails.
"""

import argparse
import json
import math
import os
import random
import re
import select
import shutil
import sqlite3
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from tools import journal_reader as JR  # noqa: E402
from tools import reconcile  # noqa: E402
from tools.sim_register import Sim  # noqa: E402  (puts the firmware on the path)

from kkm import money  # noqa: E402
from ui import keys as K  # noqa: E402

# the app's MicroPython heap; on the PC it also holds the flash images (272 KB)
HEAP = "1M"
RTT_MS = 600  # the simulated GSM link's round trip
OPENING_FLOAT = 5000000  # tiyn: the cash put in when the shift opens
WAIT_S = 30  # the longest a step may take (a document over GSM)
PRINTER_FAULT = "Неисправность принтера"
DOC_NO = "Документ №"  # the done screen's line after the change
RETRY_S = 60  # the register's retry interval after a failed exchange (PROTOCOL.md section 13)


def catalogue_goods():
    # the simulator's National Catalogue: pieces sold by barcode, (gtin, price in tiyn, marked)
    with open(os.path.join(ROOT, "tools", "ofdsim", "catalogue.json"), encoding="utf-8") as f:
        els = json.load(f)["elements"]
    return [(e["gtin"], e["price_tiyn"], bool(e.get("is_markedeac"))) for e in els
            if e["type"] == "ITEM" and e.get("gtin") and e.get("measure_unit_code") == "796"]


def mark_code(gtin, serial):
    # a DataMatrix marking code of the good: GTIN-14 (AI 01) and a serial (AI 21)
    return "01" + gtin.rjust(14, "0") + "21" + serial


def percentile(xs, p):
    # nearest rank
    s = sorted(xs)
    return s[max(1, math.ceil(p / 100.0 * len(s))) - 1]


class Cashier(Sim):
    """The app on its terminal, read without delay while a document is awaited."""

    printer_faults = 0

    def wait(self, cond, timeout=WAIT_S):
        # -> the time cond() came true (checked at every piece of output)
        end = time.monotonic() + timeout
        while not cond():
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                self.read(0)
            elif time.monotonic() > end or self.proc.poll() is not None:
                raise AssertionError("timed out; display:\n%s\nterminal:\n%s" % (self.screen(), self.text()[-3000:]))
        return time.monotonic()

    def sees(self, text, timeout=WAIT_S):
        self.wait(lambda: text in self.screen(), timeout)
        return self.frame()

    def finish(self, key, done, whole=DOC_NO):
        # the key that issues a document -> (seconds to the screen saying done,
        # its frame once it shows whole: the app draws a row per loop turn,
        # whole is on its last line). A printer that did not confirm the last job in time is
        # a fault until its next status poll: the document is refused at the
        # key, the cashier waits for the printer and presses it again
        while True:
            self.forget()
            t0 = time.monotonic()
            os.write(self.fd, K.terminal_char(key).encode())
            t1 = self.wait(lambda: done in self.screen() or PRINTER_FAULT in self.screen())
            if done in self.screen():
                self.wait(lambda: whole in self.screen())
                return t1 - t0, self.frame()
            self.printer_faults += 1
            self.press("ESC")
            self.wait(lambda: "Принтер!" not in self.frame()[0] and PRINTER_FAULT not in self.screen())

    def close(self):
        if self.fd is not None:
            Sim.close(self)
            self.fd = None

    def forget(self):
        # drop the output read so far but the last whole frame (a long day
        # would make every look at the screen slower)
        j = self.out.rfind("\x1b8")
        i = self.out.rfind("\x1b7", 0, j)
        if i > 0:
            self.out = self.out[i:]


class Day:
    def __init__(self, var, sales, seed, heap):
        self.var = var
        self.n = sales
        self.rnd = random.Random(seed)
        self.heap = heap
        self.goods = catalogue_goods()
        self.seen = set()  # goods in the register's catalogue cache (sold once)
        self.marks = 0
        self.times = {}  # the way a document was signed -> seconds to the done screen
        self.expect = {"sell": [0, 0], "sell return": [0, 0], "deposit": [0, 0], "withdrawal": [0, 0]}
        self.events = []
        self.issued = 0  # documents of the shift
        self.ofd_back = None  # when the OFD came back
        self.replay_s = None  # from then until the queue was empty
        self.sim = None

    # --- the cashier's steps ----------------------------------------------------------

    def signed(self, seconds, frame, kind, amount):
        # the strip after it: autonomous, or online over the channel named
        way = "autonomous" if frame[0].startswith("Автон") else frame[0].split()[-1]
        self.times.setdefault(way, []).append(seconds)
        self.issued += 1  # the document's number in the shift
        self.expect[kind][0] += 1
        self.expect[kind][1] += amount
        return way

    def login(self):
        s = self.sim
        s.wait(lambda: (s.frame() or [""])[0].startswith("Онлайн [0]"))  # the power-on connection test
        s.press("1", "ENT", "1234", "ENT")
        s.sees("Готов")

    def placement(self, item, title, amount):
        s = self.sim
        s.press("ESC", "MENU")
        s.sees(title)
        s.press(item)
        s.sees("Сумма:")
        s.press(money.fmt(amount, False))
        self.signed(*s.finish("ENT", "Чек выдан"), "deposit" if item == "1" else "withdrawal", amount)
        self.events.append("cash %s %s" % ("in" if item == "1" else "out", money.fmt(amount)))

    def line(self, total, offline):
        # one good into the open receipt -> the receipt's total
        s, rnd = self.sim, self.rnd
        pool = [g for g in self.goods if g[0] in self.seen] if offline else self.goods
        unseen = [g for g in pool if g[0] not in self.seen]
        gtin, price, marked = unseen[0] if unseen else rnd.choice(pool)
        self.seen.add(gtin)
        qty = 1
        if not marked and rnd.random() < 0.2:
            qty = rnd.randint(2, 5)
            s.press(str(qty), "QTY")
            s.sees("%d x >" % qty)
        if marked:
            self.marks += 1
            code = mark_code(gtin, "DEMO%05d" % self.marks)
            if rnd.random() < 0.5:
                s.pipe(code)  # the DataMatrix scanned: the good and its code at once
                s.sees("Цена:")
                s.press(money.fmt(price, False), "ENT")
            else:
                s.pipe(gtin)  # the barcode, then the marking code asked for
                s.sees("Цена:")
                s.press(money.fmt(price, False), "ENT")
                s.sees("Код маркировки: 0/1")
                s.pipe(code)
        else:
            s.pipe(gtin)
            s.sees("Цена:")
            s.press(money.fmt(price, False), "ENT")
        total += price * qty
        s.wait(lambda: any(x.startswith("Итого") and x.endswith(money.fmt(total)) for x in s.frame()))
        return total

    def sale(self, offline=False):
        s, rnd = self.sim, self.rnd
        total = 0
        for _ in range(rnd.choice((1, 1, 2, 2, 3))):
            total = self.line(total, offline)
        s.press("PAY")
        s.sees("К оплате")
        r = rnd.random()
        if r < 0.65:
            tendered = -(-total // 50000) * 50000  # the next 500 tenge
            s.press(money.fmt(tendered, False))
            seconds, frame = s.finish("CASH", "Чек выдан")
            if tendered > total and not any(x.startswith("Сдача") and x.endswith(money.fmt(tendered - total))
                                            for x in frame):
                raise AssertionError("change of %s not shown: %s" % (money.fmt(tendered - total), frame))
        else:
            seconds, frame = s.finish("CARD" if r < 0.9 else "MOBILE", "Чек выдан")
        self.signed(seconds, frame, "sell", total)
        return self.issued, total

    def refund(self, number, total):
        # the return of a sale, found by the fiscal sign on its paper
        s = self.sim
        on_paper = re.compile(r"Чек №:\s+%d\n.*?Фискальный признак:\s+(\d{10})" % number, re.S)
        s.wait(lambda: on_paper.search(s.paper()))
        sign = on_paper.search(s.paper()).group(1)
        s.press("ESC", "RET")
        s.sees("Признак/номер чека:")
        s.press(sign, "ENT")
        s.sees("1/")
        s.press("ENT")
        s.wait(lambda: s.frame()[2].endswith(money.fmt(total)))
        self.signed(*s.finish("PAY", "Возврат выдан"), "sell return", total)
        self.events.append("return of the receipt with fiscal sign %s (%s)" % (sign, money.fmt(total)))

    def boot(self):
        # the register switched on: the app, its OFD and modem simulators
        self.sim = Cashier(self.var, "--wifi", "--modem", "sim800", "--rtt", str(RTT_MS), "--heap", self.heap,
                           "--stats", os.path.join(self.var, "stats.json"))
        self.login()

    def stop(self):
        s = self.sim
        n = len(s.frames())
        s.press("ESC")  # a last frame: the app saves its figures at every frame
        s.wait(lambda: len(s.frames()) > n)
        s.read(0.2)
        s.close()
        # Ctrl-C inside one of the figures' collections leaves the heap locked: the app's way out fails
        if s.proc.returncode != 0 and "heap is locked" not in s.text():
            raise AssertionError("the app stopped with %s:\n%s" % (s.proc.returncode, s.text()[-3000:]))

    def drained(self, timeout):
        # wait for the queue to empty
        s = self.sim
        s.wait(lambda: s.frame()[0].startswith("Онлайн [0]"), timeout)
        if self.ofd_back is not None and self.replay_s is None:
            self.replayed()

    def replayed(self):
        self.replay_s = time.monotonic() - self.ofd_back
        self.events.append("the queue sent %.1f s after the OFD came back" % self.replay_s)

    # --- the day -----------------------------------------------------------------------

    def run(self):
        n = self.n
        wifi_out = range(int(0.3 * n), max(int(0.45 * n), int(0.3 * n) + 2))
        ofd_out = range(int(0.6 * n), max(int(0.72 * n), int(0.6 * n) + 3))
        refund_at, withdraw_at = max(1, n // 10), int(0.5 * n)
        off = os.path.join(self.var, "wifi.off")
        t0 = time.monotonic()
        self.boot()
        s = self.sim
        try:
            self.placement("1", "Внесение", OPENING_FLOAT)
            for i in range(n):
                if i == wifi_out.start:
                    open(off, "w").close()
                    self.events.append("Wi-Fi off the air before sale %d" % (i + 1))
                elif i == wifi_out.stop:
                    os.remove(off)
                    self.events.append("Wi-Fi back before sale %d" % (i + 1))
                if i == ofd_out.start:
                    s.fault("refuse")
                    self.events.append("OFD refuses every connection before sale %d" % (i + 1))
                elif i == ofd_out.stop:
                    s.clear_faults()
                    self.ofd_back = time.monotonic()
                    self.events.append("OFD back before sale %d" % (i + 1))
                if i == withdraw_at:
                    self.placement("2", "Изъятие", 1000000)
                # until the queue is sent the catalogue cannot be asked: goods from its cache
                number, total = self.sale(offline=i in ofd_out or (self.ofd_back is not None and self.replay_s is None))
                if self.ofd_back is not None and self.replay_s is None and s.frame()[0].startswith("Онлайн [0]"):
                    self.replayed()
                if i == refund_at:
                    self.refund(number, total)
            self.drained(2 * RETRY_S)
            s.press("ESC", "X")
            s.sees("X-отчёт")
            s.press("ESC", "Z")
            s.sees("Закрыть смену?")
            self.z_s = s.finish("ENT", "Смена закрыта", "Смена №")[0]
            s.wait(lambda: s.frame()[0].startswith("Онлайн [0]"))
            self.stop()
        finally:
            self.sim.close()
        self.wall_s = time.monotonic() - t0

    # --- what the day left: the journal, the OFD's database, the app's figures ---------

    def results(self):
        v = self.var
        with open(os.path.join(v, "stats.json")) as f:
            stats = json.load(f)
        report = JR.read_journal(JR.read_image(os.path.join(v, "journal.img")),
                                 JR.read_image(os.path.join(v, "fiscal_memory.img")),
                                 JR.read_key(os.path.join(v, "device.key")))
        db = sqlite3.connect(os.path.join(v, "ofd.sqlite"))
        try:
            theirs = reconcile.ofd_documents(db)
            zs = [r[0] for r in db.execute("SELECT zcheck_status FROM z_reports")]
        finally:
            db.close()
        docs = report["documents"]
        mine = reconcile.journal_documents(report)
        kinds = {}
        for d in docs:
            k = kinds.setdefault(d.get("operation"), [0, 0])
            k[0] += 1
            k[1] += d.get("total") or 0
        channels = {}
        for d in docs:
            if d["channel"]:
                channels[d["channel"]] = channels.get(d["channel"], 0) + 1
        checks = [
            ("the journal verifies (CRCs, keyed chain, Z)", report["ok"], "; ".join(report["problems"])),
            ("the OFD's database equals the journal (kind, shift, number, total, signs; order; nothing extra)",
             mine == theirs, "; ".join(reconcile.compare(mine, theirs))),
            ("the OFD's Z equals the register's", zs == ["matches"], "Z: %s" % zs),
            ("every document acknowledged", not report["queue"], "%d waiting" % len(report["queue"])),
            ("the register's documents and sums are the script's",
             all(kinds.get(k) == v for k, v in self.expect.items()), "journal %s, script %s" % (kinds, self.expect)),
            ("traffic went over both channels, some signed autonomously",
             channels.get("wifi", 0) > 0 and channels.get("gsm", 0) > 0 and self.times.get("autonomous"),
             "acknowledged over %s" % channels),
        ]
        return {
            "sales": self.n, "wall_s": round(self.wall_s, 1), "heap": self.heap, "events": self.events,
            "documents": {k or "?": {"count": c, "total": t} for k, (c, t) in sorted(kinds.items(), key=str)},
            "marked_lines": self.marks, "printer_faults": self.sim.printer_faults, "autonomous": sum(1 for d in docs if d["autonomous_sign"]),
            "acknowledged_over": channels, "ofd_documents": len(theirs),
            "sign_s": {w: {"n": len(xs), "p50": percentile(xs, 50), "p90": percentile(xs, 90),
                           "p99": percentile(xs, 99), "max": max(xs)} for w, xs in sorted(self.times.items())},
            "replay_s": round(self.replay_s, 1), "z_s": round(self.z_s, 3),
            "heap_peak": stats["heap_peak"], "heap_flash_images": stats["flash_images"], "frames": stats["frames"],
            "journal_programmed": stats["log_programmed"], "journal_erased_blocks": stats["log_erased"],
            "fm_programmed": stats["fm_programmed"], "journal_documents": len(docs),
            "checks": [{"check": c, "ok": bool(ok), "detail": "" if ok else detail} for c, ok, detail in checks],
            "ok": all(ok for _, ok, _ in checks),
        }


def summary(r):
    out = ["A day at the register: %d sales under the MicroPython unix port (heap %s), %.0f s" % (
        r["sales"], r["heap"], r["wall_s"])]
    out += ["  " + e for e in r["events"]]
    out.append("documents in the journal: %d, at the OFD: %d" % (r["journal_documents"], r["ofd_documents"]))
    for k, d in r["documents"].items():
        out.append("  %-12s %4d  %14s" % (k, d["count"], money.fmt(d["total"]) if k != "z report" else ""))
    out.append("  marked lines %d, signed autonomously %d, acknowledged over %s" % (
        r["marked_lines"], r["autonomous"], ", ".join("%s %d" % kv for kv in sorted(r["acknowledged_over"].items()))))
    if r["printer_faults"]:
        out.append("  the printer confirmed a job late %d times: the next document refused at the key, pressed "
                   "again" % r["printer_faults"])
    out.append("time to the fiscal sign (key to the done screen), ms:")
    for w, t in r["sign_s"].items():
        out.append("  %-10s n=%-4d p50 %5.0f  p90 %5.0f  p99 %5.0f  max %5.0f" % (
            w, t["n"], t["p50"] * 1000, t["p90"] * 1000, t["p99"] * 1000, t["max"] * 1000))
    out.append("  the queue empty %.1f s after the OFD came back; the Z %.0f ms" % (r["replay_s"], r["z_s"] * 1000))
    out.append("peak heap (live, after a collection at each of %d frames): %.1f KB, %.1f KB without the "
               "flash images the PC board keeps in it" % (r["frames"], r["heap_peak"] / 1024.0,
                                                          (r["heap_peak"] - r["heap_flash_images"]) / 1024.0))
    out.append("flash: the journal programmed %d bytes (%d per document), erased %d blocks; fiscal memory %d bytes" % (
        r["journal_programmed"], r["journal_programmed"] // max(1, r["journal_documents"]),
        r["journal_erased_blocks"], r["fm_programmed"]))
    for c in r["checks"]:
        out.append("%s: %s%s" % ("ok" if c["ok"] else "FAILED", c["check"], (" - " + c["detail"]) if c["detail"] else ""))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sales", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--var", default=os.path.join(ROOT, "var", "demo"), help="state directory (emptied first)")
    ap.add_argument("--heap", default=HEAP, help="the app's MicroPython heap")
    ap.add_argument("--json", help="write the summary as JSON to this file")
    a = ap.parse_args(argv)
    if a.sales < 12:
        ap.error("--sales: at least 12 (each event needs its sales)")
    var = os.path.abspath(a.var)
    shutil.rmtree(var, ignore_errors=True)
    os.makedirs(var)
    day = Day(var, a.sales, a.seed, a.heap)
    day.run()
    r = day.results()
    print(summary(r))
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(r, f, ensure_ascii=False, indent=1)
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
