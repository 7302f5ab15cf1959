"""The service-centre build: each board's tree of .mpy files for the ESP32 and the S3, its hash
manifest (KZ-43.1), and the compiled firmware still importing and running."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tools import deploy

pytestmark = pytest.mark.skipif(shutil.which("mpy-cross") is None or shutil.which("micropython") is None,
                                reason="mpy-cross and micropython are installed by make setup")


def test_board_tree_holds_every_firmware_module_compiled_and_imports_on_micropython(tmp_path):
    tree = deploy.build("esp32", out=str(tmp_path))
    lib = os.path.join(tree, deploy.LIB)
    firmware = os.path.join(deploy.ROOT, "firmware")
    sources = [os.path.relpath(os.path.join(b, f), firmware)[:-3] + ".mpy"
               for b, _d, fs in os.walk(firmware) for f in fs if f.endswith(".py")]
    built = deploy.files_below(lib)
    assert sources and all(s.replace(os.sep, "/") in built for s in sources)
    # only compiled modules reach the board's lib, never the sources
    assert not [p for p in built if p.endswith(".py")]
    # the board's package, not another board's
    assert "boards/__init__.mpy" in built and not [p for p in built if p.startswith(("boards/host", "boards/vboard"))]
    code = ("import sys; sys.path.insert(0, '.')\n"
            "import compat, journal, kkm.register, ofd.codec, integrity, update\n"
            "from kkm import money\n"
            "print(money.dotted(5))\n")
    r = subprocess.run(["micropython", "-c", code], cwd=lib, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "0.05"


def test_kz_43_1_manifest_names_every_file_of_lib_with_its_sha256(tmp_path):
    tree = deploy.build("vboard", out=str(tmp_path))
    lib = os.path.join(tree, deploy.LIB)
    with open(os.path.join(lib, deploy.MANIFEST)) as f:
        lines = [line.split() for line in f]
    listed = dict((p, hx) for hx, p in lines)
    assert sorted(listed) == sorted(p for p in deploy.files_below(lib) if p != deploy.MANIFEST)
    for p, hx in listed.items():
        with open(os.path.join(lib, p), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == hx
    # the board's main.py starts the app (at the top of its filesystem, as source)
    assert os.path.exists(os.path.join(tree, "main.py"))
    # the firmware's own check agrees with the build
    code = "import sys; sys.path.insert(0, %r)\nimport integrity\nprint(integrity.check(%r))" % (lib, lib)
    r = subprocess.run(["micropython", "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "None", r.stdout + r.stderr


def test_make_mpy_reports_each_chip_and_the_total(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(deploy, "BUILD", str(tmp_path))
    assert deploy.main(["mpy"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[:2]] == ["esp32", "esp32s3"]
    assert all("-march=xtensawin" in line for line in out[:2])
    sizes = [int(line.split()[4]) for line in out[:2]]
    assert out[2] == "total %d bytes" % sum(sizes) and min(sizes) > 100000


def test_kz_43_1_a_frozen_image_is_deployed_as_the_digest_of_its_code(tmp_path):
    tree = deploy.build("esp32", out=str(tmp_path / "tree"), frozen=True)
    lib = os.path.join(tree, deploy.LIB)
    assert deploy.files_below(lib) == [deploy.MANIFEST]
    with open(os.path.join(lib, deploy.MANIFEST)) as f:
        assert f.read() == "%s frozen:\n" % deploy.frozen_digest()
    firmware = os.path.join(deploy.ROOT, "firmware")

    def check(folder):
        # the firmware's check with the digest module of an image
        code = "import sys; sys.path[:0] = [%r, %r]\nimport integrity\nprint(integrity.check(%r))" % (
            folder, firmware, lib)
        r = subprocess.run(["micropython", "-c", code], capture_output=True, text=True, timeout=60)
        return r.stdout.strip() or r.stderr

    made = deploy.write_frozen_module(str(tmp_path / "image"))
    assert check(os.path.dirname(made)) == "None"
    # an image built from other code (one module changed) is not the deployed one
    other = tmp_path / "other"
    other.mkdir()
    (other / deploy.DIGEST_MODULE).write_text("DIGEST = %r\n" % hashlib.sha256(b"other code").hexdigest())
    assert check(str(other)) == "frozen code changed"


def test_the_digest_covers_the_frozen_code(tmp_path, monkeypatch):
    # a module of the image changed: another digest
    before = deploy.frozen_digest()
    out, _ = deploy.image_modules()
    changed = dict(out)
    copy = tmp_path / "app.py"
    copy.write_bytes(open(out["app.py"], "rb").read() + b"\n")
    changed["app.py"] = str(copy)
    monkeypatch.setattr(deploy, "image_modules", lambda: (changed, []))
    assert deploy.frozen_digest() != before


def test_each_board_tree_holds_the_board_packages_it_imports():
    # the S3's package builds on boards.esp32 (chip, wiring): both go to its tree
    for board in deploy.BOARDS:
        dests = {d for _s, d in deploy.modules(board)}
        for src, dest in deploy.modules(board):
            with open(src, encoding="utf-8") as f:
                text = f.read()
            for pkg in set(re.findall(r"^\s*from (boards\.[\w.]+) import", text, re.M)):
                path = pkg.replace(".", "/")
                assert path + ".py" in dests or path + "/__init__.py" in dests, (board, dest, pkg)
        assert "boards/esp32/chip.py" in dests and "boards/esp32/wiring.py" in dests


def test_the_boot_software_test_fits_a_small_heap(tmp_path):
    # the modules loaded take about 7.4 KB of the 16 KB heap; the check of 56 files fits the rest
    lib = os.path.join(deploy.build("vboard", out=str(tmp_path)), deploy.LIB)
    code = "import sys; sys.path.insert(0, %r)\nimport integrity\nprint(integrity.check(%r))" % (lib, lib)
    r = subprocess.run(["micropython", "-X", "heapsize=16K", "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "None", r.stdout + r.stderr


class _Console:
    # what a serial port gives: the bytes, a few at a time
    def __init__(self, data):
        self.data = data
        self.in_waiting = 0

    def read(self, n):
        out, self.data = self.data[:3], self.data[3:]
        return out


def test_deploy_waits_for_the_ready_line_and_otherwise_shows_the_console():
    line, _ = deploy.wait_ready(_Console(b"ets Jun  8 2016\r\nKKM 0.1.0 ready: self-test passed\r\n"), 5)
    assert line == "KKM 0.1.0 ready: self-test passed"
    line, seen = deploy.wait_ready(_Console(b"Traceback (most recent call last):\r\nImportError: no module named 'app'\r\n"), 0.2)
    assert line is None and seen == ["Traceback (most recent call last):", "ImportError: no module named 'app'"]


def test_a_register_is_provisioned_with_its_broker_and_the_board_reads_it(tmp_path):
    # make deploy FLEET=file: the telemetry's broker in lib/fleet.json, under the
    # manifest; boards/esp32/chip.py gives it to the app as board.fleet
    from boards.esp32 import chip

    settings = {"host": "mqtt.centre.kz", "port": 8883, "client_id": "KKM000000123", "user": "kkm123",
                "password": "s3cret", "tls": True}
    good = tmp_path / "fleet.json"
    good.write_text(json.dumps(settings))
    tree = deploy.build("esp32s3", out=str(tmp_path / "out"), fleet=str(good))
    lib = os.path.join(tree, deploy.LIB)
    assert deploy.FLEET in deploy.manifest(lib)
    assert chip.fleet_settings(lib) == settings
    assert chip.fleet_settings(str(tmp_path)) == settings and chip.fleet_settings(str(tmp_path / "none")) is None
    bad = tmp_path / "bad.json"
    for text in ("{host: 1}", '{"host": "mqtt.centre.kz"}', '["mqtt.centre.kz", 1883]'):
        bad.write_text(text)
        with pytest.raises(SystemExit):
            deploy.build("esp32s3", out=str(tmp_path / "out2"), fleet=str(bad))
