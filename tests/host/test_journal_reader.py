# The journal reader (tools/journal_reader.py) on the host board's images of
# a real register day (tests/core/regkit: the register core on NOR flash
# emulators): documents with their fiscal and autonomous signs, the Z
# summaries and the OFD queue as JSON and CSV; the keyed chain verified
# shift by shift against fiscal memory; a tampered dump reported (KZ-2.3,
# KZ-9, KZ-43.2).
import csv
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"), ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from binascii import crc32  # noqa: E402

from kkm import auth as A  # noqa: E402
from regkit import KEY, fiscalised_bench, line, sell  # noqa: E402
from tools import journal_reader as JR  # noqa: E402

READER = os.path.join(ROOT, "tools", "journal_reader.py")


def register_day(var, log_blocks=16):
    # three shifts: two closed online, the third with an offline receipt
    # still queued; the images and the key as the host board keeps them
    b = fiscalised_bench(log_blocks=log_blocks, fm_blocks=2)
    r = b.reg
    for day in range(3):
        sell(r, [line(price=25000, qty=2000)], cash=60000)
        r.deposit(100000)
        sell(r, [line("Сүт", 48000)], card=48000)
        b.clock.advance(3600)
        if day < 2:
            r.login(1, "1111", A.MODE_SHIFT_CLOSE)
            r.close_shift()
            r.login(1, "1111", A.MODE_SALES)
            b.clock.advance(12 * 3600)
    b.ofd.online = False
    sell(r)  # offline: autonomous sign, queued
    os.makedirs(var, exist_ok=True)
    b.log.save(os.path.join(var, "journal.img"))
    b.fm.save(os.path.join(var, "fiscal_memory.img"))
    with open(os.path.join(var, "device.key"), "wb") as f:
        f.write(KEY)
    return b


def _run(*args):
    return subprocess.run([sys.executable, READER] + list(args), capture_output=True, text=True, timeout=120)


