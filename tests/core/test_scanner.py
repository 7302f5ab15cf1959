# The scanner driver (drivers/scanner.py): byte-exact framing of what real
# scanners send (suffixes, AIM prefixes, GS and its substitutes), partial
# reads and noise turned into a misread; then the driver as an asyncio task
# on the UART double (boards/host/hw/scanner_dev.py) feeding the app: a
# misread or a wrong check digit is refused with a message and a beep and
# never reaches the receipt (KZ-7, KZ-7.1).
import asyncio

import hwkit  # noqa: F401  (the host machine stand-in on the path)
from scanner_dev import ScannerUart

from drivers.scanner import Scanner

GS = b"\x1d"
MARK = b"0104870001000141" + b"21abc123" + GS + b"93AbCd"


class Clock:
    def __init__(self):
        self.t = 1000

    def __call__(self):
        return self.t


def _rig(**kw):
    clock = Clock()
    dev = ScannerUart(ticks=clock, **kw)
    return clock, dev, Scanner(dev, ticks=clock)


def _codes(sc, dev, clock, ms=400):
    # run the task's polls for `ms` of the fake clock
    for _ in range(ms // 10):
        clock.t += 10
        sc.pump()
    out = sc.ready[:]
    del sc.ready[:]
    return out


def test_kz_7_suffixes_cr_lf_crlf_frame_one_code_each():
    clock, dev, sc = _rig()
    dev.send(b"4870001000011\r4006381333931\n036000291452\r\n96385074\r\n")
    assert _codes(sc, dev, clock) == ["4870001000011", "4006381333931", "036000291452", "96385074"]


def test_kz_7_aim_prefix_and_gs_substitutes_give_the_marking_code_with_gs():
    clock, dev, sc = _rig()
    want = MARK.decode()
    for raw in (b"]d2" + MARK, b"]d2" + GS + MARK, MARK.replace(GS, b"<GS>"), MARK.replace(GS, b"\xe8"),
                b"\xe8" + MARK.replace(GS, b"{GS}"), MARK + GS):
        dev.scan(raw)
        assert _codes(sc, dev, clock) == [want], raw
    assert sc.symbology is None
    dev.scan(b"]E04870001000011")
    assert _codes(sc, dev, clock) == ["4870001000011"] and sc.symbology == "]E0"
    plain = Scanner(dev, ticks=clock, gs_texts=())  # a scanner that sends GS as is
    dev.scan(b"0104870001000141" + b"21<GS>1")
    assert _codes(plain, dev, clock) == ["010487000100014121<GS>1"]


def test_kz_7_configured_prefix_is_stripped():
    clock, dev, _ = _rig()
    sc = Scanner(dev, prefix=b"SC:", ticks=clock)
    dev.scan(b"SC:4870001000011")
    assert _codes(sc, dev, clock) == ["4870001000011"]


def test_kz_7_a_code_cut_off_noise_or_an_overlong_line_is_a_misread():
    clock, dev, sc = _rig()
    dev.send(b"48700010")  # then silence: the rest never comes
    assert _codes(sc, dev, clock) == [""]
    dev.scan(b"4870\x00001000011")
    dev.scan(b"\xff\xfe4870001000011")
    dev.scan(b"4870 001000011")
    dev.scan(b"9" * 250)
    dev.scan(b"4870001000011")
    assert _codes(sc, dev, clock, 800) == ["", "", "", "", "4870001000011"]
    assert sc.misreads == 5
    dev.send(b"\r\n\r\n")  # empty lines are no scans
    assert _codes(sc, dev, clock) == []


def test_kz_7_a_slow_line_at_9600_baud_is_not_taken_for_a_cut():
    # a 90-byte marking code takes about 94 ms on the wire: bytes keep
    # coming every millisecond, so the 80 ms gap never elapses
    clock, dev, sc = _rig(baud=9600)
    code = MARK + GS + b"92" + b"A" * 44 + b"xyz"
    dev.scan(b"]d2" + code)
    assert _codes(sc, dev, clock) == [code.decode()]


def test_kz_7_a_full_receive_buffer_loses_bytes_and_the_code_is_refused_not_mangled_into_another():
    clock, dev, sc = _rig(rxbuf=16)
    dev.scan(b"4870001000011" + b"4006381333931")  # 28 bytes + CR LF into 16
    clock.t += 100  # nobody read the UART for 100 ms (a flash write stalls the chip)
    got = _codes(sc, dev, clock)
    assert dev.lost > 0 and got in ([""], ["4870001000011400"])
    from kkm import ids

    assert all(not ids.check_gtin(c) for c in got)  # the core refuses what is left


def test_kz_7_the_driver_task_delivers_scans_in_real_time():
    dev = ScannerUart(baud=115200)
    sc = Scanner(dev)

    async def main():
        dev.scan(b"4870001000011")
        dev.scan(b"]d2" + MARK, suffix=b"\r")
        a = await asyncio.wait_for(sc.get(), 2)
        b = await asyncio.wait_for(sc.get(), 2)
        return a, b

    assert asyncio.run(main()) == ("4870001000011", MARK.decode())


def test_kz_7_1_scans_from_the_uart_reach_the_sale_and_a_refused_one_beeps():
    from test_scan_sale import CIGARETTES, _shop

    b, app = _shop()
    beeps = []

    class Beeper:
        def beep(self):
            beeps.append(1)

    b.beeper = Beeper()
    clock = Clock()
    dev = ScannerUart(ticks=clock)
    sc = Scanner(dev, ticks=clock)
    dev.scan(b"4870001000012")  # wrong check digit
    dev.send(b"48700")  # a partial read
    for code in _codes(sc, dev, clock):
        app.scan(code)
        app.ui.key("ESC")
    assert len(beeps) == 2 and app.reg.draft is None
    dev.scan(b"]d2" + MARK)  # the marked good by its marking code
    for code in _codes(sc, dev, clock):
        app.scan(code)
    assert CIGARETTES[:4] in MARK.decode() and len(beeps) == 2
    app.ui.key("9")
    app.ui.key("5")
    app.ui.key("ENT")
    assert app.reg.draft.lines[0].marks == [MARK.decode()]
