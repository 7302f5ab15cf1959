"""Signed updates end to end (KZ-43.1): the register's updater downloads a package from the
update server (tools/update_server.py) over real sockets through its channels, refuses a
tampered, unsigned or older one, waits while a shift is open or documents are queued,
applies it through firmware/update.py, and the power-on after the restart confirms it or
rolls it back (power_on.start with a fake reset, on the PC's filesystem).
"""

import asyncio
import json
import os
import socket
import sys
import urllib.request

import pytest

import app as AP
import power_on
import update
from fleet import package as P
from fleet import updater as U
from fleetkit import BOARD, package, public
from kkm import auth as A
from net.tcp import TcpChannel
from ofdkit import HOST
from regkit import sell
from tools import deploy, update_server
from uikit import provisioned

UPDATES = "updates.test"  # the update server's name; the board's channel leads it to this run's server
APP_SOURCE = open(os.path.join(deploy.ROOT, "firmware", "app.py"), "rb").read()
V1 = [("app.py", b"# version one\n"), ("kkm/extra.py", b"X = 1\n")]
# the next version: the register's app at 0.2.0; a broken one that does not start
V2 = [("app.py", APP_SOURCE.replace(b'VERSION = "0.1.0"', b'VERSION = "0.2.0"')), ("kkm/extra.py", b"X = 2\n")]
BROKEN = [("app.py", b"raise RuntimeError('this version does not start')\n"), ("kkm/extra.py", b"X = 3\n")]


class Fleet:
    """A provisioned register with an update key, its code folder, and an update server."""

    def __init__(self, tmp_path):
        self.root = str(tmp_path / "flash") + "/"
        lib = self.root + update.LIB
        os.makedirs(lib + "/kkm")
        for path, data in V1:
            with open(lib + "/" + path, "wb") as f:
                f.write(data)
        deploy.write_manifest(lib)
        self.served = tmp_path / "updates"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]  # the server's, at each step
        self.resets = []
        b, _app = provisioned()
        b.update_key = public()
        b.name = BOARD
        b.update_root = self.root
        b.code = lib
        b.reset = lambda: self.resets.append(1)
        b.link.addrs = [HOST]  # the OFD's link reaches the OFD only

        def resolve(host, port):
            if host != UPDATES:
                raise OSError("no such host")
            return socket.getaddrinfo("127.0.0.1", self.port, 0, socket.SOCK_STREAM)

        lan = TcpChannel(resolver=resolve)
        lan.name = "lan"
        b.channels.append(lan)
        self.board = b
        self.app = AP.build(b)
        self.reg = self.app.reg
        self.reg.login(1, "1111", A.MODE_SALES)

    def publish(self, data, name="pkg.kkm"):
        path = self.served.parent / name
        path.write_bytes(data)
        return update_server.publish(str(self.served), str(path))

    def url(self, version):
        return "http://%s:%d/%s/%s.kkm" % (UPDATES, self.port, BOARD, version)

    def step(self):
        # one step of the updater with the update server up
        async def go():
            runner, _port = await update_server.start(str(self.served), port=self.port)
            try:
                await self.app.updater.step()
            finally:
                await runner.cleanup()

        asyncio.run(go())

    def lib(self, path="app.py"):
        with open(self.root + update.LIB + "/" + path, "rb") as f:
            return f.read()

    def issue(self, iss, online):
        if online:
            asyncio.run(self.app.desk.sender.live(iss))
        else:
            self.reg.settle(iss, None)  # the OFD out of reach: the autonomous sign, queued

    def sell(self, online=True):
        self.issue(sell(self.reg), online)

    def close_shift(self, online=True):
        self.reg.login(1, "1111", A.MODE_SHIFT_CLOSE)
        self.issue(self.reg.close_shift(), online)
        self.reg.login(1, "1111", A.MODE_SALES)

    def replay(self):
        s = self.app.desk.sender
        for _ in range(5):
            s.due = None
            asyncio.run(s.step())
        assert self.reg.acc.unacked_count() == 0

    def boot(self):
        # the device's main.py: power_on.start runs the code folder's app (the PC's
        # modules below it), settles a version on trial, serves the app
        served = []
        saved = sys.modules.pop("app")
        sys.path.insert(0, self.root + update.LIB)
        sys.dont_write_bytecode = True  # no __pycache__ in the code folder: its manifest lists every file
        try:
            try:
                new = __import__("app")
                new.serve = served.append
            except RuntimeError:
                sys.modules.pop("app", None)  # a version that does not start: start() finds out
            power_on.start(lambda: self.board, self.board.reset, self.root)
            return served
        finally:
            sys.dont_write_bytecode = False
            sys.path.remove(self.root + update.LIB)
            sys.modules["app"] = saved


@pytest.fixture
def fleet(tmp_path):
    return Fleet(tmp_path)


