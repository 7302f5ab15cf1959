# The service centre's commands against a simulated chip (tests/host/
# fake_esptool.py: esptool's command line over a flash file): make flash
# writes at the chip's offset and refuses, unless a verified journal backup
# matches the chip, anything that would destroy the fiscal journal (erase,
# another partition table); make journal-backup reads both partitions,
# verifies them with the journal reader and records the backup; make
# firmware says what a build lacks (KZ-28, KZ-43.2, issue 11 §1 §3).
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for _p in (os.path.join(ROOT, "tests", "host"), os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"),
           ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from test_journal_reader import register_day  # noqa: E402
from tools import partition_table as PT  # noqa: E402
from tools import service as S  # noqa: E402

FAKE = os.path.join(ROOT, "tests", "host", "fake_esptool.py")
MAC = "f4:12:fa:00:00:01"
S3_TABLE = PT.read_csv(os.path.join(ROOT, "boards", "esp32s3", "partitions.csv"))
STOCK_TABLE = PT.parse_csv("nvs, data, nvs, 0x9000, 0x6000\nphy_init, data, phy, 0xf000, 0x1000\n"
                           "factory, app, factory, 0x10000, 0x1F0000\n")


class Chip:
    pass


@pytest.fixture
def chip(tmp_path, monkeypatch):
    # an S3 with 16 MiB flash, the register's table and a register day in
    # its journal partitions; esptool is the double
    day = str(tmp_path / "day")
    register_day(day)
    flash = bytearray(b"\xff" * (16 << 20))
    flash[0x8000:0x8000 + PT.TABLE_SIZE] = PT.to_binary(S3_TABLE)
    j = PT.journal(S3_TABLE)
    for name, img in (("fjournal", "journal.img"), ("fmemory", "fiscal_memory.img")):
        data = open(os.path.join(day, img), "rb").read()
        flash[j[name]["offset"]:j[name]["offset"] + len(data)] = data
    c = Chip()
    c.dir = tmp_path / "chip"
    c.dir.mkdir()
    (c.dir / "flash.bin").write_bytes(flash)
    (c.dir / "mac.txt").write_text(MAC)
    (c.dir / "port").write_text("")
    monkeypatch.setenv("FAKE_CHIP", str(c.dir))
    monkeypatch.setenv("ESPTOOL", "%s %s" % (sys.executable, FAKE))
    c.port = str(c.dir / "port")
    c.key = os.path.join(day, "device.key")
    c.backups = str(tmp_path / "backups")
    return c


def _image(tmp_path, table, name="firmware.bin", app=100000):
    # a combined S3 image: bootloader at 0, the table at 0x8000, the app at 0x10000
    img = bytearray(b"\x11" * 0x8000) + PT.to_binary(table)
    img += b"\xff" * (0x10000 - len(img)) + b"\x22" * app
    p = tmp_path / name
    p.write_bytes(img)
    return str(p)


def _flash(c):
    return (c.dir / "flash.bin").read_bytes()


def _calls(c):
    return (c.dir / "calls.txt").read_text().splitlines()


def _journal(c):
    j = PT.journal(S3_TABLE)
    f = _flash(c)
    return {n: f[r["offset"]:r["offset"] + r["size"]] for n, r in j.items()}


def test_flash_with_the_same_table_writes_at_offset_0_and_keeps_the_journal(chip, tmp_path):
    before = _journal(chip)
    img = _image(tmp_path, S3_TABLE)
    S.flash("esp32s3", chip.port, img, root=chip.backups)
    after = _flash(chip)
    assert after[0:4] == b"\x11" * 4 and after[0x10000:0x10004] == b"\x22" * 4
    assert "write-flash 0x0 " + img in _calls(chip)
    assert _journal(chip) == before


def test_kz_28_flash_that_would_destroy_the_journal_is_refused_without_a_backup(chip, tmp_path):
    before = _flash(chip)
    stock = _image(tmp_path, STOCK_TABLE, "stock.bin")
    with pytest.raises(S.ServiceError, match="has no fjournal/fmemory.*no journal backup.*make journal-backup"):
        S.flash("esp32s3", chip.port, stock, root=chip.backups)
    with pytest.raises(S.ServiceError, match="erase-flash wipes the whole chip"):
        S.flash("esp32s3", chip.port, _image(tmp_path, S3_TABLE), erase=True, root=chip.backups)
    big = _image(tmp_path, S3_TABLE, "big.bin", app=0x700000)  # reaches into fjournal at 0x700000
    with pytest.raises(S.ServiceError, match="reaches into the journal"):
        S.flash("esp32s3", chip.port, big, root=chip.backups)
    assert _flash(chip) == before
    assert not [c for c in _calls(chip) if c.startswith(("write-flash", "erase"))]


def test_kz_28_verified_backup_then_erase_and_flash(chip, tmp_path, capsys):
    folder = S.backup("esp32s3", chip.port, chip.key, chip.backups)
    rec = json.load(open(os.path.join(folder, "backup.json")))
    assert rec["mac"] == MAC and rec["verified"] and rec["partitions"]["fjournal"]["offset"] == 0x700000
    j = _journal(chip)
    assert open(os.path.join(folder, "fjournal.bin"), "rb").read() == j["fjournal"]
    assert json.load(open(os.path.join(folder, "report.json")))["ok"]
    assert os.path.exists(os.path.join(folder, "documents.csv"))
    # the backup folder round-trips through the reader as a dump
    from tools import journal_reader
    assert journal_reader.main([folder, "--key", chip.key]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED" in out and "closed shifts verified against their Z: 2" in out
    img = _image(tmp_path, S3_TABLE)
    S.flash("esp32s3", chip.port, img, erase=True, root=chip.backups)
    calls = _calls(chip)
    assert calls.index("erase-flash") < calls.index("write-flash 0x0 " + img)
    assert [c for c in calls if c.startswith("verify-flash")][-1].startswith("verify-flash 0x700000 ")
    assert _journal(chip)["fjournal"] == b"\xff" * (8 << 20)


def test_new_table_after_backup_starts_a_blank_journal(chip, tmp_path):
    S.backup("esp32s3", chip.port, chip.key, chip.backups)
    moved = [dict(r) for r in S3_TABLE]
    moved[-2]["size"] = 0x700000  # fjournal 7 MiB
    moved[-1]["offset"] = 0xE00000
    S.flash("esp32s3", chip.port, _image(tmp_path, moved), root=chip.backups)
    assert "erase-region 0x700000 0x700000" in _calls(chip) and "erase-region 0xe00000 0x100000" in _calls(chip)
    assert _flash(chip)[0x700000:0xF00000] == b"\xff" * 0x800000


def test_journal_changed_since_the_backup_is_refused(chip, tmp_path):
    S.backup("esp32s3", chip.port, chip.key, chip.backups)
    f = bytearray(_flash(chip))
    f[0x700000 + 4096 * 3 + 60] = 0x00  # the register wrote on after the backup
    (chip.dir / "flash.bin").write_bytes(f)
    with pytest.raises(S.ServiceError, match="changed since the backup"):
        S.flash("esp32s3", chip.port, _image(tmp_path, S3_TABLE), erase=True, root=chip.backups)
    assert "erase-flash" not in _calls(chip)


def test_kz_43_2_backup_of_a_tampered_journal_is_kept_and_flashing_stays_refused(chip, tmp_path):
    f = bytearray(_flash(chip))
    f[0x700000 + 52 + 10] ^= 0x01  # a record's timestamp: its CRC fails
    (chip.dir / "flash.bin").write_bytes(f)
    with pytest.raises(S.ServiceError, match="does not verify: the backup in .* is kept as evidence"):
        S.backup("esp32s3", chip.port, chip.key, chip.backups)
    folder, rec = S.latest_backup(MAC, chip.backups)
    assert rec["verified"] is False and rec["problems"] and os.path.exists(os.path.join(folder, "fjournal.bin"))
    with pytest.raises(S.ServiceError, match="did not verify"):
        S.flash("esp32s3", chip.port, _image(tmp_path, S3_TABLE), erase=True, root=chip.backups)


def test_clear_errors_for_port_image_key_and_build(chip, tmp_path, monkeypatch):
    img = _image(tmp_path, S3_TABLE)
    with pytest.raises(S.ServiceError, match="no serial port: give PORT="):
        S.flash("esp32s3", None, img)
    with pytest.raises(S.ServiceError, match="/dev/ttyNOPE does not exist"):
        S.flash("esp32s3", "/dev/ttyNOPE", img)
    with pytest.raises(S.ServiceError, match="no image at .*make firmware BOARD=esp32s3"):
        S.flash("esp32s3", chip.port, str(tmp_path / "none.bin"))
    with pytest.raises(S.ServiceError, match="no partition table at 0x8000"):
        S.flash("esp32s3", chip.port, _raw(tmp_path))
    with pytest.raises(S.ServiceError, match="KEY=<file of this register's device key>"):
        S.backup("esp32s3", chip.port, None, chip.backups)
    monkeypatch.delenv("MPY_DIR", raising=False)
    monkeypatch.delenv("IDF_PATH", raising=False)
    with pytest.raises(S.ServiceError) as e:
        S.firmware("esp32s3")
    assert "MPY_DIR: a MicroPython checkout" in str(e.value) and "IDF_PATH: ESP-IDF 5.x" in str(e.value)
    monkeypatch.setenv("MPY_DIR", str(tmp_path))
    with pytest.raises(S.ServiceError, match="is not a MicroPython checkout"):
        S.firmware("esp32s3")


def _raw(tmp_path):
    p = tmp_path / "app-only.bin"
    p.write_bytes(b"\xe9" + b"\x00" * 0x20000)
    return str(p)


def test_firmware_build_commands_name_the_board_definition():
    cmds = S.firmware_commands("esp32", "FLASH_8MiB", "/src/micropython")
    assert cmds[0] == ["make", "-C", "/src/micropython/mpy-cross"]
    assert cmds[-1] == ["make", "-C", "/src/micropython/ports/esp32",
                        "BOARD_DIR=" + os.path.join(ROOT, "boards", "esp32", "KKM_ESP32"), "BOARD_VARIANT=FLASH_8MiB"]
    assert cmds[1] == cmds[-1] + ["submodules"]  # for this board: the S3 needs TinyUSB
    assert S.build_dir("esp32", "FLASH_8MiB") == "build-KKM_ESP32-FLASH_8MiB"
    assert S.build_dir("esp32s3", None) == "build-KKM_ESP32S3"
    assert all(os.path.exists(os.path.join(ROOT, b["dir"], "mpconfigboard.cmake")) for b in S.BOARDS.values())
    assert S.BOARDS["esp32"]["offset"] == 0x1000 and S.BOARDS["esp32s3"]["offset"] == 0


def test_make_targets_report_a_missing_port(tmp_path):
    for target in ("flash", "journal-backup"):
        r = subprocess.run(["make", "-s", "-o", ".venv/.installed", target], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode != 0 and "no serial port: give PORT=" in r.stderr, (target, r.stdout, r.stderr)


def test_make_journal_backup_then_make_flash_erase(chip, tmp_path):
    # the Makefile's variables reach the commands: PORT, KEY, BACKUPS, IMAGE, ERASE
    img = _image(tmp_path, S3_TABLE)
    common = ["make", "-s", "-o", ".venv/.installed", "PORT=" + chip.port, "BACKUPS=" + chip.backups]
    r = subprocess.run(common + ["flash", "IMAGE=" + img, "ERASE=1"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode != 0 and "no journal backup" in r.stderr, r.stdout + r.stderr
    r = subprocess.run(common + ["journal-backup", "KEY=" + chip.key], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "VERIFIED" in r.stdout, r.stdout + r.stderr
    r = subprocess.run(common + ["flash", "IMAGE=" + img, "ERASE=1"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "flashed" in r.stdout, r.stdout + r.stderr
    assert "erase-flash" in _calls(chip) and _flash(chip)[0x10000:0x10004] == b"\x22" * 4


FAKE_MPREMOTE = os.path.join(ROOT, "tests", "host", "fake_mpremote.py")


def test_backup_through_mpremote_equals_the_esptool_backup(chip, monkeypatch):
    # the running MicroPython reads its own partitions (esp32.Partition),
    # as on a board in service or the virtual board
    monkeypatch.setenv("MPREMOTE", "%s %s" % (sys.executable, FAKE_MPREMOTE))
    by_esptool = S.backup("esp32s3", chip.port, chip.key, chip.backups)
    by_mpremote = S.backup("esp32s3", chip.port, chip.key, chip.backups + "2", via="mpremote")
    for name in ("fjournal.bin", "fmemory.bin"):
        assert open(os.path.join(by_esptool, name), "rb").read() == open(os.path.join(by_mpremote, name), "rb").read()
    rec = json.load(open(os.path.join(by_mpremote, "backup.json")))
    assert rec["mac"] == MAC and rec["verified"] and rec["via"] == "mpremote"
    assert rec["partitions"]["fmemory"]["offset"] == 0xF00000
    # a flash after it checks the chip against it with esptool
    S.flash("esp32s3", chip.port, _image(chip.dir.parent, S3_TABLE), erase=True, root=chip.backups + "2")


def test_readout_transfer_errors_are_caught(tmp_path):
    ok = "M f412fa000001\nP fjournal 7340032 4096\nF\nH %s\nP fmemory 15728640 4096\nF\nH %s\nE\n"
    import hashlib
    h = hashlib.sha256(b"\xff" * 4096).hexdigest()
    mac, parts = S.parse_readout(ok % (h, h), str(tmp_path))
    assert mac == MAC and parts["fjournal"]["offset"] == 0x700000
    with pytest.raises(S.ServiceError, match="differs from the board's own SHA-256"):
        S.parse_readout(ok % ("00" * 32, h), str(tmp_path))
    with pytest.raises(S.ServiceError, match="ended early"):
        S.parse_readout("M f412fa000001\nP fjournal 7340032 4096\nF\n", str(tmp_path))
    with pytest.raises(S.ServiceError, match="no fmemory partition"):
        S.parse_readout("M f412fa000001\nX fmemory\n", str(tmp_path))


def test_kz_43_1_firmware_build_freezes_the_digest_of_its_code(tmp_path, monkeypatch):
    # the digest module is written before the port's build reads manifest.py
    from tools import deploy

    digest = os.path.join(deploy.FROZEN_DIR, deploy.DIGEST_MODULE)
    if os.path.exists(digest):
        os.remove(digest)
    seen = []

    class Done:
        returncode = 0

    def run(cmd, env=None):
        with open(digest) as f:
            seen.append(f.read())
        out = tmp_path / "ports" / "esp32" / S.build_dir("esp32", None) / "firmware.bin"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"image")
        return Done()

    monkeypatch.setenv("MPY_DIR", str(tmp_path))
    monkeypatch.setattr(S, "missing_for_build", lambda mpy, idf: [])
    monkeypatch.setattr(S.subprocess, "run", run)
    monkeypatch.setattr(S, "default_image", lambda board, variant=None: str(tmp_path / "out.bin"))
    S.firmware("esp32")
    assert len(seen) == 3 and all("DIGEST = %r" % deploy.frozen_digest() in s for s in seen)
