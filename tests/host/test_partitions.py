# The ESP32 partition tables of boards/esp32 and boards/esp32s3 (docs/journal.md,
# HARDWARE.md 5.1): whole 4 KiB sectors, no overlap, inside the flash chip the
# board's MicroPython build declares, the accumulator's raw partitions present
# with application types, an explicit filesystem partition, and at least
# 3 000 Z slots (KZ-ND-T1, KZ-28), checked also by opening an Accumulator of
# those sizes; the board builds name exactly these tables.
import os
import re
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from boards.sim.nor_flash import NorFlash  # noqa: E402
from journal import Accumulator  # noqa: E402
from tools import partition_table as PT  # noqa: E402

SECTOR = 0x1000
# (table, flash of the module, board build folder, variant's cmake or None)
TABLES = [
    ("boards/esp32/partitions.csv", 4 << 20, "boards/esp32/KKM_ESP32", None),
    ("boards/esp32/partitions-8MiB.csv", 8 << 20, "boards/esp32/KKM_ESP32", "mpconfigvariant_FLASH_8MiB.cmake"),
    ("boards/esp32s3/partitions.csv", 16 << 20, "boards/esp32s3/KKM_ESP32S3", None),
]


def _read(path):
    with open(os.path.join(ROOT, path), encoding="ascii") as f:
        return f.read()


@pytest.mark.parametrize("name,flash,board,variant", TABLES)
def test_partition_table_fits_and_holds_the_accumulator(name, flash, board, variant):
    rows = PT.read_csv(os.path.join(ROOT, name))
    names = [r["name"] for r in rows]
    assert len(set(names)) == len(names)
    end = 0x9000  # bootloader and the partition table itself (0x8000)
    for r in sorted(rows, key=lambda r: r["offset"]):
        assert r["offset"] % SECTOR == 0 and r["size"] % SECTOR == 0 and r["size"] > 0, r
        assert r["offset"] >= end, ("overlap", r)
        if r["type"] == 0:
            assert r["offset"] % 0x10000 == 0, r  # app partitions are 64 KiB aligned
        end = r["offset"] + r["size"]
    assert end <= flash
    by = {r["name"]: r for r in rows}
    # the filesystem is named, so MicroPython never makes one over the journal
    assert by["vfs"]["type"] == 1 and by["vfs"]["size"] >= 0x40000
    j, m = PT.journal(rows).values()
    for r in (j, m):
        assert 0x40 <= r["type"] <= 0xFE  # free for applications
    assert (j["type"], j["subtype"]) == (0x40, 0) and (m["type"], m["subtype"]) == (0x40, 1)  # drivers.partition
    assert by["factory"]["size"] >= 0x1F0000  # MicroPython with frozen firmware
    # the Z area: 12 slots of 336 bytes per 4 KiB block
    assert m["size"] // SECTOR * (SECTOR // 336) >= 3000
    assert j["size"] // SECTOR >= 128
    # an accumulator on emulators of exactly these sizes
    acc = Accumulator(NorFlash(j["size"] // SECTOR), NorFlash(m["size"] // SECTOR), b"partition-test-key")
    assert acc.z_slots_left() >= 3000 and acc.N == j["size"] // SECTOR
    # the board's MicroPython build declares this flash size and this table
    cmake = _read(board + "/" + (variant or "mpconfigboard.cmake"))
    assert "${MICROPY_BOARD_DIR}/../%s" % os.path.basename(name) in cmake
    mib = flash >> 20
    sdk = cmake if variant else _read(board + "/sdkconfig.board")
    assert re.search(r'CONFIG_ESPTOOLPY_FLASHSIZE=\\?"%dMB\\?"' % mib, sdk), sdk


def test_binary_table_round_trip_and_damage():
    rows = PT.read_csv(os.path.join(ROOT, "boards/esp32s3/partitions.csv"))
    b = PT.to_binary(rows)
    assert len(b) == PT.TABLE_SIZE and PT.parse_binary(b) == rows
    bad = bytearray(b)
    bad[8] ^= 1  # an offset changed: the MD5 entry says so
    with pytest.raises(PT.TableError, match="MD5"):
        PT.parse_binary(bytes(bad))
    with pytest.raises(PT.TableError, match="blank"):
        PT.parse_binary(b"\xff" * PT.TABLE_SIZE)
    with pytest.raises(PT.TableError, match="fmemory"):
        PT.journal(rows[:-1])


def test_overlap_is_detected(tmp_path):
    # the checker itself fails on a bad table
    rows = sorted(PT.parse_csv("nvs, data, nvs, 0x9000, 0x6000\nfjournal, 0x40, 0x00, 0xE000, 0x2000\n"),
                  key=lambda r: r["offset"])
    assert rows[1]["offset"] < rows[0]["offset"] + rows[0]["size"]
    with pytest.raises(PT.TableError, match="explicit offset"):
        PT.parse_csv("fjournal, 0x40, 0x00, , 0x2000\n")
