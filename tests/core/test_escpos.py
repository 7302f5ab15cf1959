# The ESC/POS driver byte for byte (drivers/escpos.py), its board port
# (boards/escpos_printer.py) against a printer double, and KZ-6: paper end
# in the middle of a receipt locks, and the receipt is printed again as a
# copy once paper is loaded, without a second fiscal document.
import asyncio

from boards.escpos_printer import EscPosPrinter
from drivers import escpos as E
from drivers import escpos_udc as U
from kkm import locks as L
from printerkit import PrinterDouble
from regkit import fiscalised_bench, sell

KZ = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"


def run(coro):
    return asyncio.run(coro)


def test_kz_32_rk1048_bytes_of_every_kazakh_letter():
    # the KZ-1048 column of the hardware reference
    want = bytes((0xA3, 0xBC, 0xAA, 0xBA, 0x8D, 0x9D, 0xBD, 0xBE, 0xA5, 0xB4, 0xA1, 0xA2, 0xAF, 0xBF, 0x8E, 0x9E,
                  0xB2, 0xB3))
    assert E.encode(KZ, E.RK1048) == want
    assert E.encode("АЯаяЁё№", E.RK1048) == b"\xc0\xdf\xe0\xff\xa8\xb8\xb9"


def test_kz_32_cp866_with_user_glyphs_for_the_kazakh_letters():
    assert E.encode("АПРЯапряЁё№", E.UDC) == b"\x80\x8f\x90\x9f\xa0\xaf\xe0\xef\xf0\xf1\xfc"
    # Қ is the 5th user glyph; a run of Kazakh letters shares one switch; І і are Latin
    assert E.encode("Қ", E.UDC) == b"\x1b%\x01\x45\x1b%\x00"
    assert E.encode("аңғар Іі", E.UDC) == b"\xa0\x1b%\x01\x48\x44\x1b%\x00\xa0\xe0 Ii"
    assert E.encode("x\x1by", E.UDC) == b"x y"  # a control character never reaches the printer


def test_kz_32_init_defines_the_user_glyphs_once_with_the_page():
    epson = E.init_bytes(E.profile("epson80"))
    assert epson == b"\x1c.\x1b@\x1bt\x35\x1b3\x1e"  # FS ., ESC @, RK1048, pitch: no glyphs needed
    x = E.init_bytes(E.profile("xprinter58"))
    assert x[:10] == b"\x1c.\x1b@\x1bt\x11\x1b3\x1e"
    assert x[10:15] == b"\x1b&\x03\x41\x50"
    assert len(x) == 15 + 16 * (1 + 36) and U.LETTERS == KZ[:16]
    assert x[15] == 12 and x[16:52] == U.GLYPHS[:36]
    assert E.init_bytes(E.profile("rongta80"))[6] == 7 and E.init_bytes(E.profile("kr306"))[6] == 12


def test_profiles_paper_width_and_strategy():
    assert [(p.name, p.dots, p.cols, p.strategy()) for p in E.PROFILES] == [
        ("epson80", 576, 48, E.RK1048), ("xprinter80", 576, 48, E.UDC), ("xprinter58", 384, 32, E.UDC),
        ("rongta80", 576, 48, E.UDC), ("rongta58", 384, 32, E.UDC), ("kr306", 576, 48, E.UDC),
        ("panel58", 384, 32, E.RASTER)]


def test_lines_bold_double_height_and_raster():
    assert E.text_line("Нан", E.UDC, True, True) == b"\x1bE\x01\x1b!\x10\x8d\xa0\xad\n\x1b!\x00\x1bE\x00"
    d = E.EscPos(None, E.profile("panel58"))
    assert d.line("Нан") == b"\x8d\xa0\xad\n"  # no Kazakh letter: text
    img = d.line("Қ", False, True)
    assert img[:8] == b"\x1dv0\x02\x30\x00\x18\x00" and len(img) == 8 + 48 * 24
    from drivers import escpos_raster as R

    g = R.CHARS.find("Қ") * 48
    # the glyph's 12 dots of each row at the left of the image row
    for r in range(24):
        assert img[8 + r * 48] == R.GLYPHS[g + 2 * r] and img[9 + r * 48] & 0xF0 == R.GLYPHS[g + 2 * r + 1]


