# Texts from the OFD end to end (KZ-17; PROTOCOL.md section 9 ticket_ads,
# section 13 server block): the simulated OFD (tools/ofdsim, started
# in-process by the simulated register) gets a message through its admin
# API or its CLI; the real register core with ofd.port and ofd.client over
# TCP receives it with its next exchange, prints it on a non-fiscal slip
# after the receipt, lists it for the display and reports its version in
# the next requests so the OFD does not send it again.
import io
import json
import os
import sqlite3
import subprocess
import sys
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tools import regshell as S  # noqa: E402

from kkm import locks as L  # noqa: E402
from ofd import texts as OT  # noqa: E402
from ofd import codec  # noqa: E402
from ofd import schema as PS  # noqa: E402

MESSAGE = ("Құрметті салық төлеуші! 910.00 нысанындағы декларацияны 15 ақпанға дейін тапсырыңыз. / "
           "Уважаемый налогоплательщик! Сдайте декларацию по форме 910.00 до 15 февраля.")


def _post(sr, path, body):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (sr.sim.http_port, path),
                                 data=json.dumps(body).encode("utf-8"),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read().decode("utf-8"))


def _cli(sr, *args):
    p = subprocess.run([sys.executable, "-m", "tools.ofdsim"] + list(args[:1]) +
                       ["--admin", "http://127.0.0.1:%d" % sr.sim.http_port] + list(args[1:]),
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def _words(page):
    return " ".join(t for st, t in page).split()


def _is_slip(page):
    texts = [t.strip() for st, t in page]
    return "СООБЩЕНИЕ ОФД" in texts or "ИНФОРМАЦИОННОЕ СООБЩЕНИЕ" in texts


def _reported(var, kkm_id):
    # service.ticket_ad_infos of the last request the OFD stored
    db = sqlite3.connect(os.path.join(var, "ofd.sqlite"))
    row = db.execute("SELECT request FROM exchanges WHERE kkm_id=? ORDER BY id DESC LIMIT 1", (kkm_id,)).fetchone()
    req = codec.decode(PS.Request, row[0])
    return {a["type"]: a["version"] for a in req.get("service", {}).get("ticket_ad_infos", [])}


def test_kz_17_admin_message_printed_after_the_next_receipt(tmp_path):
    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out, print_file=str(tmp_path / "paper.txt"))
    try:
        assert S.run(sr, ["login 1 1234", "sale Нан 250 1", "pay cash 250"]) == 0, out.getvalue()
        assert _reported(var, sr.kkm_id) == {}
        st, ans = _post(sr, "/admin/registers/%d/messages" % sr.kkm_id, {"type": "INFO", "text": MESSAGE})
        assert st == 201
        version = ans["version"]
        # the simulator sends texts with the answers to COMMAND_SYSTEM (and
        # INFO): the scheduler's probe brings it while the paper is out, so
        # it is shown at once and printed after the next receipt
        sr.printer.state = "no_paper"
        assert S.run(sr, ["probe"]) == 0, out.getvalue()
        assert sr.reg.ofd_texts.pending(OT.SHOW) == [(OT.INFO, version, MESSAGE)]
        sr.printer.state = "ok"
        n = len(sr.printer.pages)
        assert S.run(sr, ["sale Сүт 540 1", "pay cash 540"]) == 0, out.getvalue()
        pages = sr.printer.pages[n:]
        # the receipt (online, unchanged), then the slip with the whole text
        assert len(pages) == 2 and not _is_slip(pages[0]) and _is_slip(pages[1])
        assert "Сдайте" not in _words(pages[0])
        assert " ".join(MESSAGE.split()) in " ".join(_words(pages[1]))
        assert "НЕФИСКАЛЬНЫЙ ДОКУМЕНТ" in [t.strip() for st, t in pages[1]]
        for st, t in pages[1]:
            assert len(t) <= 48
        assert "Сдайте декларацию" in (tmp_path / "paper.txt").read_text(encoding="utf-8").replace("|\n|", " ")
        assert sr.reg.ofd_texts.pending(OT.SHOW) == [(OT.INFO, version, MESSAGE)]
        # the next request reports the version: the OFD sends nothing again
        n = len(sr.printer.pages)
        assert S.run(sr, ["sale Нан 250 1", "pay cash 250"]) == 0, out.getvalue()
        assert _reported(var, sr.kkm_id) == {OT.INFO: version}
        assert len(sr.printer.pages) == n + 1 and not _is_slip(sr.printer.pages[-1])
        assert sr.reg.ofd_texts.done(OT.INFO, version, OT.SHOW)
        assert sr.reg.ofd_texts.pending(OT.SHOW) == []
        # the CLI, a text of the OFD for every register: printed right after a probe
        assert '"version"' in _cli(sr, "message", "--type", "OFD", "ОФД: жаңа мекенжай / новый адрес")
        n = len(sr.printer.pages)
        assert S.run(sr, ["probe"]) == 0, out.getvalue()
        assert len(sr.printer.pages) == n + 1 and _is_slip(sr.printer.pages[-1])
        assert "адрес" in _words(sr.printer.pages[-1])
        assert S.run(sr, ["probe"]) == 0 and len(sr.printer.pages) == n + 1
        assert set(_reported(var, sr.kkm_id)) == {PS.TICKET_AD_OFD, OT.INFO}
    finally:
        sr.close()
    # after a reboot nothing is kept: the OFD sends the texts again once
    out2 = io.StringIO()
    sr = S.SimRegister(var, out2)
    try:
        assert sr.reg.ofd_texts is None
        assert S.run(sr, ["probe"]) == 0, out2.getvalue()
        assert len(sr.printer.pages) == 1 and _is_slip(sr.printer.pages[0])
        assert [k for k, v, t in sr.reg.ofd_texts.pending(OT.SHOW)] == [PS.TICKET_AD_OFD, OT.INFO]
    finally:
        sr.close()


def test_kz_16_server_block_shows_its_reason_with_the_lock(tmp_path):
    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out)
    try:
        assert S.run(sr, ["login 1 1234"]) == 0
        reason = "ОФД-ға хабарласыңыз / Обратитесь в ОФД"
        _cli(sr, "block", "--kkm-id", str(sr.kkm_id), "--reason", reason)
        assert S.run(sr, ["probe"]) == 0, out.getvalue()
        assert L.OFD_SUSPEND in sr.reg.active_locks()
        msg = sr.reg.lock_message(L.OFD_SUSPEND, "ru")
        assert msg == L.message(L.OFD_SUSPEND, "ru") + "\n" + reason
        assert sr.reg.ofd_texts.infos() == [{"type": OT.INFO, "version": 0}]
        assert _is_slip(sr.printer.pages[-1]) and "Обратитесь" in _words(sr.printer.pages[-1])
        n = len(sr.printer.pages)
        assert S.run(sr, ["probe"]) == 0
        assert len(sr.printer.pages) == n  # the same reason is not printed again
        _cli(sr, "unblock", "--kkm-id", str(sr.kkm_id))
        assert S.run(sr, ["probe"]) == 0, out.getvalue()
        assert L.OFD_SUSPEND not in sr.reg.active_locks()
        assert S.run(sr, ["sale Нан 250 1", "pay cash 250"]) == 0, out.getvalue()
        assert not sr.reg.last.offline and sr.acc.unacked() == []
    finally:
        sr.close()
