# The register's side of a signed update (KZ-43.1): the service centre
# announces a version; the package is downloaded while the OFD sender is
# idle (giving way whenever it starts an exchange), verified and staged as
# it streams (fleet.package), and applied through firmware/update.py only
# with the shift closed and every document acknowledged. The restart
# that follows runs the self-test and the hash check (power_on.start), which
# confirm the new version or roll it back.
#
#   u = Updater(reg, sender, channels, key, board, version, root="", restart=None)
#       key: the public key provisioned at deploy (board.update_key);
#       board: the package's board name; version: the running one;
#       restart(): reset into the new version (machine.reset on a board)
#   u.announce(url, version)   an update is available: remembered, taken
#                              by run() (the telemetry's MQTT message)
#   await u.run()              the task
#   u.state                    IDLE, DOWNLOADING, WAITING, APPLYING
#   u.log                      the last event in English (the service log)
#   u.tell                     None, or (text code) -> shows it to the cashier
#   u.settled()                after the boot that followed an update (run()
#                              calls it): confirmed, or rolled back and that
#                              version not taken again
#   provisioned_key(code)      the public key the deploy put in the code
#                              folder (tools/deploy.py --update-key), or None

import os

import update
from aio import Timeout, sleep_ms, wait_for_ms
from compat import const, exists
from fleet import http
from fleet import package as P
from fleet import sign

IDLE = "idle"
DOWNLOADING = "downloading"
WAITING = "waiting"  # staged: waits for the shift to close and the OFD to acknowledge every document
APPLYING = "applying"

APPLIED = "update.version"  # the version applied, until the boot after it has settled
STEP_MS = const(5000)  # how often a staged update looks at the shift and the queue
RETRY_MS = const(60000)  # after a failed download
IO_MS = const(15000)  # a connect or one read of the download
GIVE_WAY_MS = const(100)
KEY_FILE = "update.pub"  # in the code folder (tools/deploy.py UPDATE_KEY)


def provisioned_key(code):
    try:
        with open(code + "/" + KEY_FILE, "rb") as f:
            key = f.read()
    except OSError:
        return None
    return key if len(key) == sign.PUB_SIZE else None


class Updater:
    def __init__(self, reg, sender, channels, key, board, version, root="", restart=None):
        self.reg = reg
        self.sender = sender
        self.channels = channels
        self.key = key
        self.board = board
        self.version = version
        self.root = root
        self.restart = restart
        self.state = IDLE
        self.offer = None  # (url, version) announced, not yet staged
        self.staged = None  # the version in update.NEW
        self.refused = None  # the last version refused: not downloaded again
        self.log = None
        self.tell = None
        self.wake = None  # run()'s event (of its loop): an announcement wakes it
        self.retry = 0  # ms to wait before the next download attempt

    def announce(self, url, version):
        # a newer version than the running, staged and announced ones is taken
        if not P.newer(version, self.version) or version == self.refused:
            return False
        for have in (self.staged, self.offer and self.offer[1]):
            if have is not None and not P.newer(version, have):
                return False
        self.offer = (url, version)
        self.retry = 0
        if self.wake is not None:
            self.wake.set()
        return True

    def _say(self, line, code=None):
        self.log = line
        print(line)
        if code is not None and self.tell is not None:
            self.tell(code)

    def idle(self):
        # the sender exchanges nothing and has nothing to send
        return not self.sender.busy and not self.reg.acc.unacked_count()

    async def _read(self, body, n):
        while self.sender.busy:
            await sleep_ms(GIVE_WAY_MS)  # the OFD first
        return await body.read(n)

    async def download(self):
        url, version = self.offer
        host, port, _path = http.split_url(url)
        reach = getattr(self.channels, "reach", None)
        if reach is not None:
            reach(host, port)
        self.state = DOWNLOADING
        body = await http.get(self.channels, url, IO_MS)
        try:
            return await P.receive(lambda n: self._read(body, n), self.board, self.version, self.key, self.root)
        finally:
            body.close()

    async def step(self):
        if self.offer is not None and self.staged is None and self.idle():
            version = self.offer[1]
            try:
                h = await self.download()
            except P.Refused as e:
                self.offer = None
                self.refused = version
                self.state = IDLE
                self._say("update %s refused: %s" % (version, e.args[0]), e.args[1])
                return
            except (OSError, ValueError, Timeout) as e:
                self.state = IDLE
                self.retry = RETRY_MS
                self._say("update %s download failed: %r" % (version, e))
                return
            self.offer = None
            self.staged = h.version
            self.state = WAITING
            self._say("update %s staged" % h.version, P.T_WAITING)
        if self.staged is not None:
            self.apply()

    def apply(self):
        try:
            update.accept(self.reg, self.root)
        except update.Refused as e:
            if e.args[0] in (update.SHIFT_OPEN, update.UNACKED):
                return  # later: at the close of the shift, when the OFD has everything
            self._say("update %s not applied: %s" % (self.staged, e.args[0]), P.T_REFUSED)
            update.remove_tree(self.root + update.NEW)
            self.staged = None
            self.state = IDLE
            return
        with open(self.root + APPLIED, "w") as f:
            f.write(self.staged)
        self.state = APPLYING
        self._say("update %s applied: restarting for its self-test" % self.staged, P.T_APPLYING)
        if self.restart is not None:
            self.restart()

    def settled(self):
        # after the boot that followed an update: did it stay (power_on.start)?
        path = self.root + APPLIED
        if update.on_trial(self.root) or not exists(path):
            return
        with open(path) as f:
            v = f.read()
        os.remove(path)
        if v == self.version:
            self._say("update %s confirmed by its self-test" % v, P.T_CONFIRMED)
        else:
            self.refused = v  # not downloaded again
            self._say("update %s rolled back: its self-test failed" % v, P.T_ROLLED_BACK)

    async def run(self):
        import asyncio

        self.wake = asyncio.Event()
        root = self.root
        self.settled()
        if exists(root + update.NEW) and not update.on_trial(root):
            update.remove_tree(root + update.NEW)  # staged before a power cut: announced again
        while self.state != APPLYING:
            await self.step()
            wait = self.retry or STEP_MS
            self.retry = 0
            self.wake.clear()
            try:
                await wait_for_ms(self.wake.wait(), wait)
            except Timeout:
                pass
