"""The service centre's signing and serving tools (KZ-43.1): tools/fleet_sign.py never
reuses a one-time key, tools/update_server.py files packages and indexes the latest of each
board, tools/deploy.py provisions the public key inside the manifest.
"""

import os
import subprocess
import sys

import pytest

from fleet import sign as S
from tools import deploy, fleet_sign, update_server

TOOLS = os.path.dirname(fleet_sign.__file__)


def _keygen(tmp_path):
    key = str(tmp_path / "update.key")
    fleet_sign.save_new(key, fleet_sign.new_key(5))  # H5: 32 one-time keys
    return key


def _next(key):
    with open(key) as f:
        return fleet_sign._parse(f.read())[1]


def test_kz_43_1_each_signature_takes_the_next_one_time_key_and_a_spent_key_signs_no_more(tmp_path):
    key = _keygen(tmp_path)
    with open(key + ".pub", "rb") as f:
        pub = f.read()
    assert len(pub) == S.PUB_SIZE and oct(os.stat(key).st_mode & 0o777) == "0o600"
    s1 = fleet_sign.sign_file(key, b"one")
    s2 = fleet_sign.sign_file(key, b"two")
    assert S.verify(pub, b"one", s1) and S.verify(pub, b"two", s2)
    assert (int.from_bytes(s1[:4], "big"), int.from_bytes(s2[:4], "big")) == (0, 1) and _next(key) == 2
    # the counter is on disk before the signature exists: a signer that fails after the
    # reservation wastes that key, never reuses it
    k, q = fleet_sign.reserve(key)
    assert q == 2 and _next(key) == 3
    with pytest.raises(SystemExit, match="exists"):
        fleet_sign.save_new(key, fleet_sign.new_key(5))
    with open(key) as f:
        text = f.read()
    with open(key, "w") as f:
        f.write(text.replace("next 3", "next 32"))
    with pytest.raises(SystemExit, match="used up"):
        fleet_sign.sign_file(key, b"three")


def test_kz_43_1_the_server_files_packages_by_board_and_version_and_indexes_the_latest(tmp_path):
    key = _keygen(tmp_path)
    tree = tmp_path / "lib"
    (tree / "kkm").mkdir(parents=True)
    (tree / "app.mpy").write_bytes(b"M\x06app")
    (tree / "kkm" / "money.mpy").write_bytes(b"M\x06money")
    (tree / "firmware.sha256").write_text("left out: the register writes its own\n")
    served = str(tmp_path / "served")
    for v in ("0.2.0", "0.10.0", "0.9.1"):
        out = str(tmp_path / ("%s.kkm" % v))
        r = subprocess.run([sys.executable, os.path.join(TOOLS, "fleet_sign.py"), "sign", "--key", key, "--tree",
                            str(tree), "--board", "esp32s3", "--version", v, "--minimum", "0.1.0", "--out", out],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "signed" in r.stdout, r.stdout + r.stderr
        assert update_server.publish(served, out).endswith(os.path.join("esp32s3", v + ".kkm"))
    idx = update_server.index(served)
    assert idx["esp32s3"]["version"] == "0.10.0" and idx["esp32s3"]["url"] == "/esp32s3/0.10.0.kkm"
    assert _next(key) == 3
    body = update_server.read_header(os.path.join(served, "esp32s3", "0.9.1.kkm"))
    assert (body.board, body.version, body.minimum) == ("esp32s3", "0.9.1", "0.1.0")
    bad = tmp_path / "bad.kkm"
    bad.write_bytes(b"not a package")
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "update_server.py"), "publish", "--dir", served, str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "not an update package" in r.stderr


def test_kz_43_1_deploy_provisions_the_public_key_in_the_code_folder_under_its_manifest(tmp_path):
    key = _keygen(tmp_path)
    tree = deploy.build("esp32s3", str(tmp_path / "build"), frozen=True, update_key=key + ".pub")
    lib = os.path.join(tree, deploy.LIB)
    with open(os.path.join(lib, deploy.UPDATE_KEY), "rb") as f, open(key + ".pub", "rb") as g:
        assert f.read() == g.read()
    assert deploy.UPDATE_KEY in deploy.manifest(lib)
    from fleet.updater import provisioned_key

    assert provisioned_key(lib) is not None and provisioned_key(str(tmp_path)) is None


def test_kz_43_1_a_package_keeps_the_signers_public_key_so_the_new_version_takes_updates(tmp_path):
    import asyncio

    from fleet import package as P

    key = _keygen(tmp_path)
    tree = tmp_path / "lib"
    tree.mkdir()
    (tree / "app.mpy").write_bytes(b"M\x06app")
    out = str(tmp_path / "p.kkm")
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "fleet_sign.py"), "sign", "--key", key, "--tree", str(tree),
                        "--board", "esp32s3", "--version", "0.2.0", "--out", out], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    with open(out, "rb") as f:
        data = f.read()
    pos = [0]

    async def read(n):
        pos[0] += n
        return data[pos[0] - n:pos[0]]

    with open(key + ".pub", "rb") as f:
        pub = f.read()
    root = str(tmp_path / "flash") + "/"
    os.mkdir(root)
    asyncio.run(P.receive(read, "esp32s3", "0.1.0", pub, root))
    with open(root + "lib.new/" + deploy.UPDATE_KEY, "rb") as f:
        assert f.read() == pub
