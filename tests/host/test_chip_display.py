"""The host board with the device's display drivers on their chip doubles
(`make sim SIM_ARGS="--display hd44780"`): the terminal shows what the
double's glass shows for the UI's frames (KZ-11)."""

import io
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for p in (os.path.join(ROOT, "firmware"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

import boards.host as host  # noqa: E402

FRAME = ["Онлайн [0] lan", "1.Ақ нан", "Жиыны:       250.00", "> 12"]


def _board(tmp_path, kind):
    r, w = os.pipe()
    return host.make(str(tmp_path), kind, inp=os.fdopen(r, "rb", buffering=0), out=io.StringIO())


def test_kz_11_hd44780_frames_reach_the_terminal_through_the_chip(tmp_path):
    b = _board(tmp_path, "hd44780")
    d = b.display
    assert (d.cols, d.rows) == (20, 4)
    d.show(FRAME)
    # the glass: Latin look-alikes from the ROM, қ from a glyph slot
    assert b.term.frame[1] == "1.Aқ нaн" + " " * 12
    assert b.term.frame[2].startswith("Жиыны:")
    assert d.chip.display_on and not d.chip.errors


def test_kz_11_oled_frames_reach_the_terminal_through_the_chip(tmp_path):
    for kind in ("ssd1306", "sh1106"):
        b = _board(tmp_path, kind)
        frame = FRAME + ["", "", "", "Қ"]
        b.display.show(frame)
        assert [s.rstrip() for s in b.term.frame] == [s.replace("А", "A").replace("а", "a").replace("О", "O")
                                                      for s in frame]
