"""Printed paper from the ESC/POS interpreter (tools/escpos_interp.py): the
QR code decoded from the PNG with zxing-cpp equals the KZ-35 string (online
and offline receipts), every Kazakh letter prints as the font draws it with
each strategy (KZ-32), the status answers, paper end in the middle of a
receipt (KZ-6), and commands the printer does not know are reported."""

import asyncio
import os
import sys

import zxingcpp

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import escpos_interp as I  # noqa: E402
import gen_printer_font  # noqa: E402
import printer_font as F  # noqa: E402
import receipts  # noqa: E402
from drivers import escpos as E  # noqa: E402
from kkm import locks as L  # noqa: E402

KZ = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"


def _qr(sheet):
    found = zxingcpp.read_barcodes(sheet.image())
    assert len(found) == 1, found
    q = found[0]
    assert q.format == zxingcpp.BarcodeFormat.QRCode
    return q


def test_kz_33_kz_35_qr_of_an_online_receipt_decodes_to_the_exact_string():
    for profile in ("epson80", "xprinter58", "panel58"):  # GS ( k, and drawn by the driver (raster)
        b, (res,) = receipts.documents(profile)
        want = receipts.expected_qr(b.reg, res)
        assert want.startswith("https://check.example.kz?i=%s&f=010101234567&s=26625.25&t=" % res.fiscal_sign)
        q = _qr(b.paper.sheet)
        assert q.text == want and b.paper.sheet.errors == []
        # KZ-36: at least 20 x 20 mm (160 dots at 8 dots per mm), level M
        xs = [q.position.top_left.x, q.position.top_right.x]
        ys = [q.position.top_left.y, q.position.bottom_left.y]
        assert xs[1] - xs[0] >= 160 - 5 and ys[1] - ys[0] >= 160 - 5, q.position
        assert q.ec_level in ("M", "Q", "H")


def test_kz_29_5_kz_35_qr_of_an_offline_receipt():
    b, (res,) = receipts.documents("rongta58", offline=True)
    assert res.offline
    assert _qr(b.paper.sheet).text == receipts.expected_qr(b.reg, res)
    assert "Автономды" in "\n".join(b.paper.sheet.transcript)


def _cells(sheet, top, n):
    # the 12 x 24 cells of a left-aligned line from dot row `top`
    out = []
    for i in range(n):
        g = []
        for r in range(top, top + 24):
            row = sheet.rows[r]
            g.append(sum(1 << (11 - x) for x in range(12) if row[i * 12 + x] == I.INK))
        out.append(tuple(g))
    return out


def test_kz_32_every_kazakh_letter_as_the_font_draws_it_for_each_strategy():
    for profile, strategy in (("epson80", E.RK1048), ("xprinter58", E.UDC), ("panel58", E.RASTER)):
        paper = receipts.Paper(profile)
        assert paper.port.drv.strategy == strategy
        paper.port.print([(0, KZ)])
        paper.settle()
        sheet = paper.sheet
        assert sheet.errors == [], (profile, sheet.errors)
        cells = _cells(sheet, 0, len(KZ))
        for ch, cell in zip(KZ, cells):
            assert any(cell), (profile, ch)
            assert cell == F.glyph(ch), (profile, ch)
        # and not merely some glyph: every letter differs from the others
        assert len(set(cells)) == len(KZ)


def test_status_answers_paper_end_cover_open_no_answer():
    paper = receipts.Paper("xprinter80")
    d = paper.port.drv
    s = paper.sheet

    def st():
        return asyncio.run(d.status())

    assert st() == E.OK and d.ready
    s.near_end = True
    assert st() == E.OK and d.near_end
    s.take_paper()
    assert st() == E.NO_PAPER
    s.load_paper()
    s.cover_open = True
    assert st() == E.COVER_OPEN
    s.close_cover()
    s.silent = True
    assert st() == E.ABSENT and not d.ready
    s.silent = False
    asyncio.run(paper.port.poll())
    assert paper.port.status() == "ok" and d.ready  # set up again after it answered


def test_kz_6_paper_end_mid_receipt_on_the_interpreter():
    b = receipts.bench("xprinter58")
    sheet = b.paper.sheet
    sheet.paper_rows = 400  # about 13 lines of paper left
    res = receipts.sale(b.reg)
    b.paper.settle()
    assert b.reg.paper_check() is None and not res.printed
    assert b.reg.active_locks() == [L.NO_PAPER]
    rows = len(sheet.rows)
    sheet.load_paper()
    assert len(sheet.rows) == rows  # the interrupted rest was cleared: nothing printed by itself
    asyncio.run(b.paper.port.poll())
    assert b.reg.paper_check() is res
    b.paper.settle()
    b.reg.paper_check()
    assert res.printed and b.reg.counters.documents() == 1
    text = "\n".join(sheet.transcript)
    # the interrupted paper has the head's fiscal mark only; the whole copy
    # follows it (І prints as the Latin I on a CP866 printer)
    head, copy = text.split("КӨШIРМЕ")
    assert head.count("ФИСКАЛДЫҚ ЧЕК") == 1 and copy.count("ФИСКАЛДЫҚ ЧЕК") == 2
    assert sheet.qr_codes == [receipts.expected_qr(b.reg, res)]


def test_unknown_and_malformed_commands_are_reported():
    p = I.Printer("epson80")
    p.feed(b"\x1b\x99ab\n")  # unknown ESC command
    p.feed(b"\x1d(k\x03\x001X0")  # unknown QR function
    p.feed(b"\x1bt\x63")  # a code page the model lacks
    p.feed(b"\x1b&\x02\x41\x41")  # malformed user character definition
    p.feed(b"\x07")
    msgs = [m for _, m in p.errors]
    assert len(msgs) == 5, msgs
    assert "unknown command ESC 99" in msgs[0] and "GS ( k" in msgs[1] and "code page 99" in msgs[2]
    clone = I.Printer("xprinter58")
    clone.feed(b"\x1bt\x11\x8a\n")  # Cyrillic without FS .: a clone prints Chinese
    assert "Chinese" in clone.errors[0][1]


def test_the_frozen_font_modules_are_up_to_date():
    assert gen_printer_font.main(["--check"]) == 0


def test_command_line_prints_a_job_file_and_reports_errors(tmp_path, capsys):
    job = tmp_path / "job.bin"
    job.write_bytes(E.init_bytes(E.profile("xprinter58")) + E.text_line("Сәлем", E.UDC) + b"\x1b\x99")
    png = tmp_path / "paper.png"
    assert I.main([str(job), "--profile", "xprinter58", "--png", str(png)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "Сәлем" and "unknown command ESC 99" in err
    assert png.stat().st_size > 0
