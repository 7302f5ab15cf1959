# docs/boards.md shows each board's pin map as the board package defines it.
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from boards import esp32, esp32s3  # noqa: E402


def _tables():
    with open(os.path.join(ROOT, "docs", "boards.md"), encoding="utf-8") as f:
        text = f.read()
    out = {}
    for title, body in re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.S | re.M):
        rows = {}
        for line in body.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) == 3 and cells[0] not in ("function",) and not cells[0].startswith("-"):
                baud = re.search(r"(\d+) baud", cells[0])
                rows[cells[0].split(" (")[0]] = (cells[1], [int(n) for n in re.findall(r"\d+", cells[2])],
                                                 int(baud.group(1)) if baud else None)
        out[title] = rows
    return out


def _expected(board):
    p = board.PINS
    out = {}
    for name in ("printer", "scanner", "modem"):
        u = p[name]
        if u:
            pins = [u[1], u[2]]
            if name == "printer" and p.get("printer_cts") is not None:
                pins.append(p["printer_cts"])
            if name == "modem" and p.get("modem_power"):
                pins += list(p["modem_power"])
            out[name] = (str(u[0]), pins, u[3])
    out["I2C: display"] = ("-", [p["i2c"][1], p["i2c"][2]], None)
    out["keypad rows"] = ("-", list(p["rows"]), None)
    out["keypad columns"] = ("-", list(p["cols"]), None)
    if p.get("beeper") is not None:
        out["beeper"] = ("-", [p["beeper"]], None)
    return out


def test_the_pin_tables_are_the_pin_maps():
    t = _tables()
    for title, board in (("ESP32-S3-WROOM-1-N16R8 (main target)", esp32s3), ("ESP32-WROOM-32", esp32)):
        assert t[title] == _expected(board), title
