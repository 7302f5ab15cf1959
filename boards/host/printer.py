# The receipt printer of the PC. LinkedPrinter: the ESC/POS driver and board
# port, talking to the launcher's interpreter over named pipes (make sim);
# the interpreter keeps the paper (VAR/paper.txt, VAR/paper.png). Each
# document is also shown on the terminal as text. TranscriptPrinter: the
# document as text only, appended to a transcript file (closed after each
# document, so a killed simulator keeps what was printed); the QR code
# prints its payload.

import select

from boards.escpos_printer import EscPosPrinter
from drivers import escpos as E
from kkm import layout


def render(lines, width):
    # kkm.layout lines -> text lines inside a paper frame
    out = ["+" + "-" * width + "+"]
    for style, s in lines:
        if style & layout.QR:
            out.append(_row("[QR]", width))
            for k in range(0, len(s), width):
                out.append(_row(s[k:k + width], width))
        else:
            out.append(_row(s, width))
    out.append("+" + "-" * width + "+")
    return out


def _row(s, width):
    return "|" + s + " " * (width - len(s)) + "|"


class TranscriptPrinter:
    def __init__(self, path, term=None, width=layout.WIDE):
        self.path = path
        self.term = term  # boards.host.term.Terminal, or None
        self.width = width
        self.state = "ok"  # the terminal's paper key toggles "no_paper"

    def status(self):
        return self.state

    def print(self, lines):
        if self.state != "ok":
            raise OSError(5, "printer")
        page = render(lines, self.width)
        with open(self.path, "a") as f:
            f.write("\n".join(page) + "\n\n")
        if self.term is not None:
            self.term.say("\n".join(page))


class FifoUart:
    # the printer's serial line on the PC: named pipes to the ESC/POS
    # interpreter that the launcher runs (tools/escpos_interp.py, Link);
    # any() says whether a byte is waiting, read() takes one at a time
    def __init__(self, tx, rx):
        from boards.host.term import _fifo

        self.tx = _fifo(tx)
        self.rx = _fifo(rx)
        self.poll = select.poll()
        self.poll.register(self.rx, select.POLLIN)

    def write(self, b):
        return self.tx.write(b)

    def any(self):
        return 1 if self.poll.poll(0) else 0

    def read(self, n=1):
        return self.rx.read(1)


class LinkedPrinter(EscPosPrinter):
    # the board's printer under `make sim`: the real driver, its bytes to the
    # interpreter over VAR/printer.in and .out; the terminal's paper key goes
    # to the interpreter on VAR/printer.ctl (the driver then finds it out)
    def __init__(self, var, term=None, profile="epson80"):
        from boards.host.term import _fifo

        EscPosPrinter.__init__(self, FifoUart(var + "/printer.in", var + "/printer.out"), E.profile(profile), 0)
        self.ctl = _fifo(var + "/printer.ctl")
        self.term = term
        self.key = "ok"  # what the paper key last did

    @property
    def state(self):
        return self.key

    @state.setter
    def state(self, v):
        # the paper key: out or in, and a status poll at once
        self.key = v
        self.ctl.write(b"out\n" if v != "ok" else b"in\n")
        if self.wake is not None:
            self.wake.set()

    def print(self, lines):
        job = EscPosPrinter.print(self, lines)
        if self.term is not None:
            self.term.say("\n".join(render(lines, self.width)))
        return job
