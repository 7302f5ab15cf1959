# The PC board's parts (boards/host): the terminal's key decoding (keys,
# arrows, a lone ESC, the scan prompt with a marking code's GS, the scanner
# pipe), the display drawn only when it changed and only at its size, the
# flash files written through under the NOR rules, the paper transcript.

import asyncio
import io
import os
import re
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for p in (os.path.join(ROOT, "firmware"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

import pytest  # noqa: E402

from boards.host import term  # noqa: E402
from boards.host.flash import FileFlash  # noqa: E402
from boards.host.printer import TranscriptPrinter  # noqa: E402
from boards.sim.nor_flash import FlashError  # noqa: E402
from kkm import layout  # noqa: E402
from ui import keys  # noqa: E402


def _term(tmp_path, fifo=False):
    r, w = os.pipe()
    path = None
    if fifo:
        path = str(tmp_path / "scanner")
        os.mkfifo(path)
    t = term.Terminal(keys, 20, 4, os.fdopen(r, "rb", buffering=0), io.StringIO(), path)
    return t, w, path


def _pump(t, ms=100):
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        t.pump()
        time.sleep(0.005)


def test_keys_arrows_function_key_and_a_lone_esc(tmp_path):
    t, w, _ = _term(tmp_path)
    os.write(w, b"12/.\r\x7fc+\x1b[A\x1bOB\x1bOP\x1b[15~z")
    _pump(t)
    assert t.pressed == ["1", "2", "00", ".", "ENT", "CLR", "CASH", "PAY", "UP", "DOWN", "MENU", "Z"]
    del t.pressed[:]
    os.write(w, b"\x1b")  # ESC alone: a key once nothing followed it
    t.pump()
    assert t.pressed == []
    _pump(t, 2 * term.ESC_MS)
    assert t.pressed == ["ESC"]
    assert asyncio.run(t.key()) == "ESC"


def test_scan_prompt_takes_a_marking_code_with_gs_and_the_pipe_takes_lines(tmp_path):
    t, w, path = _term(tmp_path, fifo=True)
    os.write(w, b"s0104870001000141\x1d21abc\x7fd\r1")
    _pump(t)
    assert t.scanned == ["0104870001000141\x1d21abd"] and t.pressed == ["1"]  # keys are keys again after it
    assert "scan> 0104870001000141<GS>21abd" in t.out.getvalue()
    os.write(w, b"s123\x1b")
    _pump(t, 2 * term.ESC_MS)
    assert t.entry is None and t.scanned == ["0104870001000141\x1d21abd"] and t.pressed == ["1"]
    with open(path, "w") as f:
        f.write("4870001000011\n48700010000")
    _pump(t)
    assert t.scanned[1:] == ["4870001000011"]
    assert asyncio.run(t.code()) == "0104870001000141\x1d21abd"


def test_display_draws_a_frame_only_when_it_changed_and_only_its_size(tmp_path):
    t, _, _ = _term(tmp_path)
    t.show(["Онлайн [0] lan", "Готов", "", ">"])
    t.show(["Онлайн [0] lan", "Готов", "", ">"])
    out = t.out.getvalue()
    frames = re.findall(r"\x1b7(.*?)\x1b8", out, re.S)
    assert len(frames) == 1
    assert re.findall(r"\|(.*?)\|", frames[0]) == ["Онлайн [0] lan      ", "Готов               ",
                                                  " " * 20, ">                   "]
    with pytest.raises(ValueError):
        t.show(["x"] * 3)
    with pytest.raises(ValueError):
        t.show(["x" * 21, "", "", ""])


def test_flash_file_is_written_through_under_the_nor_rules(tmp_path):
    path = str(tmp_path / "journal.img")
    f = FileFlash(path, 4)
    f.writeblocks(1, b"\x0f\xf0", 10)  # program only
    f2 = FileFlash(path, 4)  # what a restart after a kill reads
    buf = bytearray(2)
    f2.readblocks(1, buf, 10)
    assert buf == b"\x0f\xf0"
    with pytest.raises(FlashError):
        f.writeblocks(1, b"\xff\xff", 10)  # a 1 over a 0 is not programmed
    f.ioctl(6, 1)  # erase
    assert FileFlash(path, 4).data[4096:8192] == b"\xff" * 4096
    assert os.path.getsize(path) == 4 * 4096


def test_paper_transcript_and_no_paper(tmp_path):
    t, _, _ = _term(tmp_path)
    p = TranscriptPrinter(str(tmp_path / "paper.txt"), t, 20)
    p.print([(layout.CENTRE, "ЧЕК"), (layout.QR, "http://x/check?i=1234567890")])
    text = (tmp_path / "paper.txt").read_text(encoding="utf-8")
    assert text.splitlines()[:5] == ["+" + "-" * 20 + "+", "|ЧЕК" + " " * 17 + "|", "|[QR]" + " " * 16 + "|",
                                     "|http://x/check?i=123|", "|4567890" + " " * 13 + "|"]
    assert "|ЧЕК" in t.out.getvalue()
    t.printer = p
    t._key("P")  # the paper key
    assert p.status() == "no_paper"
    with pytest.raises(OSError):
        p.print([(0, "x")])
