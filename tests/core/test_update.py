"""The software test at power-on and updates on the device (KZ-2.2, KZ-3.2, KZ-43.1).

firmware/integrity.py checks a code folder against its SHA-256 manifest;
firmware/update.py switches to a staged folder only with the shift closed and
every document acknowledged, and settles a version on trial: confirmed after a
passing self-test, rolled back after a failing one.
"""

import binascii
import hashlib
import os
import sys

import integrity
import update
from kkm import auth as A
from regkit import fiscalised_bench, sell


def _tmp():
    # /tmp on a PC; the filesystem's root on a board (make test-board)
    base = "/tmp" if "tmp" in os.listdir("/") else ""
    d = base + "/kkm-update-" + binascii.hexlify(os.urandom(6)).decode()
    os.mkdir(d)
    return d


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _code(folder, files, extra=()):
    # a code folder with its manifest: files {path: bytes}; extra: manifest lines
    os.mkdir(folder)
    lines = []
    for path in sorted(files):
        if "/" in path:
            sub = folder + "/" + path.rsplit("/", 1)[0]
            try:
                os.mkdir(sub)
            except OSError:
                pass
        _write(folder + "/" + path, files[path])
        lines.append(binascii.hexlify(hashlib.sha256(files[path]).digest()).decode() + " " + path)
    _write(folder + "/" + integrity.MANIFEST, ("\n".join(lines + list(extra)) + "\n").encode())


V1 = {"app.mpy": b"M\x06version one", "kkm/money.mpy": b"M\x06money", "kkm/register.mpy": b"M\x06reg" * 300}
V2 = {"app.mpy": b"M\x06version two", "kkm/money.mpy": b"M\x06money 2", "kkm/register.mpy": b"M\x06reg2" * 300}


def test_kz_2_2_kz_43_1_deployed_code_passes_and_each_change_is_named():
    root = _tmp()
    d = root + "/lib"
    _code(d, V1)
    assert integrity.check(d) is None
    _write(d + "/kkm/money.mpy", b"M\x06monex")
    assert integrity.check(d) == "changed: kkm/money.mpy"
    _write(d + "/kkm/money.mpy", V1["kkm/money.mpy"])
    _write(d + "/kkm/patch.mpy", b"M\x06foreign")
    assert integrity.check(d) == "unlisted: kkm/patch.mpy"
    os.remove(d + "/kkm/patch.mpy")
    os.remove(d + "/app.mpy")
    assert integrity.check(d) == "missing: app.mpy"
    os.remove(d + "/" + integrity.MANIFEST)
    assert integrity.check(d) == "no manifest"
    update.remove_tree(root)


def test_kz_43_1_frozen_code_is_checked_by_its_digest():
    root = _tmp()
    d = root + "/lib"
    digest = "ab" * 32
    _code(d, V1, [digest + " " + integrity.FROZEN])
    # an image without the digest, or with another, is not the deployed one
    assert integrity.check(d) == "frozen code changed"

    class Frozen:
        DIGEST = digest

    sys.modules["frozen_digest"] = Frozen
    try:
        assert integrity.check(d) is None
        Frozen.DIGEST = "cd" * 32
        assert integrity.check(d) == "frozen code changed"
    finally:
        del sys.modules["frozen_digest"]
        update.remove_tree(root)


def _refusal(reg, root):
    try:
        update.accept(reg, root)
    except update.Refused as e:
        return e.args[0]
    return None


def _z(reg):
    reg.login(1, "1111", A.MODE_SHIFT_CLOSE)
    reg.close_shift()
    reg.login(1, "1111", A.MODE_SALES)


def test_kz_43_1_update_only_with_the_shift_closed_and_every_document_acknowledged():
    root = _tmp() + "/"
    _code(root + update.LIB, V1)
    _code(root + update.NEW, V2)
    b = fiscalised_bench()
    reg = b.reg
    sell(reg)
    assert _refusal(reg, root) == update.SHIFT_OPEN
    _z(reg)
    b.ofd.online = False
    sell(reg)  # offline: the OFD has not acknowledged it (nor the Z after it)
    _z(reg)
    assert not reg.shift_open and reg.acc.unacked_count() == 2
    assert _refusal(reg, root) == update.UNACKED
    # nothing moved while refused
    assert _read(root + "lib/app.mpy") == V1["app.mpy"] and not update.on_trial(root)
    update.remove_tree(root)