def test_kz_36_qr_command_and_module_size():
    data = b"http://k.kz?i=1&f=2&s=3.00&t=20260101T000000"  # 44 bytes: version 4 at level M
    assert E.qr_module(len(data), 384) == 5  # 33 modules x 5 dots = 20.6 mm
    assert E.qr_bytes(data, 384) == (b"\x1ba\x01\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x05\x1d(k\x03\x001E1"
                                     b"\x1d(k\x2f\x001P0" + data + b"\x1d(k\x03\x001Q0\n\x1ba\x00")
    assert E.qr_module(106, 384) == 4 and E.qr_module(213, 384) == 3 and E.qr_module(214, 576) is None


def test_kz_36_qr_drawn_by_the_driver_error_correction_and_format():
    from drivers import qr

    # the format strings of level M in ISO/IEC 18004 (table C.1)
    assert [qr.format_bits(k) for k in range(8)] == [
        0b101010000010010, 0b101000100100101, 0b101111001111100, 0b101101101001011,
        0b100010111111001, 0b100000011001110, 0b100111110010111, 0b100101010100000]
    # every block with its EC codewords is a Reed-Solomon codeword: the
    # polynomial is zero at the generator's roots
    data = b"http://k.kz?i=1&f=2&s=3.00&t=20260101T000000" * 2
    v = qr.version(len(data))
    ecn, b1, d1, b2, d2 = qr._BLOCKS[v - 1]
    cw = qr._codewords(data, v)
    assert v == 6 and len(cw) == b1 * d1 + b2 * d2 + ecn * (b1 + b2)
    block = bytes(cw[k] for k in range(0, b1 * d1, b1)) + bytes(cw[b1 * d1 + k] for k in range(0, ecn * b1, b1))
    for i in range(ecn):
        acc = 0
        for c in block:
            acc = qr._mul(acc, qr._EXP[i]) ^ c
        assert acc == 0, i
    m = run(qr.matrix(data))
    assert m.size == 41 and m.get(0, 0) and not m.get(7, 7) and m.get(8, m.size - 8)  # finder, separator, dark module


def test_qr_as_raster_bands_without_gs_k():
    p = PrinterDouble()
    d = E.EscPos(p, E.profile("panel58"), 0)
    data = b"http://k.kz?i=1&f=2&s=3.00&t=20260101T000000"
    run(d.print_qr(data))
    out = bytes(p.printed)
    assert b"\x1d(k" not in out and out.startswith(b"\x1ba\x01\x1dv0\x00") and out.endswith(b"\n\x1ba\x00")
    band = 8 + 21 * 5  # 33 modules x 5 dots: 21 bytes a row, 5 rows a band
    assert len(out) == 3 + 33 * band + 4 and out[3:11] == b"\x1dv0\x00\x15\x00\x05\x00"


def test_status_bytes():
    assert E.decode_status(b"\x12\x12\x12\x12") == (E.OK, False)
    assert E.decode_status(b"\x12\x12\x12\x1e") == (E.OK, True)  # near end
    assert E.decode_status(b"\x1a\x32\x12\x72")[0] == E.NO_PAPER
    assert E.decode_status(b"\x1a\x16\x12\x12")[0] == E.COVER_OPEN
    assert E.decode_status(b"\x12\x12\x1a\x12")[0] == E.FAULT  # auto-cutter error
    assert E.decode_status(b"\x12\x12")[0] == E.ABSENT
    assert E.decode_status(b"\x00\x12\x12\x12")[0] == E.FAULT  # not a status byte


def test_driver_status_and_confirmation_against_the_double():
    p = PrinterDouble()
    d = E.EscPos(p, E.profile("xprinter58"), 0)
    assert run(d.status()) == E.OK
    p.paper_out = True
    assert run(d.status()) == E.NO_PAPER
    p.paper_out = False
    p.silent = True
    assert run(d.status()) == E.ABSENT and not d.ready
    p.silent = False
    assert run(d.confirm(50))
    p.lines_left = 0
    run(d.send(b"x\n"))
    assert not run(d.confirm(50)) and run(d.status()) == E.NO_PAPER


def test_paced_writes_take_the_line_time():
    from compat import ticks_diff, ticks_ms

    p = PrinterDouble()
    d = E.EscPos(p, E.profile("epson80"), 115200)
    t0 = ticks_ms()
    run(d.send(b"x" * 1152))  # 100 ms of line time at 115200 baud, in 18 chunks
    took = ticks_diff(ticks_ms(), t0)
    assert 90 <= took < 400, took
    assert p.printed == b"x" * 1152


