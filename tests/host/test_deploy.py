"""The service-centre build: firmware/ compiled for the ESP32 still imports and runs."""

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import deploy  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("mpy-cross") is None or shutil.which("micropython") is None,
                                reason="mpy-cross and micropython are installed by make setup")


def test_compiled_tree_mirrors_firmware_and_imports_on_micropython(tmp_path):
    out = tmp_path / "mpy"
    made = deploy.compile_tree(out=str(out))
    sources = [os.path.join(b, f) for b, _d, fs in os.walk(deploy.SOURCE) for f in fs if f.endswith(".py")]
    assert len(made) == len(sources)
    assert (out / "kkm" / "register.mpy").exists()
    # only .mpy files reach the board, never the sources
    assert not list(out.rglob("*.py"))
    code = ("import sys; sys.path.insert(0, '.')\n"
            "import compat, journal, kkm.register, ofd.codec\n"
            "from kkm import money\n"
            "print(money.dotted(5))\n")
    r = subprocess.run(["micropython", "-c", code], cwd=out, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "0.05"


def test_mpremote_commands_copy_every_top_level_entry(tmp_path):
    out = tmp_path / "mpy"
    deploy.compile_tree(out=str(out))
    args = deploy.mpremote_commands(out=str(out))
    assert args[0] == "exec" and "os.mkdir('/lib')" in args[1]
    copied = [args[i + 2] for i, a in enumerate(args) if a == "cp"]
    assert sorted(os.path.basename(p) for p in copied) == sorted(os.listdir(out))
