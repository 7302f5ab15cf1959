# The register as a device app: build(board) wires the fiscal data
# accumulator, the register, the OFD link and the cashier UI to the board's
# devices; App.run() is the one asyncio loop:
#   input     keypad and scanner -> ui.key / ui.scan (they return at once)
#   ui        a fiscal document the UI issued: Desk.fiscal, its countdown
#   display   the frame, shown when it changed (at once after a key, and
#             at least once a second)
#   ofd       the sender task: connection test, replay, probes
#   printer   the printer's status for the strip and its word on the last
#             document's paper (Register.paper_check), once a second; a
#             printer with a run() coroutine (an ESC/POS board printer) runs
#             its jobs and status polls in a task of its own
#   clock     the status strip and the locks in force, once a second
#   net       the channels' upkeep (net.manager: connect, reconnect, probe)
#             and the position a channel can tell (GEO_S), for the OFD
#   telemetry the service centre's status and events over MQTT when the
#             board names a broker (firmware/fleet/telemetry.py), only while
#             the sender leaves the channel free
#
# The board (boards/host on the PC; a board package on the device):
#   clock      kkm.clock.Clock            ticks_ms   () -> ms, monotonic
#   flash      (log block device, fiscal memory block device)
#   key        the device key of the journal's MAC (bytes)
#   keypad     async get() -> key name (ui.keys)
#   scanner    async get() -> code, or None (the board has no scanner)
#   display    cols, rows, show(lines)
#   beeper     beep(), optional: a scan the UI refused (misread, check digit, marking code)
#   printer    status() -> "ok" | "no_paper" | "fault", print(lines) -> None
#              (printed) or a job (done: None while printing, True, False;
#              started), width (characters per line), optional async run()
#   channels   the OFD channels in priority order (net; each with a name,
#              "wifi", "gsm", ...: the one of the last exchange is named on
#              the strip, the X report and each document's ACK in the
#              journal); ofd_hosts [(host, port)]
#   code       optional: the folder of the deployed code, checked against its
#              hash manifest at power-on (firmware/integrity.py; KZ-2.2)
#   update_key optional: the service centre's public key (fleet.sign) the
#              deploy provisioned; with it the app runs app.updater
#              (fleet.updater: signed updates, KZ-43.1), for the packages of
#              the board's name, staged below update_root (default: the
#              filesystem's top); reset() restarts into an applied update
#   fleet      optional: the service centre's MQTT broker, a dict: host, port,
#              client_id, user, password, tls (None, True or an SSLContext),
#              keepalive, period_s (docs/fleet.md)
#
# The OFD link lives in two places only: _link() builds it (session,
# async client over the board's channels through net.manager, port, the
# sender task) and Desk is what the UI and the loop see of it. The register issues a
# document (journalled, never waiting); the sender sends it live and
# settles it, or settles it at once with the autonomous sign when the
# queue was not empty or the budget ran out.

import asyncio

from journal import Accumulator
from kkm import locks as L
from kkm.register import Register
from ui.cashier import Ui

VERSION = "0.1.0"
SELF_TEST = (L.SELFTEST_HW, L.SELFTEST_SW, L.ACC_INTEGRITY, L.FIRMWARE)  # KZ-3: what a failed power-on self-test locks
STEP_S = 1  # the ofd, printer and clock tasks' period
ROWS_PER_DRAW = 1  # display rows sent before the loop runs the other tasks
GEO_S = 3600  # how often a channel is asked for the position (a cell fix takes seconds)
GEO_RETRY_S = 60  # again after no channel could tell


class Desk:
    # pay(), refund(), deposit(), withdraw(), close_shift() issue a document
    # (pay: None while an amount is still due); fiscal(iss, on_tick) is the
    # awaitable of its result (kkm Fiscalised; the Z: its report dict), the
    # live sign with the countdown. x_report(), test() and lookup(code) are
    # awaitables of the sender's exchanges; channels: the net.manager.
    def __init__(self, reg, sender, channels=None):
        self.reg = reg
        self.sender = sender
        self.channels = channels

    def pay(self, kind, amount, **card):
        return self.reg.pay(kind, amount, None, **card)

    def refund(self):
        self.reg.refund()  # the original's payment types
        return self.reg.fiscalise()

    def deposit(self, amount):
        return self.reg.deposit(amount)

    def withdraw(self, amount):
        return self.reg.withdraw(amount)

    def close_shift(self):
        return self.reg.close_shift()

    def fiscal(self, iss, on_tick):
        return self.sender.live(iss, on_tick)

    def x_report(self):
        ch = self.channels
        return self.sender.x_report(None, None if ch is None else (ch.states(), ch.name))

    def channel(self):
        # the channel of the last exchange, else the first one up
        ch = self.channels
        if ch is None:
            return None
        if ch.name is not None:
            return ch.name
        up = ch.order()
        return getattr(up[0], "name", None) if up else None

    def lookup(self, code):
        # a GTIN/NTIN the catalogue cache lacks, asked of the OFD
        return self.sender.catalogue_item(code)

    def set_aside(self, seq):
        return self.sender.set_aside(seq)

    def status(self):
        # mode, queue, lock_in (the 72 h lock), refusal, ... (ofd.sender)
        return self.sender.status()

    def kick(self):
        self.sender.kick()

    async def test(self):
        # KZ-2.4: a connection test now -> True when the OFD answered
        from ofd.session import OK

        out = await self.sender.probe()
        return out is not None and out.status == OK