def _printer(profile="epson80", lines_left=None):
    dbl = PrinterDouble(lines_left)
    return EscPosPrinter(dbl, E.profile(profile), 0), dbl


def _settle(port):
    # the port's task until its queue is empty
    async def go():
        await port.poll()
        while port.jobs:
            await port.job(port.jobs[0])

    run(go())


def test_board_printer_layout_lines_to_the_paper():
    port, dbl = _printer("xprinter58")
    assert port.status() == "fault"  # not asked yet
    run(port.poll())
    assert port.status() == "ok" and port.width == 32
    job = port.print([(1 | 4, "  Қазақ"), (0, "Нан"), (8 | 4, "http://k.kz?i=1")])
    assert job.done is None
    _settle(port)
    assert job.done and job.started
    out = bytes(dbl.printed)
    assert out.startswith(E.init_bytes(E.profile("xprinter58")) + E.JOB_START)
    assert E.text_line("  Қазақ", E.UDC, True) + E.text_line("Нан", E.UDC) in out
    assert E.qr_bytes(b"http://k.kz?i=1", 384) in out and out.endswith(b"\x1bd\x04")


def _register(profile):
    # a fiscalised register on the board printer of `profile`, its double ready
    r = fiscalised_bench().reg
    port, dbl = _printer(profile)
    r.printer = port
    run(port.poll())
    return r, port, dbl


def test_kz_6_paper_end_mid_receipt_locks_then_a_copy_and_one_document():
    r, port, dbl = _register("xprinter80")
    assert r.paper_width() == 48
    first = sell(r)
    _settle(port)
    assert r.paper_check() is None and first.printed
    docs = r.counters.documents()
    dbl.lines_left = 6  # the paper ends in the middle of the next receipt
    res = sell(r)
    job = res.job
    _settle(port)
    assert job.done is False and job.started and port.status() == "no_paper"
    assert r.paper_check() is None and not res.printed
    assert L.NO_PAPER in r.active_locks() and L.N_REPRINT in r.notices
    try:
        sell(r)
        raise AssertionError("a receipt without paper")
    except L.Locked as e:
        assert e.args[0] == L.NO_PAPER
    assert r.counters.documents() == docs + 1
    # the cashier loads paper; nothing printed by itself (the printer's buffer was cleared)
    cut = len(dbl.printed)
    dbl.load_paper()
    assert len(dbl.printed) == cut
    run(port.poll())
    again = r.paper_check()
    assert again is res and again.job is not None
    _settle(port)
    assert r.paper_check() is None and res.printed and L.N_REPRINT not in r.notices
    second = bytes(dbl.printed[cut:])
    assert E.encode("КӨШІРМЕ", E.UDC) in second and E.encode(res.fiscal_sign, E.UDC) in second
    assert r.counters.documents() == docs + 1 and r.acc.unacked() == []
    assert L.NO_PAPER not in r.active_locks()


def test_kz_6_paper_out_before_the_receipt_prints_it_whole_later():
    r, port, dbl = _register("epson80")
    res = sell(r)  # the paper runs out after the status check, before the job starts
    dbl.paper_out = True
    _settle(port)
    assert res.job.done is False and not res.job.started
    assert r.paper_check() is None and L.NO_PAPER in r.active_locks()
    dbl.load_paper()
    run(port.poll())
    assert r.paper_check() is res
    _settle(port)
    r.paper_check()
    out = bytes(dbl.printed)
    assert res.printed and E.encode("КӨШІРМЕ", E.RK1048) not in out  # nothing of it was on paper: no copy mark
    assert E.encode(res.fiscal_sign, E.RK1048) in out


def test_kz_6_paper_end_in_the_z_report_prints_it_again_as_a_copy():
    from kkm import auth as A

    r, port, dbl = _register("xprinter58")
    sell(r)
    _settle(port)
    r.paper_check()
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    dbl.lines_left = 5  # the paper ends in the Z report
    zx = r.close_shift()
    z = r.z_paper
    _settle(port)
    assert r.paper_check() is None and not z.printed and z.started
    assert L.NO_PAPER in r.active_locks() and r.acc.z_count() == 1
    cut = len(dbl.printed)
    dbl.load_paper()
    run(port.poll())
    assert r.paper_check() is z
    _settle(port)
    assert r.paper_check() is None and z.printed and r.acc.z_count() == 1 and z.report is zx
    again = bytes(dbl.printed[cut:])
    assert again.index(E.encode("КӨШІРМЕ", E.UDC)) < again.index(E.encode("Z-", E.UDC))
