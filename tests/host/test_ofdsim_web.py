"""Simulated OFD as a developer runs it: a separate process started from the
command line, data kept over a restart, and the receipt check page (R-82,
KZ-33, KZ-35) checked in a real headless Chromium."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tools.ofdsim import browser, build
from tools.ofdsim.testkit import RNM, Session

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
needs_chromium = pytest.mark.skipif(browser.chromium() is None,
                                    reason="chromium not installed (make setup runs tools/setup_system.sh)")
LINES = [("Ақ нан / Хлеб белый", 2000, 18000, "1"), ("Қымыз / Кумыс", 1500, 180000, "2")]


class Proc:
    def __init__(self, db, config=None):
        args = [sys.executable, "-m", "tools.ofdsim", "--db", db, "--port", "0", "--http", "0"]
        if config:
            args += ["--config", config]
        self.p = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            m = re.search(r"protocol \S+:(\d+)\s+web http://\S+:(\d+)/", line)
            if m:
                self.port, self.http_port = int(m.group(1)), int(m.group(2))
                return
            if not line and self.p.poll() is not None:
                break
        raise RuntimeError("simulator did not start: " + self.p.stderr.read())

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        assert self.p.wait(20) == 0


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    d = tmp_path_factory.mktemp("ofd")
    db = str(d / "ofd.sqlite")
    cfg = d / "registers.json"
    cfg.write_text(json.dumps({"registers": [{
        "kkm_id": 203539, "rnm": RNM, "serial": "SN203539", "title": "ЖШС «Алма-Сауда»",
        "bin": "123456789012", "address": "Алматы қ., Абай даңғылы, 10", "token": 1000}]}, ensure_ascii=False),
        encoding="utf-8")
    # registration from the command line, before the server runs
    p = subprocess.run([sys.executable, "-m", "tools.ofdsim", "register", "--db", db, "--kkm-id", "42",
                        "--rnm", "010100042042", "--serial", "SN42", "--title", "ЖК «Әлем»", "--bin",
                        "900101300123", "--address", "Астана", "--token", "4242"],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    proc = Proc(db, str(cfg))
    ses = Session("127.0.0.1", proc.port, 203539, 1000)
    qrs = []
    for i in range(3):
        _, r = ses.send(build.ticket((2026, 3, 2, 9, 10 + i, 5), LINES))
        assert r.result.result_code == 0
        qrs.append(r.ticket.qr_code.decode())
    _, r = ses.send(build.ticket((2026, 3, 2, 9, 30, 0), LINES, offline_number=777,
                                 offline_period=((2026, 3, 2, 9, 20, 0), (2026, 3, 2, 9, 40, 0))))
    assert r.result.result_code == 0
    # restart: the same database, a new process
    proc.stop()
    proc = Proc(db)
    yield proc, ses, qrs
    proc.stop()


def test_restart_keeps_registers_documents_and_token(running):
    proc, ses, qrs = running
    ses.port = proc.port
    _, r = ses.send(build.info())                         # the rotated token still valid after restart
    assert r.result.result_code == 0 and r.report.report == 1
    sell = {t.operation: t for t in r.report.zx_report.ticket_operations}[2]
    assert (sell.tickets_count, sell.offline_count) == (4, 1)
    _, r = Session("127.0.0.1", proc.port, 42, 4242).send(build.system(get_reg_info=True))
    assert r.service.reg_info.org.title == "ЖК «Әлем»"


def _url(proc, qr):
    # the QR points at the first process's port; the page is the same on the new one
    return "http://127.0.0.1:%d%s" % (proc.http_port, qr[qr.index("/check?"):])


def test_check_page_http_status(running):
    proc, _, qrs = running
    with urllib.request.urlopen(_url(proc, qrs[0]), timeout=10) as r:
        assert r.status == 200 and "Чек табылды" in r.read().decode()
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(_url(proc, qrs[0]).replace("i=", "i=9"), timeout=10)
    assert e.value.code == 404


@needs_chromium
def test_r82_check_page_found_in_chromium(running, tmp_path):
    proc, _, qrs = running
    dom = browser.dump_dom(_url(proc, qrs[1]))
    assert 'data-status="found"' in dom
    assert "Фискалдық чек" in dom and "Фискальный чек" in dom
    assert "Ақ нан / Хлеб белый" in dom and "Қымыз / Кумыс" in dom
    sign = re.search(r"i=(\d+)", qrs[1]).group(1)
    assert '<td id="sign">%s</td>' % sign in dom
    assert '<td class="num" id="total">3060.00</td>' in dom
    assert "<svg" in dom                                   # the QR code itself
    png = browser.screenshot(_url(proc, qrs[1]), str(tmp_path / "check.png"), 900, 1100)
    with open(png, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(head[16:20], "big") == 900


@needs_chromium
def test_r82_autonomous_code_is_checkable(running):
    proc, _, _ = running
    url = "http://127.0.0.1:%d/check?i=777&f=%s&s=3060.00&t=20260302T093000" % (proc.http_port, RNM)
    dom = browser.dump_dom(url)
    assert 'data-status="found"' in dom and 'id="offline"' in dom and "Автономды" in dom


@needs_chromium
def test_r82_check_page_not_found_and_mismatch_in_chromium(running):
    proc, _, qrs = running
    url = _url(proc, qrs[0])
    dom = browser.dump_dom(url.replace("f=" + RNM, "f=999999999999"))
    assert 'data-status="not-found"' in dom and "Чек табылмады" in dom and "Чек не найден" in dom
    dom = browser.dump_dom(url.replace("s=3060.00", "s=3060.01"))
    assert 'data-status="mismatch"' in dom and "Данные чека не совпадают" in dom
    assert 'data-field="s"' in dom and 'data-field="t"' not in dom
    dom = browser.dump_dom(re.sub(r"t=\d{8}T\d{6}", "t=20260302T101010", url))
    assert 'data-status="mismatch"' in dom and 'data-field="t"' in dom


@needs_chromium
def test_register_list_and_documents_in_chromium(running):
    proc, _, qrs = running
    dom = browser.dump_dom("http://127.0.0.1:%d/" % proc.http_port)
    assert 'data-kkm="203539"' in dom and 'data-kkm="42"' in dom and "ЖК «Әлем»" in dom
    dom = browser.dump_dom("http://127.0.0.1:%d/registers/203539" % proc.http_port)
    sign = re.search(r"i=(\d+)", qrs[2]).group(1)
    assert dom.count('class="sign"') == 4 and sign in dom