def _ready_register():
    b = fiscalised_bench()
    assert not b.reg.shift_open and b.reg.acc.unacked_count() == 0
    return b.reg


def test_kz_43_1_a_staged_version_that_fails_its_manifest_is_refused():
    root = _tmp() + "/"
    _code(root + update.LIB, V1)
    _code(root + update.NEW, V2)
    _write(root + update.NEW + "/kkm/money.mpy", b"M\x06tampered")
    reg = _ready_register()
    assert _refusal(reg, root) == "staged changed: kkm/money.mpy"
    update.remove_tree(root + update.NEW)
    assert _refusal(reg, root) == update.NOTHING_STAGED
    assert integrity.check(root + update.LIB) is None
    update.remove_tree(root)


def test_update_on_trial_is_confirmed_by_a_passing_self_test():
    root = _tmp() + "/"
    _code(root + update.LIB, V1)
    _code(root + update.NEW, V2)
    assert update.settle(True, root) is None  # nothing on trial
    assert _refusal(_ready_register(), root) is None
    assert update.on_trial(root) and _read(root + "lib/app.mpy") == V2["app.mpy"]
    assert update.settle(True, root) == update.CONFIRMED
    assert not update.on_trial(root) and sorted(os.listdir(root)) == ["lib"]
    assert integrity.check(root + update.LIB) is None
    update.remove_tree(root)


def test_update_on_trial_is_rolled_back_by_a_failing_self_test():
    root = _tmp() + "/"
    _code(root + update.LIB, V1)
    _code(root + update.NEW, V2)
    assert _refusal(_ready_register(), root) is None
    assert update.settle(False, root) == update.ROLLED_BACK
    assert not update.on_trial(root) and sorted(os.listdir(root)) == ["lib"]
    assert _read(root + "lib/app.mpy") == V1["app.mpy"] and integrity.check(root + update.LIB) is None
    update.remove_tree(root)


def test_update_a_power_cut_between_the_renames_finishes_the_switch_at_boot():
    root = _tmp() + "/"
    _code(root + update.LIB, V1)
    _code(root + update.NEW, V2)
    _write(root + update.TRIAL, b"trial")
    os.rename(root + update.LIB, root + update.OLD)  # cut before the second rename
    update.resume(root)
    assert _read(root + "lib/app.mpy") == V2["app.mpy"] and update.on_trial(root)
    # a cut in the rollback, after the failed version was removed
    update.remove_tree(root + update.LIB)
    update.resume(root)
    assert _read(root + "lib/app.mpy") == V1["app.mpy"]
    update.remove_tree(root)


def test_kz_3_2_the_app_locks_payments_and_names_the_changed_module_at_power_on():
    import app as AP
    from kkm import document as D
    from kkm import locks as L
    from uikit import provisioned

    root = _tmp()
    b, app = provisioned()
    b.code = root + "/lib"
    _code(b.code, V1)
    app = AP.build(b)
    assert AP.self_test_failed(app.reg) == [] and AP.ready_line(app).endswith("ready: self-test passed")
    _write(b.code + "/kkm/money.mpy", b"M\x06monex")
    app = AP.build(b)  # the next power-on
    assert AP.self_test_failed(app.reg) == [L.SELFTEST_SW]
    assert AP.ready_line(app).endswith("self-test FAILED, locked [303] changed: kkm/money.mpy")
    # the display says why: the software test failed, in this module
    frame = " ".join(app.ui.frame())
    assert app.reg.lock_message(L.SELFTEST_SW).split()[0] in frame and "money.mpy" in frame
    app.reg.login(1, "1111", A.MODE_SALES)
    try:
        app.reg.open_receipt(D.OP_SELL)
        raise AssertionError("a sale opened under the software-test lock")
    except L.Locked as e:
        assert e.args[0] == L.SELFTEST_SW
    update.remove_tree(root)
