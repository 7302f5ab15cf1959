# The PC as a register board (`make sim`): keypad, display and scanner on the
# terminal (term.py), the printer (printer.py: the ESC/POS driver to the
# launcher's interpreter when it made the printer pipes, else text to a
# transcript file), the journal and fiscal memory on NOR emulators in files
# (flash.py), the PC's clock, one TCP channel ("lan"), and a GSM channel when
# a modem simulator's terminal is given (tools/modemsim.py; "gsm", named first
# by the channels setting). make() builds the board the app takes
# (app.build(board)); the launcher tools/sim.py provisions the register and
# starts the OFD simulator first.
#
# State in the folder var: journal.img, fiscal_memory.img, device.key,
# clock_skew (seconds the clock runs ahead, when present), paper.txt (the
# transcript), scanner (a named pipe, when the launcher made it),
# printer.in, printer.out, printer.ctl (the printer's pipes, idem), paper.png.

LOG_BLOCKS = 64  # 256 KB journal
FM_BLOCKS = 4  # fiscal memory (Z summaries)
# the OFD address the register is set up with; the board's channel leads it
# to the simulator of this run, wherever it listens
OFD = ("ofd.sim", 7777)
SIZES = {"20x4": (20, 4), "128x64": (21, 8)}  # characters: HD44780; 6x8 font on the graphic display
# the device's display drivers on their chip doubles (boards/host/chipdisplay.py)
SIZES.update({"hd44780": (20, 4), "ssd1306": (21, 8), "sh1106": (21, 8)})


class Board:
    pass


def device_key(var):
    # the journal's MAC key (on the device: in the eFuse-protected key block)
    import os

    path = var + "/device.key"
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        key = os.urandom(32)
        with open(path, "wb") as f:
            f.write(key)
        return key


def channel(ofd):
    # TCP through the PC's sockets; ofd: (host, port) of the simulator
    import socket

    from net.tcp import TcpChannel as Channel

    def resolve(host, port):
        if (host, port) == OFD and ofd is not None:
            host, port = ofd
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)

    ch = Channel(resolver=resolve)
    ch.name = "lan"
    return ch


def modem_channel(kind, path):
    # the GSM channel over a SIMCom driver on a modem (simulator) terminal
    import sys

    sys.path.append(__file__.rsplit("/", 1)[0] + "/hw")  # the PC's machine.UART stand-in
    from uart import UART

    from drivers.simcom import Sim800, Sim7600
    from net.gsm import GsmChannel

    return GsmChannel((Sim800 if kind == "sim800" else Sim7600)(UART(path), apn="internet"))


def skewed(var):
    # the PC's time, moved on by the seconds written to VAR/clock_skew (make
    # fleet's simulated hours offline); without the file, the PC's time
    from compat import unix_time

    path = var + "/clock_skew"

    def now():
        try:
            with open(path) as f:
                return unix_time() + int(f.read())
        except (OSError, ValueError):
            return unix_time()

    return now


def fleet_settings(spec, user=None, password=None):
    # "HOST:PORT" of the service centre's MQTT broker -> the board's fleet
    # settings (firmware/app.py), or None
    if not spec:
        return None
    h, _, p = spec.rpartition(":")
    return {"host": h or "127.0.0.1", "port": int(p), "user": user or None, "password": password or None}


def make(var, size="20x4", ofd=None, fifo=None, inp=None, out=None, modem=None, fleet=None):
    from boards.host import term
    from boards.host.flash import FileFlash
    from boards.host.printer import LinkedPrinter, TranscriptPrinter
    from compat import exists, ticks_ms
    from kkm.clock import Clock
    from ui import keys

    cols, rows = SIZES[size]
    t = term.Terminal(keys, cols, rows, inp, out, fifo)
    b = Board()
    b.term = t
    b.clock = Clock(skewed(var))
    b.ticks_ms = ticks_ms
    b.flash = (FileFlash(var + "/journal.img", LOG_BLOCKS), FileFlash(var + "/fiscal_memory.img", FM_BLOCKS))
    b.key = device_key(var)
    b.keypad = term.Keypad(t)
    b.scanner = term.Scanner(t)
    if size in ("hd44780", "ssd1306", "sh1106"):
        from boards.host.chipdisplay import ChipDisplay

        b.display = ChipDisplay(size, t)
    else:
        b.display = term.Display(t)
    if exists(var + "/printer.in"):
        b.printer = LinkedPrinter(var, t)
    else:
        b.printer = TranscriptPrinter(var + "/paper.txt", t)
    t.printer = b.printer
    b.channels = [channel(ofd)]
    if modem is not None:
        b.channels.append(modem_channel(modem[0], modem[1]))  # modem: (kind, terminal path)
    b.ofd_hosts = [OFD]
    if fleet is not None:
        b.fleet = fleet  # telemetry to the service centre's broker (docs/fleet.md)
    return b
