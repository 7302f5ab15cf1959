# A fake board for the app and UI tests: keys from a list, a display that
# keeps its frames, a printer that keeps its pages, the journal on the NOR
# emulator, the in-memory OFD of ofdkit behind a link that can break, a
# clock that moves only when told. drive() runs the app's steps for key
# names (and scans) as the input task would, awaiting each fiscal document.
import asyncio

from boards.sim.nor_flash import NorFlash
from compat import ticks_ms
from kkm import auth as A
from kkm.clock import ManualClock
from ofdkit import HOST, Link, LinkChannel
from regkit import KEY, REG, T0, FakePrinter
from ui import keys as K

import app as AP


class Keypad:
    def __init__(self):
        self.keys = []
        self.empty = None  # called once the keys are all taken

    async def get(self):
        while not self.keys:
            if self.empty is not None:
                self.empty()
            await asyncio.sleep(0.002)
        return self.keys.pop(0)


class Scanner:
    def __init__(self):
        self.codes = []

    async def get(self):
        while not self.codes:
            await asyncio.sleep(0.002)
        return self.codes.pop(0)


class Display:
    def __init__(self, cols, rows):
        self.cols = cols
        self.rows = rows
        self.frames = []

    def show(self, lines):
        assert len(lines) == self.rows, lines
        for s in lines:
            assert len(s) <= self.cols, s
        self.frames.append(list(lines))

    def text(self):
        return "\n".join(self.frames[-1]) if self.frames else ""


class Board:
    def __init__(self, cols=20, rows=4, log_blocks=24):
        self.clock = ManualClock(T0)
        self.ticks_ms = ticks_ms
        self.flash = (NorFlash(log_blocks), NorFlash(4))  # 48 Z slots: no "few left" notice
        self.key = KEY
        self.keypad = Keypad()
        self.scanner = Scanner()
        self.display = Display(cols, rows)
        self.printer = FakePrinter()
        self.printer.width = 48
        self.link = Link(REG["token"])
        ch = LinkChannel(self.link)
        ch.name = "wifi"
        self.channels = [ch]
        self.ofd_hosts = [HOST]


CASHIER = ("1", "1111")
ADMIN = ("2", "2222")
SERVICE = ("9", "9999")


def provisioned(cols=20, rows=4, log_blocks=24, clock=None, **settings):
    # a board whose register the service engineer fiscalised, booted again
    # (the app reads the registration at boot); clock: the board's, when
    # not the manual one
    b = Board(cols, rows, log_blocks)
    if clock is not None:
        b.clock = clock
    reg = AP.build(b).reg
    reg.set_user(9, "Сервис", A.ROLE_SERVICE, "9999")
    reg.login(9, "9999", A.MODE_SERVICE)
    data = dict(REG)
    data.update(settings)
    reg.fiscalise_kkm(data)
    reg.login(9, "9999", A.MODE_PROGRAMMING)
    reg.set_user(2, "Админ", A.ROLE_ADMIN, "2222")
    reg.set_user(1, "Айгүл", A.ROLE_CASHIER, "1111")
    reg.logout()
    return b, AP.build(b)


def keys_of(*words):
    # "12.5" -> "1", "2", ".", "5"; a key name stays whole
    out = []
    for w in words:
        if w in K.KEYS:
            out.append(w)
        else:
            out.extend(list(w))
    return out


def run(coro):
    return asyncio.run(coro)


def drive(app, *words):
    # each key (or ("scan", code)) as the input task gives it, a fiscal
    # document awaited before the next key; the display drawn after each
    ui = app.ui
    for w in words:
        if isinstance(w, tuple):
            ui.scan(w[1])
        else:
            for k in keys_of(w):
                ui.key(k)
                if ui.job is not None:
                    run(ui.work())
        if ui.job is not None:
            run(ui.work())
        app.draw()
    return ui.frame()


def login(app, user=CASHIER, lang=None):
    if lang is not None and app.ui.lang != lang:
        drive(app, "MENU")
    return drive(app, user[0], "ENT", user[1], "ENT")


def body(app):
    # every line of the screen, also those scrolled out of view
    return " ".join(app.ui.screen.body(app.ui))


def screen(app):
    # the rows on the display, as one line of text
    return " ".join(app.ui.frame())