def _link(board, acc, printer, clock, sw_test=None):
    # the register with its OFD session, client, port and sender
    from net.manager import ChannelManager
    from ofd.client import OfdClient
    from ofd.port import OfdPort
    from ofd.sender import Sender
    from ofd.session import Session

    session = Session(0, 1)
    channels = ChannelManager(board.channels, board.ticks_ms)
    client = OfdClient(session, channels, board.ofd_hosts, ticks_ms=board.ticks_ms)
    port = OfdPort(client, acc, VERSION, "kkm-app")
    reg = Register(acc, printer, port, clock, sw_test=sw_test)
    channels.priority = lambda: reg.settings.get("channels")  # KZ-40.5: the configured order
    channels.settings = lambda: reg.settings  # and the channels' parameters
    session.kkm_id = int(reg.settings.get("kkm_id") or 0)  # set at fiscalisation: known after a boot
    port.bind(reg)
    return reg, Desk(reg, Sender(reg, port, ticks_ms=board.ticks_ms), channels)


class App:
    def __init__(self, board, reg, desk, ui):
        self.board = board
        self.reg = reg
        self.desk = desk
        self.ui = ui
        self.dirty = asyncio.Event()
        self.shown = None  # the frame on the display
        self.paper = "ok"
        self.stopped = asyncio.Event()
        self.done = asyncio.Event()  # set when no document is being fiscalised
        self.done.set()
        self.sw_fault = None  # why the power-on software test failed (build)
        self.updater = None  # fleet.updater.Updater when the board has an update key
        self.telemetry = None  # fleet.telemetry.Telemetry while it runs
        self.updated = None  # what this boot did with an update on trial (power_on.start)

    # --- what the tasks do (also called by tests, step by step) --------------

    def key(self, k):
        self.ui.key(k)
        self._after()

    def scan(self, code):
        self.ui.scan(code)
        if self.ui.message is not None:  # refused: the cashier hears it too
            beeper = getattr(self.board, "beeper", None)
            if beeper is not None:
                beeper.beep()
        self._after()

    def _after(self):
        ui = self.ui
        if ui.job is not None and not ui.running:
            self.done.clear()
            asyncio.create_task(self._work())
        self.dirty.set()

    async def _work(self):
        self.dirty.set()
        try:
            await self.ui.work()
            self.refresh()
        finally:
            self.done.set()
            self.dirty.set()

    def draw(self, rows=None):
        # the frame to the display where it changed -> True when the display
        # shows all of it; rows: at most so many changed rows in this call
        # (an I2C display's row holds the loop about 2 ms, a whole screen 10)
        f = self.ui.frame()
        if f == self.shown:
            return True
        show = f
        if rows is not None and self.shown is not None and len(self.shown) == len(f):
            show = list(self.shown)
            for r in range(len(f)):
                if f[r] != show[r]:
                    if rows == 0:
                        break
                    show[r] = f[r]
                    rows -= 1
        self.board.display.show(show)
        self.shown = show
        return show == f

    def refresh(self):
        # the strip's status and the locks in force
        st = self.desk.status()
        st["paper"] = self.paper
        st["channel"] = self.desk.channel()
        locks = self.reg.active_locks()
        st["locked"] = L.OFFLINE_72H in locks or L.OFD_SUSPEND in locks
        self.ui.refresh(st, locks)

    def feed(self):
        p = self.board.printer
        if p.status() == "ok":
            p.print([(0, ""), (0, ""), (0, "")])

    # --- the tasks --------------------------------------------------------------

    async def _free(self):
        # keys and scans wait in their drivers while a document is fiscalised
        while self.ui.job is not None:
            await self.done.wait()

    async def _keys(self):
        pad = self.board.keypad
        while True:
            k = await pad.get()
            await self._free()
            self.key(k)

    async def _scans(self):
        sc = self.board.scanner
        while True:
            code = await sc.get()
            if code is None:
                return  # no scanner on this board
            await self._free()
            self.scan(code)

    async def _display(self):
        # woken by a key, a scan, a step done, and the clock task every
        # second (the countdown, the time)
        while True:
            self.dirty.clear()
            while not self.draw(ROWS_PER_DRAW):
                await asyncio.sleep(0)  # a key or a sale between two rows
            await self.dirty.wait()

    async def _ofd(self):
        # the sender: connection test, replay, probes (the clock task shows
        # what it did within a second)
        await self.desk.sender.run()

    async def _net(self):
        ch = self.desk.channels
        if ch is None:
            return
        up = asyncio.create_task(ch.run())
        try:
            while True:
                p = await ch.position()
                if p is not None:
                    # the modem's fix; without one the settings' position goes (S000-2)
                    self.desk.sender.port.position = p
                await asyncio.sleep(GEO_S if p is not None else GEO_RETRY_S)
        finally:
            up.cancel()

    async def _printer(self):
        while True:
            self.paper = self.board.printer.status()
            if self.reg.paper_check() is not None:
                self.dirty.set()
            await asyncio.sleep(STEP_S)

    async def _clock(self):
        while True:
            self.refresh()
            self.dirty.set()
            await asyncio.sleep(STEP_S)

    async def _telemetry(self):
        f = getattr(self.board, "fleet", None)
        if f is None:
            return
        from fleet import telemetry

        self.telemetry = telemetry.for_app(self, f, VERSION, self_test_failed(self.reg))
        await self.telemetry.run()

    async def run(self):
        # the loop until stop(); its events belong to this loop
        self.dirty = asyncio.Event()
        self.done = asyncio.Event()
        self.done.set()
        self.stopped = asyncio.Event()
        self.refresh()
        tasks = [asyncio.create_task(c) for c in (self._keys(), self._scans(), self._display(), self._ofd(),
                                                   self._printer(), self._clock(), self._net(),
                                                   self._telemetry())]
        if hasattr(self.board.printer, "run"):
            tasks.append(asyncio.create_task(self.board.printer.run()))
        if self.updater is not None:
            tasks.append(asyncio.create_task(self.updater.run()))
        await self.stopped.wait()
        for t in tasks:
            t.cancel()

    def stop(self):
        self.stopped.set()