def test_kz_9_reader_verifies_a_register_day_and_exports_json_and_csv(tmp_path):
    var = str(tmp_path / "var")
    register_day(var)
    p = _run(var, "--key", os.path.join(var, "device.key"), "--json", str(tmp_path / "j.json"),
             "--csv", str(tmp_path / "csv"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "VERIFIED" in p.stdout and "closed shifts verified against their Z: 2" in p.stdout
    rep = json.loads((tmp_path / "j.json").read_text(encoding="utf-8"))
    assert rep["ok"] and rep["self_test"]["ok"] and rep["fiscal_memory"]["z_count"] == 2
    docs = rep["documents"]
    receipts = [d for d in docs if d["kind"] == "receipt"]
    assert len(receipts) == 7 and len([d for d in docs if d["kind"] == "placement"]) == 3
    assert len([d for d in docs if d["kind"] == "z"]) == 2
    first = receipts[0]
    assert first["operation"] == "sell" and first["total"] == 50000 and first["payments"] == [["cash", 50000]]
    assert first["shift"] == 1 and first["number"] == 1 and first["fiscal_sign"].startswith("77")
    assert first["channel"] == "wifi"  # KZ-18: the channel that carried it, from its ACK
    # the offline receipt: its autonomous sign, and it waits in the queue
    last = receipts[-1]
    assert last["autonomous_sign"] == str(last["seq"]) and not last["acknowledged"]
    assert [q["seq"] for q in rep["queue"]] == [last["seq"]]
    z1 = rep["z"][0]
    assert z1["z"] == 1 and z1["shift"] == 1 and z1["sell_count"] == 2 and z1["sell_total"] == 98000
    assert z1["deposit_count"] == 1 and z1["deposit_total"] == 100000
    with open(tmp_path / "csv" / "documents.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(docs) and rows[0]["payments"] == "cash:50000"
    with open(tmp_path / "csv" / "queue.csv", encoding="utf-8") as f:
        assert [r["seq"] for r in csv.DictReader(f)] == [str(last["seq"])]
    with open(tmp_path / "csv" / "z.csv", encoding="utf-8") as f:
        assert [r["sell_total"] for r in csv.DictReader(f)] == ["98000", "98000"]


def _records(image):
    # (offset, length) of every record in a log image (docs/journal.md layout)
    out = []
    for s in range(0, len(image), 4096):
        off = s + 52
        while off + 50 <= s + 4096 and image[off] == 0xA5:
            ln = struct.unpack_from("<H", image, off + 12)[0]
            out.append((off, ln))
            off += ln + 50
    return out


def test_kz_43_2_edited_record_of_an_old_shift_is_reported(tmp_path):
    # a receipt of the first shift edited and its CRC recomputed: the device
    # self-test does not re-read that shift (covered by its Z); the reader
    # re-chains it against Z 1 and says where
    var = str(tmp_path / "var")
    register_day(var)
    path = os.path.join(var, "journal.img")
    image = bytearray(open(path, "rb").read())
    off, ln = [r for r in _records(image) if image[r[0] + 1] == 16][0]  # the first receipt
    image[off + 14 + ln - 1] ^= 0x01
    end = off + 14 + ln + 32
    struct.pack_into("<I", image, end, crc32(image[off:end]))
    open(path, "wb").write(image)
    rep = JR.read_journal(bytes(image), open(os.path.join(var, "fiscal_memory.img"), "rb").read(), KEY)
    assert rep["self_test"]["ok"]  # the device's own check passes
    assert not rep["ok"] and any(p.startswith("shift 1: record mac at record") for p in rep["problems"]), rep
    p = _run(var, "--key", os.path.join(var, "device.key"))
    assert p.returncode == 1 and "NOT VERIFIED" in p.stdout and "shift 1: record mac" in p.stdout


def test_kz_9_bit_flip_and_wrong_key_are_reported(tmp_path):
    var = str(tmp_path / "var")
    register_day(var)
    image = bytearray(open(os.path.join(var, "journal.img"), "rb").read())
    fm = open(os.path.join(var, "fiscal_memory.img"), "rb").read()
    off, ln = _records(image)[-3]  # in the open shift
    image[off + 10] ^= 0x04  # the timestamp: the CRC no longer matches
    rep = JR.read_journal(bytes(image), fm, KEY)
    assert not rep["ok"] and not rep["self_test"]["ok"]
    assert any("intact" in p for p in rep["problems"]), rep["problems"]
    # the right images under another key: nothing verifies
    rep = JR.read_journal(open(os.path.join(var, "journal.img"), "rb").read(), fm, b"another-key")
    assert not rep["ok"]


def test_bad_arguments_are_named(tmp_path):
    p = _run(str(tmp_path), "--key", str(tmp_path / "k"))
    assert p.returncode == 2 and "neither fjournal.bin + fmemory.bin nor journal.img" in p.stderr
    (tmp_path / "a.bin").write_bytes(b"\xff" * 100)
    (tmp_path / "b.bin").write_bytes(b"\xff" * 4096)
    (tmp_path / "k").write_bytes(KEY)
    p = _run(str(tmp_path / "a.bin"), str(tmp_path / "b.bin"), "--key", str(tmp_path / "k"))
    assert p.returncode == 2 and "not a whole number of 4 KiB sectors" in p.stderr


def test_kz_43_2_ring_gone_round_partly_reused_shift_still_verified():
    # a small log that has reused its oldest sectors: the first shift still
    # partly there is re-chained from its oldest record's own value; an
    # edit in it (CRC recomputed) is found
    b = fiscalised_bench(log_blocks=8, fm_blocks=2)
    r = b.reg
    while r.acc.oldest_seq == 1:
        for _ in range(6):
            sell(r, [line(price=25000, qty=2000)], cash=60000)
        r.login(1, "1111", A.MODE_SHIFT_CLOSE)
        r.close_shift()
        r.login(1, "1111", A.MODE_SALES)
        b.clock.advance(31 * 86400)  # past the retention window: sectors may be reused
    log, fm = bytes(b.log.data), bytes(b.fm.data)
    rep = JR.read_journal(log, fm, KEY)
    assert rep["ok"] and rep["log"]["oldest_seq"] > 1
    assert rep["log"]["shifts_verified"] == rep["fiscal_memory"]["z_count"] - 1  # the first shift is gone
    # the oldest record still in the log and the one after it
    image = bytearray(log)
    recs = sorted(_records(image), key=lambda x: struct.unpack_from("<I", image, x[0] + 4)[0])
    off, ln = recs[1]
    image[off + 8] ^= 0x01  # its timestamp, CRC recomputed
    end = off + 14 + ln + 32
    struct.pack_into("<I", image, end, crc32(image[off:end]))
    rep = JR.read_journal(bytes(image), fm, KEY)
    assert not rep["ok"] and any("record mac at record %d" % (rep["log"]["oldest_seq"] + 1) in p
                                 for p in rep["problems"]), rep["problems"]


def test_kz_9_reader_on_the_register_shells_day_matches_the_ofd(tmp_path):
    # tools/regshell.py: the register core with the real OFD client against
    # the simulated OFD; the reader's documents carry the signs the OFD stored
    import sqlite3

    var = str(tmp_path / "var")
    script = tmp_path / "day.txt"
    script.write_text("login 1 1234\nsale Нан 250 2\npay cash 500\ndeposit 1000\nsale Сүт 480 1\n"
                      "pay card 480\nz\n", encoding="utf-8")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "regshell.py"), "--var", var, "--catalogue",
                        "soft", "--script", str(script)], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    out = tmp_path / "out.json"
    r = _run(var, "--key", os.path.join(var, "device.key"), "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    rep = json.loads(out.read_text(encoding="utf-8"))
    signs = sorted(d["fiscal_sign"] for d in rep["documents"] if d["kind"] == "receipt")
    db = sqlite3.connect(os.path.join(var, "ofd.sqlite"))
    assert signs == sorted(row[0] for row in db.execute("SELECT fiscal_sign FROM tickets"))
    assert len(signs) == 2 and rep["z"][0]["sell_total"] == 98000 and rep["queue"] == []


def test_a_log_too_small_to_open_is_reported_not_raised(tmp_path):
    rep = JR.read_journal(b"\xff" * 8192, b"\xff" * 4096, KEY)
    assert not rep["ok"] and "does not open" in rep["problems"][0]
    assert JR.summary(rep).endswith("NOT VERIFIED")


def test_kz_2_3_2_edited_z_summary_in_fiscal_memory_is_reported(tmp_path):
    # Z 1's summary edited in fiscal memory, its CRC recomputed: the chain of
    # Z MACs says so (docs/journal.md, fiscal-memory slot)
    var = str(tmp_path / "var")
    register_day(var)
    fm = bytearray(open(os.path.join(var, "fiscal_memory.img"), "rb").read())
    fm[20] ^= 0x01  # a byte of Z 1's summary
    struct.pack_into("<I", fm, 320, crc32(fm[0:320]))
    rep = JR.read_journal(open(os.path.join(var, "journal.img"), "rb").read(), bytes(fm), KEY)
    assert not rep["ok"] and rep["self_test"]["reason"] == "z mac", rep["problems"]
    assert any(p.startswith("self-test: z mac") for p in rep["problems"])
