# The virtual board (tools/vboard.py) as a register board: the journal and
# the fiscal memory on its raw partitions (esp32.Partition), the device key
# it was made with, no keypad and no scanner (headless), the display and
# the printer on the console, the unix port's sockets as the one channel.
# The code folder CODE is what the power-on software test checks.

import asyncio

import esp32
import vboard

CODE = "/lib"
COLS = 20
ROWS = 4
OFD = ("ofd.sim", 7777)


class Board:
    pass


class NoKeys:
    async def get(self):
        await asyncio.Event().wait()


class NoScanner:
    async def get(self):
        return None


class ConsoleDisplay:
    cols = COLS
    rows = ROWS

    def show(self, lines):
        print("display|" + "|".join(lines))


class ConsolePrinter:
    def __init__(self, width):
        self.width = width

    def status(self):
        return "ok"

    def print(self, lines):
        for _style, s in lines:
            print("printer|" + s)


def make():
    import machine

    from compat import ticks_ms
    from fleet.updater import provisioned_key
    from kkm import layout
    from kkm.clock import Clock
    from net.tcp import TcpChannel

    b = Board()
    b.code = CODE
    b.clock = Clock()
    b.ticks_ms = ticks_ms
    b.flash = (esp32.Partition("fjournal"), esp32.Partition("fmemory"))
    b.key = vboard.key
    b.keypad = NoKeys()
    b.scanner = NoScanner()
    b.display = ConsoleDisplay()
    b.printer = ConsolePrinter(layout.WIDE)
    ch = TcpChannel()
    ch.name = "lan"
    b.channels = [ch]
    b.ofd_hosts = [OFD]
    # signed updates when the deploy provisioned the service centre's key (fleet.updater)
    b.update_key = provisioned_key(CODE)
    b.name = "vboard"
    b.reset = machine.reset
    return b