def software_fault(board):
    # KZ-2.2, KZ-43.1: None when the board runs the deployed code, else why not
    folder = getattr(board, "code", None)
    if folder is None:
        return None
    import integrity

    return integrity.check(folder)


def build(board):
    acc = Accumulator(board.flash[0], board.flash[1], board.key)
    fault = software_fault(board)
    reg, desk = _link(board, acc, board.printer, board.clock, lambda: fault is None)
    d = board.display
    app = App(board, reg, desk, None)
    app.ui = Ui(reg, desk, d.cols, d.rows, app.feed)
    app.sw_fault = fault
    if fault:
        # the display says which module is not the deployed one
        app.ui.tell([reg.lock_message(L.SELFTEST_SW) + ": " + fault.split(": ")[-1]], L.SELFTEST_SW)
    if getattr(board, "update_key", None) is not None:
        _updater(app)
    app.refresh()
    return app


def _updater(app):
    from fleet.updater import Updater
    from kkm import texts as T

    b = app.board
    u = Updater(app.reg, app.desk.sender, app.desk.channels, b.update_key, b.name, VERSION,
                getattr(b, "update_root", ""), getattr(b, "reset", None))
    u.tell = lambda code: app.ui.tell([T.text(code, app.ui.lang)])
    app.updater = u


def self_test_failed(reg):
    # the locks the power-on self-test set (KZ-3)
    return [c for c in SELF_TEST if reg.locks.is_set(c)]


def ready_line(app):
    # the console line that confirms the start (tools/deploy.py waits for it)
    failed = self_test_failed(app.reg)
    if not failed:
        return "KKM %s ready: self-test passed" % VERSION
    return "KKM %s ready: self-test FAILED, locked %s %s" % (VERSION, failed, app.sw_fault or "")


def run(board):
    serve(build(board))


def serve(app):
    try:
        asyncio.run(app.run())
    finally:
        asyncio.new_event_loop()