def test_kz_43_1_an_update_from_the_update_server_is_applied_and_confirmed_by_its_self_test(fleet, capsys):
    fleet.publish(package("0.2.0", files=V2))
    fleet.publish(package("0.1.5", files=V1), "older.kkm")
    u = fleet.app.updater
    assert u is not None and u.state == U.IDLE
    # the index names the latest version of each board
    fleet.step()  # nothing announced: nothing fetched
    assert u.state == U.IDLE and not os.path.exists(fleet.root + update.NEW)

    async def index():
        runner, port = await update_server.start(str(fleet.served))
        try:
            return await asyncio.to_thread(lambda: json.load(urllib.request.urlopen(
                "http://127.0.0.1:%d/index.json" % port)))
        finally:
            await runner.cleanup()

    idx = asyncio.run(index())
    assert idx[BOARD]["version"] == "0.2.0" and idx[BOARD]["url"] == "/%s/0.2.0.kkm" % BOARD
    assert u.announce(fleet.url("0.2.0"), idx[BOARD]["version"])
    fleet.step()  # shift closed, everything acknowledged: downloaded, staged, applied
    assert u.state == U.APPLYING and fleet.resets == [1]
    assert fleet.lib() == V2[0][1] and update.on_trial(fleet.root)
    served = fleet.boot()
    out = capsys.readouterr().out
    assert "update confirmed" in out and "KKM 0.2.0 ready: self-test passed" in out
    assert len(served) == 1 and served[0].updater is not None
    assert sorted(os.listdir(fleet.root)) == ["lib", U.APPLIED]
    # the new version's updater says so once (the telemetry's event), and forgets it
    new = served[0].updater
    new.settled()
    assert new.log == "update 0.2.0 confirmed by its self-test" and os.listdir(fleet.root) == ["lib"]


def test_kz_43_1_an_update_failing_its_self_test_after_the_restart_is_rolled_back(fleet, capsys):
    fleet.publish(package("0.2.0", files=BROKEN))
    u = fleet.app.updater
    u.announce(fleet.url("0.2.0"), "0.2.0")
    fleet.step()
    assert u.state == U.APPLYING and fleet.lib() == BROKEN[0][1]
    served = fleet.boot()
    cap = capsys.readouterr()
    out = cap.out + cap.err  # the traceback goes to stderr on the PC
    assert "this version does not start" in out and "update rolled back" in out
    assert served == [] and fleet.resets == [1, 1]  # reset into the old version
    assert fleet.lib() == V1[0][1] and not update.on_trial(fleet.root)
    # the old version's updater learns it and does not take the same version again
    app = AP.build(fleet.board)
    app.updater.settled()
    assert app.updater.log == "update 0.2.0 rolled back: its self-test failed"
    assert not app.updater.announce(fleet.url("0.2.0"), "0.2.0")
    assert app.updater.announce(fleet.url("0.2.1"), "0.2.1")


def _refused(fleet, data, announced="0.2.0"):
    # served where the announced version is expected (a server that replays an old package)
    path = fleet.served / BOARD / (announced + update_server.SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    u = fleet.app.updater
    assert u.announce(fleet.url(announced), announced)
    fleet.step()
    assert u.state == U.IDLE and fleet.resets == []
    assert not os.path.exists(fleet.root + update.NEW) and fleet.lib() == V1[0][1]
    assert not u.announce(fleet.url(announced), announced)  # not fetched again
    return u.log


def test_kz_43_1_a_tampered_package_from_the_server_is_refused(fleet):
    data = bytearray(package("0.2.0", files=V2))
    data[-5] ^= 0x20  # a byte of the last module on its way
    assert _refused(fleet, bytes(data)) == "update 0.2.0 refused: " + P.TAMPERED + "kkm/extra.py"
    # the display tells the cashier, in the cashier's language
    assert "Жаңарту қабылданбады" in " ".join(fleet.app.ui.message)


def test_kz_43_1_an_unsigned_package_is_refused(fleet):
    assert _refused(fleet, package("0.2.0", files=V2, signed=False)) == "update 0.2.0 refused: " + P.UNSIGNED


def test_kz_43_1_an_older_package_is_refused(fleet):
    # announced as 0.2.0, the package says 0.0.9: a downgrade
    log = _refused(fleet, package("0.0.9", minimum="0.0.1", files=V2), "0.2.0")
    assert log.endswith(P.NOT_NEWER + ": 0.0.9")
    assert not fleet.app.updater.announce(fleet.url("0.1.0"), "0.1.0")  # the running version


def test_kz_43_1_an_update_waits_while_documents_are_queued_or_a_shift_is_open(fleet):
    fleet.publish(package("0.2.0", files=V2))
    u = fleet.app.updater
    fleet.sell(online=False)  # queued: the OFD has not acknowledged it
    assert u.announce(fleet.url("0.2.0"), "0.2.0")
    fleet.step()  # the sender has work: no download
    assert u.state == U.IDLE and u.offer is not None and not os.path.exists(fleet.root + update.NEW)
    fleet.replay()
    fleet.sell()  # the shift is open, every document acknowledged: downloaded, staged, waits
    fleet.step()
    assert u.state == U.WAITING and fleet.lib() == V1[0][1] and not update.on_trial(fleet.root)
    assert "Жаңарту ауысым жабылғанда орнатылады" in " ".join(fleet.app.ui.message)
    fleet.sell(online=False)
    fleet.close_shift(online=False)  # closed, but the OFD lacks two documents
    assert not fleet.reg.shift_open and fleet.reg.acc.unacked_count() == 2
    fleet.step()
    assert u.state == U.WAITING and fleet.lib() == V1[0][1] and fleet.resets == []
    fleet.replay()
    fleet.step()
    assert u.state == U.APPLYING and fleet.lib() == V2[0][1] and fleet.resets == [1]
