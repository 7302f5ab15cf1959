# The register as a device app: build(board) wires the fiscal data
# accumulator, the register, the OFD link and the cashier UI to the board's
# devices; App.run() is the one asyncio loop:
#   input     keypad and scanner -> ui.key / ui.scan (they return at once)
#   ui        a fiscal document the UI issued: Desk.fiscal, its countdown
#   display   the frame, shown when it changed (at once after a key, and
#             at least once a second)
#   ofd       the OFD scheduler's step once a second
#   printer   the printer's status for the strip, once a second
#   clock     the status strip and the locks in force, once a second
#
# The board (boards/host on the PC; a board package on the device):
#   clock      kkm.clock.Clock            ticks_ms   () -> ms, monotonic
#   flash      (log block device, fiscal memory block device)
#   key        the device key of the journal's MAC (bytes)
#   keypad     async get() -> key name (ui.keys)
#   scanner    async get() -> code, or None (the board has no scanner)
#   display    cols, rows, show(lines)
#   printer    status() -> "ok" | "no_paper" | "fault", print(lines), width
#   channels   the OFD channels in priority order (each with a name:
#              "wifi", "gsm", shown on the strip); ofd_hosts [(host, port)]
#
# The OFD link lives in two places only: _link() builds it and Desk is what
# the UI and the loop see of it (issue a document, await its sign, the
# status, the scheduler's step).

import asyncio

from journal import Accumulator
from kkm import locks as L
from kkm.register import Register
from ui.cashier import Ui

VERSION = "0.1.0"
STEP_S = 1  # the ofd, printer and clock tasks' period


class Desk:
    # Fiscal documents as the UI issues them: pay(), refund(), deposit(),
    # withdraw(), close_shift() return something to fiscalise (pay: None
    # while an amount is still due); fiscal(pending, on_tick) awaits the
    # result (kkm Fiscalised; the Z: its report dict). Today the register
    # sends inline to the OFD (ofd.port) and the scheduler is ofd.sync's
    # OfdSync: pending is the register's call, made in fiscal().
    def __init__(self, reg, port, sync):
        self.reg = reg
        self.port = port
        self.sync = sync

    def pay(self, kind, amount, **card):
        r = self.reg.draft
        if r is not None and amount < r.total() - r.paid():
            return self.reg.pay(kind, amount, None, **card)  # a part: nothing to fiscalise yet
        return (self.reg.pay, (kind, amount, None), card)

    def refund(self):
        self.reg.refund()  # the original's payment types
        return (self.reg.fiscalise, (), {})

    def deposit(self, amount):
        return (self.reg.deposit, (amount,), {})

    def withdraw(self, amount):
        return (self.reg.withdraw, (amount,), {})

    def close_shift(self):
        return (self.reg.close_shift, (), {})

    async def fiscal(self, pending, on_tick):
        on_tick(self.reg.settings.get("timeout_s"))  # the live sign's budget
        await asyncio.sleep(0)  # the countdown is drawn before the exchange
        fn, args, kw = pending
        try:
            return fn(*args, **kw)
        finally:
            self.sync.note()  # the retry clock starts at a failure

    def status(self):
        # mode, queue, lock_in (the 72 h lock), refusal, ... (ofd.sync)
        return self.sync.status()

    def kick(self):
        self.sync.kick()

    def step(self):
        # the scheduler's step: connection test, replay, probes
        return self.sync.tick()

    async def test(self):
        # KZ-2.4: a connection test now -> True when the OFD answered
        from ofd import client as cl

        out = self.port.probe(True)
        self.sync.note()
        return out is not None and out.status == cl.OK


def _link(board, acc, printer, clock):
    # the register with its OFD port and scheduler (the sender task and the
    # async client replace this function's inside and Desk's)
    from ofd import client as cl
    from ofd.port import OfdPort
    from ofd.sync import OfdSync

    client = cl.OfdClient(board.channels[0], board.ofd_hosts, 0, 1)
    port = OfdPort(client, acc, VERSION, "kkm-app")
    reg = Register(acc, printer, port, clock)
    client.kkm_id = int(reg.settings.get("kkm_id") or 0)  # set at fiscalisation: known after a boot
    port.bind(reg)
    return reg, Desk(reg, port, OfdSync(reg, port))


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

    # --- what the tasks do (also called by tests, step by step) --------------

    def key(self, k):
        self.ui.key(k)
        self._after()

    def scan(self, code):
        self.ui.scan(code)
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

    def draw(self):
        # the frame to the display when it changed -> True if drawn
        f = self.ui.frame()
        if f == self.shown:
            return False
        self.board.display.show(f)
        self.shown = f
        return True

    def refresh(self):
        # the strip's status and the locks in force
        st = self.desk.status()
        st["paper"] = self.paper
        chs = self.board.channels
        st["channel"] = chs[0].name if chs else None
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
            self.draw()
            self.dirty.clear()
            await self.dirty.wait()

    async def _ofd(self):
        while True:
            await asyncio.sleep(STEP_S)
            if self.ui.job is None and self.desk.step() is not None:
                self.refresh()
                self.dirty.set()

    async def _printer(self):
        while True:
            self.paper = self.board.printer.status()
            await asyncio.sleep(STEP_S)

    async def _clock(self):
        while True:
            self.refresh()
            self.dirty.set()
            await asyncio.sleep(STEP_S)

    async def run(self):
        # the loop until stop(); its events belong to this loop
        self.dirty = asyncio.Event()
        self.done = asyncio.Event()
        self.done.set()
        self.stopped = asyncio.Event()
        self.refresh()
        tasks = [asyncio.create_task(c) for c in (self._keys(), self._scans(), self._display(), self._ofd(),
                                                   self._printer(), self._clock())]
        await self.stopped.wait()
        for t in tasks:
            t.cancel()

    def stop(self):
        self.stopped.set()


def build(board):
    acc = Accumulator(board.flash[0], board.flash[1], board.key)
    reg, desk = _link(board, acc, board.printer, board.clock)
    d = board.display
    app = App(board, reg, desk, None)
    app.ui = Ui(reg, desk, d.cols, d.rows, app.feed)
    app.refresh()
    return app


def run(board):
    app = build(board)
    try:
        asyncio.run(app.run())
    finally:
        asyncio.new_event_loop()
