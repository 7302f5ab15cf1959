"""An update package (KZ-43.1): signed modules with their hashes, version and minimum version.

firmware/fleet/package.py stages a package as it streams in (update.NEW with its hash
manifest) and refuses a tampered, unsigned, wrongly signed, older or below-minimum one,
leaving nothing staged.
"""


import integrity
import update
from compat import exists
from fleet import package as P
from fleetkit import BOARD, FILES, RUNNING, package, public, reader, run, tmp_root
from kkm import texts as T
from tools import fleet_sign as FS


def _receive(data, root, running=RUNNING, key=None, chunks=None):
    return run(P.receive(reader(data, chunks), BOARD, running, key or public(), root))


def _refusal(data, root, **kw):
    try:
        _receive(data, root, **kw)
    except P.Refused as e:
        assert not exists(root + update.NEW) and not exists(root + P.BODY)
        return e.args
    raise AssertionError("the package was accepted")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_kz_43_1_a_signed_package_is_staged_with_its_manifest_in_small_chunks():
    root = tmp_root()
    chunks = []
    h = _receive(package(), root, chunks=chunks)
    assert (h.board, h.version, h.minimum) == (BOARD, "0.2.0", "0.1.0")
    stage = root + update.NEW
    for path, data in FILES:
        assert _read(stage + "/" + path) == data
    assert integrity.check(stage) is None  # what update.accept checks again
    # every read is a chunk but the signature's (held whole to be verified)
    sig = max(chunks)
    assert sig <= P.MAX_SIG and max(n for n in chunks if n != sig) <= P.CHUNK and len(package()) > 4 * P.CHUNK
    assert not exists(root + P.BODY)
    update.remove_tree(root)


def test_kz_43_1_a_tampered_file_is_refused_and_nothing_stays_staged():
    root = tmp_root()
    data = bytearray(package())
    data[-10] ^= 1  # a byte of the last module
    why, code = _refusal(bytes(data), root)
    assert why == P.TAMPERED + "fleet/updater.mpy" and code == P.T_REFUSED
    # a module swapped for another of the same size
    files = list(FILES)
    body = FS.body(files, BOARD, "0.2.0", "0.1.0")
    files[1] = ("kkm/money.mpy", b"M\x06money evi")
    assert _refusal(package(files=files, body=body), root)[0] == P.TAMPERED + "kkm/money.mpy"
    update.remove_tree(root)


def test_kz_43_1_unsigned_wrongly_signed_and_changed_headers_are_refused():
    root = tmp_root()
    assert _refusal(package(signed=False), root) == (P.UNSIGNED, P.T_BAD_SIGNATURE)
    other = FS.Key(5, 3, b"not-the-centre!!", b"\x07" * 32)
    assert _refusal(package(), root, key=other.public()) == (P.BAD_SIGNATURE, P.T_BAD_SIGNATURE)
    # the version raised in the body after signing: the signature no longer matches
    data = package(version="0.2.0")
    i = data.index(b"version 0.2.0")
    forged = data[:i] + b"version 9.2.0" + data[i + 13:]
    assert _refusal(forged, root) == (P.BAD_SIGNATURE, P.T_BAD_SIGNATURE)
    assert _refusal(b"GET / HTTP/1.1\r\n\r\n", root)[0] == P.NOT_PACKAGE
    update.remove_tree(root)


def test_kz_43_1_downgrades_and_packages_needing_a_newer_running_version_are_refused():
    root = tmp_root()
    assert _refusal(package(version="0.1.0"), root) == (P.NOT_NEWER + ": 0.1.0", P.T_OLD)
    assert _refusal(package(version="0.0.9", minimum="0.0.1"), root)[0] == P.NOT_NEWER + ": 0.0.9"
    assert _refusal(package(version="0.3.0", minimum="0.2.0"), root) == (P.BELOW_MINIMUM + ": 0.2.0", P.T_OLD)
    assert _refusal(package(board="esp32s3"), root)[0] == P.OTHER_BOARD + ": esp32s3"
    # numbers, not text: 0.10.0 is newer than 0.9.0
    assert _receive(package(version="0.10.0"), root, running="0.9.0").version == "0.10.0"
    assert P.newer("0.10.0", "0.9.0") and not P.newer("0.9.0", "0.10.0") and not P.newer("x", "0.1")
    update.remove_tree(root)


def test_kz_43_1_a_path_out_of_the_code_folder_is_refused():
    root = tmp_root()
    for bad in ("../main.py", "/boot.py", "kkm/../../main.py", P.MANIFEST):
        assert _refusal(package(files=[(bad, b"x")]), root)[0] == P.NOT_PACKAGE, bad
    update.remove_tree(root)


def test_kz_43_1_the_cashier_reads_each_update_state_in_kazakh_and_russian():
    for code in (P.T_REFUSED, P.T_BAD_SIGNATURE, P.T_OLD, P.T_WAITING, P.T_APPLYING, P.T_ROLLED_BACK,
                 P.T_CONFIRMED):
        kk, ru = T.text(code, "kk"), T.text(code, "ru")
        assert kk and ru and kk != ru and not kk.startswith("#")
