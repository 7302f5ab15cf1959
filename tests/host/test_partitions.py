# The ESP32 partition tables of boards/esp32 (docs/journal.md, HARDWARE.md
# 5.1): whole 4 KiB sectors, no overlap, inside the flash, the accumulator's
# raw partitions present with application types, and at least 3 000 Z slots
# (KZ-ND-T1, KZ-28), checked also by opening an Accumulator of those sizes.
import os
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from boards.sim.nor_flash import NorFlash  # noqa: E402
from journal import Accumulator  # noqa: E402

SECTOR = 0x1000
TABLES = [("partitions.csv", 4 << 20), ("partitions-8MiB.csv", 8 << 20)]


def _int(s):
    s = s.strip()
    mult = 1
    if s[-1:] in ("K", "k"):
        mult, s = 1024, s[:-1]
    elif s[-1:] in ("M", "m"):
        mult, s = 1 << 20, s[:-1]
    return int(s, 0) * mult


def parse(path):
    rows = []
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            cols = [c.strip() for c in line.split(",")]
            assert len(cols) >= 5, line
            name, ptype, sub, off, size = cols[:5]
            rows.append({"name": name, "type": ptype, "subtype": sub, "offset": _int(off), "size": _int(size)})
    return rows


@pytest.mark.parametrize("name,flash", TABLES)
def test_partition_table_fits_and_holds_the_accumulator(name, flash):
    rows = parse(os.path.join(ROOT, "boards", "esp32", name))
    names = [r["name"] for r in rows]
    assert len(set(names)) == len(names)
    end = 0x9000  # bootloader and the partition table itself (0x8000)
    for r in sorted(rows, key=lambda r: r["offset"]):
        assert r["offset"] % SECTOR == 0 and r["size"] % SECTOR == 0 and r["size"] > 0, r
        assert r["offset"] >= end, ("overlap", r)
        if r["type"] == "app":
            assert r["offset"] % 0x10000 == 0, r  # app partitions are 64 KiB aligned
        end = r["offset"] + r["size"]
    assert end <= flash
    by = {r["name"]: r for r in rows}
    j, m = by["fjournal"], by["fmemory"]
    for r in (j, m):
        assert 0x40 <= int(r["type"], 0) <= 0xFE  # free for applications
    assert (j["type"], j["subtype"]) != (m["type"], m["subtype"])
    assert by["factory"]["size"] >= 0x180000  # MicroPython with frozen firmware
    # the Z area: 12 slots of 336 bytes per 4 KiB block
    assert m["size"] // SECTOR * (SECTOR // 336) >= 3000
    assert j["size"] // SECTOR >= 128
    # an accumulator on emulators of exactly these sizes
    acc = Accumulator(NorFlash(j["size"] // SECTOR), NorFlash(m["size"] // SECTOR), b"partition-test-key")
    assert acc.z_slots_left() >= 3000 and acc.N == j["size"] // SECTOR


def test_overlap_is_detected(tmp_path):
    # the checker itself fails on a bad table
    p = tmp_path / "bad.csv"
    p.write_text("nvs, data, nvs, 0x9000, 0x6000\nfjournal, 0x40, 0x00, 0xE000, 0x2000\n")
    rows = sorted(parse(str(p)), key=lambda r: r["offset"])
    assert rows[1]["offset"] < rows[0]["offset"] + rows[0]["size"]
