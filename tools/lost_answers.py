"""Lost answers against the simulated OFD: the register and the OFD agree.

The simulated register (tools/regshell.py) issues receipts and deposits
while answers are lost: garbage for the whole budget (the OFD stored the
document, the register issues it autonomous), a refused connection (nothing
stored) or a power cut between the answer and its acknowledgement (then a
restart). The queue drains now and then, shifts close now and then. At the
end every Z the OFD formed must match the register's (KZ-31.5) and every
printed QR code, receipt or copy, must open its receipt on the check page
(KZ-29.3, KZ-34(1), R-82); docs/protocol.md, "A lost answer".

    python tools/lost_answers.py [--seeds 1 2 3] [--docs 30] [--var /tmp/lost]

Exit status 1 when a Z differs, a QR code is not found or a document waits.
"""

import argparse
import io
import os
import random
import re
import shutil
import sqlite3
import sys
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from tools import regshell as S  # noqa: E402  (puts the firmware on the path)
from boards.sim.nor_flash import PowerCut  # noqa: E402
from kkm import layout  # noqa: E402

FAULTS = ("none", "none", "garbage", "refuse", "cut")


def _qr(lines):
    q = [t for st, t in lines if st & layout.QR]
    return q[0] if q else None


def cut_at_ack(sr, doc):
    """Run the commands doc with the power failing when the OFD's answer is
    to be journalled (the register is dead after it: restart it)."""
    def cut(seq, payload, ts):
        raise PowerCut("off")

    sr.reg.acc.ack = cut
    try:
        S.run(sr, doc)
    except PowerCut:
        pass


def campaign(seed, docs, var):
    rnd = random.Random(seed)
    shutil.rmtree(var, ignore_errors=True)
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    qrs = []
    seen = dict.fromkeys(FAULTS, 0)
    try:
        S.run(sr, ["login 1 1234"])
        for i in range(docs):
            fault = rnd.choice(FAULTS)
            seen[fault] += 1
            if rnd.random() < 0.8:
                doc = ["sale Нан %d 1" % (100 + i), "pay cash %d" % (100 + i)]
            else:
                doc = ["deposit %d" % (50 + i)]
            if fault in ("garbage", "refuse"):
                S.run(sr, ["fault garbage bytes=64" if fault == "garbage" else "fault refuse"])
            if fault == "cut":
                cut_at_ack(sr, doc)
                sr.close()
                sr = S.SimRegister(var, out)
                S.run(sr, ["login 1 1234"])
                qrs.append(_qr(sr.reg.copy_last().lines))
            else:
                S.run(sr, doc)
                qrs.append(_qr(sr.printer.pages[-1]))
            S.run(sr, ["fault clear"])
            if rnd.random() < 0.5:
                S.run(sr, ["skip 60"])
            if rnd.random() < 0.1:
                S.run(sr, ["skip 60", "z"])
        S.run(sr, ["fault clear", "skip 60", "skip 60", "z"])
        db = sqlite3.connect(os.path.join(var, "ofd.sqlite"))
        zs = [r[0] for r in db.execute("SELECT zcheck_status FROM z_reports ORDER BY shift_number")]
        marks = db.execute("SELECT COUNT(*) FROM offline_marks").fetchone()[0]
        lost = 0
        qrs = [q for q in qrs if q]
        for q in qrs:
            # the check page of this run (its web port changes with a restart)
            q = re.sub(r"^http://127\.0\.0\.1:\d+/check", sr.check_url, q)
            try:
                urllib.request.urlopen(q, timeout=10).read()
            except urllib.error.HTTPError:
                lost += 1
        waiting = len(sr.acc.unacked())
    finally:
        sr.close()
    differ = sum(1 for z in zs if z != "matches")
    print("seed %d: %d documents (%s); %d Z, %d differ; %d QR codes, %d not found; %d resends said "
          "autonomous; %d waiting" % (seed, docs, ", ".join("%s %d" % kv for kv in seen.items() if kv[0] != "none"),
                                      len(zs), differ, len(qrs), lost, marks, waiting))
    return differ == 0 and lost == 0 and waiting == 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--docs", type=int, default=30)
    ap.add_argument("--var", default="/tmp/lost-answers")
    a = ap.parse_args(argv)
    ok = True
    for s in a.seeds:
        ok = campaign(s, a.docs, os.path.join(a.var, str(s))) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
